package collect

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/tallyhq/tally/db"
)

// SessionTimeout ends a visit after this much inactivity.
const SessionTimeout = 30 * 60

// sessionLockClass is the first key of the advisory locks that serialize
// session assignment per site (the second key is the site id).
const sessionLockClass = 0x7a11_0002

// writer stores batches. One batch is one transaction: the events, the
// visits they touch and the hook's derived rows commit together or not at
// all, so a failed flush can be retried as a whole.
type writer struct {
	db      *db.DB
	hook    db.BatchHook
	log     *slog.Logger
	metrics *metrics
}

var eventColumns = []string{"site_id", "ts", "name", "visitor_id", "session_id", "hostname", "pathname", "referrer", "source", "channel",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region", "city",
	"browser", "browser_version", "os", "os_version", "device", "props", "revenue_amount", "revenue_currency", "interactive"}

func (w *writer) write(ctx context.Context, batch []pending) error {
	start := time.Now()
	conn, err := w.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("flush: get connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("flush: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	events, changes, err := w.assignSessions(ctx, tx, batch)
	if err != nil {
		return err
	}
	tAssign := time.Now()
	if w.db.IsPostgres() {
		err = copyEvents(ctx, conn, events)
	} else {
		err = insertEvents(ctx, tx, events)
	}
	if err != nil {
		return err
	}
	tEvents := time.Now()
	if w.db.IsPostgres() {
		err = copySessions(ctx, conn, changes)
	} else {
		err = upsertSessions(ctx, tx, changes)
	}
	if err != nil {
		return err
	}
	if w.hook != nil {
		if err := w.hook.AfterBatch(ctx, tx, events, changes); err != nil {
			return fmt.Errorf("flush: batch hook: %w", err)
		}
	}
	tSessions := time.Now()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("flush: commit: %w", err)
	}
	w.log.Debug("collect: flushed", "events", len(events), "visits", len(changes),
		"assign_ms", tAssign.Sub(start).Milliseconds(), "events_ms", tEvents.Sub(tAssign).Milliseconds(),
		"visits_and_hook_ms", tSessions.Sub(tEvents).Milliseconds(), "commit_ms", time.Since(tSessions).Milliseconds())
	w.metrics.flushTime.Observe(time.Since(start).Seconds())
	w.metrics.batchSize.Observe(float64(len(events)))
	w.metrics.stored.Add(float64(len(events)))
	return nil
}

// assignSessions gives every event its visit. Under PostgreSQL it first
// takes a transaction-scoped advisory lock per site (in id order, so two
// replicas cannot deadlock): the read-modify-write of a site's visits is then
// serialized across replicas, so the same person's events arriving at two
// servers land in one visit. A lock per site rather than per visitor keeps
// the number of locks per transaction tiny (a batch touches thousands of
// visitors but few sites) and a flush holds it for milliseconds.
func (w *writer) assignSessions(ctx context.Context, tx bun.Tx, batch []pending) ([]db.Event, []db.SessionChange, error) {
	bySite := map[int64][]int{}
	for i := range batch {
		bySite[batch[i].ev.SiteID] = append(bySite[batch[i].ev.SiteID], i)
	}
	siteIDs := make([]int64, 0, len(bySite))
	for id := range bySite {
		siteIDs = append(siteIDs, id)
	}
	slices.Sort(siteIDs)
	if w.db.IsPostgres() {
		for _, id := range siteIDs {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", int32(sessionLockClass), int32(id&0x7fffffff)); err != nil {
				return nil, nil, fmt.Errorf("flush: lock sessions of site %d: %w", id, err)
			}
		}
	}
	events := make([]db.Event, 0, len(batch))
	var changes []db.SessionChange
	for _, siteID := range siteIDs {
		idx := bySite[siteID]
		// oldest first; the sort is stable so same-second events keep
		// their arrival order
		sort.SliceStable(idx, func(a, b int) bool { return batch[idx[a]].ev.TS < batch[idx[b]].ev.TS })
		minTS := batch[idx[0]].ev.TS
		visitors := make([]int64, 0, len(idx)*2)
		seen := map[int64]bool{}
		for _, i := range idx {
			for _, v := range []int64{batch[i].ev.VisitorID, batch[i].prevVisitor} {
				if v != 0 && !seen[v] {
					seen[v] = true
					visitors = append(visitors, v)
				}
			}
		}
		open, err := w.loadOpen(ctx, tx, siteID, visitors, minTS-SessionTimeout)
		if err != nil {
			return nil, nil, err
		}
		touched := map[int64]*db.SessionChange{} // by session id
		byID := map[int64]*db.Session{}
		var order []int64
		for _, i := range idx {
			ev := batch[i].ev
			s := open[ev.VisitorID]
			if !live(s, ev.TS) && batch[i].prevVisitor != 0 {
				if ps := open[batch[i].prevVisitor]; live(ps, ev.TS) {
					s = ps
					ev.VisitorID = batch[i].prevVisitor
				}
			}
			if !live(s, ev.TS) {
				s = newSession(&ev)
				open[ev.VisitorID] = s
				touched[s.SessionID] = &db.SessionChange{}
				byID[s.SessionID] = s
				order = append(order, s.SessionID)
			} else if _, ok := touched[s.SessionID]; !ok {
				before := *s
				touched[s.SessionID] = &db.SessionChange{Before: &before}
				byID[s.SessionID] = s
				order = append(order, s.SessionID)
			}
			apply(s, &ev)
			ev.SessionID = s.SessionID
			events = append(events, ev)
		}
		for _, id := range order {
			ch := touched[id]
			ch.After = *byID[id]
			changes = append(changes, *ch)
		}
	}
	return events, changes, nil
}

// live reports whether an event at ts belongs to visit s.
func live(s *db.Session, ts int64) bool {
	return s != nil && ts-s.LastSeen <= SessionTimeout && s.StartedAt-ts <= SessionTimeout
}

func newSession(ev *db.Event) *db.Session {
	return &db.Session{
		SiteID: ev.SiteID, SessionID: rand.Int64N(1<<62) + 1, VisitorID: ev.VisitorID,
		StartedAt: ev.TS, LastSeen: ev.TS, EntryPage: ev.Pathname, ExitPage: ev.Pathname,
		Hostname: ev.Hostname, Referrer: ev.Referrer, Source: ev.Source, Channel: ev.Channel,
		UTMSource: ev.UTMSource, UTMMedium: ev.UTMMedium, UTMCampaign: ev.UTMCampaign, UTMTerm: ev.UTMTerm, UTMContent: ev.UTMContent,
		Country: ev.Country, Region: ev.Region, City: ev.City,
		Browser: ev.Browser, BrowserVersion: ev.BrowserVersion, OS: ev.OS, OSVersion: ev.OSVersion, Device: ev.Device,
		IsBounce: true,
	}
}

// apply adds one event to a visit. Events can arrive out of order (two
// replicas, retries), so the entry page follows the earliest event and the
// exit page the latest.
func apply(s *db.Session, ev *db.Event) {
	pageview := ev.Name == "pageview"
	if ev.TS < s.StartedAt {
		s.StartedAt = ev.TS
		if pageview {
			s.EntryPage = ev.Pathname
		}
	}
	if ev.TS >= s.LastSeen {
		s.LastSeen = ev.TS
		if pageview {
			s.ExitPage = ev.Pathname
		}
	}
	s.Events++
	if pageview {
		if s.Pageviews == 0 {
			s.EntryPage, s.ExitPage = ev.Pathname, ev.Pathname
		}
		s.Pageviews++
	}
	s.Duration = int(s.LastSeen - s.StartedAt)
	if s.Pageviews > 1 || (!pageview && ev.Interactive) {
		s.IsBounce = false
	}
}

// loadOpen reads the latest visit of each visitor that may still be open.
func (w *writer) loadOpen(ctx context.Context, tx bun.Tx, siteID int64, visitors []int64, since int64) (map[int64]*db.Session, error) {
	out := make(map[int64]*db.Session, len(visitors))
	const chunk = 5000
	for lo := 0; lo < len(visitors); lo += chunk {
		part := visitors[lo:min(lo+chunk, len(visitors))]
		var rows []db.Session
		q := tx.NewSelect().Model(&rows).Where("site_id = ?", siteID).Where("last_seen >= ?", since)
		if w.db.IsPostgres() {
			q = q.Where("visitor_id = ANY(?)", pgdialect.Array(part))
		} else {
			q = q.Where("visitor_id IN (?)", bun.In(part))
		}
		if err := q.Scan(ctx); err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("flush: load visits of site %d: %w", siteID, err)
		}
		for i := range rows {
			r := &rows[i]
			if cur := out[r.VisitorID]; cur == nil || r.LastSeen > cur.LastSeen {
				out[r.VisitorID] = r
			}
		}
	}
	return out, nil
}

// copyEvents streams events with PostgreSQL COPY on the connection that
// holds the flush transaction (reached through database/sql's Raw).
func copyEvents(ctx context.Context, conn bun.Conn, events []db.Event) error {
	rows := make([][]any, len(events))
	for i := range events {
		e := &events[i]
		props, err := json.Marshal(e.Props)
		if err != nil {
			return fmt.Errorf("flush: encode props: %w", err)
		}
		if e.Props == nil {
			props = []byte("{}")
		}
		var rev pgtype.Numeric
		if e.RevenueAmount != nil {
			if err := rev.Scan(*e.RevenueAmount); err != nil {
				return fmt.Errorf("flush: revenue %q: %w", *e.RevenueAmount, err)
			}
		}
		rows[i] = []any{e.SiteID, e.TS, e.Name, e.VisitorID, e.SessionID, e.Hostname, e.Pathname, e.Referrer, e.Source, e.Channel,
			e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMTerm, e.UTMContent, e.Country, e.Region, e.City,
			e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device, string(props), rev, e.RevenueCurrency, e.Interactive}
	}
	err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("flush: copy %d events: %w", len(events), err)
	}
	return nil
}

// insertEvents writes events with multi-row INSERTs inside the flush
// transaction: SQLite's fastest path, since one transaction means one fsync.
func insertEvents(ctx context.Context, tx bun.Tx, events []db.Event) error {
	const chunk = 500
	for lo := 0; lo < len(events); lo += chunk {
		part := events[lo:min(lo+chunk, len(events))]
		if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
			return fmt.Errorf("flush: insert %d events: %w", len(part), err)
		}
	}
	return nil
}

var sessionUpdateCols = []string{"visitor_id", "started_at", "last_seen", "entry_page", "exit_page", "pageviews", "events", "duration", "is_bounce"}

func upsertSessions(ctx context.Context, tx bun.Tx, changes []db.SessionChange) error {
	const chunk = 500
	for lo := 0; lo < len(changes); lo += chunk {
		part := changes[lo:min(lo+chunk, len(changes))]
		rows := make([]db.Session, len(part))
		for i := range part {
			rows[i] = part[i].After
		}
		q := tx.NewInsert().Model(&rows).On("CONFLICT (site_id, session_id) DO UPDATE")
		for _, c := range sessionUpdateCols {
			q = q.Set(c + " = EXCLUDED." + c)
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("flush: store %d visits: %w", len(rows), err)
		}
	}
	return nil
}

var sessionColumns = []string{"site_id", "session_id", "visitor_id", "started_at", "last_seen", "entry_page", "exit_page", "hostname", "referrer", "source", "channel",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region", "city",
	"browser", "browser_version", "os", "os_version", "device", "pageviews", "events", "duration", "is_bounce"}

// copySessions is PostgreSQL's fast path: visits this batch started are
// streamed with COPY (their ids are fresh, so nothing can conflict), and
// visits it continued are changed by one UPDATE over arrays.
func copySessions(ctx context.Context, conn bun.Conn, changes []db.SessionChange) error {
	var fresh [][]any
	var (
		site, id, started, last, pv, evs, dur []int64
		entry, exit                           []string
		bounce                                []bool
	)
	for i := range changes {
		s := &changes[i].After
		if changes[i].Before == nil {
			fresh = append(fresh, []any{s.SiteID, s.SessionID, s.VisitorID, s.StartedAt, s.LastSeen, s.EntryPage, s.ExitPage, s.Hostname, s.Referrer, s.Source, s.Channel,
				s.UTMSource, s.UTMMedium, s.UTMCampaign, s.UTMTerm, s.UTMContent, s.Country, s.Region, s.City,
				s.Browser, s.BrowserVersion, s.OS, s.OSVersion, s.Device, int32(s.Pageviews), int32(s.Events), int32(s.Duration), s.IsBounce})
			continue
		}
		site, id, started, last = append(site, s.SiteID), append(id, s.SessionID), append(started, s.StartedAt), append(last, s.LastSeen)
		pv, evs, dur = append(pv, int64(s.Pageviews)), append(evs, int64(s.Events)), append(dur, int64(s.Duration))
		entry, exit, bounce = append(entry, s.EntryPage), append(exit, s.ExitPage), append(bounce, s.IsBounce)
	}
	err := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		pc := sc.Conn()
		if len(fresh) > 0 {
			if _, err := pc.CopyFrom(ctx, pgx.Identifier{"sessions"}, sessionColumns, pgx.CopyFromRows(fresh)); err != nil {
				return fmt.Errorf("copy %d new visits: %w", len(fresh), err)
			}
		}
		if len(id) > 0 {
			_, err := pc.Exec(ctx, `UPDATE sessions AS s SET started_at = u.started_at, last_seen = u.last_seen,
	entry_page = u.entry_page, exit_page = u.exit_page, pageviews = u.pageviews, events = u.events,
	duration = u.duration, is_bounce = u.is_bounce
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[])
	AS u(site_id, session_id, started_at, last_seen, entry_page, exit_page, pageviews, events, duration, is_bounce)
WHERE s.site_id = u.site_id AND s.session_id = u.session_id`, site, id, started, last, entry, exit, pv, evs, dur, bounce)
			if err != nil {
				return fmt.Errorf("update %d visits: %w", len(id), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}
