package insights

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/shopspring/decimal"
)

// Thresholds of the built-in rules.
const (
	moverMinPct        = 20.0 // a service growing by at least this much is a mover
	untaggedMinPct     = 10.0 // untagged share worth a recommendation
	cpvRiseMinPct      = 10.0 // rise in cost per visitor worth a recommendation
	trafficDropMinPct  = -20.0
	trafficDropMinPrev = 50 // visitors in the previous period, so tiny sites do not alarm
	channelDropMinPct  = -30.0
	channelDropMinPrev = 20
	budgetRiskPct      = 80.0
	coverageMinPct     = 60.0
	// commitmentDiscount is the share of on-demand spend a commitment
	// typically saves; it is an assumption, documented in docs/insights.md.
	commitmentDiscount = "0.2"
)

// Rules derives deterministic recommendations from a summary; it is the
// provider "none". Every number a rule writes is a value of the summary, and
// every recommendation cites the keys it used.
func Rules(s *Summary) []Recommendation {
	var out []Recommendation
	perMonth := decimal.NewFromInt(30).Div(decimal.NewFromInt(int64(max(s.Period.Days, 1))))
	add := func(r Recommendation) {
		r.Source = "rules"
		if r.Fingerprint == "" {
			r.Fingerprint = Fingerprint(r.Category, r.Title)
		}
		out = append(out, r)
	}
	if sp := s.Spend; sp != nil {
		for i, a := range sp.Anomalies {
			if !a.Impact.IsPositive() {
				continue
			}
			p := fmt.Sprintf("/spend/anomalies/%d", i)
			when := "on " + a.FirstDate
			if a.Days > 1 {
				when = fmt.Sprintf("on %d days from %s to %s", a.Days, a.FirstDate, a.LastDate)
			}
			add(Recommendation{
				Fingerprint: "cost_anomaly:" + a.Provider + ":" + a.Service + ":" + a.Currency,
				Title:       fmt.Sprintf("Unexpected %s spend %s: %s %s instead of about %s", label(a.Provider, a.Service), when, a.Actual.StringFixed(2), a.Currency, a.Expected.StringFixed(2)),
				Category:    "cost_anomaly",
				Impact:      &Money{Amount: a.Impact, Currency: a.Currency},
				Confidence:  0.7,
				Actions: []string{
					fmt.Sprintf("Check what ran in %s %s (deployments, batch jobs, traffic spikes).", label(a.Provider, a.Service), when),
					"If the spend was not intended, add a budget alert for this service.",
				},
				Evidence: []Evidence{{Key: p + "/actual"}, {Key: p + "/expected"}, {Key: p + "/impact"}, {Key: p + "/days"}},
			})
		}
		for i, m := range sp.ByService {
			if m.Service == Other || m.ChangePct == nil || *m.ChangePct < moverMinPct || !m.Change.IsPositive() {
				continue
			}
			if i >= 10 {
				break
			}
			p := fmt.Sprintf("/spend/by_service/%d", i)
			add(Recommendation{
				Fingerprint: "cost_trend:" + m.Provider + ":" + m.Service + ":" + m.Currency,
				Title:       fmt.Sprintf("%s spend rose %s%% to %s %s", label(m.Provider, m.Service), pct(*m.ChangePct), m.Current.StringFixed(2), m.Currency),
				Category:    "cost_trend",
				Impact:      &Money{Amount: m.Change.Mul(perMonth).Round(2), Currency: m.Currency},
				Confidence:  0.6,
				Actions: []string{
					fmt.Sprintf("Find the resources behind the growth of %s and whether it follows traffic.", label(m.Provider, m.Service)),
					"Right-size or schedule idle resources; set a budget for this service.",
				},
				Evidence: []Evidence{{Key: p + "/current"}, {Key: p + "/previous"}, {Key: p + "/change_pct"}},
			})
		}
		for i, u := range sp.Untagged {
			if u.SharePct < untaggedMinPct {
				continue
			}
			p := fmt.Sprintf("/spend/untagged/%d", i)
			add(Recommendation{
				Fingerprint: "governance:untagged:" + u.TagKey + ":" + u.Currency,
				Title:       fmt.Sprintf("%s%% of spend has no %q tag", pct(u.SharePct), u.TagKey),
				Category:    "governance",
				Impact:      &Money{Amount: u.Untagged.Mul(perMonth).Round(2), Currency: u.Currency},
				Confidence:  0.8,
				Actions: []string{
					fmt.Sprintf("Tag the untagged resources with %q so their cost can be allocated.", u.TagKey),
					"Enforce the tag with a policy (AWS tag policies, Azure Policy, GCP org policy).",
				},
				Evidence: []Evidence{{Key: p + "/share_pct"}, {Key: p + "/untagged"}},
			})
		}
		for i, b := range sp.Budgets {
			if b.ForecastPct < 100 && b.SpentPct < budgetRiskPct {
				continue
			}
			p := fmt.Sprintf("/spend/budgets/%d", i)
			over := b.Forecast.Sub(b.Amount)
			var impact *Money
			if over.IsPositive() {
				impact = &Money{Amount: over, Currency: b.Currency}
			}
			add(Recommendation{
				Fingerprint: "budget:" + b.Name + ":" + b.Currency,
				Title:       fmt.Sprintf("Budget %q is at risk: %s%% spent, forecast %s%%", b.Name, pct(b.SpentPct), pct(b.ForecastPct)),
				Category:    "budget",
				Impact:      impact,
				Confidence:  0.75,
				Actions:     []string{"Review the largest services under this budget and pause what can wait.", "Raise the budget deliberately if the growth is expected."},
				Evidence:    []Evidence{{Key: p + "/spent_pct"}, {Key: p + "/forecast_pct"}, {Key: p + "/forecast"}},
			})
		}
		for i, c := range sp.Commitments {
			if c.CoveragePct >= coverageMinPct || !c.OnDemand.IsPositive() {
				continue
			}
			p := fmt.Sprintf("/spend/commitment_coverage/%d", i)
			add(Recommendation{
				Fingerprint: "commitment:" + c.Currency,
				Title:       fmt.Sprintf("Only %s%% of eligible spend is covered by commitment discounts", pct(c.CoveragePct)),
				Category:    "commitment",
				Impact:      &Money{Amount: c.OnDemand.Mul(decimal.RequireFromString(commitmentDiscount)).Mul(perMonth).Round(2), Currency: c.Currency},
				Confidence:  0.5,
				Actions:     []string{"Cover the steady part of on-demand usage with a savings plan or reservations.", "Start with a one-year, no-upfront commitment sized to the lowest daily usage."},
				Evidence:    []Evidence{{Key: p + "/coverage_pct"}, {Key: p + "/on_demand"}},
			})
		}
	}
	for i, u := range s.UnitEconomics {
		cpv := u.CostPerVisitor
		if cpv == nil || cpv.ChangePct == nil || *cpv.ChangePct < cpvRiseMinPct {
			continue
		}
		p := fmt.Sprintf("/unit_economics/%d/cost_per_visitor", i)
		visitors := decimal.NewFromFloat(s.Account.Traffic.Visitors.Current)
		add(Recommendation{
			Fingerprint: "unit_economics:cpv:" + u.Currency,
			Title:       fmt.Sprintf("Cost per visitor rose %s%% to %s %s", pct(*cpv.ChangePct), cpv.Current, u.Currency),
			Category:    "unit_economics",
			Impact:      &Money{Amount: cpv.Current.Sub(cpv.Previous).Mul(visitors).Mul(perMonth).Round(2), Currency: u.Currency},
			Confidence:  0.6,
			Actions:     []string{"Check whether spend grew faster than traffic: compare the top cost movers with the traffic change.", "Cache or scale down what does not serve visitors."},
			Evidence:    []Evidence{{Key: p + "/current"}, {Key: p + "/previous"}, {Key: p + "/change_pct"}, {Key: "/account/traffic/visitors/current"}},
		})
	}
	for i, site := range s.Sites {
		v := site.Traffic.Visitors
		if v.ChangePct == nil || *v.ChangePct > trafficDropMinPct || v.Previous < trafficDropMinPrev {
			continue
		}
		p := fmt.Sprintf("/sites/%d/traffic", i)
		ev := []Evidence{{Key: p + "/visitors/current"}, {Key: p + "/visitors/previous"}, {Key: p + "/visitors/change_pct"}}
		actions := []string{
			"Compare sources and channels with the previous period to see where visitors were lost.",
			"Check that the tracking script is still installed on every page and that the site was reachable.",
		}
		add(Recommendation{
			Fingerprint: "traffic:drop:" + site.Site,
			Title:       fmt.Sprintf("Visitors to %s fell %s%% (%s to %s)", site.Site, pct(-*v.ChangePct), num(v.Previous), num(v.Current)),
			Category:    "traffic",
			Confidence:  0.6,
			Actions:     actions,
			Evidence:    ev,
		})
	}
	for i, c := range s.Account.Traffic.Channels {
		if c.Value == Other || c.PreviousVisitors == nil || c.ChangePct == nil || *c.ChangePct > channelDropMinPct || *c.PreviousVisitors < channelDropMinPrev {
			continue
		}
		p := fmt.Sprintf("/account/traffic/channels/%d", i)
		add(Recommendation{
			Fingerprint: "traffic:channel:" + c.Value,
			Title:       fmt.Sprintf("Visitors from %s fell %s%% (%d to %d)", c.Value, pct(-*c.ChangePct), *c.PreviousVisitors, c.Visitors),
			Category:    "traffic",
			Confidence:  0.55,
			Actions: []string{
				fmt.Sprintf("Look at the sources behind %s: lost rankings, a paused campaign, a broken link from a referrer.", c.Value),
				"Check that campaign links still carry their UTM tags.",
			},
			Evidence: []Evidence{{Key: p + "/visitors"}, {Key: p + "/previous_visitors"}, {Key: p + "/change_pct"}},
		})
	}
	// Largest impact first; recommendations without an amount go last.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Impact, out[j].Impact
		if a == nil || b == nil {
			return a != nil && b == nil
		}
		return a.Amount.Cmp(b.Amount) > 0
	})
	return out
}

func label(provider, service string) string {
	if service == "" {
		return provider
	}
	if provider == "" {
		return service
	}
	return provider + " " + service
}

func pct(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
