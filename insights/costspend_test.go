package insights

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// focusSample is the costs domain's copy of real FOCUS 1.0 AWS rows
// (CC BY 4.0, see costs/testdata/README.md).
const focusSample = "../costs/testdata/focus-1.0-sample-aws.csv"

type focusRow map[string]string

func readFocus(t *testing.T) []focusRow {
	t.Helper()
	f, err := os.Open(focusSample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	var out []focusRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		row := focusRow{}
		for i, h := range head {
			if rec[i] != "NULL" {
				row[h] = rec[i]
			}
		}
		out = append(out, row)
	}
	return out
}

func (r focusRow) effective() decimal.Decimal {
	v := r["EffectiveCost"]
	if v == "" {
		v = r["BilledCost"]
	}
	return decimal.RequireFromString(v)
}

// TestCostSpendFromFOCUS imports real FOCUS rows with the costs package and
// checks the spend side of the summary against sums the test makes itself
// from the CSV.
func TestCostSpendFromFOCUS(t *testing.T) {
	rows := readFocus(t)
	in := func(r focusRow, from, to string) bool {
		day := r["ChargePeriodStart"][:10]
		return day >= from && day <= to
	}
	var cur, prev, covered, onDemand, untaggedApp decimal.Decimal
	services := map[string]decimal.Decimal{}
	for _, r := range rows {
		switch {
		case in(r, "2024-09-16", "2024-09-22"):
			e := r.effective()
			cur = cur.Add(e)
			services[r["ServiceName"]] = services[r["ServiceName"]].Add(e)
			switch {
			case r["CommitmentDiscountId"] != "" || r["PricingCategory"] == "Committed":
				covered = covered.Add(e)
			case r["PricingCategory"] == "Standard" && r["ChargeCategory"] == "Usage" && (r["ServiceCategory"] == "Compute" || r["ServiceCategory"] == "Databases"):
				onDemand = onDemand.Add(e)
			}
			var tags map[string]any
			_ = json.Unmarshal([]byte(r["Tags"]), &tags)
			if v, _ := tags["application"].(string); v == "" {
				untaggedApp = untaggedApp.Add(e)
			}
		case in(r, "2024-09-09", "2024-09-15"):
			prev = prev.Add(r.effective())
		}
	}
	topService, topAmount := "", decimal.Zero
	for s, v := range services {
		if v.GreaterThan(topAmount) {
			topService, topAmount = s, v
		}
	}

	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, err := os.Open(focusSample)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := costs.ImportFOCUS(ctx, d, f, costs.ImportOptions{Name: "sample.csv"}); err != nil {
			t.Fatal(err)
		}
		mustSite(t, d, "shop.example.com")
		b := &Builder{DB: d, Traffic: SQLTraffic{DB: d}, Spend: CostSpend{DB: d, Now: func() time.Time { return time.Date(2024, 9, 25, 12, 0, 0, 0, time.UTC) }}}
		c, p := Range(time.Date(2024, 9, 16, 0, 0, 0, 0, time.UTC), time.Date(2024, 9, 22, 0, 0, 0, 0, time.UTC), time.UTC)
		s, err := b.Build(ctx, c, p)
		if err != nil {
			t.Fatal(err)
		}
		if s.Spend == nil || len(s.Spend.Totals) != 1 {
			t.Fatalf("spend = %+v", s.Spend)
		}
		tot := s.Spend.Totals[0]
		if tot.Currency != "USD" || !tot.Current.Equal(cur.Round(2)) || !tot.Previous.Equal(prev.Round(2)) {
			t.Fatalf("totals = %s / %s, want %s / %s", tot.Current, tot.Previous, cur.Round(2), prev.Round(2))
		}
		if len(s.Spend.ByProvider) != 1 || s.Spend.ByProvider[0].Provider != "AWS" || !s.Spend.ByProvider[0].Current.Equal(cur.Round(2)) {
			t.Fatalf("by provider = %+v", s.Spend.ByProvider)
		}
		top := s.Spend.ByService[0]
		if top.Service != topService || !top.Current.Equal(topAmount.Round(2)) {
			t.Fatalf("top service = %s %s, want %s %s", top.Service, top.Current, topService, topAmount.Round(2))
		}
		var app *UntaggedOut
		for i := range s.Spend.Untagged {
			if s.Spend.Untagged[i].TagKey == "application" {
				app = &s.Spend.Untagged[i]
			}
		}
		if app == nil || !app.Untagged.Equal(untaggedApp) || !app.Total.Equal(cur) {
			t.Fatalf("untagged = %+v, want %s of %s", s.Spend.Untagged, untaggedApp, cur)
		}
		if covered.IsPositive() || onDemand.IsPositive() {
			if len(s.Spend.Commitments) != 1 || !s.Spend.Commitments[0].Covered.Equal(covered.Round(2)) || !s.Spend.Commitments[0].OnDemand.Equal(onDemand.Round(2)) {
				t.Fatalf("commitments = %+v, want %s covered, %s on demand", s.Spend.Commitments, covered.Round(2), onDemand.Round(2))
			}
		}
		payload, _ := json.Marshal(s)
		if err := Scan(payload); err != nil {
			t.Fatalf("summary with real cost data refused: %v", err)
		}
		// Account and resource ids of the export never reach the payload.
		for _, id := range []string{"1234567890123", "51738928782", "arn:"} {
			if strings.Contains(string(payload), id) {
				t.Errorf("payload contains %q", id)
			}
		}
		recs := Rules(s)
		t.Logf("%d rules fired; commitments %+v; anomalies %d", len(recs), s.Spend.Commitments, len(s.Spend.Anomalies))
		for _, r := range recs {
			t.Logf("  %s [%s]", r.Title, r.Category)
			Verify(&r, payload)
			if len(r.Unverified) > 0 {
				t.Errorf("rule %q: unverified %v", r.Title, r.Unverified)
			}
		}
	})
}
