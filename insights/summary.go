package insights

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
)

// SummaryVersion names the shape of the Summary document; it changes when a
// field changes meaning, so stored payloads stay interpretable.
const SummaryVersion = "tally.insights.summary/v1"

// Summary is the document an LLM (or the built-in rules) sees. It holds
// aggregates only; every named dimension value was seen by at least
// Privacy.K visitors.
type Summary struct {
	Version       string          `json:"version"`
	Period        Period          `json:"period"`
	Previous      Period          `json:"previous_period"`
	Privacy       PrivacyNote     `json:"privacy"`
	Account       AccountSummary  `json:"account"`
	Sites         []SiteSummary   `json:"sites"`
	Spend         *SpendSummary   `json:"spend"`
	UnitEconomics []UnitEconomics `json:"unit_economics"`
	InsightsLLM   LLMSpend        `json:"insights_llm_spend"`
}

// Period is an inclusive range of calendar days.
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
	Days int    `json:"days"`
}

// PrivacyNote tells the reader what was done to the data.
type PrivacyNote struct {
	K               int64  `json:"k"`
	FoldedInto      string `json:"folded_into"`
	PathsNormalized bool   `json:"paths_normalized"`
}

// Figure is a metric now, in the previous period and the change in percent
// (null when the previous value is zero).
type Figure struct {
	Current   float64  `json:"current"`
	Previous  float64  `json:"previous"`
	ChangePct *float64 `json:"change_pct"`
}

// Traffic is headline figures and breakdowns for a site or the account.
type Traffic struct {
	Visitors         Figure   `json:"visitors"`
	Visits           Figure   `json:"visits"`
	Pageviews        Figure   `json:"pageviews"`
	BounceRate       Figure   `json:"bounce_rate_pct"`
	VisitDurationSec Figure   `json:"visit_duration_sec"`
	TopPages         []DimRow `json:"top_pages,omitempty"`
	Sources          []DimRow `json:"sources"`
	Channels         []DimRow `json:"channels"`
	Countries        []DimRow `json:"countries"`
	Devices          []DimRow `json:"devices"`
	Goals            []Goal   `json:"goals"`
}

// DimRow is one breakdown value: visitors, and pageviews (pages) or visits.
type DimRow struct {
	Value     string `json:"value"`
	Visitors  int64  `json:"visitors"`
	Pageviews int64  `json:"pageviews,omitempty"`
	Visits    int64  `json:"visits,omitempty"`
	// PreviousVisitors is the value's visitors in the previous period, shown
	// only when at least k visitors (else null), and ChangePct the change.
	PreviousVisitors *int64   `json:"previous_visitors"`
	ChangePct        *float64 `json:"change_pct"`
}

// Goal is a custom event's conversions.
type Goal struct {
	Name              string  `json:"name"`
	Visitors          int64   `json:"visitors"`
	Events            int64   `json:"events"`
	ConversionRatePct float64 `json:"conversion_rate_pct"`
}

// AccountSummary is every site together.
type AccountSummary struct {
	Sites   int     `json:"sites"`
	Traffic Traffic `json:"traffic"`
}

// SiteSummary is one site; sites are named by domain, which is not personal.
type SiteSummary struct {
	Site    string  `json:"site"`
	Traffic Traffic `json:"traffic"`
}

// Money is an exact amount in one currency.
type Money struct {
	Amount   decimal.Decimal `json:"amount"`
	Currency string          `json:"currency"`
}

// SpendChange is spend of one thing now and before.
type SpendChange struct {
	Provider  string          `json:"provider,omitempty"`
	Service   string          `json:"service,omitempty"`
	Currency  string          `json:"currency"`
	Current   decimal.Decimal `json:"current"`
	Previous  decimal.Decimal `json:"previous"`
	Change    decimal.Decimal `json:"change"`
	ChangePct *float64        `json:"change_pct"`
}

// SpendSummary is the cost side of the summary.
type SpendSummary struct {
	Totals      []SpendChange   `json:"totals"`
	ByProvider  []SpendChange   `json:"by_provider"`
	ByService   []SpendChange   `json:"by_service"`
	TopMovers   []SpendChange   `json:"top_movers"`
	Anomalies   []AnomalyOut    `json:"anomalies"`
	Budgets     []BudgetOut     `json:"budgets"`
	Untagged    []UntaggedOut   `json:"untagged"`
	Commitments []CommitmentOut `json:"commitment_coverage"`
}

// AnomalyOut is the anomalous days of one service: how many, the first and
// last, expected and actual spend summed over them, and the impact (actual
// minus expected).
type AnomalyOut struct {
	Provider  string          `json:"provider"`
	Service   string          `json:"service"`
	Currency  string          `json:"currency"`
	Days      int             `json:"days"`
	FirstDate string          `json:"first_date"`
	LastDate  string          `json:"last_date"`
	Expected  decimal.Decimal `json:"expected"`
	Actual    decimal.Decimal `json:"actual"`
	Impact    decimal.Decimal `json:"impact"`
}

// BudgetOut is a budget with its use in percent.
type BudgetOut struct {
	Name        string          `json:"name"`
	Currency    string          `json:"currency"`
	Amount      decimal.Decimal `json:"amount"`
	Spent       decimal.Decimal `json:"spent"`
	Forecast    decimal.Decimal `json:"forecast"`
	SpentPct    float64         `json:"spent_pct"`
	ForecastPct float64         `json:"forecast_pct"`
}

// UntaggedOut is untagged spend and its share in percent.
type UntaggedOut struct {
	TagKey   string          `json:"tag_key"`
	Currency string          `json:"currency"`
	Untagged decimal.Decimal `json:"untagged"`
	Total    decimal.Decimal `json:"total"`
	SharePct float64         `json:"share_pct"`
}

// CommitmentOut is commitment-discount coverage in percent.
type CommitmentOut struct {
	Currency    string          `json:"currency"`
	Covered     decimal.Decimal `json:"covered"`
	OnDemand    decimal.Decimal `json:"on_demand"`
	CoveragePct float64         `json:"coverage_pct"`
}

// UnitEconomics is account spend per unit of traffic, per currency.
type UnitEconomics struct {
	Currency             string          `json:"currency"`
	CostPerVisitor       *UnitFigure     `json:"cost_per_visitor"`
	CostPer1000Pageviews *UnitFigure     `json:"cost_per_1000_pageviews"`
	CostPerConversion    *UnitFigure     `json:"cost_per_conversion"`
	Spend                decimal.Decimal `json:"spend"`
}

// UnitFigure is a cost per unit now and before.
type UnitFigure struct {
	Current   decimal.Decimal `json:"current"`
	Previous  decimal.Decimal `json:"previous"`
	ChangePct *float64        `json:"change_pct"`
}

// LLMSpend is what the insights runs themselves cost in the period.
type LLMSpend struct {
	Runs             int64   `json:"runs"`
	PromptTokens     int64   `json:"prompt_tokens"`
	CompletionTokens int64   `json:"completion_tokens"`
	Cost             []Money `json:"cost"`
}

// Builder assembles summaries.
type Builder struct {
	DB      *db.DB
	Traffic TrafficSource
	Spend   SpendSource
	// K is the k-anonymity threshold; DefaultK when zero.
	K int64
	// TopN is how many named rows a breakdown keeps (default 10).
	TopN int
}

// Range turns an inclusive period of days in loc into instants, and gives
// the previous period of the same length.
func Range(from, to time.Time, loc *time.Location) (cur, prev TimeRange) {
	f := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	t := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	days := int(math.Round(t.Sub(f).Hours() / 24))
	cur = TimeRange{f, t}
	prev = TimeRange{f.AddDate(0, 0, -days), f}
	return cur, prev
}

// DefaultPeriod is the seven days up to yesterday in loc.
func DefaultPeriod(now time.Time, loc *time.Location) (from, to time.Time) {
	n := now.In(loc)
	to = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
	return to.AddDate(0, 0, -6), to
}

func period(r TimeRange) Period {
	last := r.To.AddDate(0, 0, -1)
	return Period{From: r.From.Format(time.DateOnly), To: last.Format(time.DateOnly), Days: int(math.Round(r.To.Sub(r.From).Hours() / 24))}
}

// Build computes the summary for [cur) against [prev).
func (b *Builder) Build(ctx context.Context, cur, prev TimeRange) (*Summary, error) {
	k := b.K
	if k <= 0 {
		k = DefaultK
	}
	top := b.TopN
	if top <= 0 {
		top = 10
	}
	s := &Summary{
		Version:  SummaryVersion,
		Period:   period(cur),
		Previous: period(prev),
		Privacy:  PrivacyNote{K: k, FoldedInto: Other, PathsNormalized: true},
		Sites:    []SiteSummary{},
	}
	var siteRows []db.Site
	if err := b.DB.NewSelect().Model(&siteRows).Order("domain").Scan(ctx); err != nil {
		return nil, fmt.Errorf("summary: list sites: %w", err)
	}
	s.Account.Sites = len(siteRows)
	var accCur, accPrev TrafficTotals
	accDims := map[Dimension]map[string]DimCount{}
	accPrevDims := map[Dimension]map[string]DimCount{}
	merge := func(all map[Dimension]map[string]DimCount, dim Dimension, rows []DimCount) {
		m := all[dim]
		if m == nil {
			m = map[string]DimCount{}
			all[dim] = m
		}
		for _, r := range rows {
			a := m[r.Value]
			a.Value = r.Value
			a.Visitors += r.Visitors
			a.Count += r.Count
			m[r.Value] = a
		}
	}
	for _, site := range siteRows {
		tc, err := b.Traffic.Totals(ctx, site.ID, cur)
		if err != nil {
			return nil, fmt.Errorf("summary: traffic of %s: %w", site.Domain, err)
		}
		tp, err := b.Traffic.Totals(ctx, site.ID, prev)
		if err != nil {
			return nil, fmt.Errorf("summary: traffic of %s: %w", site.Domain, err)
		}
		addTotals(&accCur, tc)
		addTotals(&accPrev, tp)
		tr := headline(tc, tp)
		for _, dim := range []Dimension{DimPage, DimSource, DimChannel, DimCountry, DimDevice, DimGoal} {
			norm := CleanValue
			if dim == DimPage {
				norm = NormalizePath
			}
			rows, err := b.Traffic.Breakdown(ctx, site.ID, cur, dim, norm)
			if err != nil {
				return nil, fmt.Errorf("summary: %s breakdown of %s: %w", dim, site.Domain, err)
			}
			prevRows, err := b.Traffic.Breakdown(ctx, site.ID, prev, dim, norm)
			if err != nil {
				return nil, fmt.Errorf("summary: %s breakdown of %s: %w", dim, site.Domain, err)
			}
			if dim != DimPage {
				merge(accDims, dim, rows)
				merge(accPrevDims, dim, prevRows)
			}
			setDim(&tr, dim, Fold(rows, k, top), byValue(prevRows), k, tc.Visitors)
		}
		s.Sites = append(s.Sites, SiteSummary{Site: site.Domain, Traffic: tr})
	}
	acc := headline(accCur, accPrev)
	for dim, m := range accDims {
		rows := make([]DimCount, 0, len(m))
		for _, r := range m {
			rows = append(rows, r)
		}
		setDim(&acc, dim, Fold(rows, k, top), accPrevDims[dim], k, accCur.Visitors)
	}
	s.Account.Traffic = acc

	if b.Spend != nil {
		sp, err := b.Spend.Spend(ctx, cur, prev)
		if err != nil {
			return nil, fmt.Errorf("summary: spend: %w", err)
		}
		if sp != nil {
			s.Spend = spendSummary(sp)
			s.UnitEconomics = unitEconomics(s.Spend, accCur, accPrev, acc.Goals)
		}
	}
	llm, err := llmSpend(ctx, b.DB, cur)
	if err != nil {
		return nil, err
	}
	s.InsightsLLM = llm
	return s, nil
}

func addTotals(a *TrafficTotals, t TrafficTotals) {
	a.Visitors += t.Visitors
	a.Visits += t.Visits
	a.Pageviews += t.Pageviews
	a.Events += t.Events
	a.Bounces += t.Bounces
	a.DurationSeconds += t.DurationSeconds
}

func headline(c, p TrafficTotals) Traffic {
	return Traffic{
		Visitors:         figure(float64(c.Visitors), float64(p.Visitors)),
		Visits:           figure(float64(c.Visits), float64(p.Visits)),
		Pageviews:        figure(float64(c.Pageviews), float64(p.Pageviews)),
		BounceRate:       figure(ratio(c.Bounces*100, c.Visits), ratio(p.Bounces*100, p.Visits)),
		VisitDurationSec: figure(ratio(c.DurationSeconds, c.Visits), ratio(p.DurationSeconds, p.Visits)),
		Sources:          []DimRow{}, Channels: []DimRow{}, Countries: []DimRow{}, Devices: []DimRow{}, Goals: []Goal{},
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round1(float64(a) / float64(b))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// ChangePct is the change from prev to cur in percent, rounded to 0.1, or
// nil when prev is zero.
func ChangePct(cur, prev float64) *float64 {
	if prev == 0 {
		return nil
	}
	v := round1((cur - prev) / prev * 100)
	return &v
}

func figure(c, p float64) Figure { return Figure{Current: c, Previous: p, ChangePct: ChangePct(c, p)} }

func byValue(rows []DimCount) map[string]DimCount {
	m := make(map[string]DimCount, len(rows))
	for _, r := range rows {
		m[r.Value] = r
	}
	return m
}

func setDim(t *Traffic, dim Dimension, rows []DimCount, prev map[string]DimCount, k, visitors int64) {
	out := make([]DimRow, 0, len(rows))
	for _, r := range rows {
		row := DimRow{Value: r.Value, Visitors: r.Visitors}
		if p, ok := prev[r.Value]; ok && r.Value != Other && p.Visitors >= k {
			pv := p.Visitors
			row.PreviousVisitors = &pv
			row.ChangePct = ChangePct(float64(r.Visitors), float64(pv))
		}
		if dim == DimPage {
			row.Pageviews = r.Count
		} else {
			row.Visits = r.Count
		}
		out = append(out, row)
	}
	switch dim {
	case DimPage:
		t.TopPages = out
	case DimSource:
		t.Sources = out
	case DimChannel:
		t.Channels = out
	case DimCountry:
		t.Countries = out
	case DimDevice:
		t.Devices = out
	case DimGoal:
		goals := make([]Goal, 0, len(rows))
		for _, r := range rows {
			goals = append(goals, Goal{Name: r.Value, Visitors: r.Visitors, Events: r.Count, ConversionRatePct: ratio(r.Visitors*100, visitors)})
		}
		t.Goals = goals
	}
}

func decPct(cur, prev decimal.Decimal) *float64 {
	if prev.IsZero() {
		return nil
	}
	f, _ := cur.Sub(prev).Div(prev).Mul(decimal.NewFromInt(100)).Round(1).Float64()
	return &f
}

func pctOf(part, whole decimal.Decimal) float64 {
	if whole.IsZero() {
		return 0
	}
	f, _ := part.Div(whole).Mul(decimal.NewFromInt(100)).Round(1).Float64()
	return f
}

// change describes spend now and before; sums are exact, the amounts shown
// are rounded to cents (the percentage comes from the exact values).
func change(provider, service, cur string, c, p decimal.Decimal) SpendChange {
	return SpendChange{Provider: CleanValue(provider), Service: serviceName(service), Currency: cur,
		Current: c.Round(2), Previous: p.Round(2), Change: c.Sub(p).Round(2), ChangePct: decPct(c, p)}
}

// maxServices is how many services the summary names; the rest of each
// currency is one "(other)" row.
const maxServices = 20

func serviceName(s string) string {
	if s == "" {
		return ""
	}
	return CleanValue(s)
}

func spendSummary(sp *Spend) *SpendSummary {
	out := &SpendSummary{Totals: []SpendChange{}, ByProvider: []SpendChange{}, ByService: []SpendChange{}, TopMovers: []SpendChange{},
		Anomalies: []AnomalyOut{}, Budgets: []BudgetOut{}, Untagged: []UntaggedOut{}, Commitments: []CommitmentOut{}}
	type key struct{ p, s, c string }
	tot := map[string][2]decimal.Decimal{}
	prov := map[key][2]decimal.Decimal{}
	svc := map[key][2]decimal.Decimal{}
	for _, r := range sp.Rows {
		add := func(m map[key][2]decimal.Decimal, k key) {
			v := m[k]
			m[k] = [2]decimal.Decimal{v[0].Add(r.Current), v[1].Add(r.Previous)}
		}
		t := tot[r.Currency]
		tot[r.Currency] = [2]decimal.Decimal{t[0].Add(r.Current), t[1].Add(r.Previous)}
		add(prov, key{p: r.Provider, c: r.Currency})
		add(svc, key{p: r.Provider, s: r.Service, c: r.Currency})
	}
	for c, v := range tot {
		out.Totals = append(out.Totals, change("", "", c, v[0], v[1]))
	}
	for k, v := range prov {
		out.ByProvider = append(out.ByProvider, change(k.p, "", k.c, v[0], v[1]))
	}
	type svcRow struct {
		k key
		v [2]decimal.Decimal
	}
	svcs := make([]svcRow, 0, len(svc))
	for k, v := range svc {
		svcs = append(svcs, svcRow{k, v})
	}
	sort.Slice(svcs, func(i, j int) bool {
		if c := svcs[i].v[0].Cmp(svcs[j].v[0]); c != 0 {
			return c > 0
		}
		if c := svcs[i].v[1].Cmp(svcs[j].v[1]); c != 0 {
			return c > 0
		}
		return svcs[i].k.c+svcs[i].k.p+svcs[i].k.s < svcs[j].k.c+svcs[j].k.p+svcs[j].k.s
	})
	rest := map[string][2]decimal.Decimal{}
	for i, r := range svcs {
		if i < maxServices {
			out.ByService = append(out.ByService, change(r.k.p, r.k.s, r.k.c, r.v[0], r.v[1]))
			continue
		}
		o := rest[r.k.c]
		rest[r.k.c] = [2]decimal.Decimal{o[0].Add(r.v[0]), o[1].Add(r.v[1])}
	}
	for c, v := range rest {
		out.ByService = append(out.ByService, SpendChange{Service: Other, Currency: c, Current: v[0].Round(2), Previous: v[1].Round(2), Change: v[0].Sub(v[1]).Round(2), ChangePct: decPct(v[0], v[1])})
	}
	byCurrent := func(xs []SpendChange) {
		sort.Slice(xs, func(i, j int) bool {
			if c := xs[i].Current.Cmp(xs[j].Current); c != 0 {
				return c > 0
			}
			return xs[i].Currency+xs[i].Provider+xs[i].Service < xs[j].Currency+xs[j].Provider+xs[j].Service
		})
	}
	byCurrent(out.Totals)
	byCurrent(out.ByProvider)
	movers := []SpendChange{}
	for _, m := range out.ByService {
		if m.Service != Other {
			movers = append(movers, m)
		}
	}
	sort.SliceStable(movers, func(i, j int) bool { return movers[i].Change.Abs().Cmp(movers[j].Change.Abs()) > 0 })
	for _, m := range movers {
		if len(out.TopMovers) == 5 || m.Change.IsZero() {
			break
		}
		out.TopMovers = append(out.TopMovers, m)
	}
	groups := map[key]*AnomalyOut{}
	for _, a := range sp.Anomalies {
		k := key{p: a.Provider, s: a.Service, c: a.Currency}
		g := groups[k]
		if g == nil {
			g = &AnomalyOut{Provider: CleanValue(a.Provider), Service: serviceName(a.Service), Currency: a.Currency, FirstDate: a.Date, LastDate: a.Date}
			groups[k] = g
		}
		g.Days++
		g.FirstDate = min(g.FirstDate, a.Date)
		g.LastDate = max(g.LastDate, a.Date)
		g.Expected = g.Expected.Add(a.Expected)
		g.Actual = g.Actual.Add(a.Actual)
	}
	for _, g := range groups {
		g.Expected, g.Actual = g.Expected.Round(2), g.Actual.Round(2)
		g.Impact = g.Actual.Sub(g.Expected)
		out.Anomalies = append(out.Anomalies, *g)
	}
	sort.Slice(out.Anomalies, func(i, j int) bool {
		if c := out.Anomalies[i].Impact.Abs().Cmp(out.Anomalies[j].Impact.Abs()); c != 0 {
			return c > 0
		}
		return out.Anomalies[i].Provider+out.Anomalies[i].Service < out.Anomalies[j].Provider+out.Anomalies[j].Service
	})
	for _, bu := range sp.Budgets {
		out.Budgets = append(out.Budgets, BudgetOut{Name: CleanValue(bu.Name), Currency: bu.Currency, Amount: bu.Amount, Spent: bu.Spent, Forecast: bu.Forecast,
			SpentPct: pctOf(bu.Spent, bu.Amount), ForecastPct: pctOf(bu.Forecast, bu.Amount)})
	}
	for _, u := range sp.Untagged {
		out.Untagged = append(out.Untagged, UntaggedOut{TagKey: CleanValue(u.TagKey), Currency: u.Currency, Untagged: u.Untagged, Total: u.Total, SharePct: pctOf(u.Untagged, u.Total)})
	}
	for _, c := range sp.Commitments {
		out.Commitments = append(out.Commitments, CommitmentOut{Currency: c.Currency, Covered: c.Covered, OnDemand: c.OnDemand, CoveragePct: pctOf(c.Covered, c.Covered.Add(c.OnDemand))})
	}
	return out
}

func unitEconomics(sp *SpendSummary, c, p TrafficTotals, goals []Goal) []UnitEconomics {
	var conv int64
	for _, g := range goals {
		conv += g.Visitors
	}
	unit := func(cs, ps decimal.Decimal, cn, pn int64, per int64) *UnitFigure {
		if cn == 0 {
			return nil
		}
		f := &UnitFigure{Current: cs.Mul(decimal.NewFromInt(per)).DivRound(decimal.NewFromInt(cn), 4)}
		if pn > 0 {
			f.Previous = ps.Mul(decimal.NewFromInt(per)).DivRound(decimal.NewFromInt(pn), 4)
			f.ChangePct = decPct(f.Current, f.Previous)
		}
		return f
	}
	out := []UnitEconomics{}
	for _, t := range sp.Totals {
		out = append(out, UnitEconomics{
			Currency:             t.Currency,
			Spend:                t.Current,
			CostPerVisitor:       unit(t.Current, t.Previous, c.Visitors, p.Visitors, 1),
			CostPer1000Pageviews: unit(t.Current, t.Previous, c.Pageviews, p.Pageviews, 1000),
			// Conversions are known for the current period only.
			CostPerConversion: unit(t.Current, decimal.Zero, conv, 0, 1),
		})
	}
	return out
}
