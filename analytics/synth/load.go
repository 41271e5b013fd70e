package synth

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tallyhq/tally/db"
)

// Counts says how many rows Load wrote.
type Counts struct{ Events, Sessions int64 }

var eventCols = []string{"site_id", "ts", "name", "visitor_id", "session_id", "hostname", "pathname", "referrer", "source", "channel",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region", "city",
	"browser", "browser_version", "os", "os_version", "device", "props", "revenue_amount", "revenue_currency", "interactive"}

var sessionCols = []string{"site_id", "session_id", "visitor_id", "started_at", "last_seen", "entry_page", "exit_page", "hostname", "referrer",
	"source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "region", "city",
	"browser", "browser_version", "os", "os_version", "device", "pageviews", "events", "duration", "is_bounce"}

func eventRow(e *db.Event) []any {
	return []any{e.SiteID, e.TS, e.Name, e.VisitorID, e.SessionID, e.Hostname, e.Pathname, e.Referrer, e.Source, e.Channel,
		e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMTerm, e.UTMContent, e.Country, e.Region, e.City,
		e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device, e.Props, e.RevenueAmount, e.RevenueCurrency, e.Interactive}
}

func sessionRow(s *db.Session) []any {
	return []any{s.SiteID, s.SessionID, s.VisitorID, s.StartedAt, s.LastSeen, s.EntryPage, s.ExitPage, s.Hostname, s.Referrer,
		s.Source, s.Channel, s.UTMSource, s.UTMMedium, s.UTMCampaign, s.UTMTerm, s.UTMContent, s.Country, s.Region, s.City,
		s.Browser, s.BrowserVersion, s.OS, s.OSVersion, s.Device, s.Pageviews, s.Events, s.Duration, s.IsBounce}
}

// Load generates traffic and writes it in bulk, bypassing the rollup hook
// (callers rebuild the rollups afterwards): COPY on PostgreSQL, one
// transaction of multi-row inserts on SQLite.
func Load(ctx context.Context, d *db.DB, cfg Config) (Counts, error) {
	if d.IsPostgres() {
		return loadPostgres(ctx, d, cfg)
	}
	return loadSQLite(ctx, d, cfg)
}

func loadPostgres(ctx context.Context, d *db.DB, cfg Config) (Counts, error) {
	var c Counts
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// events and visits stream through two COPYs on two connections while
	// the generator runs, so nothing is held in memory
	evs := make(chan []any, 8192)
	sess := make(chan []any, 4096)
	genErr := make(chan error, 1)
	go func() {
		defer close(evs)
		defer close(sess)
		genErr <- Generate(cfg, func(v *Visit) error {
			for i := range v.Events {
				e := &v.Events[i]
				row := eventRow(e)
				if e.RevenueAmount != nil {
					var n pgtype.Numeric
					if err := n.Scan(*e.RevenueAmount); err != nil {
						return err
					}
					row[24] = n
				}
				select {
				case evs <- row:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			select {
			case sess <- sessionRow(&v.Session):
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	}()
	copyInto := func(table string, cols []string, rows chan []any, n *int64) error {
		conn, err := d.DB.DB.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			k, err := pc.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
				row, ok := <-rows
				if !ok {
					return nil, nil
				}
				return row, nil
			}))
			*n = k
			if err != nil {
				cancel()
				return fmt.Errorf("copy %s: %w", table, err)
			}
			return nil
		})
	}
	sessErr := make(chan error, 1)
	go func() { sessErr <- copyInto("sessions", sessionCols, sess, &c.Sessions) }()
	err := copyInto("events", eventCols, evs, &c.Events)
	if e := <-sessErr; err == nil {
		err = e
	}
	if e := <-genErr; err == nil {
		err = e
	}
	return c, err
}

func loadSQLite(ctx context.Context, d *db.DB, cfg Config) (Counts, error) {
	var c Counts
	tx, err := d.BeginTx(ctx, &sql.TxOptions{})
	if err != nil {
		return c, err
	}
	defer func() { _ = tx.Rollback() }()
	const chunk = 400
	var evRows, sRows [][]any
	flush := func(table string, cols []string, rows [][]any) error {
		if len(rows) == 0 {
			return nil
		}
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		args := make([]any, 0, len(rows)*len(cols))
		for i, r := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(one)
			args = append(args, r...)
		}
		_, err := tx.ExecContext(ctx, sb.String(), args...)
		return err
	}
	err = Generate(cfg, func(v *Visit) error {
		for i := range v.Events {
			row := eventRow(&v.Events[i])
			p, _ := json.Marshal(v.Events[i].Props)
			row[23] = string(p)
			evRows = append(evRows, row)
		}
		sRows = append(sRows, sessionRow(&v.Session))
		c.Events += int64(len(v.Events))
		c.Sessions++
		if len(evRows) >= chunk {
			if err := flush("events", eventCols, evRows); err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
			evRows = evRows[:0]
		}
		if len(sRows) >= chunk {
			if err := flush("sessions", sessionCols, sRows); err != nil {
				return fmt.Errorf("insert visits: %w", err)
			}
			sRows = sRows[:0]
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	if err := flush("events", eventCols, evRows); err != nil {
		return c, fmt.Errorf("insert events: %w", err)
	}
	if err := flush("sessions", sessionCols, sRows); err != nil {
		return c, fmt.Errorf("insert visits: %w", err)
	}
	return c, tx.Commit()
}
