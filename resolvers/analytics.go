package resolvers

import (
	"context"
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/gqltypes"
	"github.com/tallyhq/tally/graph/model"
)

// wantOf turns the selected GraphQL fields into the metrics to compute, so
// that a query asking for pageviews never pays for visitor sketches.
func wantOf(fields []graphql.CollectedField) analytics.Want {
	var w analytics.Want
	for _, f := range fields {
		switch f.Name {
		case "visitors":
			w.Visitors = true
		case "visits":
			w.Visits = true
		case "pageviews":
			w.Pageviews = true
		case "events":
			w.Events = true
		case "viewsPerVisit":
			w.ViewsPerVisit = true
		case "bounceRate":
			w.BounceRate = true
		case "visitDuration":
			w.VisitDuration = true
		case "conversionRate":
			w.ConversionRate = true
		case "revenue":
			w.Revenue = true
		}
	}
	return w
}

// selectedWant is wantOf the current field's selection.
func selectedWant(ctx context.Context) analytics.Want {
	return wantOf(graphql.CollectFieldsCtx(ctx, nil))
}

// childWant is wantOf the selection of a child field (rows of a connection).
func childWant(ctx context.Context, child string) analytics.Want {
	var w analytics.Want
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == child {
			x := wantOf(graphql.CollectFields(oc, f.Selections, nil))
			w = orWant(w, x)
		}
	}
	return w
}

func orWant(a, b analytics.Want) analytics.Want {
	return analytics.Want{
		Visitors: a.Visitors || b.Visitors, Visits: a.Visits || b.Visits, Pageviews: a.Pageviews || b.Pageviews,
		Events: a.Events || b.Events, ViewsPerVisit: a.ViewsPerVisit || b.ViewsPerVisit, BounceRate: a.BounceRate || b.BounceRate,
		VisitDuration: a.VisitDuration || b.VisitDuration, ConversionRate: a.ConversionRate || b.ConversionRate, Revenue: a.Revenue || b.Revenue,
	}
}

func money(m []analytics.Money) []model.Money {
	out := make([]model.Money, len(m))
	for i, x := range m {
		out[i] = model.Money{Currency: x.Currency, Amount: gqltypes.NewDecimal(x.Amount)}
	}
	return out
}

func aggregateModel(m analytics.Metrics) *model.Aggregate {
	return &model.Aggregate{
		Visitors: int(m.Visitors), Visits: int(m.Visits), Pageviews: int(m.Pageviews), Events: int(m.Events),
		ViewsPerVisit: m.ViewsPerVisit, BounceRate: m.BounceRate, VisitDuration: m.VisitDuration,
		ConversionRate: m.ConversionRate, Revenue: money(m.Revenue),
	}
}

func pointModel(p analytics.Point) model.TimeseriesPoint {
	m := p.Metrics
	return model.TimeseriesPoint{
		Date: gqltypes.DateOf(p.Start), Start: p.Start,
		Visitors: int(m.Visitors), Visits: int(m.Visits), Pageviews: int(m.Pageviews), Events: int(m.Events),
		ViewsPerVisit: m.ViewsPerVisit, BounceRate: m.BounceRate, VisitDuration: m.VisitDuration,
		ConversionRate: m.ConversionRate, Revenue: money(m.Revenue),
	}
}

// statsQuery validates the arguments of Site.stats into a query.
func (r *Resolver) statsQuery(ctx context.Context, site *db.Site, dr *model.DateRangeInput, filters []model.StatsFilter, goalID *string, compare *model.Comparison) (*analytics.Query, error) {
	rg, err := r.resolveRange(ctx, site, dr)
	if err != nil {
		return nil, err
	}
	q := &analytics.Query{Site: site, Range: rg, Scans: analytics.NewScans()}
	for i, f := range filters {
		field := fmt.Sprintf("filters[%d]", i)
		var op analytics.Op
		var values []string
		set := 0
		for _, c := range []struct {
			op analytics.Op
			v  []string
		}{{analytics.OpIs, f.Is}, {analytics.OpIsNot, f.IsNot}, {analytics.OpContains, f.Contains}, {analytics.OpMatches, f.Matches}} {
			if c.v != nil {
				set++
				op, values = c.op, c.v
			}
		}
		if set != 1 {
			return nil, apperr.Invalid(field, "set exactly one of is, isNot, contains, matches")
		}
		key := ""
		if f.PropKey != nil {
			key = *f.PropKey
		}
		x, err := analytics.NewFilter(field, analytics.Dimension(f.Dimension), key, op, values)
		if err != nil {
			return nil, err
		}
		q.Filters = append(q.Filters, x)
	}
	if goalID != nil {
		gid, err := ParseID("goalId", *goalID)
		if err != nil {
			return nil, err
		}
		g, err := analytics.GoalByID(ctx, r.DB, gid)
		if err != nil || g.SiteID != site.ID {
			return nil, apperr.Invalid("goalId", "no goal %s on this site", *goalID)
		}
		q.Goal = g
	}
	if compare != nil {
		q.Compare = analytics.Compare(*compare)
	}
	return q, nil
}

func (r *Resolver) resolveRange(ctx context.Context, site *db.Site, dr *model.DateRangeInput) (analytics.Range, error) {
	var preset analytics.Preset
	var from, to *time.Time
	if dr != nil {
		if dr.Preset != nil {
			preset = analytics.Preset(*dr.Preset)
		}
		if dr.From != nil {
			t := dr.From.In(time.UTC)
			from = &t
		}
		if dr.To != nil {
			t := dr.To.In(time.UTC)
			to = &t
		}
	}
	return analytics.ResolveRange(ctx, r.DB, site, preset, from, to, r.now())
}

func (r *Resolver) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// compareQuery is q over its comparison range.
func compareQuery(q *analytics.Query) (*analytics.Query, error) {
	rg, err := analytics.CompareRange(q.Range, q.Compare)
	if err != nil {
		return nil, err
	}
	p := *q
	p.Range = rg
	p.Compare = ""
	return &p, nil
}

func ptrChange(cur, prev float64) *float64 { return analytics.Change(cur, prev) }

func canReadSite(ctx context.Context, siteID int64) error { return auth.CanRead(ctx, siteID) }

func timeseries(ctx context.Context, d *db.DB, q *analytics.Query, interval *model.Interval) ([]model.TimeseriesPoint, error) {
	iv := analytics.Day
	if interval != nil {
		iv = analytics.Interval(*interval)
	}
	pts, err := analytics.Timeseries(ctx, d, q, iv, selectedWant(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]model.TimeseriesPoint, len(pts))
	for i, p := range pts {
		out[i] = pointModel(p)
	}
	return out, nil
}

func (r *Resolver) goalsFor(ctx context.Context, siteID int64) ([]analytics.Goal, error) {
	return r.loaders(ctx).Goals.Load(ctx, siteID)
}
