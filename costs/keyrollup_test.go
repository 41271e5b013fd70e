package costs

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// fixtureRow is one generated charge, kept to compute answers by brute
// force.
type fixtureRow struct {
	start             time.Time
	cur, resource     string
	tags              map[string]any // nil: no tags
	billed, eff, list decimal.Decimal
}

// genRows draws n charges over 2025-01-10 .. 2025-04-19 (four months, none
// whole at both ends), two currencies, 25 resources and some rows without
// one, and tags that are missing, empty, null or set.
func genRows(seed uint64, n int) []fixtureRow {
	rng := rand.New(rand.NewPCG(seed, 11))
	t0 := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	apps := []any{"shop", "blog", "api", "", nil}
	var out []fixtureRow
	for range n {
		r := fixtureRow{
			start: t0.Add(time.Duration(rng.IntN(100*24)) * time.Hour),
			cur:   []string{"USD", "USD", "USD", "EUR"}[rng.IntN(4)],
		}
		if rng.IntN(10) > 0 {
			r.resource = fmt.Sprintf("arn:res/%02d", rng.IntN(25))
		}
		switch rng.IntN(4) {
		case 0: // no tags
		case 1:
			r.tags = map[string]any{"env": []string{"prod", "dev"}[rng.IntN(2)]}
		default:
			r.tags = map[string]any{"app": apps[rng.IntN(len(apps))], "env": "prod"}
		}
		r.billed = decimal.New(rng.Int64N(2_000_000)-100_000, -int32(rng.IntN(9)))
		r.eff = r.billed.Mul(decimal.RequireFromString("0.9"))
		r.list = r.billed.Add(decimal.New(rng.Int64N(1000), -3))
		out = append(out, r)
	}
	return out
}

// focusCSV writes rows as a FOCUS file of one provider and account.
func focusCSV(rows []fixtureRow, account string) string {
	var b strings.Builder
	b.WriteString("BilledCost,EffectiveCost,ListCost,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,BillingCurrency,ProviderName,BillingAccountId,ServiceName,ResourceId,Tags\n")
	for _, r := range rows {
		bs := monthStart(r.start)
		tags := "NULL"
		if r.tags != nil {
			js, _ := json.Marshal(r.tags)
			tags = `"` + strings.ReplaceAll(string(js), `"`, `""`) + `"`
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,Acme,%s,Compute,%s,%s\n", r.billed, r.eff, r.list,
			r.start.Format(time.RFC3339), r.start.Add(time.Hour).Format(time.RFC3339),
			bs.Format(time.RFC3339), bs.AddDate(0, 1, 0).Format(time.RFC3339), r.cur, account, r.resource, tags)
	}
	return b.String()
}

// oracle is the breakdown computed from the fixture rows themselves, in
// Breakdown's order, at most limit rows per currency.
func oracle(rows []fixtureRow, q Query, dim Dimension, tagKey string, limit int) []BreakdownRow {
	from, to := q.From, q.To.AddDate(0, 0, 1)
	sums := map[[2]string]*BreakdownRow{}
	for _, r := range rows {
		if r.start.Before(from) || !r.start.Before(to) || (q.Currency != "" && r.cur != q.Currency) {
			continue
		}
		v := r.resource
		if dim == DimTag {
			v = ""
			if s, ok := r.tags[tagKey].(string); ok {
				v = s
			}
		}
		keep := true
		for _, f := range q.Filters {
			in := false
			for _, fv := range f.Values {
				in = in || fv == v
			}
			keep = keep && in != f.Exclude
		}
		if !keep {
			continue
		}
		k := [2]string{r.cur, v}
		s := sums[k]
		if s == nil {
			s = &BreakdownRow{Value: v, Amounts: Amounts{Currency: r.cur}}
			sums[k] = s
		}
		s.add(r.billed, r.eff, r.list)
	}
	var out []BreakdownRow
	for _, s := range sums {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if c := a.EffectiveCost.Cmp(b.EffectiveCost); c != 0 {
			return c > 0
		}
		if c := a.BilledCost.Cmp(b.BilledCost); c != 0 {
			return c > 0
		}
		return a.Value < b.Value
	})
	if limit > 0 {
		n := map[string]int{}
		kept := out[:0]
		for _, r := range out {
			if n[r.Currency]++; n[r.Currency] <= limit {
				kept = append(kept, r)
			}
		}
		out = kept
	}
	return out
}

func fmtRows(rs []BreakdownRow) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s %q billed %s effective %s list %s", r.Currency, r.Value, r.BilledCost, r.EffectiveCost, r.ListCost)
	}
	return b.String()
}

func sameRows(got, want []BreakdownRow) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Currency != w.Currency || g.Value != w.Value || !g.BilledCost.Equal(w.BilledCost) ||
			!g.EffectiveCost.Equal(w.EffectiveCost) || !g.ListCost.Equal(w.ListCost) {
			return false
		}
	}
	return true
}

func mustDay(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

type breakdownCase struct {
	name   string
	q      Query
	dim    Dimension
	tagKey string
	limit  int
}

func breakdownCases() []breakdownCase {
	ranges := []struct {
		name     string
		from, to string
	}{
		{"whole month", "2025-02-01", "2025-02-28"},
		{"a week of a month", "2025-03-03", "2025-03-09"},
		{"most of a month", "2025-03-02", "2025-03-30"},
		{"three months in part", "2025-01-20", "2025-03-25"},
		{"one day", "2025-02-14", "2025-02-14"},
		{"everything", "2024-12-01", "2025-05-31"},
		{"nothing", "2026-01-01", "2026-01-31"},
		// The rows run from 2025-01-10 to 2025-04-19: months whose
		// uncovered days hold no rows are read whole.
		{"a month so far", "2025-04-01", "2025-04-25"},
		{"a month from its first rows", "2025-01-05", "2025-01-31"},
		{"a month so far but its first day", "2025-04-02", "2025-04-30"},
	}
	filters := []struct {
		name string
		dim  Dimension
		key  string
		fs   []Filter
		cur  string
	}{
		{"resource", DimResource, "", nil, ""},
		{"resource in EUR", DimResource, "", nil, "eur"},
		{"resource is", DimResource, "", []Filter{{Dimension: DimResource, Values: []string{"arn:res/03", "arn:res/07", ""}}}, ""},
		{"resource is not", DimResource, "", []Filter{{Dimension: DimResource, Values: []string{"arn:res/03"}, Exclude: true}}, ""},
		{"tag app", DimTag, "app", nil, ""},
		{"tag env", DimTag, "env", nil, ""},
		{"tag nobody uses", DimTag, "team", nil, ""},
		{"tag app is", DimTag, "app", []Filter{{Dimension: DimTag, TagKey: "app", Values: []string{"shop", ""}}}, ""},
		{"tag app is not", DimTag, "app", []Filter{{Dimension: DimTag, TagKey: "app", Values: []string{"shop"}, Exclude: true}}, "usd"},
	}
	var out []breakdownCase
	for _, r := range ranges {
		for _, f := range filters {
			for _, limit := range []int{0, 3} {
				out = append(out, breakdownCase{
					name: fmt.Sprintf("%s/%s/limit %d", r.name, f.name, limit),
					q:    Query{From: mustDay(r.from), To: mustDay(r.to), Filters: f.fs, Currency: f.cur},
					dim:  f.dim, tagKey: f.key, limit: limit,
				})
			}
		}
	}
	return out
}

func checkAgainstOracle(t *testing.T, store *db.DB, rows []fixtureRow) {
	t.Helper()
	ctx := context.Background()
	checkTotals(t, store)
	for _, c := range breakdownCases() {
		got, err := Breakdown(ctx, store, c.q, c.dim, c.tagKey, c.limit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		q := c.q
		q.Currency = strings.ToUpper(q.Currency)
		if want := oracle(rows, q, c.dim, c.tagKey, c.limit); !sameRows(got, want) {
			t.Errorf("%s:\ngot%s\nwant%s", c.name, fmtRows(got), fmtRows(want))
		}
	}
}

// checkWithIndex refreshes the resource index and checks the breakdowns
// again; on PostgreSQL the index must have been rebuilt and must have
// answered some of them.
func checkWithIndex(t *testing.T, d *db.DB, rows []fixtureRow) {
	t.Helper()
	n, err := RefreshResourceIndex(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	before := indexAnswers.Load()
	checkAgainstOracle(t, d, rows)
	if d.IsPostgres() && (n == 0 || indexAnswers.Load() == before) {
		t.Errorf("resource index: %d months rebuilt, %d breakdowns answered", n, indexAnswers.Load()-before)
	}
	if n, err := RefreshResourceIndex(context.Background(), d); err != nil || n != 0 {
		t.Errorf("a second refresh rebuilt %d months (%v), want none", n, err)
	}
}

func importCSV(t *testing.T, d *db.DB, text string) *ImportResult {
	t.Helper()
	res, err := ImportFOCUS(context.Background(), d, strings.NewReader(text), ImportOptions{Name: "fixture.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Tag and resource breakdowns read their rollups; every range shape (whole
// months, part of a month below and above half, several months, none),
// filter and limit must give what the rows themselves give.
func TestKeyRollupBreakdownsMatchOracle(t *testing.T) {
	rows := genRows(1, 3000)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		importCSV(t, d, focusCSV(rows, "A1"))
		checkAgainstOracle(t, d, rows)

		t.Run("months ranked from their first entries", func(t *testing.T) {
			// 26 resources a month: reading 6, then 24 entries of each
			// month leaves the top to the bound before the months run out.
			old := firstRankDepth
			firstRankDepth = 1
			defer func() { firstRankDepth = old }()
			checkAgainstOracle(t, d, rows)
		})
		t.Run("with the resource index", func(t *testing.T) {
			checkWithIndex(t, d, rows)
		})
		t.Run("rebuilt from the rows (the data migration)", func(t *testing.T) {
			if err := RebuildKeyRollups(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			checkAgainstOracle(t, d, rows)
		})
		t.Run("same export again", func(t *testing.T) {
			importCSV(t, d, focusCSV(rows, "A1"))
			checkAgainstOracle(t, d, rows) // the index is stale now
			checkWithIndex(t, d, rows)
		})
		t.Run("newer export replaces", func(t *testing.T) {
			newer := genRows(2, 2000)
			importCSV(t, d, focusCSV(newer, "A1"))
			checkAgainstOracle(t, d, newer)
			checkWithIndex(t, d, newer)
		})
	})
}

// A file that outgrows the in-memory sums, or whose tag values are not all
// strings, is rolled up by SQL from its written rows, with the same answers.
func TestKeyRollupFallbacks(t *testing.T) {
	rows := genRows(3, 1500)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Run("over the key bound", func(t *testing.T) {
			old := maxRollupKeys
			maxRollupKeys = 10
			defer func() { maxRollupKeys = old }()
			var sr streamRollups
			for _, r := range rows[:200] {
				sr.add(&Row{ChargePeriodStart: r.start, BillingPeriodStart: monthStart(r.start), ResourceID: r.resource, BillingCurrency: r.cur, BilledCost: r.billed})
			}
			if !sr.resource.over || !sr.daily.over {
				t.Fatalf("with 10 keys allowed the sums did not give up (resource %v, daily %v)", sr.resource.over, sr.daily.over)
			}
			// Many resources alone leave the other rollups in memory.
			maxRollupKeys = 50
			sr = streamRollups{}
			for i, r := range rows[:200] {
				day := rows[0].start // one day, one currency: a single daily key
				sr.add(&Row{ChargePeriodStart: day, BillingPeriodStart: monthStart(day), ResourceID: fmt.Sprint("r", i), BillingCurrency: "USD", BilledCost: r.billed})
			}
			if !sr.resource.over || sr.daily.over {
				t.Fatalf("200 resources, 50 keys allowed: resource over %v (want true), daily over %v (want false)", sr.resource.over, sr.daily.over)
			}
			maxRollupKeys = 10
			importCSV(t, d, focusCSV(rows, "B1"))
			checkAgainstOracle(t, d, rows)
		})
	})
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Run("tags that are numbers and booleans", func(t *testing.T) {
			mixed := genRows(4, 800)
			for i := range mixed {
				if i%7 == 0 {
					mixed[i].tags = map[string]any{"app": 5, "env": true}
				}
			}
			importCSV(t, d, focusCSV(mixed, "C1"))
			// Which text a number or a boolean becomes is the store's own
			// JSON function's choice; the rollup must agree with the raw
			// query, which a filter on a second dimension forces.
			ctx := context.Background()
			q := Query{From: d0, To: d1}
			raw := q
			raw.Filters = []Filter{{Dimension: DimProvider, Values: []string{"Acme"}}}
			for _, key := range []string{"app", "env"} {
				got, err := Breakdown(ctx, d, q, DimTag, key, 0)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Breakdown(ctx, d, raw, DimTag, key, 0)
				if err != nil {
					t.Fatal(err)
				}
				if !sameRows(got, want) || len(got) < 3 {
					t.Errorf("tag %s: rollup%s\nraw rows%s", key, fmtRows(got), fmtRows(want))
				}
			}
		})
	})
}

var d0, d1 = mustDay("2025-01-01"), mustDay("2025-04-30")

// A provider sync replaces the rows of its window, part of a month; the
// monthly resource rollup of the earlier syncs must follow.
func TestKeyRollupSyncWindow(t *testing.T) {
	first, second := genRows(5, 1200), genRows(6, 300)
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		from, to := mustDay("2025-02-10"), mustDay("2025-02-20")
		sync := func(rows []fixtureRow, rep replacement) {
			t.Helper()
			rec := &Import{SourceID: 7, Kind: "sync", Name: "fake"}
			_, err := ingest(ctx, d, rec, rep, func(emit func(*Row) error) error {
				for _, r := range rows {
					row := &Row{ChargePeriodStart: r.start, ChargePeriodEnd: r.start.Add(time.Hour),
						BillingPeriodStart: monthStart(r.start), BillingPeriodEnd: monthStart(r.start).AddDate(0, 1, 0),
						BillingCurrency: r.cur, BilledCost: r.billed, ProviderName: "Fake", BillingAccountID: "S",
						ResourceID: r.resource, Tags: "{}"}
					row.EffectiveCost.Decimal, row.EffectiveCost.Valid = r.eff, true
					row.ListCost.Decimal, row.ListCost.Valid = r.list, true
					if r.tags != nil {
						js, _ := json.Marshal(r.tags)
						row.Tags = string(js)
					}
					if err := emit(row); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		sync(first, replacement{sourceID: 7, from: d0, to: d1.AddDate(0, 0, 1)})
		var inWindow []fixtureRow
		for _, r := range second {
			r.start = from.Add(time.Duration(r.start.Unix()%int64(to.Sub(from)/time.Second)) * time.Second)
			inWindow = append(inWindow, r)
		}
		sync(inWindow, replacement{sourceID: 7, from: from, to: to})
		var want []fixtureRow
		for _, r := range first {
			if r.start.Before(from) || !r.start.Before(to) {
				want = append(want, r)
			}
		}
		checkAgainstOracle(t, d, append(want, inWindow...))

		// Removing rollup rows directly, as deleting a source does.
		if _, err := d.ExecContext(ctx, "DELETE FROM cost_resource_monthly WHERE source_id = 7 AND month = ?", monthStart(from).Unix()); err != nil {
			t.Fatal(err)
		}
		checkTotals(t, d)
	})
}

// checkTotals asserts, on PostgreSQL, that the triggers kept
// cost_resource_totals equal to the monthly rows summed per month,
// currency and resource, with no total left without rows.
func checkTotals(t *testing.T, d *db.DB) {
	t.Helper()
	if !d.IsPostgres() {
		return
	}
	var diff []struct {
		Month int64  `bun:"month"`
		Cur   string `bun:"billing_currency"`
		Res   string `bun:"resource_id"`
		Want  string `bun:"want"`
		Got   string `bun:"got"`
	}
	err := d.NewRaw(`SELECT COALESCE(m.month, t.month) AS month, COALESCE(m.billing_currency, t.billing_currency) AS billing_currency,
			COALESCE(m.resource_id, t.resource_id) AS resource_id,
			COALESCE(m.b || ' ' || m.e || ' ' || m.l || ' ' || m.n, 'none') AS want,
			COALESCE(t.billed_cost || ' ' || t.effective_cost || ' ' || t.list_cost || ' ' || t.row_count, 'none') AS got
		FROM (SELECT month, billing_currency, resource_id, SUM(billed_cost) AS b, SUM(effective_cost) AS e, SUM(list_cost) AS l, SUM(row_count) AS n
		      FROM cost_resource_monthly GROUP BY 1, 2, 3) AS m
		FULL JOIN cost_resource_totals AS t USING (month, billing_currency, resource_id)
		WHERE m.b IS DISTINCT FROM t.billed_cost OR m.e IS DISTINCT FROM t.effective_cost OR m.l IS DISTINCT FROM t.list_cost
			OR m.n IS DISTINCT FROM t.row_count
		LIMIT 5`).Scan(context.Background(), &diff)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range diff {
		t.Errorf("resource totals %d %s %q: monthly rows sum to %s, the total holds %s", r.Month, r.Cur, r.Res, r.Want, r.Got)
	}
}

// Two exports imported at the same time share resources (the empty id of
// every month above all): both land, nothing deadlocks, and the totals
// hold both.
func TestKeyRollupConcurrentImports(t *testing.T) {
	a, b := genRows(7, 1500), genRows(8, 1500)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		errs := make(chan error, 2)
		for i, rows := range [][]fixtureRow{a, b} {
			go func() {
				_, err := ImportFOCUS(context.Background(), d, strings.NewReader(focusCSV(rows, fmt.Sprint("C", i))), ImportOptions{Name: "fixture.csv"})
				errs <- err
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		checkAgainstOracle(t, d, append(slices.Clone(a), b...))
	})
}

// Credits make a month's totals negative below its first entries: the bound
// for resources not read yet must count such a month as at most zero, or a
// resource read in neither month (X below) is missed.
func TestRankedMonthsWithCredits(t *testing.T) {
	jan, feb := mustDay("2025-01-15"), mustDay("2025-02-15")
	var rows []fixtureRow
	add := func(day time.Time, res string, billed int64) {
		v := decimal.New(billed, 0)
		rows = append(rows, fixtureRow{start: day, cur: "USD", resource: res, billed: v, eff: v.Mul(decimal.RequireFromString("0.9")), list: v})
	}
	// January's first six: A 10, C -1, D -2, E -3, F -4, G -5; X -6 comes
	// seventh. February's: P 10, R -1 … V -5; C -7 lies below them.
	add(jan, "A", 10)
	for i, r := range []string{"C", "D", "E", "F", "G"} {
		add(jan, r, int64(-1-i))
	}
	add(jan, "X", -6)
	add(feb, "P", 10)
	for i, r := range []string{"R", "S", "T", "U", "V"} {
		add(feb, r, int64(-1-i))
		add(jan, r, -100)
	}
	add(feb, "C", -7)
	for _, r := range []string{"D", "E", "F", "G"} {
		add(feb, r, -100)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		importCSV(t, d, focusCSV(rows, "K1"))
		old := firstRankDepth
		firstRankDepth = 1
		defer func() { firstRankDepth = old }()
		q := Query{From: mustDay("2025-01-01"), To: mustDay("2025-02-28"), Currency: "USD"}
		got, err := Breakdown(context.Background(), d, q, DimResource, "", 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracle(rows, q, DimResource, "", 3); !sameRows(got, want) {
			t.Errorf("got%s\nwant%s", fmtRows(got), fmtRows(want))
		}
		if len(got) != 3 || got[2].Value != "X" {
			t.Errorf("third resource: want X (-6 in January only), got %s", fmtRows(got))
		}
	})
}

// Files holding several exports, imported at the same time, lock their
// exports in one order: both land (one replacing the other, since they
// hold the same exports) instead of deadlocking.
func TestKeyRollupConcurrentMultiExportFiles(t *testing.T) {
	x, y := genRows(9, 600), genRows(10, 600)
	body := func(rows []fixtureRow, account string) string {
		text := focusCSV(rows, account)
		return text[strings.IndexByte(text, '\n')+1:]
	}
	header := func() string {
		text := focusCSV(x, "X")
		return text[:strings.IndexByte(text, '\n')+1]
	}()
	files := []string{header + body(x, "X") + body(y, "Y"), header + body(y, "Y") + body(x, "X")}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for range 3 {
			errs := make(chan error, len(files))
			for _, f := range files {
				go func() {
					_, err := ImportFOCUS(context.Background(), d, strings.NewReader(f), ImportOptions{Name: "two-accounts.csv"})
					errs <- err
				}()
			}
			for range files {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		}
		checkAgainstOracle(t, d, append(slices.Clone(x), y...))
	})
}

// The index ranks on effective cost alone; resources tied on it must still
// come in the breakdown's order (billed cost, then the name), across two
// months read in part, and a tie past the limit must not push out a
// resource that ranks above on billed cost.
func TestResourceIndexTies(t *testing.T) {
	var rows []fixtureRow
	add := func(day, res string, billed, eff int64) {
		rows = append(rows, fixtureRow{start: mustDay(day), cur: "USD", resource: res,
			billed: decimal.New(billed, -2), eff: decimal.New(eff, -2), list: decimal.New(billed+5, -2)})
	}
	// Every resource's effective cost in the range is 5.00; billed cost
	// differs, and Z's 10.00 lies outside the range.
	for _, r := range []struct {
		name       string
		janB, febB int64
		janE, febE int64
	}{{"B", 100, 100, 250, 250}, {"A", 100, 100, 250, 250}, {"C", 50, 400, 100, 400}, {"D", 0, 700, 0, 500}} {
		add("2025-01-30", r.name, r.janB, r.janE)
		add("2025-02-02", r.name, r.febB, r.febE)
	}
	add("2025-01-02", "Z", 1000, 1000)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		importCSV(t, d, focusCSV(rows, "T1"))
		if _, err := RefreshResourceIndex(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		before := indexAnswers.Load()
		q := Query{From: mustDay("2025-01-20"), To: mustDay("2025-02-10"), Currency: "USD"}
		for _, limit := range []int{1, 2, 3, 10} {
			got, err := Breakdown(context.Background(), d, q, DimResource, "", limit)
			if err != nil {
				t.Fatal(err)
			}
			if want := oracle(rows, q, DimResource, "", limit); !sameRows(got, want) {
				t.Errorf("limit %d: got%s\nwant%s", limit, fmtRows(got), fmtRows(want))
			}
		}
		if d.IsPostgres() && indexAnswers.Load() == before {
			t.Error("the index answered none of the breakdowns")
		}
	})
}

// A month whose running sums leave the index's 128 bits (credits after
// charges near NUMERIC(38,12)'s limit) is recorded as unusable, stays on
// the rollups with the right answers, and is not read again until it
// changes.
func TestResourceIndexOutOfRange(t *testing.T) {
	huge := decimal.RequireFromString("90000000000000000000000000")
	var rows []fixtureRow
	for i, v := range []decimal.Decimal{huge, huge, huge.Neg()} {
		rows = append(rows, fixtureRow{start: mustDay("2025-03-02").AddDate(0, 0, i), cur: "USD", resource: "big", billed: v, eff: v, list: v})
	}
	rows = append(rows, fixtureRow{start: mustDay("2025-03-05"), cur: "USD", resource: "small", billed: decimal.New(5, 0), eff: decimal.New(5, 0), list: decimal.New(5, 0)})
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		importCSV(t, d, focusCSV(rows, "H1"))
		ctx := context.Background()
		want := 0 // SQLite has no index
		if d.IsPostgres() {
			want = 1
		}
		if n, err := RefreshResourceIndex(ctx, d); err != nil || n != want {
			t.Fatalf("refresh: %d months, %v; want %d", n, err, want)
		}
		if d.IsPostgres() {
			var usable bool
			if err := d.NewRaw("SELECT usable FROM cost_resource_index").Scan(ctx, &usable); err != nil || usable {
				t.Fatalf("usable = %v (%v), want false", usable, err)
			}
		}
		before := indexAnswers.Load()
		q := Query{From: mustDay("2025-03-03"), To: mustDay("2025-03-06"), Currency: "USD"}
		got, err := Breakdown(ctx, d, q, DimResource, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := oracle(rows, q, DimResource, "", 10); !sameRows(got, want) {
			t.Errorf("got%s\nwant%s", fmtRows(got), fmtRows(want))
		}
		if indexAnswers.Load() != before {
			t.Error("the unusable index answered")
		}
		if n, err := RefreshResourceIndex(ctx, d); err != nil || n != 0 {
			t.Errorf("second refresh: %d months, %v; want none", n, err)
		}
	})
}
