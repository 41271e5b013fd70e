package analytics

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/tallyhq/tally/db"
)

// Hook keeps the rollups in step with stored batches; it implements
// db.BatchHook and runs inside the writer's transaction.
type Hook struct{}

var _ db.BatchHook = Hook{}

type rollupKey struct {
	site  int64
	dim   Dimension
	day   int
	value string
}

type sessionDelta struct{ visits, bounces, duration, pageviews int64 }

type eventDelta struct {
	pageviews, events int64
	visitors          *Sketch
}

// AfterBatch adds the batch's events to the event rollups and replaces each
// touched visit's previous contribution to the session rollups by its new one.
func (Hook) AfterBatch(ctx context.Context, tx bun.Tx, events []db.Event, sessions []db.SessionChange) error {
	if len(events) == 0 && len(sessions) == 0 {
		return nil
	}
	locs, err := siteLocations(ctx, tx, events, sessions)
	if err != nil {
		return err
	}
	sd := map[rollupKey]*sessionDelta{}
	byID := map[[2]int64]*db.Session{}
	for i := range sessions {
		c := &sessions[i]
		loc := locs[c.After.SiteID]
		if c.Before != nil {
			addSession(sd, c.Before, loc, -1)
		}
		addSession(sd, &c.After, loc, 1)
		byID[[2]int64{c.After.SiteID, c.After.SessionID}] = &c.After
	}
	if err := loadMissingSessions(ctx, tx, events, byID); err != nil {
		return err
	}
	ed := map[rollupKey]*eventDelta{}
	for i := range events {
		e := &events[i]
		addEvent(ed, e, byID[[2]int64{e.SiteID, e.SessionID}], localDay(e.TS, locs[e.SiteID]))
	}
	isPG := tx.Dialect().Name() == dialect.PG
	if err := writeSessionDeltas(ctx, tx, sd); err != nil {
		return err
	}
	return mergeEventDeltas(ctx, tx, ed, isPG)
}

func siteLocations(ctx context.Context, tx bun.IDB, events []db.Event, sessions []db.SessionChange) (map[int64]*time.Location, error) {
	ids := map[int64]bool{}
	for _, e := range events {
		ids[e.SiteID] = true
	}
	for _, s := range sessions {
		ids[s.After.SiteID] = true
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	var rows []struct {
		ID       int64  `bun:"id"`
		Timezone string `bun:"timezone"`
	}
	if err := tx.NewSelect().Table("sites").Column("id", "timezone").Where("id IN (?)", bun.In(list)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("rollups: load site time zones: %w", err)
	}
	out := map[int64]*time.Location{}
	for _, r := range rows {
		loc, err := time.LoadLocation(r.Timezone)
		if err != nil {
			loc = time.UTC
		}
		out[r.ID] = loc
	}
	for id := range ids {
		if out[id] == nil {
			// events of a deleted site still count in UTC; they vanish with the site
			out[id] = time.UTC
		}
	}
	return out, nil
}

// loadMissingSessions fetches visits of events whose session the batch did
// not report (the writer reports every touched visit; this is a safety net).
func loadMissingSessions(ctx context.Context, tx bun.IDB, events []db.Event, byID map[[2]int64]*db.Session) error {
	for _, e := range events {
		k := [2]int64{e.SiteID, e.SessionID}
		if _, ok := byID[k]; ok {
			continue
		}
		s := new(db.Session)
		err := tx.NewSelect().Model(s).Where("site_id = ? AND session_id = ?", e.SiteID, e.SessionID).Scan(ctx)
		if err != nil {
			s = &db.Session{SiteID: e.SiteID, SessionID: e.SessionID}
		}
		byID[k] = s
	}
	return nil
}

func addSession(m map[rollupKey]*sessionDelta, s *db.Session, loc *time.Location, sign int64) {
	day := localDay(s.StartedAt, loc)
	bounce := int64(0)
	if s.IsBounce {
		bounce = 1
	}
	for _, d := range sessionRollupDims {
		v := ""
		if d != dimTotal {
			v = sessionValue(d, s)
		}
		k := rollupKey{s.SiteID, d, day, v}
		x := m[k]
		if x == nil {
			x = &sessionDelta{}
			m[k] = x
		}
		x.visits += sign
		x.bounces += sign * bounce
		x.duration += sign * int64(s.Duration)
		x.pageviews += sign * int64(s.Pageviews)
	}
}

// eventValues lists the rollup values of one event per dimension.
func eventValues(e *db.Event, s *db.Session, fn func(d Dimension, v string)) {
	fn(dimTotal, "")
	fn(DimPage, e.Pathname)
	fn(DimHostname, e.Hostname)
	fn(DimEventName, e.Name)
	for k, v := range e.Props {
		fn(DimProp, propValue(k, v))
	}
	for _, d := range eventRollupDims {
		if d.IsSession() {
			fn(d, sessionValue(d, s))
		}
	}
}

func addEvent(m map[rollupKey]*eventDelta, e *db.Event, s *db.Session, day int) {
	pv := int64(0)
	if e.Name == "pageview" {
		pv = 1
	}
	eventValues(e, s, func(d Dimension, v string) {
		k := rollupKey{e.SiteID, d, day, v}
		x := m[k]
		if x == nil {
			x = &eventDelta{visitors: NewSketch()}
			m[k] = x
		}
		x.pageviews += pv
		x.events++
		x.visitors.Add(e.VisitorID)
	})
}

const insertChunk = 500

func sortedKeys[T any](m map[rollupKey]T) []rollupKey {
	keys := make([]rollupKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// a fixed order keeps concurrent writers from deadlocking on PostgreSQL
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.site != b.site {
			return a.site < b.site
		}
		if a.dim != b.dim {
			return a.dim < b.dim
		}
		if a.day != b.day {
			return a.day < b.day
		}
		return a.value < b.value
	})
	return keys
}

func writeSessionDeltas(ctx context.Context, tx bun.IDB, m map[rollupKey]*sessionDelta) error {
	keys := sortedKeys(m)
	for len(keys) > 0 {
		n := min(len(keys), insertChunk)
		var sb strings.Builder
		args := make([]any, 0, n*8)
		sb.WriteString("INSERT INTO analytics_session_rollups AS t (site_id, dim, day, value, visits, bounces, duration, pageviews) VALUES ")
		for i, k := range keys[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			x := m[k]
			args = append(args, k.site, string(k.dim), k.day, k.value, x.visits, x.bounces, x.duration, x.pageviews)
		}
		sb.WriteString(` ON CONFLICT (site_id, dim, day, value) DO UPDATE SET visits = t.visits + excluded.visits,
 bounces = t.bounces + excluded.bounces, duration = t.duration + excluded.duration, pageviews = t.pageviews + excluded.pageviews`)
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("rollups: write visit rollups: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// mergeEventDeltas reads the sketches of the touched rows (locked on
// PostgreSQL), merges the batch's visitors and writes counts and sketches.
func mergeEventDeltas(ctx context.Context, tx bun.IDB, m map[rollupKey]*eventDelta, isPG bool) error {
	type group struct {
		site int64
		dim  Dimension
	}
	groups := map[group]struct {
		days   map[int]bool
		values map[string]bool
	}{}
	for k := range m {
		g := group{k.site, k.dim}
		x, ok := groups[g]
		if !ok {
			x.days, x.values = map[int]bool{}, map[string]bool{}
			groups[g] = x
		}
		x.days[k.day] = true
		x.values[k.value] = true
	}
	lock := ""
	if isPG {
		lock = " ORDER BY day, value FOR UPDATE"
	}
	for g, x := range groups {
		days := make([]int, 0, len(x.days))
		for d := range x.days {
			days = append(days, d)
		}
		values := make([]string, 0, len(x.values))
		for v := range x.values {
			values = append(values, v)
		}
		rows, err := tx.QueryContext(ctx, "SELECT day, value, visitors FROM analytics_event_rollups WHERE site_id = ? AND dim = ? AND day IN (?) AND value IN (?)"+lock,
			g.site, string(g.dim), bun.In(days), bun.In(values))
		if err != nil {
			return fmt.Errorf("rollups: read %s sketches: %w", g.dim, err)
		}
		for rows.Next() {
			var day int
			var value string
			var blob []byte
			if err := rows.Scan(&day, &value, &blob); err != nil {
				rows.Close()
				return fmt.Errorf("rollups: read %s sketches: %w", g.dim, err)
			}
			if d := m[rollupKey{g.site, g.dim, day, value}]; d != nil {
				if err := d.visitors.MergeBinary(blob); err != nil {
					rows.Close()
					return err
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("rollups: read %s sketches: %w", g.dim, err)
		}
	}
	return upsertEventRows(ctx, tx, m, true)
}

// upsertEventRows writes event rollup rows; with add set the counts are
// added to existing rows (the sketch already holds the merged visitors).
func upsertEventRows(ctx context.Context, tx bun.IDB, m map[rollupKey]*eventDelta, add bool) error {
	keys := sortedKeys(m)
	for len(keys) > 0 {
		n := min(len(keys), insertChunk)
		var sb strings.Builder
		args := make([]any, 0, n*7)
		sb.WriteString("INSERT INTO analytics_event_rollups AS t (site_id, dim, day, value, pageviews, events, visitors) VALUES ")
		for i, k := range keys[:n] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			x := m[k]
			blob, err := x.visitors.MarshalBinary()
			if err != nil {
				return err
			}
			args = append(args, k.site, string(k.dim), k.day, k.value, x.pageviews, x.events, blob)
		}
		if add {
			sb.WriteString(` ON CONFLICT (site_id, dim, day, value) DO UPDATE SET pageviews = t.pageviews + excluded.pageviews,
 events = t.events + excluded.events, visitors = excluded.visitors`)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("rollups: write event rollups: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}
