package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
)

// CostSpend is the SpendSource over the costs domain: effective (amortized)
// cost by provider and service from the daily rollup, anomalies per service,
// budget status, untagged share for the most used tag keys, and
// commitment-discount coverage from the FOCUS commitment columns.
type CostSpend struct {
	DB *db.DB
	// Now is the instant budgets are evaluated at (time.Now by default).
	Now func() time.Time
	// TagKeys are the keys whose untagged share is reported; empty means
	// the (at most three) keys most used in the period's cost rows.
	TagKeys []string
}

// costDays turns an instant range into the inclusive UTC calendar days of
// costs.Query (cost rows are selected by the UTC day of their charge start).
func costDays(r TimeRange) (from, to time.Time) {
	last := r.To.Add(-time.Nanosecond)
	from = time.Date(r.From.Year(), r.From.Month(), r.From.Day(), 0, 0, 0, 0, time.UTC)
	to = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	return from, to
}

// Spend implements SpendSource. It returns nil when neither period has any
// cost row.
func (c CostSpend) Spend(ctx context.Context, cur, prev TimeRange) (*Spend, error) {
	cf, ct := costDays(cur)
	pf, pt := costDays(prev)
	qc := costs.Query{From: cf, To: ct}
	qp := costs.Query{From: pf, To: pt}
	provCur, err := costs.Breakdown(ctx, c.DB, qc, costs.DimProvider, "", 1000)
	if err != nil {
		return nil, fmt.Errorf("spend by provider: %w", err)
	}
	provPrev, err := costs.Breakdown(ctx, c.DB, qp, costs.DimProvider, "", 1000)
	if err != nil {
		return nil, fmt.Errorf("spend by provider: %w", err)
	}
	if len(provCur) == 0 && len(provPrev) == 0 {
		return nil, nil
	}
	providers := map[string]bool{}
	for _, r := range append(provCur, provPrev...) {
		providers[r.Value] = true
	}
	names := make([]string, 0, len(providers))
	for p := range providers {
		names = append(names, p)
	}
	sort.Strings(names)

	sp := &Spend{}
	for _, p := range names {
		filter := []costs.Filter{{Dimension: costs.DimProvider, Values: []string{p}}}
		type key struct{ service, currency string }
		rows := map[key]*SpendRow{}
		var order []key
		for i, q := range []costs.Query{qc, qp} {
			q.Filters = filter
			br, err := costs.Breakdown(ctx, c.DB, q, costs.DimService, "", 1000)
			if err != nil {
				return nil, fmt.Errorf("spend of %s by service: %w", p, err)
			}
			for _, b := range br {
				k := key{b.Value, b.Currency}
				r := rows[k]
				if r == nil {
					r = &SpendRow{Provider: p, Service: b.Value, Currency: b.Currency}
					rows[k] = r
					order = append(order, k)
				}
				if i == 0 {
					r.Current = r.Current.Add(b.EffectiveCost)
				} else {
					r.Previous = r.Previous.Add(b.EffectiveCost)
				}
			}
		}
		for _, k := range order {
			sp.Rows = append(sp.Rows, *rows[k])
		}
		aq := qc
		aq.Filters = filter
		an, err := costs.Anomalies(ctx, c.DB, aq, costs.DimService, costs.DefaultDetect)
		if err != nil {
			return nil, fmt.Errorf("cost anomalies of %s: %w", p, err)
		}
		for _, a := range an {
			sp.Anomalies = append(sp.Anomalies, CostAnomaly{Date: a.Date.Format(time.DateOnly), Provider: p, Service: a.Value, Currency: a.Currency, Expected: a.Expected.Round(2), Actual: a.Actual.Round(2)})
		}
	}
	sort.SliceStable(sp.Anomalies, func(i, j int) bool {
		return sp.Anomalies[i].Actual.Sub(sp.Anomalies[i].Expected).Abs().Cmp(sp.Anomalies[j].Actual.Sub(sp.Anomalies[j].Expected).Abs()) > 0
	})
	if len(sp.Anomalies) > 10 {
		sp.Anomalies = sp.Anomalies[:10]
	}

	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	budgets, err := costs.ListBudgets(ctx, c.DB)
	if err != nil {
		return nil, fmt.Errorf("budgets: %w", err)
	}
	for i := range budgets {
		st, err := budgets[i].Status(ctx, c.DB, now)
		if err != nil {
			return nil, fmt.Errorf("budget %q: %w", budgets[i].Name, err)
		}
		sp.Budgets = append(sp.Budgets, BudgetStatus{Name: budgets[i].Name, Currency: budgets[i].Currency, Amount: budgets[i].Amount, Spent: st.Spent.Round(2), Forecast: st.Forecast.Round(2)})
	}

	keys := c.TagKeys
	if len(keys) == 0 {
		if keys, err = topTagKeys(ctx, c.DB, cur, 3); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		cov, err := costs.Untagged(ctx, c.DB, qc, k)
		if err != nil {
			return nil, fmt.Errorf("untagged spend (%s): %w", k, err)
		}
		for _, cv := range cov {
			sp.Untagged = append(sp.Untagged, Untagged{TagKey: k, Currency: cv.Currency, Untagged: cv.Untagged, Total: cv.Total})
		}
	}
	com, err := commitments(ctx, c.DB, cur)
	if err != nil {
		return nil, err
	}
	sp.Commitments = com
	return sp, nil
}

// topTagKeys returns the tag keys on most cost rows of the range.
func topTagKeys(ctx context.Context, d *db.DB, r TimeRange, n int) ([]string, error) {
	from, to := costDays(r)
	q := `SELECT tags FROM cost_rows WHERE charge_period_start >= ? AND charge_period_start < ?`
	if d.IsPostgres() {
		q = `SELECT tags::text FROM cost_rows WHERE charge_period_start >= ? AND charge_period_start < ? AND tags <> '{}'::jsonb`
	}
	rows, err := d.QueryContext(ctx, q, from.Unix(), to.AddDate(0, 0, 1).Unix())
	if err != nil {
		return nil, fmt.Errorf("tag keys: %w", err)
	}
	defer rows.Close()
	count := map[string]int{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("tag keys: %w", err)
		}
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			continue
		}
		for k := range m {
			count[k]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tag keys: %w", err)
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if count[keys[i]] != count[keys[j]] {
			return count[keys[i]] > count[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys[:min(n, len(keys))], nil
}

// commitments sums effective cost covered by a commitment discount against
// on-demand usage that commitments could cover (FOCUS PricingCategory
// "Standard", usage charges, no commitment, service category Compute or
// Databases: what savings plans and reservations apply to), per currency,
// exactly in Go on both stores. It reports nothing when the rows carry no
// pricing category (the export lacks it).
func commitments(ctx context.Context, d *db.DB, r TimeRange) ([]Commitment, error) {
	from, to := costDays(r)
	rows, err := d.QueryContext(ctx, `SELECT billing_currency, pricing_category, charge_category, service_category, commitment_discount_id, COALESCE(effective_cost, billed_cost)
		FROM cost_rows WHERE charge_period_start >= ? AND charge_period_start < ? AND pricing_category <> ''`, from.Unix(), to.AddDate(0, 0, 1).Unix())
	if err != nil {
		return nil, fmt.Errorf("commitment coverage: %w", err)
	}
	defer rows.Close()
	by := map[string]*Commitment{}
	for rows.Next() {
		var cur, pricing, charge, category, commitment, amount string
		if err := rows.Scan(&cur, &pricing, &charge, &category, &commitment, &amount); err != nil {
			return nil, fmt.Errorf("commitment coverage: %w", err)
		}
		v, err := decimal.NewFromString(amount)
		if err != nil {
			return nil, fmt.Errorf("commitment coverage: amount %q: %w", amount, err)
		}
		c := by[cur]
		if c == nil {
			c = &Commitment{Currency: cur}
			by[cur] = c
		}
		switch {
		case commitment != "" || pricing == "Committed":
			c.Covered = c.Covered.Add(v)
		case pricing == "Standard" && charge == "Usage" && (category == "Compute" || category == "Databases"):
			c.OnDemand = c.OnDemand.Add(v)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("commitment coverage: %w", err)
	}
	out := []Commitment{}
	for _, c := range by {
		if c.Covered.IsPositive() || c.OnDemand.IsPositive() {
			out = append(out, Commitment{Currency: c.Currency, Covered: c.Covered.Round(2), OnDemand: c.OnDemand.Round(2)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}
