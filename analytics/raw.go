package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
)

// sqlb builds one raw-table query with its arguments.
type sqlb struct {
	pg   bool
	args []any
}

func (b *sqlb) arg(v any) string { b.args = append(b.args, v); return "?" }

// propExpr reads one property of an event; NULL when the event lacks it.
func (b *sqlb) propExpr(key string) string {
	if b.pg {
		return "(e.props->>" + b.arg(key) + ")"
	}
	return "json_extract(e.props, " + b.arg(`$."`+strings.ReplaceAll(key, `"`, `\"`)+`"`) + ")"
}

// dimExpr is the SQL expression of a dimension: events are aliased e and
// visits s. A missing property reads as ”.
func (b *sqlb) dimExpr(d Dimension, propKey string) string {
	if d == DimProp {
		return "COALESCE(" + b.propExpr(propKey) + ", '')"
	}
	if d.IsSession() {
		return "s." + dims[d].column
	}
	return "e." + dims[d].column
}

func (b *sqlb) cond(f Filter) string {
	expr := b.dimExpr(f.Dim, f.PropKey)
	parts := make([]string, 0, len(f.Values))
	switch f.Op {
	case OpIs, OpIsNot:
		ph := make([]string, len(f.Values))
		for i, v := range f.Values {
			ph[i] = b.arg(v)
		}
		not := ""
		if f.Op == OpIsNot {
			not = "NOT "
		}
		return expr + " " + not + "IN (" + strings.Join(ph, ", ") + ")"
	case OpContains:
		for _, v := range f.Values {
			if b.pg {
				parts = append(parts, "strpos("+expr+", "+b.arg(v)+") > 0")
			} else {
				parts = append(parts, "instr("+expr+", "+b.arg(v)+") > 0")
			}
		}
	case OpMatches:
		for _, v := range f.Values {
			if b.pg {
				parts = append(parts, expr+" ~ "+b.arg(v))
			} else {
				parts = append(parts, "tally_regexp("+b.arg(v)+", "+expr+") = 1")
			}
		}
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func (b *sqlb) goalCond(g *Goal) string {
	if g.Kind == GoalEvent {
		return "e.name = " + b.arg(g.EventName)
	}
	if b.pg {
		return "(e.name = 'pageview' AND e.pathname ~ " + b.arg(PathRegexp(g.PagePath)) + ")"
	}
	return "(e.name = 'pageview' AND tally_regexp(" + b.arg(PathRegexp(g.PagePath)) + ", e.pathname) = 1)"
}

// eventConds are the conditions on events e: site, range, event filters and
// optionally the goal.
func (b *sqlb) eventConds(q *Query, withGoal bool) []string {
	c := []string{"e.site_id = " + b.arg(q.Site.ID), "e.ts >= " + b.arg(q.Range.From()), "e.ts < " + b.arg(q.Range.To())}
	for _, f := range q.Filters {
		if !f.Dim.IsSession() {
			c = append(c, b.cond(f))
		}
	}
	if withGoal && q.Goal != nil {
		c = append(c, b.goalCond(q.Goal))
	}
	return c
}

func (b *sqlb) sessionFilterConds(q *Query) []string {
	var c []string
	for _, f := range q.Filters {
		if f.Dim.IsSession() {
			c = append(c, b.cond(f))
		}
	}
	return c
}

func hasSessionFilter(q *Query) bool {
	for _, f := range q.Filters {
		if f.Dim.IsSession() {
			return true
		}
	}
	return false
}

func hasEventFilter(q *Query, withGoal bool) bool {
	for _, f := range q.Filters {
		if !f.Dim.IsSession() {
			return true
		}
	}
	return withGoal && q.Goal != nil
}

// joinSessions joins the visits of events e. The extra bounds are implied by
// the join (a visit with an event in the range was last seen at or after its
// start and started before its end) and let the planner read only the
// range's visits instead of every visit of the site.
func (b *sqlb) joinSessions(q *Query) string {
	return " JOIN sessions s ON s.site_id = e.site_id AND s.session_id = e.session_id AND s.last_seen >= " + b.arg(q.Range.From()) +
		" AND s.started_at < " + b.arg(q.Range.To())
}

// keyExpr is the grouping key over events (ts is the time column).
func (b *sqlb) keyExpr(g grouping, tsCol string) string {
	switch {
	case g.buckets != nil:
		var sb strings.Builder
		sb.WriteString("CASE")
		for i, bk := range g.buckets {
			fmt.Fprintf(&sb, " WHEN %s < %d THEN '%d'", tsCol, bk.to, i)
		}
		sb.WriteString(" END")
		return sb.String()
	case g.dim == DimProp:
		return b.propExpr(g.propKey)
	case g.dim != "":
		return b.dimExpr(g.dim, "")
	}
	return "''"
}

// rawEvents computes pageviews, events and exact visitors from events. With
// base set it fills baseVisitors instead (the denominator of conversion).
func rawEvents(ctx context.Context, d *db.DB, q *Query, g grouping, w Want, out accs, withGoal, base bool) error {
	b := &sqlb{pg: d.IsPostgres()}
	key := b.keyExpr(g, "e.ts")
	from := "events e"
	if hasSessionFilter(q) || g.dim.IsSession() {
		from += b.joinSessions(q)
	}
	conds := b.eventConds(q, withGoal)
	if g.dim == DimProp {
		conds = append(conds, b.propExpr(g.propKey)+" IS NOT NULL")
	}
	conds = append(conds, b.sessionFilterConds(q)...)
	visitors := "0"
	if w.Visitors || base {
		visitors = "COUNT(DISTINCT e.visitor_id)"
	}
	query := "SELECT " + key + " AS k, SUM(CASE WHEN e.name = 'pageview' THEN 1 ELSE 0 END), COUNT(*), " + visitors +
		" FROM " + from + " WHERE " + strings.Join(conds, " AND ") + " GROUP BY 1"
	err := eachRow(ctx, d, query, b.args, func(rows *sql.Rows) error {
		var k string
		var pv, ev, vis int64
		if err := rows.Scan(&k, &pv, &ev, &vis); err != nil {
			return err
		}
		a := out.get(k)
		if base {
			a.baseVisitors = vis
			return nil
		}
		a.pageviews, a.events, a.visitors = pv, ev, vis
		return nil
	})
	if err != nil {
		return fmt.Errorf("stats over events: %w", err)
	}
	return nil
}

// rawSessions computes visit metrics from the sessions table.
func rawSessions(ctx context.Context, d *db.DB, q *Query, g grouping, out accs) error {
	b := &sqlb{pg: d.IsPostgres()}
	var key, from string
	conds := []string{}
	eventDim := g.dim != "" && !g.dim.IsSession()
	// The range's matching events come first in FROM, as a distinct list of
	// visits, so that both planners look visits up by key instead of
	// scanning every visit of the range.
	switch {
	case eventDim:
		// one row per (visit, value) among the visit's events in the range
		ek := b.keyExpr(g, "e.ts")
		ec := b.eventConds(q, true)
		if g.dim == DimProp {
			ec = append(ec, b.propExpr(g.propKey)+" IS NOT NULL")
		}
		from = "(SELECT DISTINCT e.session_id, " + ek + " AS k FROM events e WHERE " + strings.Join(ec, " AND ") + ") x JOIN sessions s ON s.session_id = x.session_id"
		key = "x.k"
	case hasEventFilter(q, true):
		key = b.keyExpr(g, "s.started_at")
		ec := b.eventConds(q, true)
		from = "(SELECT DISTINCT e.session_id FROM events e WHERE " + strings.Join(ec, " AND ") + ") x JOIN sessions s ON s.session_id = x.session_id"
	default:
		key = b.keyExpr(g, "s.started_at")
		from = "sessions s"
	}
	conds = append(conds, "s.site_id = "+b.arg(q.Site.ID), "s.started_at >= "+b.arg(q.Range.From()), "s.started_at < "+b.arg(q.Range.To()))
	conds = append(conds, b.sessionFilterConds(q)...)
	query := "SELECT " + key + " AS k, COUNT(*), SUM(CASE WHEN s.is_bounce THEN 1 ELSE 0 END), SUM(s.duration), SUM(s.pageviews) FROM " +
		from + " WHERE " + strings.Join(conds, " AND ") + " GROUP BY 1"
	err := eachRow(ctx, d, query, b.args, func(rows *sql.Rows) error {
		var k string
		var a acc
		if err := rows.Scan(&k, &a.visits, &a.bounces, &a.duration, &a.sessPV); err != nil {
			return err
		}
		x := out.get(k)
		x.visits, x.bounces, x.duration, x.sessPV = a.visits, a.bounces, a.duration, a.sessPV
		return nil
	})
	if err != nil {
		return fmt.Errorf("stats over visits: %w", err)
	}
	return nil
}

// rawRevenue sums revenue per currency exactly (in Go, since SQLite keeps
// amounts as text).
func rawRevenue(ctx context.Context, d *db.DB, q *Query, g grouping, out accs) error {
	b := &sqlb{pg: d.IsPostgres()}
	key := b.keyExpr(g, "e.ts")
	from := "events e"
	if hasSessionFilter(q) || g.dim.IsSession() {
		from += b.joinSessions(q)
	}
	conds := b.eventConds(q, true)
	conds = append(conds, "e.revenue_amount IS NOT NULL")
	if g.dim == DimProp {
		conds = append(conds, b.propExpr(g.propKey)+" IS NOT NULL")
	}
	conds = append(conds, b.sessionFilterConds(q)...)
	query := "SELECT " + key + " AS k, e.revenue_currency, CAST(e.revenue_amount AS TEXT) FROM " + from + " WHERE " + strings.Join(conds, " AND ")
	err := eachRow(ctx, d, query, b.args, func(rows *sql.Rows) error {
		var k, cur, amt string
		if err := rows.Scan(&k, &cur, &amt); err != nil {
			return err
		}
		v, err := decimal.NewFromString(amt)
		if err != nil {
			return fmt.Errorf("amount %q: %w", amt, err)
		}
		a := out.get(k)
		if a.revenue == nil {
			a.revenue = map[string]decimal.Decimal{}
		}
		a.revenue[cur] = a.revenue[cur].Add(v)
		return nil
	})
	if err != nil {
		return fmt.Errorf("revenue: %w", err)
	}
	return nil
}
