package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tallyhq/tally/db"
)

// Rebuild recomputes a site's rollups from the raw events and visits, one
// local day per transaction. Only days fully covered by raw data are
// rebuilt, so rollups of days whose raw events were removed by retention are
// kept. It is used by the data generator, after a time-zone change and for
// repair.
func Rebuild(ctx context.Context, d *db.DB, siteID int64) error {
	var tz string
	var retention int
	if err := d.QueryRowContext(ctx, "SELECT timezone, retention_days FROM sites WHERE id = ?", siteID).Scan(&tz, &retention); err != nil {
		return fmt.Errorf("rebuild rollups of site %d: %w", siteID, err)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("rebuild rollups of site %d: time zone %q: %w", siteID, tz, err)
	}
	var minTS, maxTS sql.NullInt64
	err = d.QueryRowContext(ctx, `SELECT MIN(t), MAX(t) FROM (
 SELECT MIN(ts) AS t FROM events WHERE site_id = ? UNION ALL SELECT MAX(ts) FROM events WHERE site_id = ?
 UNION ALL SELECT MIN(started_at) FROM sessions WHERE site_id = ? UNION ALL SELECT MAX(started_at) FROM sessions WHERE site_id = ?) x`,
		siteID, siteID, siteID, siteID).Scan(&minTS, &maxTS)
	if err != nil {
		return fmt.Errorf("rebuild rollups of site %d: data range: %w", siteID, err)
	}
	if !minTS.Valid {
		return nil
	}
	if d.IsPostgres() {
		// after a bulk load the planner's statistics may not know this site;
		// stale ones turn the per-day join into a scan of every visit
		if _, err := d.ExecContext(ctx, "ANALYZE events, sessions"); err != nil {
			return fmt.Errorf("rebuild rollups of site %d: analyze: %w", siteID, err)
		}
	}
	first, last := localDay(minTS.Int64, loc), localDay(maxTS.Int64, loc)
	if retention > 0 {
		// the oldest retained day may be partial: keep its rollups
		cut := localDay(time.Now().Unix()-int64(retention)*86400, loc) + 1
		first = max(first, cut)
	}
	for day := first; day <= last; day++ {
		if err := rebuildDay(ctx, d, siteID, loc, day); err != nil {
			return fmt.Errorf("rebuild rollups of site %d, %s: %w", siteID, dayDate(day).Format(time.DateOnly), err)
		}
	}
	return nil
}

const rebuildEventsSQL = `SELECT e.ts, e.name, e.visitor_id, e.session_id, e.pathname, e.hostname, e.props,
 COALESCE(s.entry_page, ''), COALESCE(s.source, ''), COALESCE(s.channel, ''), COALESCE(s.referrer, ''),
 COALESCE(s.utm_source, ''), COALESCE(s.utm_medium, ''), COALESCE(s.utm_campaign, ''), COALESCE(s.utm_term, ''), COALESCE(s.utm_content, ''),
 COALESCE(s.country, ''), COALESCE(s.region, ''), COALESCE(s.city, ''), COALESCE(s.browser, ''), COALESCE(s.browser_version, ''),
 COALESCE(s.os, ''), COALESCE(s.os_version, ''), COALESCE(s.device, '')
FROM events e LEFT JOIN sessions s ON s.site_id = e.site_id AND s.session_id = e.session_id
WHERE e.site_id = ? AND e.ts >= ? AND e.ts < ?`

func rebuildDay(ctx context.Context, d *db.DB, siteID int64, loc *time.Location, day int) error {
	from, to := dayStart(day, loc), dayStart(day+1, loc)
	ed := map[rollupKey]*eventDelta{}
	rows, err := d.QueryContext(ctx, rebuildEventsSQL, siteID, from, to)
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	var e db.Event
	var s db.Session
	var props []byte
	for rows.Next() {
		e.Props = nil
		err := rows.Scan(&e.TS, &e.Name, &e.VisitorID, &e.SessionID, &e.Pathname, &e.Hostname, &props,
			&s.EntryPage, &s.Source, &s.Channel, &s.Referrer, &s.UTMSource, &s.UTMMedium, &s.UTMCampaign, &s.UTMTerm, &s.UTMContent,
			&s.Country, &s.Region, &s.City, &s.Browser, &s.BrowserVersion, &s.OS, &s.OSVersion, &s.Device)
		if err != nil {
			rows.Close()
			return fmt.Errorf("read events: %w", err)
		}
		if len(props) > 2 {
			if err := json.Unmarshal(props, &e.Props); err != nil {
				rows.Close()
				return fmt.Errorf("event props %s: %w", props, err)
			}
		}
		e.SiteID = siteID
		addEvent(ed, &e, &s, day)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	var sess []db.Session
	if err := d.NewSelect().Model(&sess).Where("site_id = ? AND started_at >= ? AND started_at < ?", siteID, from, to).Scan(ctx); err != nil {
		return fmt.Errorf("read visits: %w", err)
	}
	sd := map[rollupKey]*sessionDelta{}
	for i := range sess {
		addSession(sd, &sess[i], loc, 1)
	}
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, t := range []string{"analytics_event_rollups", "analytics_session_rollups"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE site_id = ? AND day = ?", siteID, day); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	if err := upsertEventRows(ctx, tx, ed, false); err != nil {
		return err
	}
	if err := writeSessionDeltas(ctx, tx, sd); err != nil {
		return err
	}
	return tx.Commit()
}
