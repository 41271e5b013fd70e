package costs

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// Dimension is what a breakdown groups by or a filter matches on.
type Dimension string

// Dimensions of cost queries.
const (
	DimProvider        Dimension = "PROVIDER"
	DimService         Dimension = "SERVICE"
	DimServiceCategory Dimension = "SERVICE_CATEGORY"
	DimBillingAccount  Dimension = "BILLING_ACCOUNT"
	DimSubAccount      Dimension = "SUB_ACCOUNT"
	DimRegion          Dimension = "REGION"
	DimResource        Dimension = "RESOURCE"
	DimChargeCategory  Dimension = "CHARGE_CATEGORY"
	DimTag             Dimension = "TAG"
)

// rollupColumns are the dimensions the daily rollup keeps; resources and
// tags have rollups of their own (keyrollup.go) for breakdowns, and are
// otherwise answered from the raw rows.
var rollupColumns = map[Dimension]string{
	DimProvider:        "provider_name",
	DimService:         "service_name",
	DimServiceCategory: "service_category",
	DimBillingAccount:  "billing_account_id",
	DimSubAccount:      "sub_account_id",
	DimRegion:          "region_id",
	DimChargeCategory:  "charge_category",
}

// Filter keeps rows whose dimension is one of Values (or, with Exclude,
// none of them). A TAG filter names its key in TagKey; the value "" matches
// rows without the tag.
type Filter struct {
	Dimension Dimension `json:"dimension"`
	TagKey    string    `json:"tagKey,omitempty"`
	Values    []string  `json:"values"`
	Exclude   bool      `json:"exclude,omitempty"`
}

// Query selects cost rows by the UTC day of their charge period start.
type Query struct {
	From, To time.Time // days, UTC midnight; To is inclusive
	Filters  []Filter
	// Currency keeps only amounts billed in this currency; "" keeps all,
	// each reported separately.
	Currency string
}

// Amounts are sums in one currency.
type Amounts struct {
	Currency      string
	BilledCost    decimal.Decimal
	EffectiveCost decimal.Decimal
	ListCost      decimal.Decimal
}

// Savings is what list prices would have cost above what was paid.
func (a Amounts) Savings() decimal.Decimal { return a.ListCost.Sub(a.EffectiveCost) }

func (a *Amounts) add(b, e, l decimal.Decimal) {
	a.BilledCost = a.BilledCost.Add(b)
	a.EffectiveCost = a.EffectiveCost.Add(e)
	a.ListCost = a.ListCost.Add(l)
}

// Validate checks a query and says what is wrong with it.
func (q Query) Validate() error {
	if q.From.IsZero() || q.To.IsZero() {
		return apperr.Invalid("dateRange", "from and to are required")
	}
	if q.To.Before(q.From) {
		return apperr.Invalid("dateRange", "to (%s) is before from (%s)", q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	}
	if q.To.Sub(q.From) > 3700*24*time.Hour {
		return apperr.Invalid("dateRange", "is longer than ten years")
	}
	for i, f := range q.Filters {
		if err := checkDim(f.Dimension, f.TagKey, fmt.Sprintf("filters[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func checkDim(d Dimension, tagKey, field string) error {
	switch {
	case d == DimTag && strings.TrimSpace(tagKey) == "":
		return apperr.Invalid(field, "TAG needs a tagKey")
	case d == DimTag, d == DimResource:
		return nil
	}
	if _, ok := rollupColumns[d]; !ok {
		return apperr.Invalid(field, "unknown dimension %q", d)
	}
	return nil
}

// plan is one aggregation: the table it reads and the SQL expressions of
// its groups and filters.
type plan struct {
	d   *db.DB
	raw bool
	// dim, when set, means the plan reads cost_dim_daily rows of that
	// dimension: the query groups and filters by at most that one.
	dim   Dimension
	where []string
	args  []any
}

func (p *plan) table() string {
	switch {
	case p.raw:
		return "cost_rows"
	case p.dim != "":
		return "cost_dim_daily"
	}
	return "cost_daily"
}

func (p *plan) dayExpr() string {
	if p.raw {
		return "(charge_period_start - charge_period_start % 86400)"
	}
	return "day"
}

// dimExpr is the SQL for a dimension, adding its arguments to args.
func (p *plan) dimExpr(d Dimension, tagKey string, args *[]any) string {
	if p.dim != "" {
		return "value"
	}
	switch d {
	case DimResource:
		return "resource_id"
	case DimTag:
		if p.d.IsPostgres() {
			*args = append(*args, tagKey)
			return "COALESCE(tags ->> ?, '')"
		}
		*args = append(*args, `$."`+strings.ReplaceAll(tagKey, `"`, `\"`)+`"`)
		return "COALESCE(CAST(json_extract(tags, ?) AS TEXT), '')"
	}
	return rollupColumns[d]
}

func newPlan(d *db.DB, q Query, groupDims ...Dimension) *plan {
	p := &plan{d: d}
	for _, f := range q.Filters {
		if _, ok := rollupColumns[f.Dimension]; !ok {
			p.raw = true
		}
	}
	for _, g := range groupDims {
		if _, ok := rollupColumns[g]; !ok {
			p.raw = true
		}
	}
	if !p.raw {
		used := map[Dimension]bool{}
		for _, f := range q.Filters {
			used[f.Dimension] = true
		}
		for _, g := range groupDims {
			used[g] = true
		}
		switch len(used) {
		case 0:
			p.dim = DimProvider // every dimension sums to the same total
		case 1:
			for k := range used {
				p.dim = k
			}
		}
		if p.dim != "" {
			p.where = append(p.where, "dim = ?")
			p.args = append(p.args, string(p.dim))
		}
	}
	from, to := q.From.Unix(), q.To.AddDate(0, 0, 1).Unix()
	if p.raw {
		p.where = append(p.where, "charge_period_start >= ? AND charge_period_start < ?")
	} else {
		p.where = append(p.where, "day >= ? AND day < ?")
	}
	p.args = append(p.args, from, to)
	if q.Currency != "" {
		p.where = append(p.where, "billing_currency = ?")
		p.args = append(p.args, strings.ToUpper(q.Currency))
	}
	for _, f := range q.Filters {
		var fargs []any
		expr := p.dimExpr(f.Dimension, f.TagKey, &fargs)
		if len(f.Values) == 0 {
			continue
		}
		ph := strings.TrimSuffix(strings.Repeat("?, ", len(f.Values)), ", ")
		op := "IN"
		if f.Exclude {
			op = "NOT IN"
		}
		p.where = append(p.where, fmt.Sprintf("%s %s (%s)", expr, op, ph))
		p.args = append(p.args, fargs...)
		for _, v := range f.Values {
			p.args = append(p.args, v)
		}
	}
	return p
}

// group is one aggregated row: its group values and its sums per currency.
type group struct {
	keys []string
	Amounts
}

// aggregate sums billed, effective and list cost per group expression and
// currency. PostgreSQL sums NUMERIC itself; on SQLite the TEXT amounts are
// read and summed exactly in Go.
func (p *plan) aggregate(ctx context.Context, exprs []string, exprArgs []any) ([]group, error) {
	sel := append(append([]string{}, exprs...), "billing_currency")
	gb := make([]string, len(sel))
	for i := range sel {
		gb[i] = fmt.Sprint(i + 1)
	}
	args := append(append([]any{}, exprArgs...), p.args...)
	var sqlText string
	if p.d.IsPostgres() {
		sqlText = fmt.Sprintf(`SELECT %s, COALESCE(SUM(billed_cost), 0)::text, COALESCE(SUM(effective_cost), 0)::text, COALESCE(SUM(list_cost), 0)::text FROM %s WHERE %s GROUP BY %s`,
			strings.Join(sel, ", "), p.table(), strings.Join(p.where, " AND "), strings.Join(gb, ", "))
	} else {
		sqlText = fmt.Sprintf(`SELECT %s, billed_cost, COALESCE(effective_cost, '0'), COALESCE(list_cost, '0') FROM %s WHERE %s`,
			strings.Join(sel, ", "), p.table(), strings.Join(p.where, " AND "))
	}
	rows, err := p.d.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("cost query: %w", err)
	}
	defer rows.Close()
	idx := map[string]int{}
	var out []group
	n := len(sel)
	dest := make([]any, n+3)
	vals := make([]string, n+3)
	for i := range dest {
		dest[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("cost query: %w", err)
		}
		var sums [3]decimal.Decimal
		for i := range sums {
			if sums[i], err = decimal.NewFromString(vals[n+i]); err != nil {
				return nil, fmt.Errorf("cost query: amount %q: %w", vals[n+i], err)
			}
		}
		key := strings.Join(vals[:n], "\x00")
		j, ok := idx[key]
		if !ok {
			j = len(out)
			idx[key] = j
			out = append(out, group{keys: append([]string{}, vals[:n-1]...), Amounts: Amounts{Currency: vals[n-1]}})
		}
		out[j].add(sums[0], sums[1], sums[2])
	}
	return out, rows.Err()
}

// Total returns the sums of the selected rows, one entry per currency.
func Total(ctx context.Context, d *db.DB, q Query) ([]Amounts, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	gs, err := newPlan(d, q).aggregate(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Amounts, 0, len(gs))
	for _, g := range gs {
		out = append(out, g.Amounts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}

// BreakdownRow is the spend of one dimension value in one currency.
type BreakdownRow struct {
	Value string
	Amounts
}

// Breakdown groups the selected rows by a dimension, largest effective
// cost first, at most limit rows (per currency).
func Breakdown(ctx context.Context, d *db.DB, q Query, dim Dimension, tagKey string, limit int) ([]BreakdownRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := checkDim(dim, tagKey, "dimension"); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var gs []group
	var err error
	switch {
	case dim == DimTag && onlyFiltersOn(q, DimTag, tagKey):
		gs, err = tagBreakdown(ctx, d, q, tagKey)
	case dim == DimResource && onlyFiltersOn(q, DimResource, ""):
		gs, err = resourceBreakdown(ctx, d, q, limit)
	default:
		p := newPlan(d, q, dim)
		var eargs []any
		expr := p.dimExpr(dim, tagKey, &eargs)
		gs, err = p.aggregate(ctx, []string{expr}, eargs)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Currency != gs[j].Currency {
			return gs[i].Currency < gs[j].Currency
		}
		if c := gs[i].EffectiveCost.Cmp(gs[j].EffectiveCost); c != 0 {
			return c > 0
		}
		if c := gs[i].BilledCost.Cmp(gs[j].BilledCost); c != 0 {
			return c > 0
		}
		return gs[i].keys[0] < gs[j].keys[0]
	})
	out := []BreakdownRow{}
	perCur := map[string]int{}
	for _, g := range gs {
		if perCur[g.Currency] >= limit {
			continue
		}
		perCur[g.Currency]++
		out = append(out, BreakdownRow{Value: g.keys[0], Amounts: g.Amounts})
	}
	return out, nil
}

// Interval is a time series bucket size.
type Interval string

// Intervals.
const (
	Day   Interval = "DAY"
	Week  Interval = "WEEK"
	Month Interval = "MONTH"
)

// Point is the spend of one bucket in one currency.
type Point struct {
	Date time.Time // first day of the bucket, UTC
	Amounts
}

func bucket(t time.Time, iv Interval) time.Time {
	switch iv {
	case Week: // ISO weeks start on Monday
		wd := (int(t.Weekday()) + 6) % 7
		return t.AddDate(0, 0, -wd)
	case Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// Timeseries returns the spend per bucket and currency; buckets without
// spend are included with zero amounts so that charts have no gaps.
func Timeseries(ctx context.Context, d *db.DB, q Query, iv Interval) ([]Point, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if iv == "" {
		iv = Day
	}
	if iv != Day && iv != Week && iv != Month {
		return nil, apperr.Invalid("interval", "must be DAY, WEEK or MONTH")
	}
	p := newPlan(d, q)
	gs, err := p.aggregate(ctx, []string{p.dayExpr()}, nil)
	if err != nil {
		return nil, err
	}
	type bk struct {
		t   time.Time
		cur string
	}
	sums := map[bk]*Amounts{}
	curs := map[string]bool{}
	for _, g := range gs {
		var sec int64
		if _, err := fmt.Sscan(g.keys[0], &sec); err != nil {
			return nil, fmt.Errorf("cost query: day %q: %w", g.keys[0], err)
		}
		k := bk{bucket(time.Unix(sec, 0).UTC(), iv), g.Currency}
		a := sums[k]
		if a == nil {
			a = &Amounts{Currency: g.Currency}
			sums[k] = a
		}
		a.add(g.BilledCost, g.EffectiveCost, g.ListCost)
		curs[g.Currency] = true
	}
	if q.Currency != "" {
		curs[strings.ToUpper(q.Currency)] = true
	}
	var out []Point
	for t := bucket(q.From, iv); !t.After(q.To); {
		for cur := range curs {
			if a := sums[bk{t, cur}]; a != nil {
				out = append(out, Point{Date: t, Amounts: *a})
			} else {
				out = append(out, Point{Date: t, Amounts: Amounts{Currency: cur}})
			}
		}
		switch iv {
		case Week:
			t = t.AddDate(0, 0, 7)
		case Month:
			t = t.AddDate(0, 1, 0)
		default:
			t = t.AddDate(0, 0, 1)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Date.Equal(out[j].Date) {
			return out[i].Date.Before(out[j].Date)
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}

// TagCoverage is the share of spend without a tag, per currency.
type TagCoverage struct {
	Currency string
	// Untagged is the effective cost of rows without the tag (or with an
	// empty value); Total is all effective cost.
	Untagged, Total decimal.Decimal
}

// Share returns Untagged/Total, or zero when there is no spend.
func (c TagCoverage) Share() decimal.Decimal {
	if c.Total.IsZero() {
		return decimal.Zero
	}
	return c.Untagged.DivRound(c.Total, 6)
}

// Untagged reports how much of the selected spend has no value for tagKey.
func Untagged(ctx context.Context, d *db.DB, q Query, tagKey string) ([]TagCoverage, error) {
	rows, err := Breakdown(ctx, d, q, DimTag, tagKey, 1000000)
	if err != nil {
		return nil, err
	}
	by := map[string]*TagCoverage{}
	var order []string
	for _, r := range rows {
		c := by[r.Currency]
		if c == nil {
			c = &TagCoverage{Currency: r.Currency}
			by[r.Currency] = c
			order = append(order, r.Currency)
		}
		c.Total = c.Total.Add(r.EffectiveCost)
		if r.Value == "" {
			c.Untagged = c.Untagged.Add(r.EffectiveCost)
		}
	}
	sort.Strings(order)
	out := make([]TagCoverage, 0, len(order))
	for _, cur := range order {
		out = append(out, *by[cur])
	}
	return out, nil
}
