package insights

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// TimeRange is a half-open interval [From, To) of instants.
type TimeRange struct{ From, To time.Time }

// Dimension names a traffic breakdown the summary uses.
type Dimension string

// Dimensions of the summary's breakdowns.
const (
	DimPage    Dimension = "page"
	DimSource  Dimension = "source"
	DimChannel Dimension = "channel"
	DimCountry Dimension = "country"
	DimDevice  Dimension = "device"
	// DimGoal is custom events by name (goal conversions).
	DimGoal Dimension = "goal"
)

// TrafficTotals are one site's headline figures for a range. Bounces and
// DurationSeconds are sums so that figures for several sites can be combined
// exactly.
type TrafficTotals struct {
	Visitors        int64
	Visits          int64
	Pageviews       int64
	Events          int64
	Bounces         int64
	DurationSeconds int64
}

// DimCount is one value of a breakdown: distinct visitors and, depending on
// the dimension, pageviews, visits or events.
type DimCount struct {
	Value    string
	Visitors int64
	Count    int64
}

// TrafficSource gives the aggregates the summary needs. Breakdown must apply
// normalize to each raw value before counting distinct visitors, so that
// counts stay exact after values are merged (the privacy guard relies on it).
type TrafficSource interface {
	Totals(ctx context.Context, siteID int64, r TimeRange) (TrafficTotals, error)
	Breakdown(ctx context.Context, siteID int64, r TimeRange, dim Dimension, normalize func(string) string) ([]DimCount, error)
}

// SpendRow is spend of one provider (and service) in one currency for the
// current and the previous period.
type SpendRow struct {
	Provider string
	Service  string
	Currency string
	Current  decimal.Decimal
	Previous decimal.Decimal
}

// CostAnomaly is a day whose spend left its baseline.
type CostAnomaly struct {
	Date     string // YYYY-MM-DD
	Provider string
	Service  string
	Currency string
	Expected decimal.Decimal
	Actual   decimal.Decimal
}

// BudgetStatus is a budget's month-to-date position.
type BudgetStatus struct {
	Name     string
	Currency string
	Amount   decimal.Decimal
	Spent    decimal.Decimal
	Forecast decimal.Decimal
}

// Untagged is the spend without a given tag key.
type Untagged struct {
	TagKey   string
	Currency string
	Untagged decimal.Decimal
	Total    decimal.Decimal
}

// Commitment is commitment-discount coverage: spend covered by savings plans
// or reservations against on-demand spend that could be.
type Commitment struct {
	Currency string
	Covered  decimal.Decimal
	OnDemand decimal.Decimal
}

// Spend is what a SpendSource reports for the current and previous period.
// Rows of different currencies are kept apart; nothing sums across them.
type Spend struct {
	Rows        []SpendRow
	Anomalies   []CostAnomaly
	Budgets     []BudgetStatus
	Untagged    []Untagged
	Commitments []Commitment
}

// SpendSource gives cost aggregates. It returns nil, nil when there is no
// cost data at all.
type SpendSource interface {
	Spend(ctx context.Context, cur, prev TimeRange) (*Spend, error)
}

// NoSpend is the SpendSource used when no cost domain is plugged in.
type NoSpend struct{}

// Spend reports no cost data.
func (NoSpend) Spend(context.Context, TimeRange, TimeRange) (*Spend, error) { return nil, nil }
