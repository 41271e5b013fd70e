package analytics

import (
	"context"
	"fmt"
	"strings"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// FunnelStep is one step of an ordered funnel.
type FunnelStep struct {
	Goal           Goal
	Visitors       int64
	ConversionRate float64 // of the first step, percent
	DropOff        int64   // from the previous step
	DropOffRate    float64 // percent of the previous step
}

// MaxFunnelSteps bounds a funnel.
const MaxFunnelSteps = 8

// Funnel counts, per step, the visitors who completed the step's goal after
// completing every earlier step (in time order, within the range). Filters of
// q narrow the events considered; q.Goal is ignored.
func Funnel(ctx context.Context, d *db.DB, q *Query, steps []Goal) ([]FunnelStep, error) {
	if len(steps) < 2 || len(steps) > MaxFunnelSteps {
		return nil, apperr.Invalid("steps", "a funnel needs 2 to %d steps, not %d", MaxFunnelSteps, len(steps))
	}
	b := &sqlb{pg: d.IsPostgres()}
	qq := *q
	qq.Goal = nil
	from := "events e"
	if hasSessionFilter(q) {
		from += b.joinSessions(q)
	}
	conds := b.eventConds(&qq, false)
	any := make([]string, len(steps))
	for i := range steps {
		any[i] = b.goalCond(&steps[i])
	}
	conds = append(conds, "("+strings.Join(any, " OR ")+")")
	conds = append(conds, b.sessionFilterConds(q)...)
	rows, err := d.QueryContext(ctx, "SELECT e.visitor_id, e.name, e.pathname FROM "+from+" WHERE "+strings.Join(conds, " AND ")+" ORDER BY e.visitor_id, e.ts", b.args...)
	if err != nil {
		return nil, fmt.Errorf("funnel: %w", err)
	}
	defer rows.Close()
	counts := make([]int64, len(steps))
	var cur int64
	reached, started := 0, false
	flush := func() {
		for i := 0; i < reached; i++ {
			counts[i]++
		}
	}
	for rows.Next() {
		var vis int64
		var name, path string
		if err := rows.Scan(&vis, &name, &path); err != nil {
			return nil, fmt.Errorf("funnel: %w", err)
		}
		if !started || vis != cur {
			if started {
				flush()
			}
			cur, reached, started = vis, 0, true
		}
		if reached < len(steps) && steps[reached].Matches(name, path) {
			reached++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("funnel: %w", err)
	}
	if started {
		flush()
	}
	out := make([]FunnelStep, len(steps))
	for i := range steps {
		s := FunnelStep{Goal: steps[i], Visitors: counts[i]}
		if counts[0] > 0 {
			s.ConversionRate = 100 * float64(counts[i]) / float64(counts[0])
		}
		if i > 0 {
			s.DropOff = counts[i-1] - counts[i]
			if counts[i-1] > 0 {
				s.DropOffRate = 100 * float64(s.DropOff) / float64(counts[i-1])
			}
		}
		out[i] = s
	}
	return out, nil
}
