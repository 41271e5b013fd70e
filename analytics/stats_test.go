package analytics_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// toQuery builds the package's query from the oracle's description.
func (f *fixture) toQuery(t *testing.T, q oQuery) *analytics.Query {
	t.Helper()
	from, to := q.from, q.to
	r, err := analytics.ResolveRange(context.Background(), nil, f.site, "", &from, &to, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := &analytics.Query{Site: f.site, Range: r, Goal: q.goal}
	if f.shared {
		out.Scans = analytics.NewScans()
	}
	for i, fl := range q.filters {
		x, err := analytics.NewFilter(fmt.Sprintf("filters[%d]", i), analytics.Dimension(fl.dim), fl.propKey, analytics.Op(fl.op), fl.values)
		if err != nil {
			t.Fatal(err)
		}
		out.Filters = append(out.Filters, x)
	}
	return out
}

func feq(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// check compares one answer with the oracle's numbers.
func check(t *testing.T, what string, got analytics.Metrics, want *oMetrics, goal bool) {
	t.Helper()
	if want == nil {
		want = &oMetrics{}
	}
	if got.Visitors != want.visitors || got.Visits != want.visits || got.Pageviews != want.pageviews || got.Events != want.events {
		t.Errorf("%s: visitors/visits/pageviews/events = %d/%d/%d/%d, oracle %d/%d/%d/%d", what,
			got.Visitors, got.Visits, got.Pageviews, got.Events, want.visitors, want.visits, want.pageviews, want.events)
	}
	var br, vd, vpv float64
	if want.visits > 0 {
		br = 100 * float64(want.bounces) / float64(want.visits)
		vd = float64(want.duration) / float64(want.visits)
		vpv = float64(want.sessPV) / float64(want.visits)
	}
	if !feq(got.BounceRate, br) || !feq(got.VisitDuration, vd) || !feq(got.ViewsPerVisit, vpv) {
		t.Errorf("%s: bounceRate/visitDuration/viewsPerVisit = %v/%v/%v, oracle %v/%v/%v", what, got.BounceRate, got.VisitDuration, got.ViewsPerVisit, br, vd, vpv)
	}
	if goal {
		cr := 0.0
		if want.baseVisitors > 0 {
			cr = 100 * float64(want.visitors) / float64(want.baseVisitors)
		}
		if got.ConversionRate == nil || !feq(*got.ConversionRate, cr) {
			t.Errorf("%s: conversionRate = %v, oracle %v", what, got.ConversionRate, cr)
		}
	}
	if len(got.Revenue) != len(want.revenue) {
		t.Errorf("%s: revenue %v, oracle %v", what, got.Revenue, want.revenue)
	}
	for _, m := range got.Revenue {
		if w := want.revenue[m.Currency]; !w.Equal(m.Amount) {
			t.Errorf("%s: revenue %s = %s, oracle %s", what, m.Currency, m.Amount, w)
		}
	}
}

var all = func(*db.Event, *db.Session) (string, bool) { return "", true }
var allS = func(*db.Session, map[string]bool) []string { return []string{""} }

func byDim(dim, propKey string) (func(e *db.Event, s *db.Session) (string, bool), func(s *db.Session, keys map[string]bool) []string) {
	if isEventDim(dim) {
		ek := func(e *db.Event, _ *db.Session) (string, bool) {
			if dim == "PROP" {
				v, ok := e.Props[propKey]
				return v, ok
			}
			return eventField(e, dim, ""), true
		}
		sk := func(_ *db.Session, keys map[string]bool) []string {
			var out []string
			for k := range keys {
				out = append(out, k)
			}
			return out
		}
		return ek, sk
	}
	return func(_ *db.Event, s *db.Session) (string, bool) { return sessionField(s, dim), true },
		func(s *db.Session, _ map[string]bool) []string { return []string{sessionField(s, dim)} }
}

var filterCases = []struct {
	name    string
	filters []oFilter
}{
	{"none", nil},
	{"page is", []oFilter{{dim: "PAGE", op: "IS", values: []string{"/pricing", "/docs"}}}},
	{"page is not", []oFilter{{dim: "PAGE", op: "IS_NOT", values: []string{"/"}}}},
	{"page contains", []oFilter{{dim: "PAGE", op: "CONTAINS", values: []string{"blog/post-1", "midnight"}}}},
	{"page matches", []oFilter{{dim: "PAGE", op: "MATCHES", values: []string{`^/docs/(api|graphql)$`}}}},
	{"source is", []oFilter{{dim: "SOURCE", op: "IS", values: []string{"Google"}}}},
	{"country is not + browser contains", []oFilter{{dim: "COUNTRY", op: "IS_NOT", values: []string{"US", "DE"}}, {dim: "BROWSER", op: "CONTAINS", values: []string{"fox", "Saf"}}}},
	{"entry page and event name", []oFilter{{dim: "ENTRY_PAGE", op: "IS", values: []string{"/signup", "/"}}, {dim: "EVENT_NAME", op: "IS", values: []string{"pageview"}}}},
	{"exit page matches", []oFilter{{dim: "EXIT_PAGE", op: "MATCHES", values: []string{`^/blog`}}}},
	{"prop is", []oFilter{{dim: "PROP", propKey: "plan", op: "IS", values: []string{"pro"}}}},
	{"prop is not (missing reads as empty)", []oFilter{{dim: "PROP", propKey: "plan", op: "IS_NOT", values: []string{"free"}}}},
	// a page filter (the shared scan) with a visit filter on a column that
	// the PostgreSQL covering index analytics_sessions_cover lacks
	{"page is not + utm medium", []oFilter{{dim: "PAGE", op: "IS_NOT", values: []string{"/"}}, {dim: "UTM_MEDIUM", op: "IS", values: []string{"cpc", "email"}}}},
	{"utm + channel + device", []oFilter{{dim: "UTM_MEDIUM", op: "IS", values: []string{"cpc", "email"}}, {dim: "CHANNEL", op: "CONTAINS", values: []string{"Paid", "Email"}}, {dim: "DEVICE", op: "IS_NOT", values: []string{"Tablet"}}}},
	{"hostname", []oFilter{{dim: "HOSTNAME", op: "IS", values: []string{"blog.fixture.example"}}}},
	{"region city referrer", []oFilter{{dim: "REGION", op: "MATCHES", values: []string{"^US-"}}, {dim: "REFERRER", op: "CONTAINS", values: []string{"google"}}, {dim: "CITY", op: "IS_NOT", values: []string{"Austin"}}}},
	{"os version", []oFilter{{dim: "OS", op: "IS", values: []string{"Windows"}}, {dim: "OS_VERSION", op: "IS", values: []string{"11"}}, {dim: "BROWSER_VERSION", op: "CONTAINS", values: []string{"124"}}}},
}

var ranges = []struct {
	name     string
	from, to time.Time
}{
	{"all 12 days", date(2026, 10, 17), date(2026, 10, 28)},
	{"DST day (25 hours)", date(2026, 10, 25), date(2026, 10, 25)},
	{"day before midnight visit", date(2026, 10, 24), date(2026, 10, 24)},
	{"empty future", date(2026, 11, 5), date(2026, 11, 6)},
}

func TestAggregateMatchesOracle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "Europe/Berlin", 4000)
		run := func(t *testing.T) {
			for _, shared := range []bool{false, true} {
				f.shared = shared
				checkAggregateCases(ctx, t, d, f, fmt.Sprintf("shared scan %v", shared))
			}
		}
		t.Run("incremental rollups", run)
		if err := analytics.Rebuild(ctx, d, f.site.ID); err != nil {
			t.Fatal(err)
		}
		t.Run("rebuilt rollups", run)
	})
}

// checkAggregateCases compares the aggregate of every range and filter
// case with the oracle's answer from f's raw events.
func checkAggregateCases(ctx context.Context, t *testing.T, d *db.DB, f *fixture, label string) {
	t.Helper()
	for _, r := range ranges {
		for _, fc := range filterCases {
			q := oQuery{from: r.from, to: r.to, filters: fc.filters}
			got, err := analytics.Aggregate(ctx, d, f.toQuery(t, q), analytics.AllMetrics)
			if err != nil {
				t.Fatalf("%s / %s: %v", r.name, fc.name, err)
			}
			check(t, fmt.Sprintf("%s / %s (%s)", r.name, fc.name, label), got, f.answer(q, all, allS)[""], false)
		}
	}
}

func TestBreakdownMatchesOracle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "Europe/Berlin", 3000)
		dimsToTest := []struct{ dim, propKey string }{}
		for _, dm := range analytics.AllDimensions {
			k := ""
			if dm == analytics.DimProp {
				k = "plan"
			}
			dimsToTest = append(dimsToTest, struct{ dim, propKey string }{string(dm), k})
		}
		for _, fc := range []int{0, 1, 5, 7, 9} {
			for _, dm := range dimsToTest {
				for _, shared := range []bool{false, true} {
					f.shared = shared
					q := oQuery{from: date(2026, 10, 17), to: date(2026, 10, 28), filters: filterCases[fc].filters}
					name := fmt.Sprintf("%s(%s) / %s (shared scan %v)", dm.dim, dm.propKey, filterCases[fc].name, shared)
					page, err := analytics.Breakdown(ctx, d, f.toQuery(t, q), analytics.Dimension(dm.dim), dm.propKey, analytics.AllMetrics, analytics.Order{}, 1000, 0)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					ek, sk := byDim(dm.dim, dm.propKey)
					want := f.answer(q, ek, sk)
					if page.Total != len(want) {
						t.Errorf("%s: %d rows, oracle %d", name, page.Total, len(want))
					}
					for _, row := range page.Rows {
						check(t, name+" = "+strconv.Quote(row.Value), row.Metrics, want[row.Value], false)
					}
					for i := 1; i < len(page.Rows); i++ {
						a, b := page.Rows[i-1], page.Rows[i]
						if a.Visitors < b.Visitors || (a.Visitors == b.Visitors && a.Value > b.Value) {
							t.Errorf("%s: rows %d and %d out of order", name, i-1, i)
						}
					}
				}
			}
		}
	})
}

func TestBreakdownPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "UTC", 1500)
		q := f.toQuery(t, oQuery{from: date(2026, 10, 17), to: date(2026, 10, 28)})
		full, err := analytics.Breakdown(ctx, d, q, analytics.DimPage, "", analytics.Want{Pageviews: true}, analytics.Order{Metric: "PAGEVIEWS"}, 1000, 0)
		if err != nil {
			t.Fatal(err)
		}
		var paged []analytics.Row
		after := 0
		for {
			p, err := analytics.Breakdown(ctx, d, q, analytics.DimPage, "", analytics.Want{Pageviews: true}, analytics.Order{Metric: "PAGEVIEWS"}, 7, after)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, p.Rows...)
			if !p.HasNext {
				break
			}
			after, err = analytics.DecodeCursor(p.EndCursor)
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(paged) != len(full.Rows) || len(paged) < 20 {
			t.Fatalf("paged %d rows, full %d", len(paged), len(full.Rows))
		}
		for i := range paged {
			if paged[i].Value != full.Rows[i].Value || paged[i].Pageviews != full.Rows[i].Pageviews {
				t.Fatalf("row %d: paged %+v, full %+v", i, paged[i], full.Rows[i])
			}
		}
	})
}

func TestTimeseriesMatchesOracle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "Europe/Berlin", 3000)
		cases := []struct {
			iv       analytics.Interval
			from, to time.Time
			buckets  int
		}{
			{analytics.Day, date(2026, 10, 14), date(2026, 10, 28), 15},
			{analytics.Hour, date(2026, 10, 25), date(2026, 10, 25), 25}, // the DST day has 25 hours
			{analytics.Hour, date(2026, 10, 24), date(2026, 10, 24), 24},
			{analytics.Week, date(2026, 10, 1), date(2026, 10, 31), 5},
			{analytics.Month, date(2026, 9, 15), date(2026, 11, 2), 3},
		}
		for _, fc := range []int{0, 1, 5} {
			for _, c := range cases {
				for _, shared := range []bool{false, true} {
					f.shared = shared
					q := oQuery{from: c.from, to: c.to, filters: filterCases[fc].filters}
					pts, err := analytics.Timeseries(ctx, d, f.toQuery(t, q), c.iv, analytics.AllMetrics)
					if err != nil {
						t.Fatal(err)
					}
					if len(pts) != c.buckets {
						t.Fatalf("%s %s: %d buckets, want %d", c.iv, c.from.Format(time.DateOnly), len(pts), c.buckets)
					}
					// the oracle buckets by the local wall clock: bucket i holds [start_i, start_i+1)
					starts := make([]int64, len(pts)+1)
					for i, p := range pts {
						starts[i] = p.Start.Unix()
					}
					_, starts[len(pts)] = f.bounds(q)
					key := func(ts int64) string {
						for i := 0; i < len(pts); i++ {
							if ts >= starts[i] && ts < starts[i+1] {
								return strconv.Itoa(i)
							}
						}
						return "out"
					}
					want := f.answer(q, func(e *db.Event, _ *db.Session) (string, bool) { return key(e.TS), true },
						func(s *db.Session, _ map[string]bool) []string { return []string{key(s.StartedAt)} })
					for i, p := range pts {
						check(t, fmt.Sprintf("%s %s bucket %d (%s) / %s (shared scan %v)", c.iv, c.from.Format(time.DateOnly), i, p.Start, filterCases[fc].name, shared), p.Metrics, want[strconv.Itoa(i)], false)
					}
					// independent check of the bucket starts: local midnights / hours
					if c.iv == analytics.Day {
						for i, p := range pts {
							want := time.Date(c.from.Year(), c.from.Month(), c.from.Day()+i, 0, 0, 0, 0, f.loc)
							if !p.Start.Equal(want) {
								t.Errorf("day bucket %d starts %s, want %s", i, p.Start, want)
							}
						}
					}
				}
			}
		}
	})
}

func TestGoalsAndConversion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "Europe/Berlin", 3000)
		pv, err := analytics.CreateGoal(ctx, d, f.site.ID, analytics.GoalInput{PagePath: "/blog/post-1*"})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := analytics.CreateGoal(ctx, d, f.site.ID, analytics.GoalInput{Name: "Signups", EventName: "Signup"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := analytics.CreateGoal(ctx, d, f.site.ID, analytics.GoalInput{Name: "Signups", EventName: "Other"}); err == nil {
			t.Error("a duplicate goal name was accepted")
		}
		if _, err := analytics.CreateGoal(ctx, d, f.site.ID, analytics.GoalInput{PagePath: "nope"}); err == nil {
			t.Error("a page goal without a leading / was accepted")
		}
		for _, g := range []*analytics.Goal{pv, ev} {
			for _, fc := range []int{0, 5, 8} {
				q := oQuery{from: date(2026, 10, 17), to: date(2026, 10, 28), filters: filterCases[fc].filters, goal: g}
				got, err := analytics.Aggregate(ctx, d, f.toQuery(t, q), analytics.AllMetrics)
				if err != nil {
					t.Fatal(err)
				}
				want := f.answer(q, all, allS)[""]
				if want == nil || want.visitors == 0 {
					t.Fatalf("goal %s / %s: the fixture has no conversions; the test would prove nothing", g.Name, filterCases[fc].name)
				}
				check(t, "goal "+g.Name+" / "+filterCases[fc].name, got, want, true)
				page, err := analytics.Breakdown(ctx, d, f.toQuery(t, q), analytics.DimSource, "", analytics.AllMetrics, analytics.Order{Metric: "CONVERSION_RATE"}, 100, 0)
				if err != nil {
					t.Fatal(err)
				}
				ek, sk := byDim("SOURCE", "")
				wb := f.answer(q, ek, sk)
				for _, row := range page.Rows {
					check(t, "goal "+g.Name+" by source "+row.Value, row.Metrics, wb[row.Value], true)
				}
			}
		}
	})
}

// TestSharedScanFallsBackWhenTooLarge: a filtered question with more
// matching events than the shared scan may hold is answered part by part in
// SQL, with the same numbers.
func TestSharedScanFallsBackWhenTooLarge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "UTC", 1500)
		f.shared = true
		q := oQuery{from: date(2026, 10, 17), to: date(2026, 10, 28), filters: filterCases[2].filters} // page is not "/"
		want := f.answer(q, all, allS)[""]
		if want == nil || want.events < 20 {
			t.Fatalf("the fixture has too few matching events for this test: %+v", want)
		}
		for _, c := range []struct {
			max    int
			loaded bool
		}{{int(want.events) - 1, false}, {int(want.events), true}} {
			restore := analytics.SetMaxScanEvents(c.max)
			aq := f.toQuery(t, q)
			got, err := analytics.Aggregate(ctx, d, aq, analytics.AllMetrics)
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if analytics.ScanLoaded(aq) != c.loaded {
				t.Errorf("bound %d for %d matching events: shared scan loaded %v, want %v", c.max, want.events, !c.loaded, c.loaded)
			}
			check(t, fmt.Sprintf("bound %d", c.max), got, want, false)
		}
	})
}

// TestSharedScanVisitAcrossTheMiddle: on PostgreSQL the shared scan reads
// the visits of each half of the range with the ids whose latest matching
// event is in that half. The fixture's visit from 23:58 to 00:04:40 across
// local midnight has its /midnight pageview before the middle of
// 2026-10-23..26 (midnight of the 25th in UTC) and its last event after it,
// so it is asked for again in the second half; it must count exactly once.
//
// The same with the visits asked for with a bitmap of 2 bits per visit, so
// that many visits read share a bit with an asked-for one.
func TestSharedScanVisitAcrossTheMiddle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "UTC", 1500)
		f.shared = true
		for _, bitmap := range []bool{false, true} {
			if bitmap {
				defer analytics.SetIDBitmap(1, 2)()
			}
			testVisitAcrossTheMiddle(t, ctx, d, f)
		}
	})
}

func testVisitAcrossTheMiddle(t *testing.T, ctx context.Context, d *db.DB, f *fixture) {
	for _, filters := range [][]oFilter{
		{{dim: "PAGE", op: "IS", values: []string{"/midnight"}}},
		{{dim: "PAGE", op: "CONTAINS", values: []string{"midnight", "/pricing"}}},
		{{dim: "PAGE", op: "IS", values: []string{"/midnight", "/docs"}}, {dim: "COUNTRY", op: "IS", values: []string{"NZ", "US"}}},
	} {
		q := oQuery{from: date(2026, 10, 23), to: date(2026, 10, 26), filters: filters}
		name := fmt.Sprintf("%+v", filters)
		want := f.answer(q, all, allS)[""]
		if want == nil || want.visits < 1 {
			t.Fatalf("%s: the fixture lacks the visit across midnight: %+v", name, want)
		}
		aq := f.toQuery(t, q)
		got, err := analytics.Aggregate(ctx, d, aq, analytics.AllMetrics)
		if err != nil {
			t.Fatal(err)
		}
		if !analytics.ScanLoaded(aq) {
			t.Errorf("%s: answered without the shared scan", name)
		}
		check(t, name, got, want, false)
		for _, dim := range []string{"SOURCE", "ENTRY_PAGE", "COUNTRY", "OS"} {
			page, err := analytics.Breakdown(ctx, d, f.toQuery(t, q), analytics.Dimension(dim), "", analytics.AllMetrics, analytics.Order{}, 1000, 0)
			if err != nil {
				t.Fatal(err)
			}
			ek, sk := byDim(dim, "")
			rows := f.answer(q, ek, sk)
			if page.Total != len(rows) {
				t.Errorf("%s / %s: %d rows, oracle %d", name, dim, page.Total, len(rows))
			}
			for _, row := range page.Rows {
				check(t, name+" / "+dim+" = "+strconv.Quote(row.Value), row.Metrics, rows[row.Value], false)
			}
		}
	}
}

// TestSharedScanIDBitmapMatchesOracle: every filter case and range of the
// aggregate test, through the shared scan with the visits asked for with a
// bitmap of 2 bits per visit (on PostgreSQL; SQLite reads visits by key).
func TestSharedScanIDBitmapMatchesOracle(t *testing.T) {
	defer analytics.SetIDBitmap(1, 2)()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := loadFixture(t, d, "Europe/Berlin", 3000)
		f.shared = true
		checkAggregateCases(ctx, t, d, f, "id bitmap")
		for _, fc := range []int{1, 3, 11} {
			for _, dim := range []string{"SOURCE", "ENTRY_PAGE", "COUNTRY", "BROWSER", "DEVICE", "REGION", "PAGE"} {
				q := oQuery{from: date(2026, 10, 17), to: date(2026, 10, 28), filters: filterCases[fc].filters}
				name := fmt.Sprintf("%s / %s", dim, filterCases[fc].name)
				page, err := analytics.Breakdown(ctx, d, f.toQuery(t, q), analytics.Dimension(dim), "", analytics.AllMetrics, analytics.Order{}, 1000, 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				ek, sk := byDim(dim, "")
				want := f.answer(q, ek, sk)
				if page.Total != len(want) {
					t.Errorf("%s: %d rows, oracle %d", name, page.Total, len(want))
				}
				for _, row := range page.Rows {
					check(t, name+" = "+strconv.Quote(row.Value), row.Metrics, want[row.Value], false)
				}
			}
		}
	})
}

// A read without an upper bound uses the bitmap only for a period that
// ended lately: for one long past it would read every later visit.
func TestSharedScanBitmapChoice(t *testing.T) {
	const day = 86400
	now := int64(1_800_000_000)
	for _, c := range []struct {
		name      string
		n         int
		hi, end   int64
		wantWhich bool
	}{
		{"few ids", 100, now - 10*day, now - 5*day, false},
		{"many ids, bounded half", 50_000, now - 10*day, now - 5*day, true},
		{"many ids, open half, period ends today", 50_000, 0, now - day/2, true},
		{"many ids, open half, period a month ago", 50_000, 0, now - 30*day, false},
	} {
		if got := analytics.UseBitmap(c.n, c.hi, c.end, now); got != c.wantWhich {
			t.Errorf("%s: bitmap %v, want %v", c.name, got, c.wantWhich)
		}
	}
}
