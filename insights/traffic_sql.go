package insights

import (
	"context"
	"fmt"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/db"
)

// SQLTraffic is a TrafficSource that reads the raw events and sessions
// tables exactly. It stands in until the analytics package (rollups) is
// plugged in; for a weekly summary the raw scan is cheap enough.
type SQLTraffic struct{ DB *db.DB }

// Totals counts distinct visitors and pageviews from events, and visits,
// bounces and durations from sessions that started in the range.
func (s SQLTraffic) Totals(ctx context.Context, siteID int64, r TimeRange) (TrafficTotals, error) {
	var t TrafficTotals
	from, to := r.From.Unix(), r.To.Unix()
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(DISTINCT visitor_id),
		COALESCE(SUM(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN name <> 'pageview' THEN 1 ELSE 0 END), 0)
		FROM events WHERE site_id = ? AND ts >= ? AND ts < ?`, siteID, from, to).Scan(&t.Visitors, &t.Pageviews, &t.Events)
	if err != nil {
		return t, fmt.Errorf("count events: %w", err)
	}
	err = s.DB.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN is_bounce THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(duration), 0)
		FROM sessions WHERE site_id = ? AND started_at >= ? AND started_at < ?`, siteID, from, to).Scan(&t.Visits, &t.Bounces, &t.DurationSeconds)
	if err != nil {
		return t, fmt.Errorf("count sessions: %w", err)
	}
	return t, nil
}

// breakdownSQL reads (value, visitor, count) groups per dimension; the
// column names come from this table only, never from input.
var breakdownSQL = map[Dimension]string{
	DimPage:    `SELECT pathname, visitor_id, COUNT(*) FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND name = 'pageview' GROUP BY pathname, visitor_id`,
	DimGoal:    `SELECT name, visitor_id, COUNT(*) FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND name <> 'pageview' GROUP BY name, visitor_id`,
	DimSource:  sessionsBy("source"),
	DimChannel: sessionsBy("channel"),
	DimCountry: sessionsBy("country"),
	DimDevice:  sessionsBy("device"),
}

func sessionsBy(col string) string {
	return `SELECT ` + col + `, visitor_id, COUNT(*) FROM sessions WHERE site_id = ? AND started_at >= ? AND started_at < ? GROUP BY ` + col + `, visitor_id`
}

// Breakdown groups by (raw value, visitor) in SQL, then normalizes each raw
// value and counts distinct visitors per normalized value in Go, so that
// "/order/1" and "/order/2" visited by one person count one visitor of
// "/order/{n}", not two.
func (s SQLTraffic) Breakdown(ctx context.Context, siteID int64, r TimeRange, dim Dimension, normalize func(string) string) ([]DimCount, error) {
	if dim == DimGoal {
		goals, err := analytics.Goals(ctx, s.DB, siteID)
		if err != nil {
			return nil, fmt.Errorf("goal breakdown: %w", err)
		}
		if len(goals) > 0 {
			return s.configuredGoals(ctx, siteID, r, goals, normalize)
		}
		// Without configured goals, each custom event name is a goal.
	}
	q, ok := breakdownSQL[dim]
	if !ok {
		return nil, fmt.Errorf("unknown dimension %q", dim)
	}
	rows, err := s.DB.QueryContext(ctx, q, siteID, r.From.Unix(), r.To.Unix())
	if err != nil {
		return nil, fmt.Errorf("%s breakdown: %w", dim, err)
	}
	defer rows.Close()
	type acc struct {
		visitors map[int64]struct{}
		count    int64
	}
	m := map[string]*acc{}
	cache := map[string]string{}
	for rows.Next() {
		var raw string
		var visitor, n int64
		if err := rows.Scan(&raw, &visitor, &n); err != nil {
			return nil, fmt.Errorf("%s breakdown: %w", dim, err)
		}
		v, ok := cache[raw]
		if !ok {
			v = normalize(raw)
			cache[raw] = v
		}
		a := m[v]
		if a == nil {
			a = &acc{visitors: map[int64]struct{}{}}
			m[v] = a
		}
		a.visitors[visitor] = struct{}{}
		a.count += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s breakdown: %w", dim, err)
	}
	out := make([]DimCount, 0, len(m))
	for v, a := range m {
		out = append(out, DimCount{Value: v, Visitors: int64(len(a.visitors)), Count: a.count})
	}
	return out, nil
}

// configuredGoals counts the site's goals (analytics: a pageview of a path
// pattern or a custom event) over the range: distinct visitors who
// completed each and the completing events.
func (s SQLTraffic) configuredGoals(ctx context.Context, siteID int64, r TimeRange, goals []analytics.Goal, normalize func(string) string) ([]DimCount, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT name, pathname, visitor_id, COUNT(*) FROM events WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY name, pathname, visitor_id`,
		siteID, r.From.Unix(), r.To.Unix())
	if err != nil {
		return nil, fmt.Errorf("goal breakdown: %w", err)
	}
	defer rows.Close()
	visitors := make([]map[int64]struct{}, len(goals))
	counts := make([]int64, len(goals))
	for i := range visitors {
		visitors[i] = map[int64]struct{}{}
	}
	// Goal.Matches compiles its pattern each time: remember the goals each
	// (name, path) completes.
	matched := map[string][]int{}
	for rows.Next() {
		var name, path string
		var visitor, n int64
		if err := rows.Scan(&name, &path, &visitor, &n); err != nil {
			return nil, fmt.Errorf("goal breakdown: %w", err)
		}
		key := name + "\x00" + path
		idx, ok := matched[key]
		if !ok {
			idx = []int{}
			for i := range goals {
				if goals[i].Matches(name, path) {
					idx = append(idx, i)
				}
			}
			matched[key] = idx
		}
		for _, i := range idx {
			visitors[i][visitor] = struct{}{}
			counts[i] += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("goal breakdown: %w", err)
	}
	// Goals whose normalized names coincide are merged, visitors counted once.
	byName := map[string]map[int64]struct{}{}
	events := map[string]int64{}
	var order []string
	for i, g := range goals {
		v := normalize(g.Name)
		if byName[v] == nil {
			byName[v] = map[int64]struct{}{}
			order = append(order, v)
		}
		for id := range visitors[i] {
			byName[v][id] = struct{}{}
		}
		events[v] += counts[i]
	}
	out := make([]DimCount, 0, len(order))
	for _, v := range order {
		if len(byName[v]) > 0 {
			out = append(out, DimCount{Value: v, Visitors: int64(len(byName[v])), Count: events[v]})
		}
	}
	return out, nil
}
