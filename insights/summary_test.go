package insights

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

var (
	periodFrom = time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	periodTo   = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
)

// TestSummaryMatchesBruteForce checks every traffic figure and breakdown of
// the summary against counts the test makes itself from the fixture rows.
func TestSummaryMatchesBruteForce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := mustSite(t, d, "shop.example.com")
		var f fixture
		gen(&f, site.ID, periodFrom.AddDate(0, 0, -7), 7, 90, 1, 1) // previous week
		gen(&f, site.ID, periodFrom, 7, 60, 2, 10_000)              // current week
		f.insert(t, d)

		cur, prev := Range(periodFrom, periodTo, time.UTC)
		b := &Builder{DB: d, Traffic: SQLTraffic{DB: d}}
		s, err := b.Build(ctx, cur, prev)
		if err != nil {
			t.Fatal(err)
		}
		if s.Period != (Period{From: "2026-11-09", To: "2026-11-15", Days: 7}) || s.Previous.From != "2026-11-02" {
			t.Fatalf("period = %+v previous %+v", s.Period, s.Previous)
		}
		if len(s.Sites) != 1 {
			t.Fatalf("sites = %d", len(s.Sites))
		}
		got := s.Sites[0].Traffic

		in := func(ts, from int64) bool { return ts >= from && ts < from+7*86400 }
		count := func(from int64) (visitors, pageviews, visits, bounces, dur int64) {
			vs := map[int64]bool{}
			for _, e := range f.events {
				if in(e.TS, from) {
					vs[e.VisitorID] = true
					if e.Name == "pageview" {
						pageviews++
					}
				}
			}
			for _, ss := range f.sessions {
				if in(ss.StartedAt, from) {
					visits++
					dur += int64(ss.Duration)
					if ss.IsBounce {
						bounces++
					}
				}
			}
			return int64(len(vs)), pageviews, visits, bounces, dur
		}
		cv, cp, cvi, cb, cd := count(periodFrom.Unix())
		pv, pp, _, _, _ := count(periodFrom.AddDate(0, 0, -7).Unix())
		if got.Visitors.Current != float64(cv) || got.Visitors.Previous != float64(pv) || got.Pageviews.Current != float64(cp) || got.Pageviews.Previous != float64(pp) || got.Visits.Current != float64(cvi) {
			t.Fatalf("headline = %+v %+v %+v; want visitors %d/%d pageviews %d/%d visits %d", got.Visitors, got.Pageviews, got.Visits, cv, pv, cp, pp, cvi)
		}
		wantChange := float64(int64((float64(cv-pv)/float64(pv)*100)*10+0.5*sign(cv-pv))) / 10
		if got.Visitors.ChangePct == nil || *got.Visitors.ChangePct != wantChange {
			t.Fatalf("visitors change = %v, want %v", got.Visitors.ChangePct, wantChange)
		}
		if want := float64(int64(float64(cb*100)/float64(cvi)*10+0.5)) / 10; got.BounceRate.Current != want {
			t.Fatalf("bounce rate = %v, want %v", got.BounceRate.Current, want)
		}
		if want := float64(int64(float64(cd)/float64(cvi)*10+0.5)) / 10; got.VisitDurationSec.Current != want {
			t.Fatalf("duration = %v, want %v", got.VisitDurationSec.Current, want)
		}

		// Pages: distinct visitors per expected normalized path.
		pages := map[string]map[int64]bool{}
		prevPages := map[string]map[int64]bool{}
		views := map[string]int64{}
		for _, e := range f.events {
			if e.Name == "pageview" && in(e.TS, periodFrom.AddDate(0, 0, -7).Unix()) {
				p := rawPaths[e.Pathname]
				if prevPages[p] == nil {
					prevPages[p] = map[int64]bool{}
				}
				prevPages[p][e.VisitorID] = true
			}
			if e.Name != "pageview" || !in(e.TS, periodFrom.Unix()) {
				continue
			}
			p := rawPaths[e.Pathname]
			if pages[p] == nil {
				pages[p] = map[int64]bool{}
			}
			pages[p][e.VisitorID] = true
			views[p]++
		}
		wantPages := map[string]DimRow{}
		for p, vs := range pages {
			if len(vs) >= DefaultK {
				wantPages[p] = DimRow{Value: p, Visitors: int64(len(vs)), Pageviews: views[p]}
			}
		}
		gotPages := map[string]DimRow{}
		for _, r := range got.TopPages {
			if r.Value != Other {
				gotPages[r.Value] = r
			}
		}
		if len(gotPages) != len(wantPages) {
			t.Fatalf("pages = %+v, want %+v", got.TopPages, wantPages)
		}
		for p, w := range wantPages {
			g := gotPages[p]
			if g.Value != w.Value || g.Visitors != w.Visitors || g.Pageviews != w.Pageviews {
				t.Fatalf("page %s = %+v, want %+v", p, g, w)
			}
			prevN := int64(len(prevPages[p]))
			switch {
			case prevN >= DefaultK && (g.PreviousVisitors == nil || *g.PreviousVisitors != prevN):
				t.Fatalf("page %s previous visitors = %v, want %d", p, g.PreviousVisitors, prevN)
			case prevN < DefaultK && g.PreviousVisitors != nil:
				t.Fatalf("page %s shows a previous count below k: %d", p, *g.PreviousVisitors)
			}
		}
		if _, ok := gotPages["/product/{n}"]; !ok {
			t.Fatal("product pages were not merged into /product/{n}")
		}

		// Countries from sessions, and goals from custom events.
		countries := map[string]map[int64]bool{}
		for _, ss := range f.sessions {
			if in(ss.StartedAt, periodFrom.Unix()) {
				if countries[ss.Country] == nil {
					countries[ss.Country] = map[int64]bool{}
				}
				countries[ss.Country][ss.VisitorID] = true
			}
		}
		for _, r := range got.Countries {
			if r.Value == Other {
				continue
			}
			if int64(len(countries[r.Value])) != r.Visitors {
				t.Fatalf("country %s visitors = %d, want %d", r.Value, r.Visitors, len(countries[r.Value]))
			}
		}
		signup := map[int64]bool{}
		for _, e := range f.events {
			if e.Name == "Signup" && in(e.TS, periodFrom.Unix()) {
				signup[e.VisitorID] = true
			}
		}
		if len(got.Goals) == 0 || got.Goals[0].Name != "Signup" || got.Goals[0].Visitors != int64(len(signup)) {
			t.Fatalf("goals = %+v, want Signup with %d visitors", got.Goals, len(signup))
		}
		// The account equals the single site.
		if s.Account.Traffic.Visitors.Current != got.Visitors.Current || s.Account.Traffic.Visitors.Previous != got.Visitors.Previous || s.Account.Sites != 1 {
			t.Fatalf("account = %+v", s.Account.Traffic.Visitors)
		}
		payload, _ := json.Marshal(s)
		if err := Scan(payload); err != nil {
			t.Fatalf("clean summary refused: %v", err)
		}
	})
}

func sign(n int64) float64 {
	if n < 0 {
		return -1
	}
	return 1
}

func TestFold(t *testing.T) {
	rows := []DimCount{{"a", 9, 20}, {"b", 5, 5}, {"c", 4, 8}, {"d", 1, 1}, {"e", 7, 7}}
	got := Fold(rows, 5, 2)
	want := []DimCount{{"a", 9, 20}, {"e", 7, 7}, {Other, 10, 14}}
	if len(got) != len(want) {
		t.Fatalf("Fold = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Fold[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	names := []string{}
	for _, r := range Fold(rows, 5, 0) {
		names = append(names, r.Value)
	}
	sort.Strings(names)
	if len(names) != 4 || names[0] != Other {
		t.Fatalf("no limit: %v", names)
	}
}

// TestConfiguredGoals: with goals defined in analytics, the summary's goals
// are those goals, counted from the raw events by brute force here.
func TestConfiguredGoals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := mustSite(t, d, "shop.example.com")
		var f fixture
		gen(&f, site.ID, periodFrom, 7, 80, 3, 1)
		f.insert(t, d)
		for _, in := range []analytics.GoalInput{{Name: "Saw a product", PagePath: "/product/*"}, {EventName: "Signup"}} {
			if _, err := analytics.CreateGoal(ctx, d, site.ID, in); err != nil {
				t.Fatal(err)
			}
		}
		cur, prev := Range(periodFrom, periodTo, time.UTC)
		s, err := (&Builder{DB: d, Traffic: SQLTraffic{DB: d}}).Build(ctx, cur, prev)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]map[int64]bool{"Saw a product": {}, "Signup": {}}
		for _, e := range f.events {
			switch {
			case e.Name == "pageview" && strings.HasPrefix(e.Pathname, "/product/"):
				want["Saw a product"][e.VisitorID] = true
			case e.Name == "Signup":
				want["Signup"][e.VisitorID] = true
			}
		}
		got := map[string]int64{}
		for _, g := range s.Sites[0].Traffic.Goals {
			got[g.Name] = g.Visitors
		}
		for name, vs := range want {
			if got[name] != int64(len(vs)) {
				t.Errorf("goal %q: %d visitors, want %d (goals %+v)", name, got[name], len(vs), s.Sites[0].Traffic.Goals)
			}
		}
	})
}
