package analytics

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tallyhq/tally/db"
)

// canUseRollups reports whether the rollups hold the answer: no filter, no
// goal, and day-aligned buckets.
func canUseRollups(q *Query, g grouping) bool {
	if len(q.Filters) > 0 || q.Goal != nil {
		return false
	}
	return g.buckets == nil || g.buckets[0].fromDay >= 0
}

// rollupRows restricts a rollup table to the query's site, days and dimension.
func rollupWhere(q *Query, g grouping) (string, []any) {
	dim := g.dim
	if g.buckets != nil {
		dim = dimTotal
	}
	where := "site_id = ? AND dim = ? AND day >= ? AND day <= ?"
	args := []any{q.Site.ID, string(dim), q.Range.FromDay, q.Range.ToDay}
	if dim == DimProp {
		where += " AND value >= ? AND value < ?"
		args = append(args, g.propKey+propSep, g.propKey+"\x20")
	}
	return where, args
}

// rowKey maps a rollup row to its grouping key.
func rowKey(g grouping, bod map[int]int, day int, value string) (string, bool) {
	switch {
	case g.buckets != nil:
		i, ok := bod[day]
		return strconv.Itoa(i), ok
	case g.dim == DimProp:
		return strings.TrimPrefix(value, g.propKey+propSep), true
	}
	return value, true
}

func rollupEvents(ctx context.Context, d *db.DB, q *Query, g grouping, w Want, out accs) error {
	where, args := rollupWhere(q, g)
	cols := "day, value, pageviews, events"
	if w.Visitors {
		cols += ", visitors"
	}
	rows, err := d.QueryContext(ctx, "SELECT "+cols+" FROM analytics_event_rollups WHERE "+where, args...)
	if err != nil {
		return fmt.Errorf("stats from event rollups: %w", err)
	}
	defer rows.Close()
	var bod map[int]int
	if g.buckets != nil {
		bod = bucketOfDay(g.buckets)
	}
	var day int
	var value string
	var pv, ev int64
	var blob []byte
	dest := []any{&day, &value, &pv, &ev}
	if w.Visitors {
		dest = append(dest, &blob)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("stats from event rollups: %w", err)
		}
		k, ok := rowKey(g, bod, day, value)
		if !ok {
			continue
		}
		a := out.get(k)
		a.pageviews += pv
		a.events += ev
		if w.Visitors {
			if a.sk == nil {
				a.sk = NewSketch()
			}
			if err := a.sk.MergeBinary(blob); err != nil {
				return err
			}
		}
	}
	return rows.Err()
}

func rollupSessions(ctx context.Context, d *db.DB, q *Query, g grouping, out accs) error {
	where, args := rollupWhere(q, g)
	rows, err := d.QueryContext(ctx, "SELECT day, value, visits, bounces, duration, pageviews FROM analytics_session_rollups WHERE "+where+" AND visits <> 0", args...)
	if err != nil {
		return fmt.Errorf("stats from visit rollups: %w", err)
	}
	defer rows.Close()
	var bod map[int]int
	if g.buckets != nil {
		bod = bucketOfDay(g.buckets)
	}
	var day int
	var value string
	var v, b, du, pv int64
	for rows.Next() {
		if err := rows.Scan(&day, &value, &v, &b, &du, &pv); err != nil {
			return fmt.Errorf("stats from visit rollups: %w", err)
		}
		k, ok := rowKey(g, bod, day, value)
		if !ok {
			continue
		}
		a := out.get(k)
		a.visits += v
		a.bounces += b
		a.duration += du
		a.sessPV += pv
	}
	return rows.Err()
}
