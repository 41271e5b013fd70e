// Package sqltraffic answers costs.Traffic with exact SQL over the raw
// events table: distinct visitors, pageviews and converting visitors per
// UTC day. It reads raw rows, so it is exact but not fast over long ranges;
// the analytics package may provide a rollup-based replacement.
package sqltraffic

import (
	"context"
	"fmt"
	"time"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
)

// Traffic implements costs.Traffic.
type Traffic struct{ DB *db.DB }

var _ costs.Traffic = Traffic{}

// conversion is the SQL condition of a converting event.
func conversion(goal string) (string, []any) {
	if goal == "" {
		return "name <> 'pageview'", nil
	}
	return "name = ?", []any{goal}
}

// Traffic returns totals over [from, to) and per-day numbers.
func (t Traffic) Traffic(ctx context.Context, siteID int64, from, to time.Time, goal string) (costs.TrafficTotals, []costs.TrafficDay, error) {
	cond, cargs := conversion(goal)
	var tot costs.TrafficTotals
	args := append(append([]any{}, cargs...), siteID, from.Unix(), to.Unix())
	q := fmt.Sprintf(`SELECT COUNT(DISTINCT visitor_id),
		COALESCE(SUM(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END), 0),
		COUNT(DISTINCT CASE WHEN %s THEN visitor_id END)
		FROM events WHERE site_id = ? AND ts >= ? AND ts < ?`, cond)
	if err := t.DB.QueryRowContext(ctx, q, args...).Scan(&tot.Visitors, &tot.Pageviews, &tot.Conversions); err != nil {
		return tot, nil, fmt.Errorf("site %d traffic: %w", siteID, err)
	}
	q = fmt.Sprintf(`SELECT ts - ts %% 86400 AS day, COUNT(DISTINCT visitor_id),
		COALESCE(SUM(CASE WHEN name = 'pageview' THEN 1 ELSE 0 END), 0),
		COUNT(DISTINCT CASE WHEN %s THEN visitor_id END)
		FROM events WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1`, cond)
	rows, err := t.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return tot, nil, fmt.Errorf("site %d daily traffic: %w", siteID, err)
	}
	defer rows.Close()
	var days []costs.TrafficDay
	for rows.Next() {
		var d costs.TrafficDay
		var sec int64
		if err := rows.Scan(&sec, &d.Visitors, &d.Pageviews, &d.Conversions); err != nil {
			return tot, nil, fmt.Errorf("site %d daily traffic: %w", siteID, err)
		}
		d.Date = time.Unix(sec, 0).UTC()
		days = append(days, d)
	}
	return tot, days, rows.Err()
}
