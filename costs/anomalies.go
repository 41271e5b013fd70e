package costs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
)

// DetectOptions tune anomaly detection.
type DetectOptions struct {
	// History is the number of days before a day that form its baseline.
	History int
	// Threshold is how many robust standard deviations (1.4826 × MAD) a
	// day must be away from its baseline.
	Threshold decimal.Decimal
	// MinImpact is the floor: smaller differences are never anomalies,
	// however unusual, so that cents do not page anyone.
	MinImpact decimal.Decimal
}

// DefaultDetect is what the API uses unless told otherwise.
var DefaultDetect = DetectOptions{History: 56, Threshold: decimal.NewFromInt(5), MinImpact: decimal.NewFromInt(1)}

// Anomaly is a day whose spend differs from what its history predicts.
type Anomaly struct {
	Date      time.Time
	Dimension Dimension
	Value     string
	Currency  string
	Expected  decimal.Decimal
	Actual    decimal.Decimal
	// Impact is Actual - Expected: positive for spikes, negative for drops.
	Impact decimal.Decimal
	// Score is |Impact| in robust standard deviations.
	Score decimal.Decimal
}

var (
	madScale  = decimal.RequireFromString("1.4826")
	minSpread = decimal.RequireFromString("0.05") // of the baseline
	two       = decimal.NewFromInt(2)
)

func median(xs []decimal.Decimal) decimal.Decimal {
	if len(xs) == 0 {
		return decimal.Zero
	}
	s := append([]decimal.Decimal(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i].LessThan(s[j]) })
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return s[m-1].Add(s[m]).DivRound(two, 12)
}

// Detect finds anomalous days in a daily series (one value per day, gaps
// are zero). The baseline of day t uses the History days before it: each
// weekday gets a factor (its median over the window relative to the
// window's median), values are deseasonalized by it, and the expected
// value is the median of the deseasonalized history times t's factor; the
// spread is the MAD of the same history. Only days from `from` on are
// reported; earlier days serve as history. A series is judged only once it
// has two weeks of spend, so that a new service is not a spike.
func Detect(days []time.Time, values []decimal.Decimal, from time.Time, o DetectOptions) []Anomaly {
	var out []Anomaly
	h := o.History
	if h < 14 {
		h = 14
	}
	first := len(values) // first day with spend: a new service is not a spike
	for i, v := range values {
		if !v.IsZero() {
			first = i
			break
		}
	}
	for t := h; t < len(values); t++ {
		if days[t].Before(from) || t-first < 14 {
			continue
		}
		win := values[t-h : t]
		wdays := days[t-h : t]
		all := median(win)
		var factor [7]decimal.Decimal
		for wd := 0; wd < 7; wd++ {
			var same []decimal.Decimal
			for i, v := range win {
				if int(wdays[i].Weekday()) == wd {
					same = append(same, v)
				}
			}
			factor[wd] = decimal.NewFromInt(1)
			if m := median(same); all.IsPositive() && len(same) >= 2 {
				factor[wd] = m.DivRound(all, 12)
			}
		}
		des := make([]decimal.Decimal, len(win))
		for i, v := range win {
			f := factor[wdays[i].Weekday()]
			if f.IsZero() {
				des[i] = v
			} else {
				des[i] = v.DivRound(f, 12)
			}
		}
		base := median(des)
		dev := make([]decimal.Decimal, len(des))
		for i, v := range des {
			dev[i] = v.Sub(base).Abs()
		}
		f := factor[days[t].Weekday()]
		expected := base.Mul(f).Round(12)
		spread := median(dev).Mul(madScale).Mul(f)
		if floor := expected.Mul(minSpread); spread.LessThan(floor) {
			spread = floor
		}
		actual := values[t]
		impact := actual.Sub(expected)
		if impact.Abs().LessThan(o.MinImpact) {
			continue
		}
		if spread.IsZero() {
			spread = o.MinImpact
		}
		score := impact.Abs().DivRound(spread, 2)
		if score.GreaterThanOrEqual(o.Threshold) {
			out = append(out, Anomaly{Date: days[t], Expected: expected, Actual: actual, Impact: impact, Score: score})
		}
	}
	return out
}

// Anomalies runs Detect on the daily effective cost of each value of a
// dimension (SERVICE, SUB_ACCOUNT, BILLING_ACCOUNT, PROVIDER… any rollup
// dimension) over the query's days, with the history before them.
func Anomalies(ctx context.Context, d *db.DB, q Query, dim Dimension, o DetectOptions) ([]Anomaly, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if _, ok := rollupColumns[dim]; !ok {
		return nil, apperr.Invalid("dimension", "anomalies are computed per PROVIDER, SERVICE, SERVICE_CATEGORY, BILLING_ACCOUNT, SUB_ACCOUNT, REGION or CHARGE_CATEGORY")
	}
	if o.History == 0 {
		o = DefaultDetect
	}
	hq := q
	hq.From = q.From.AddDate(0, 0, -o.History)
	p := newPlan(d, hq, dim)
	var eargs []any
	gs, err := p.aggregate(ctx, []string{p.dimExpr(dim, "", &eargs), p.dayExpr()}, eargs)
	if err != nil {
		return nil, err
	}
	type sk struct{ value, cur string }
	series := map[sk]map[int64]decimal.Decimal{}
	for _, g := range gs {
		var sec int64
		if _, err := fmt.Sscan(g.keys[1], &sec); err != nil {
			return nil, fmt.Errorf("anomalies: day %q: %w", g.keys[1], err)
		}
		k := sk{g.keys[0], g.Currency}
		if series[k] == nil {
			series[k] = map[int64]decimal.Decimal{}
		}
		series[k][sec] = series[k][sec].Add(g.EffectiveCost)
	}
	var days []time.Time
	for t := hq.From; !t.After(q.To); t = t.AddDate(0, 0, 1) {
		days = append(days, t)
	}
	var out []Anomaly
	for k, m := range series {
		vals := make([]decimal.Decimal, len(days))
		for i, t := range days {
			vals[i] = m[t.Unix()]
		}
		for _, a := range Detect(days, vals, q.From, o) {
			a.Dimension, a.Value, a.Currency = dim, k.value, k.cur
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Impact.Abs().Cmp(out[j].Impact.Abs()); c != 0 {
			return c > 0
		}
		return out[i].Value < out[j].Value
	})
	return out, nil
}
