package costs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// dailyCSV writes one FOCUS row per day of [from, to] for a service.
func dailyCSV(b *strings.Builder, from, to time.Time, service, currency string, amount func(time.Time) string) {
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		fmt.Fprintf(b, "%s,%s,%s,%s,%s,Acme,acct-1\n", d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339), amount(d), currency, service)
	}
}

const dailyHeader = "ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency,ServiceName,ProviderName,BillingAccountId\n"

func TestBudgetStatusAndForecast(t *testing.T) {
	now := time.Date(2025, 3, 15, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	b.WriteString(dailyHeader)
	flat := func(s string) func(time.Time) string { return func(time.Time) string { return s } }
	dailyCSV(&b, day("2025-03-01"), day("2025-03-15"), "A", "USD", flat("10.00"))
	dailyCSV(&b, day("2025-03-01"), day("2025-03-15"), "A", "EUR", flat("99"))
	dailyCSV(&b, day("2025-02-01"), day("2025-02-28"), "A", "USD", flat("1000")) // last month: not counted
	ctx := context.Background()
	cases := []struct {
		name, amount string
		filters      []costs.Filter
		spent        string
		forecast     string
		percent      string
		crossed      []int
		over         bool
	}{
		// 15 days × 10 spent; the last 7 complete days average 10, 16 days left.
		{"under", "400", nil, "150", "310", "37.5", []int{}, false},
		{"crossing", "200", nil, "150", "310", "75", []int{50}, true},
		{"all crossed", "100", nil, "150", "310", "150", []int{50, 80, 100}, true},
		{"filtered out", "100", []costs.Filter{{Dimension: costs.DimService, Values: []string{"B"}}}, "0", "0", "0", []int{}, false},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := costs.ImportFOCUS(ctx, d, strings.NewReader(b.String()), costs.ImportOptions{Name: "daily.csv"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				bud, err := costs.CreateBudget(ctx, d, costs.Budget{Name: c.name, Amount: decimal.RequireFromString(c.amount), Currency: "usd", Filters: c.filters})
				if err != nil {
					t.Fatal(err)
				}
				got, err := costs.GetBudget(ctx, d, bud.ID)
				if err != nil {
					t.Fatal(err)
				}
				st, err := got.Status(ctx, d, now)
				if err != nil {
					t.Fatal(err)
				}
				if st.Spent.String() != c.spent || st.Forecast.String() != c.forecast || st.PercentUsed.String() != c.percent ||
					fmt.Sprint(st.Crossed) != fmt.Sprint(c.crossed) || st.ForecastOver != c.over {
					t.Errorf("status spent %s forecast %s percent %s crossed %v over %v; want %s %s %s %v %v",
						st.Spent, st.Forecast, st.PercentUsed, st.Crossed, st.ForecastOver, c.spent, c.forecast, c.percent, c.crossed, c.over)
				}
			})
		}
		mtd, err := costs.MonthToDate(ctx, d, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(mtd) != 2 || mtd[0].Currency != "EUR" || mtd[0].Spent.String() != "1485" || mtd[1].Forecast.String() != "310" {
			t.Errorf("month to date %+v", mtd)
		}
	})
	if _, err := costs.CreateBudget(ctx, dbtest.Open(t, db.SQLite), costs.Budget{Name: "x", Amount: decimal.NewFromInt(-1), Currency: "USD"}); err == nil {
		t.Error("a negative budget was accepted")
	}
}

func TestAnomaliesFromStore(t *testing.T) {
	var b strings.Builder
	b.WriteString(dailyHeader)
	spike, drop := day("2025-03-20"), day("2025-03-25")
	dailyCSV(&b, day("2025-01-01"), day("2025-03-31"), "Compute", "USD", func(d time.Time) string {
		switch {
		case d.Equal(spike):
			return "400"
		case d.Equal(drop):
			return "10"
		case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
			return "50"
		}
		return "100"
	})
	dailyCSV(&b, day("2025-01-01"), day("2025-03-31"), "Tiny", "USD", func(d time.Time) string {
		if d.Equal(spike) {
			return "0.90" // ×9, but under the 1.00 floor
		}
		return "0.10"
	})
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := costs.ImportFOCUS(ctx, d, strings.NewReader(b.String()), costs.ImportOptions{Name: "series.csv"}); err != nil {
			t.Fatal(err)
		}
		got, err := costs.Anomalies(ctx, d, costs.Query{From: day("2025-03-01"), To: day("2025-03-31")}, costs.DimService, costs.DefaultDetect)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("anomalies %+v, want the spike and the drop", got)
		}
		want := []struct {
			date             time.Time
			expected, impact string
		}{{spike, "100", "300"}, {drop, "100", "-90"}}
		for i, w := range want {
			a := got[i]
			if a.Value != "Compute" || !a.Date.Equal(w.date) || a.Expected.String() != w.expected || a.Impact.String() != w.impact {
				t.Errorf("anomaly %d: %s %s expected %s impact %s; want %s expected %s impact %s", i, a.Value, a.Date.Format(time.DateOnly), a.Expected, a.Impact, w.date.Format(time.DateOnly), w.expected, w.impact)
			}
		}
	})
}
