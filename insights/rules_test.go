package insights

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// staticSpend is plain cost aggregates, standing in for the costs domain
// (not on this branch); SpendSource is this package's own consumer
// interface.
type staticSpend struct{ s *Spend }

func (s staticSpend) Spend(context.Context, TimeRange, TimeRange) (*Spend, error) { return s.s, nil }

var demoSpend = &Spend{
	Rows: []SpendRow{
		{Provider: "AWS", Service: "Amazon EC2", Currency: "USD", Current: dec("700.00"), Previous: dec("500.00")},
		{Provider: "AWS", Service: "Amazon S3", Currency: "USD", Current: dec("100.50"), Previous: dec("101.00")},
		{Provider: "OpenAI", Service: "gpt-4o", Currency: "USD", Current: dec("49.50"), Previous: dec("49.00")},
		{Provider: "Hetzner", Service: "Cloud", Currency: "EUR", Current: dec("30"), Previous: dec("30")},
	},
	Anomalies: []CostAnomaly{
		{Date: "2026-11-12", Provider: "AWS", Service: "Amazon EC2", Currency: "USD", Expected: dec("80.00"), Actual: dec("190.00")},
		{Date: "2026-11-10", Provider: "AWS", Service: "Amazon EC2", Currency: "USD", Expected: dec("81.50"), Actual: dec("95.25")},
	},
	Budgets:     []BudgetStatus{{Name: "cloud", Currency: "USD", Amount: dec("3000"), Spent: dec("2500"), Forecast: dec("3600")}},
	Untagged:    []Untagged{{TagKey: "team", Currency: "USD", Untagged: dec("212.5"), Total: dec("850")}},
	Commitments: []Commitment{{Currency: "USD", Covered: dec("140"), OnDemand: dec("560")}},
}

func TestRulesFromRealSummary(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := mustSite(t, d, "shop.example.com")
		var f fixture
		gen(&f, site.ID, periodFrom.AddDate(0, 0, -7), 7, 90, 1, 1)
		gen(&f, site.ID, periodFrom, 7, 60, 2, 10_000)
		f.insert(t, d)
		svc := &Service{DB: d, Builder: &Builder{DB: d, Traffic: SQLTraffic{DB: d}, Spend: staticSpend{demoSpend}}, Location: time.UTC}
		res, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo})
		if err != nil {
			t.Fatal(err)
		}
		byCat := map[string]Recommendation{}
		for _, r := range res.Recommendations {
			if len(r.Unverified) != 0 {
				t.Errorf("rule %q has unverified numbers %v", r.Title, r.Unverified)
			}
			for _, e := range r.Evidence {
				if e.Value == nil {
					t.Errorf("rule %q cites %s without a value", r.Title, e.Key)
				}
			}
			if !strings.HasPrefix(r.Fingerprint, "traffic:channel:") { // channel drops are checked below
				byCat[r.Category] = r
			}
		}
		for _, c := range []string{"cost_anomaly", "cost_trend", "governance", "budget", "commitment", "unit_economics", "traffic"} {
			if _, ok := byCat[c]; !ok {
				t.Errorf("no %s recommendation in %d", c, len(res.Recommendations))
			}
		}
		// Impacts computed by hand: EC2 grew 200 USD in 7 days -> 200*30/7.
		want := map[string]string{
			"cost_trend":   "857.14", // 200 * 30 / 7
			"cost_anomaly": "123.75", // (190 + 95.25) - (80 + 81.50)
			"governance":   "910.71", // 212.5 * 30 / 7
			"budget":       "600",    // 3600 - 3000
			"commitment":   "480",    // 560 * 0.2 * 30 / 7
		}
		for c, w := range want {
			if r := byCat[c]; r.Impact == nil || !r.Impact.Amount.Equal(dec(w)) || r.Impact.Currency != "USD" {
				t.Errorf("%s impact = %+v, want %s USD", c, r.Impact, w)
			}
		}
		if a := byCat["cost_anomaly"]; !strings.Contains(a.Title, "on 2 days from 2026-11-10 to 2026-11-12: 285.25 USD instead of about 161.50") {
			t.Errorf("anomaly title %q", a.Title)
		}
		if tr := byCat["traffic"]; !strings.Contains(tr.Title, "shop.example.com") || tr.Impact != nil {
			t.Errorf("traffic = %+v", tr)
		}
		// Channel drops, computed from the fixture's sessions.
		chans := map[string][2]map[int64]bool{}
		for _, ss := range f.sessions {
			w := 0
			if ss.StartedAt < periodFrom.Unix() {
				w = 1
			}
			c := chans[ss.Channel]
			if c[0] == nil {
				c = [2]map[int64]bool{{}, {}}
				chans[ss.Channel] = c
			}
			c[w][ss.VisitorID] = true
		}
		wantDrops := map[string]bool{}
		for ch, c := range chans {
			cur, prev := float64(len(c[0])), float64(len(c[1]))
			if prev >= 20 && (cur-prev)/prev*100 <= -30 {
				wantDrops[ch] = true
			}
		}
		gotDrops := map[string]bool{}
		for _, r := range res.Recommendations {
			if strings.HasPrefix(r.Fingerprint, "traffic:channel:") {
				gotDrops[strings.TrimPrefix(r.Fingerprint, "traffic:channel:")] = true
			}
		}
		if len(wantDrops) == 0 || len(gotDrops) != len(wantDrops) {
			t.Errorf("channel drops = %v, want %v", gotDrops, wantDrops)
		}
		for ch := range wantDrops {
			if !gotDrops[ch] {
				t.Errorf("no recommendation for the drop of %s", ch)
			}
		}
		// EUR is never added to USD.
		if len(res.Summary.Spend.Totals) != 2 || res.Summary.Spend.Totals[0].Currency != "USD" || !res.Summary.Spend.Totals[0].Current.Equal(dec("850")) {
			t.Errorf("totals = %+v", res.Summary.Spend.Totals)
		}
		if !slices.Equal(res.Run.RecommendationIDs, ids(res.Recommendations)) {
			t.Errorf("run ids %v vs %v", res.Run.RecommendationIDs, ids(res.Recommendations))
		}

		// Next week the same findings merge into the same rows.
		svc.Now = func() time.Time { return time.Now().Add(7 * 24 * time.Hour) }
		first := res.Recommendations
		if _, err := SetStatus(ctx, d, first[0].ID, StatusDone, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := SetStatus(ctx, d, first[1].ID, StatusDismissed, time.Now()); err != nil {
			t.Fatal(err)
		}
		res2, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(res2.Recommendations), ids(first)) {
			t.Fatalf("second run ids %v, first %v", ids(res2.Recommendations), ids(first))
		}
		all, err := Recommendations(ctx, d, ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(first) {
			t.Fatalf("%d rows after two runs, want %d", len(all), len(first))
		}
		st := map[int64]Recommendation{}
		for _, r := range all {
			st[r.ID] = r
		}
		if r := st[first[0].ID]; r.Status != StatusOpen || r.TimesSeen != 2 {
			t.Errorf("done one came back: %+v", r)
		}
		if r := st[first[1].ID]; r.Status != StatusDismissed || r.TimesSeen != 2 {
			t.Errorf("dismissed one: %+v", r)
		}
		if _, err := SetStatus(ctx, d, 999999, StatusDone, time.Now()); err == nil {
			t.Error("unknown id accepted")
		}
		if _, err := SetStatus(ctx, d, first[0].ID, "later", time.Now()); err == nil {
			t.Error("bad status accepted")
		}
		// The second summary reports the LLM spend of runs in its period
		// (none: rules cost nothing) and is still clean.
		if err := Scan(res2.Payload); err != nil {
			t.Fatal(err)
		}
	})
}

func ids(rs []Recommendation) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestVerifyFlagsUnknownNumbers(t *testing.T) {
	payload := []byte(`{"spend":{"by_service":[{"current":"700.00","change_pct":40}]},"period":{"from":"2026-11-09"}}`)
	cases := []struct {
		title string
		key   string
		flags []string
	}{
		{"EC2 rose 40% to 700.00 USD", "/spend/by_service/0/current", []string{}},
		{"EC2 rose 40% to 700 USD since 2026-11-09", "/spend/by_service/0/change_pct", []string{}},
		{"EC2 rose 45% to 700.00 USD", "/spend/by_service/0/current", []string{"45"}},
		{"Save 1,234.56 a month", "/spend/by_service/0/current", []string{"1,234.56"}},
		{"EC2 rose 40%", "/spend/by_service/7/current", []string{"evidence key /spend/by_service/7/current"}},
	}
	for _, c := range cases {
		r := Recommendation{Title: c.title, Evidence: []Evidence{{Key: c.key}}}
		Verify(&r, payload)
		if !slices.Equal(r.Unverified, c.flags) {
			t.Errorf("%q: unverified = %v, want %v", c.title, r.Unverified, c.flags)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	good := `{"recommendations":[{"title":"Cut EC2","category":"cost_trend","monthly_impact":{"amount":"857.14","currency":"USD"},"confidence":0.6,"actions":["Right-size"],"evidence":[{"key":"/spend/by_service/0/change_pct","note":"up 40"}]}]}`
	recs, err := ParseAnswer(good)
	if err != nil || len(recs) != 1 || !recs[0].Impact.Amount.Equal(dec("857.14")) || recs[0].Source != "llm" {
		t.Fatalf("good: %+v %v", recs, err)
	}
	bad := map[string]string{
		"not json":       `{"recommendations": [`,
		"wrong category": strings.Replace(good, "cost_trend", "magic", 1),
		"bad amount":     strings.Replace(good, `"857.14"`, `"lots"`, 1),
		"extra field":    strings.Replace(good, `"title"`, `"secret":"x","title"`, 1),
		"no actions":     strings.Replace(good, `["Right-size"]`, `[]`, 1),
		"confidence":     strings.Replace(good, "0.6", "7", 1),
		"missing array":  `{"recs":[]}`,
	}
	for name, in := range bad {
		if _, err := ParseAnswer(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseAnswer("```json\n" + good + "\n```"); err != nil {
		t.Errorf("fenced: %v", err)
	}
}

type countHook struct{ n atomic.Int64 }

func (h *countHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.n.Add(1)
	return ctx
}
func (h *countHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestPreloadIsTwoQueries: listing runs with their recommendations and
// deliveries does not query per run.
func TestPreloadIsTwoQueries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		mustSite(t, d, "shop.example.com")
		svc := &Service{DB: d, Builder: &Builder{DB: d, Traffic: SQLTraffic{DB: d}, Spend: staticSpend{demoSpend}}, Location: time.UTC,
			Notifiers: []Notifier{&recordingNotifier{}}}
		for range 5 {
			if _, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo}); err != nil {
				t.Fatal(err)
			}
		}
		runs, err := Runs(ctx, d, 10)
		if err != nil {
			t.Fatal(err)
		}
		h := &countHook{}
		d.AddQueryHook(h)
		if err := Preload(ctx, d, runs); err != nil {
			t.Fatal(err)
		}
		if h.n.Load() != 2 {
			t.Fatalf("%d queries for %d runs", h.n.Load(), len(runs))
		}
		for _, r := range runs {
			if len(r.Recs) != len(r.RecommendationIDs) || len(r.Recs) == 0 || len(r.DeliveryRecords) != 1 {
				t.Fatalf("run %d: %d recs for ids %v, %d deliveries", r.ID, len(r.Recs), r.RecommendationIDs, len(r.DeliveryRecords))
			}
		}
	})
}

func TestInterruptedInsightRunIsClosed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		stuck := &Run{Trigger: "schedule", Status: RunRunning, Provider: "none", RecommendationIDs: []int64{}, StartedAt: time.Now().Add(-2 * time.Hour).UTC()}
		recent := &Run{Trigger: "manual", Status: RunRunning, Provider: "none", RecommendationIDs: []int64{}, StartedAt: time.Now().Add(-time.Minute).UTC()}
		for _, r := range []*Run{stuck, recent} {
			if _, err := d.NewInsert().Model(r).Returning("id").Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		svc := &Service{DB: d, Builder: &Builder{DB: d, Traffic: SQLTraffic{DB: d}}, Location: time.UTC}
		if _, err := svc.Run(ctx, RunOptions{}); err != nil {
			t.Fatal(err)
		}
		a, _ := RunByID(ctx, d, stuck.ID)
		b, _ := RunByID(ctx, d, recent.ID)
		if a.Status != RunFailed || !strings.Contains(a.Error, "interrupted") || b.Status != RunRunning {
			t.Fatalf("stuck %s %q, recent %s", a.Status, a.Error, b.Status)
		}
	})
}
