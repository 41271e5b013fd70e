package costs

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Traffic is the visitor numbers unit economics divide by. Days are UTC,
// like cost days. Implemented over the raw event tables by
// costs/sqltraffic; the analytics package may supply a faster one.
type Traffic interface {
	// Traffic returns the totals over [from, to) and one entry per day.
	// Conversions are visitors who triggered the goal event (any event
	// other than a pageview when goal is "").
	Traffic(ctx context.Context, siteID int64, from, to time.Time, goal string) (TrafficTotals, []TrafficDay, error)
}

// TrafficTotals are the visitor numbers of a period.
type TrafficTotals struct{ Visitors, Pageviews, Conversions int64 }

// TrafficDay is the traffic of one UTC day.
type TrafficDay struct {
	Date time.Time
	TrafficTotals
}

// UnitCosts are cost per visitor, per 1,000 pageviews and per conversion;
// a ratio is nil when its denominator is zero.
type UnitCosts struct {
	Date                 time.Time // zero for the totals
	Cost                 decimal.Decimal
	Traffic              TrafficTotals
	PerVisitor           *decimal.Decimal
	PerThousandPageviews *decimal.Decimal
	PerConversion        *decimal.Decimal
}

// UnitEconomics is the cost of a site's traffic over a date range.
type UnitEconomics struct {
	Currency string
	Total    UnitCosts
	Daily    []UnitCosts
}

var thousand = decimal.NewFromInt(1000)

func ratio(cost decimal.Decimal, n int64, per decimal.Decimal) *decimal.Decimal {
	if n == 0 {
		return nil
	}
	r := cost.Mul(per).DivRound(decimal.NewFromInt(n), 6)
	return &r
}

func unitCosts(date time.Time, cost decimal.Decimal, t TrafficTotals) UnitCosts {
	one := decimal.NewFromInt(1)
	return UnitCosts{Date: date, Cost: cost, Traffic: t,
		PerVisitor:           ratio(cost, t.Visitors, one),
		PerThousandPageviews: ratio(cost, t.Pageviews, thousand),
		PerConversion:        ratio(cost, t.Conversions, one),
	}
}

// ComputeUnitEconomics divides the effective cost the query selects (its
// filters say which spend serves the site, such as tag app=shop) by the
// site's traffic. The query must name one currency unless all spend is in
// one currency.
func ComputeUnitEconomics(ctx context.Context, d *db.DB, tr Traffic, siteID int64, q Query, goal string) (*UnitEconomics, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Currency == "" {
		tot, err := Total(ctx, d, q)
		if err != nil {
			return nil, err
		}
		switch len(tot) {
		case 0:
			q.Currency = "USD"
		case 1:
			q.Currency = tot[0].Currency
		default:
			return nil, apperr.Invalid("currency", "the selected spend is in several currencies; choose one")
		}
	}
	pts, err := Timeseries(ctx, d, q, Day)
	if err != nil {
		return nil, err
	}
	totals, days, err := tr.Traffic(ctx, siteID, q.From, q.To.AddDate(0, 0, 1), goal)
	if err != nil {
		return nil, err
	}
	byDay := map[int64]TrafficTotals{}
	for _, td := range days {
		byDay[td.Date.Unix()] = td.TrafficTotals
	}
	out := &UnitEconomics{Currency: q.Currency}
	var cost decimal.Decimal
	for _, p := range pts {
		cost = cost.Add(p.EffectiveCost)
		out.Daily = append(out.Daily, unitCosts(p.Date, p.EffectiveCost, byDay[p.Date.Unix()]))
	}
	out.Total = unitCosts(time.Time{}, cost, totals)
	return out, nil
}
