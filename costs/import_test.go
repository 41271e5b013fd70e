package costs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

const sample = "testdata/focus-1.0-sample-aws.csv"

type sums struct{ billed, effective, list decimal.Decimal }

func (s *sums) add(b, e, l string) {
	s.billed = s.billed.Add(mustDec(b))
	s.effective = s.effective.Add(mustDec(e))
	s.list = s.list.Add(mustDec(l))
}

func mustDec(s string) decimal.Decimal {
	if s == "NULL" || s == "" {
		return decimal.Zero
	}
	return decimal.RequireFromString(s)
}

// expectedFromCSV sums the sample by hand: per service, per sub account,
// per day and per application tag, exactly.
func expectedFromCSV(t *testing.T) (bySvc, byAcct, byDay, byApp map[string]*sums, total sums, n int) {
	t.Helper()
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	bySvc, byAcct, byDay, byApp = map[string]*sums{}, map[string]*sums{}, map[string]*sums{}, map[string]*sums{}
	get := func(m map[string]*sums, k string) *sums {
		if m[k] == nil {
			m[k] = &sums{}
		}
		return m[k]
	}
	for _, r := range recs[1:] {
		b, e, l := r[col["BilledCost"]], r[col["EffectiveCost"]], r[col["ListCost"]]
		get(bySvc, r[col["ServiceName"]]).add(b, e, l)
		get(byAcct, r[col["SubAccountId"]]).add(b, e, l)
		get(byDay, r[col["ChargePeriodStart"]][:10]).add(b, e, l)
		app := ""
		if tags := r[col["Tags"]]; tags != "NULL" {
			var m map[string]string
			if err := json.Unmarshal([]byte(tags), &m); err != nil {
				t.Fatal(err)
			}
			app = m["application"]
		}
		get(byApp, app).add(b, e, l)
		total.add(b, e, l)
		n++
	}
	return
}

var sept = costs.Query{From: day("2024-09-01"), To: day("2024-09-30")}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func importFile(t *testing.T, d *db.DB, path string, opts costs.ImportOptions) *costs.ImportResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := costs.ImportFOCUS(context.Background(), d, f, opts)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res
}

func checkBreakdown(t *testing.T, d *db.DB, q costs.Query, dim costs.Dimension, tagKey string, want map[string]*sums) {
	t.Helper()
	rows, err := costs.Breakdown(context.Background(), d, q, dim, tagKey, 0)
	if err != nil {
		t.Fatalf("breakdown %s: %v", dim, err)
	}
	if len(rows) != len(want) {
		t.Errorf("breakdown %s: %d rows, want %d", dim, len(rows), len(want))
	}
	for _, r := range rows {
		w := want[r.Value]
		if w == nil {
			t.Errorf("breakdown %s: unexpected value %q", dim, r.Value)
			continue
		}
		if r.Currency != "USD" || !r.BilledCost.Equal(w.billed) || !r.EffectiveCost.Equal(w.effective) || !r.ListCost.Equal(w.list) {
			t.Errorf("breakdown %s %q: got %s billed %s effective %s list %s, want billed %s effective %s list %s",
				dim, r.Value, r.Currency, r.BilledCost, r.EffectiveCost, r.ListCost, w.billed, w.effective, w.list)
		}
	}
}

func TestImportSampleMatchesHandSums(t *testing.T) {
	bySvc, byAcct, byDay, byApp, total, n := expectedFromCSV(t)
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for round := 1; round <= 2; round++ { // the second import must change nothing
			res := importFile(t, d, sample, costs.ImportOptions{Name: "sample.csv"})
			if res.Import.RowsImported != int64(n) {
				t.Fatalf("round %d: imported %d rows, want %d", round, res.Import.RowsImported, n)
			}
			if round == 2 && res.Import.RowsReplaced != int64(n) {
				t.Errorf("round 2: replaced %d rows, want %d", res.Import.RowsReplaced, n)
			}
			var stored int
			if err := d.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &stored); err != nil {
				t.Fatal(err)
			}
			if stored != n {
				t.Fatalf("round %d: %d rows stored, want %d", round, stored, n)
			}
			tot, err := costs.Total(ctx, d, sept)
			if err != nil {
				t.Fatal(err)
			}
			if len(tot) != 1 || !tot[0].BilledCost.Equal(total.billed) || !tot[0].EffectiveCost.Equal(total.effective) || !tot[0].ListCost.Equal(total.list) {
				t.Fatalf("round %d: total %+v, want %+v", round, tot, total)
			}
			checkBreakdown(t, d, sept, costs.DimService, "", bySvc)
			checkBreakdown(t, d, sept, costs.DimSubAccount, "", byAcct)
			checkBreakdown(t, d, sept, costs.DimTag, "application", byApp)
			pts, err := costs.Timeseries(ctx, d, sept, costs.Day)
			if err != nil {
				t.Fatal(err)
			}
			if len(pts) != 30 {
				t.Fatalf("timeseries: %d points, want 30", len(pts))
			}
			for _, p := range pts {
				w := byDay[p.Date.Format(time.DateOnly)]
				if w == nil {
					w = &sums{}
				}
				if !p.BilledCost.Equal(w.billed) || !p.EffectiveCost.Equal(w.effective) || !p.ListCost.Equal(w.list) {
					t.Errorf("day %s: got billed %s effective %s, want %s %s", p.Date.Format(time.DateOnly), p.BilledCost, p.EffectiveCost, w.billed, w.effective)
				}
			}
		}
	})
}

func TestImportQuirks(t *testing.T) {
	// Columns in another order, RFC 3339 and space-separated timestamps,
	// NULL in BillingPeriodStart (mandatory in FOCUS), empty strings, 12
	// decimals, tags as a JSON string, gzip.
	csvText := "Tags,BilledCost,ServiceName,ChargePeriodEnd,ChargePeriodStart,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,EffectiveCost,ListCost,ProviderName,BillingAccountId,x_Extra\n" +
		`"{""app"": ""shop""}",0.123456789012,Foo,2025-03-02T00:00:00Z,2025-03-01T00:00:00Z,usd,NULL,,0.1,0.2,Acme,A1,zz` + "\n" +
		`NULL,1.5,Bar,2025-03-02 01:00:00,2025-03-02 00:00:00,EUR,2025-03-01 00:00:00,2025-04-01 00:00:00,NULL,,Acme,A1,` + "\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(csvText))
	_ = zw.Close()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := costs.ImportFOCUS(ctx, d, bytes.NewReader(gz.Bytes()), costs.ImportOptions{Name: "q.csv.gz"}); err != nil {
			t.Fatal(err)
		}
		q := costs.Query{From: day("2025-03-01"), To: day("2025-03-31")}
		tot, err := costs.Total(ctx, d, q)
		if err != nil {
			t.Fatal(err)
		}
		// EffectiveCost and ListCost NULL or empty fall back to BilledCost.
		want := map[string][3]string{"EUR": {"1.5", "1.5", "1.5"}, "USD": {"0.123456789012", "0.1", "0.2"}}
		if len(tot) != 2 {
			t.Fatalf("totals %+v, want one per currency", tot)
		}
		for _, a := range tot {
			w := want[a.Currency]
			if a.BilledCost.String() != w[0] || a.EffectiveCost.String() != w[1] || a.ListCost.String() != w[2] {
				t.Errorf("%s: got %s %s %s, want %v", a.Currency, a.BilledCost, a.EffectiveCost, a.ListCost, w)
			}
		}
		rows, err := costs.Breakdown(ctx, d, q, costs.DimTag, "app", 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range rows {
			got[r.Currency+"/"+r.Value] = r.BilledCost.String()
		}
		if got["USD/shop"] != "0.123456789012" || got["EUR/"] != "1.5" || len(got) != 2 {
			t.Errorf("tag breakdown %v", got)
		}
	})
}

func TestImportInvalidRows(t *testing.T) {
	head := "ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency,ServiceName,Tags\n"
	good := "2025-01-01 00:00:00,2025-01-02 00:00:00,1.00,USD,A,NULL\n"
	cases := []struct {
		name, body string
		wantErr    []string
	}{
		{"bad cost", good + "2025-01-01 00:00:00,2025-01-02 00:00:00,abc,USD,A,NULL\n", []string{`line 3, column BilledCost: "abc" is not a decimal number`}},
		{"null cost", "2025-01-01 00:00:00,2025-01-02 00:00:00,NULL,USD,A,NULL\n" + good, []string{"line 2, column BilledCost: is required"}},
		{"bad time", good + "yesterday,2025-01-02 00:00:00,1,USD,A,NULL\n", []string{"line 3, column ChargePeriodStart"}},
		{"bad tags", good + "2025-01-01 00:00:00,2025-01-02 00:00:00,1,USD,A,[1]\n", []string{"line 3, column Tags: is not a JSON object"}},
		{"too precise", good + "2025-01-01 00:00:00,2025-01-02 00:00:00,0.0000000000001,USD,A,NULL\n", []string{"line 3, column BilledCost: more than 12 decimal places"}},
		{"bad currency", good + "2025-01-01 00:00:00,2025-01-02 00:00:00,1,US Dollar,A,NULL\n", []string{"line 3, column BillingCurrency"}},
		{"short row", good + "2025-01-01 00:00:00,1\n", []string{"line 3: has 2 fields, the header has 6"}},
	}
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := costs.ImportFOCUS(ctx, d, strings.NewReader(head+c.body), costs.ImportOptions{Name: "bad.csv"})
				var inv *costs.InvalidError
				if !errors.As(err, &inv) {
					t.Fatalf("error %v, want an InvalidError", err)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				var n int
				if err := d.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n != 0 {
					t.Fatalf("%d rows stored after a refused import (%v)", n, err)
				}
				res, err := costs.ImportFOCUS(ctx, d, strings.NewReader(head+c.body), costs.ImportOptions{Name: "bad.csv", SkipInvalid: true})
				if err != nil {
					t.Fatalf("skip-invalid: %v", err)
				}
				if res.Import.RowsImported != 1 || res.Import.RowsSkipped != 1 || len(res.Errors) != 1 {
					t.Errorf("skip-invalid: imported %d skipped %d errors %v", res.Import.RowsImported, res.Import.RowsSkipped, res.Errors)
				}
				if _, err := d.ExecContext(ctx, "DELETE FROM cost_rows"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

func TestImportListsAtMost20Errors(t *testing.T) {
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,BilledCost,BillingCurrency\n")
	for i := 0; i < 50; i++ {
		b.WriteString("2025-01-01 00:00:00,2025-01-02 00:00:00,x,USD\n")
	}
	d := dbtest.Open(t, db.SQLite)
	_, err := costs.ImportFOCUS(context.Background(), d, strings.NewReader(b.String()), costs.ImportOptions{Name: "many.csv"})
	var inv *costs.InvalidError
	if !errors.As(err, &inv) || len(inv.Errors) != 20 {
		t.Fatalf("got %v, want 20 listed errors", err)
	}
	if inv.Errors[0].Line != 2 || inv.Errors[19].Line != 21 {
		t.Errorf("lines %d..%d, want 2..21", inv.Errors[0].Line, inv.Errors[19].Line)
	}
	if _, err := costs.ImportFOCUS(context.Background(), d, strings.NewReader("A,B\n1,2\n"), costs.ImportOptions{Name: "x.csv"}); err == nil || !strings.Contains(err.Error(), "lacks the FOCUS column(s) ChargePeriodStart") {
		t.Errorf("missing header: %v", err)
	}
}

func TestConcurrentImportsOfOneExport(t *testing.T) {
	ctx := context.Background()
	_, _, _, _, total, n := expectedFromCSV(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		errs := make(chan error, 3)
		for i := 0; i < 3; i++ {
			go func() {
				f, err := os.Open(sample)
				if err != nil {
					errs <- err
					return
				}
				defer f.Close()
				_, err = costs.ImportFOCUS(ctx, d, f, costs.ImportOptions{Name: "sample.csv"})
				errs <- err
			}()
		}
		for i := 0; i < 3; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var stored int
		if err := d.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &stored); err != nil || stored != n {
			t.Fatalf("%d rows after concurrent imports (%v), want %d", stored, err, n)
		}
		tot, err := costs.Total(ctx, d, sept)
		if err != nil || len(tot) != 1 || !tot[0].BilledCost.Equal(total.billed) {
			t.Fatalf("total %+v (%v), want %s", tot, err, total.billed)
		}
	})
}

// Rollup keys go into PostgreSQL by COPY: values holding the bytes COPY's
// text format escapes must come back exactly from every rollup.
func TestImportKeysWithCopySpecialBytes(t *testing.T) {
	svc := `Svc\with "back\slash"` + "\tand tab"
	res := "arn:res\\1\nnext\rend"
	tag := `v\1` + "\t2"
	w := &bytes.Buffer{}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "BillingCurrency", "ServiceName", "ResourceId", "RegionId", "Tags", "ProviderName", "BillingAccountId"})
	_ = cw.Write([]string{"2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "2.5", "USD", svc, res, `eu\west`, `{"k": "` + strings.ReplaceAll(strings.ReplaceAll(tag, `\`, `\\`), "\t", `\t`) + `"}`, "Acme", "A1"})
	_ = cw.Write([]string{"2025-03-01T00:00:00Z", "2025-03-02T00:00:00Z", "0.5", "USD", "plain", "r2", "plain", "{}", "Acme", "A1"})
	cw.Flush()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		if _, err := costs.ImportFOCUS(ctx, d, bytes.NewReader(w.Bytes()), costs.ImportOptions{Name: "special.csv"}); err != nil {
			t.Fatal(err)
		}
		q := costs.Query{From: day("2025-03-01"), To: day("2025-03-31")}
		for _, tc := range []struct {
			dim    costs.Dimension
			tagKey string
			want   string
		}{
			{costs.DimService, "", svc},
			{costs.DimRegion, "", `eu\west`},
			{costs.DimResource, "", res},
			{costs.DimTag, "k", tag},
		} {
			rows, err := costs.Breakdown(ctx, d, q, tc.dim, tc.tagKey, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Value != tc.want || rows[0].BilledCost.String() != "2.5" {
				t.Errorf("%s breakdown: %+v, want %q first with 2.5", tc.dim, rows, tc.want)
			}
		}
	})
}
