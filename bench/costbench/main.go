// Command costbench measures the costs package: it generates FOCUS files,
// times their import (rows/s and peak memory) and times cost breakdowns over
// a large store. Figures are in bench/costs.md.
//
//	go run ./bench/costbench gen -rows 1000000 -o /tmp/focus-1m.csv
//	go run ./bench/costbench import -db postgres://… /tmp/focus-1m.csv
//	go run ./bench/costbench query -db postgres://… -rows 10000000
//	go run ./bench/costbench skew -from bench10 -db postgres://…&search_path=skew
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: costbench gen|import|query|skew [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = cmdGen(os.Args[2:])
	case "import":
		err = cmdImport(os.Args[2:])
	case "query":
		err = cmdQuery(os.Args[2:])
	case "skew":
		err = cmdSkew(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "costbench:", err)
		os.Exit(1)
	}
}

var header = []string{"AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
	"ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
	"CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType", "ConsumedQuantity", "ConsumedUnit",
	"ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity",
	"PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
	"ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags"}

// generate writes n FOCUS 1.0 rows shaped like an AWS export: hourly
// charges spread over `days` days from start, 40 services, 50 sub accounts,
// 12 regions, 20 applications in the tags, amounts with 10 decimals, and
// resources drawn from a fixed fleet (resourcesPerService per service and
// sub account: 20,000) that is billed again and again, as in a real export.
// Until 2026-12-01 every row had its own random resource id.
const resourcesPerService = 10

func generate(w io.Writer, n int, start time.Time, days int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 7))
	bw.WriteString(strings.Join(header, ",") + "\n")
	regions := []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-northeast-1", "ap-southeast-2", "sa-east-1", "ca-central-1", "eu-north-1", "me-south-1"}
	cats := []string{"Compute", "Storage", "Databases", "Networking", "Analytics", "AI and Machine Learning", "Security", "Integration"}
	for i := 0; i < n; i++ {
		hour := rng.IntN(days * 24)
		cs := start.Add(time.Duration(hour) * time.Hour)
		bs := time.Date(cs.Year(), cs.Month(), 1, 0, 0, 0, 0, time.UTC)
		svc := rng.IntN(40)
		acct := rng.IntN(50)
		cents := rng.Int64N(10_000_000_000) // up to 1.0000000000
		billed := fmt.Sprintf("%d.%010d", cents/10_000_000_000, cents%10_000_000_000)
		tags := "NULL"
		if rng.IntN(10) < 7 {
			tags = fmt.Sprintf(`"{""application"": ""app-%d"", ""environment"": ""%s""}"`, rng.IntN(20), []string{"prod", "dev", "staging"}[rng.IntN(3)])
		}
		fmt.Fprintf(bw, "NULL,%s,\"123456789012\",\"Bench\",\"USD\",\"%s\",\"%s\",\"Usage\",NULL,\"Usage of service %d\",\"Usage-Based\",\"%s\",\"%s\",NULL,NULL,NULL,NULL,NULL,%d.000000000000000,\"Hrs\",%s,0.0100000000,%s,\"Amazon Web Services, Inc.\",%s,\"0.01\",\"Standard\",1.00000000000,\"Hrs\",\"AWS\",\"Amazon Web Services, Inc.\",\"%s\",\"Region %s\",\"arn:aws:svc%d:%s:%012d:res/r-%08x\",NULL,NULL,\"%s\",\"Service %02d\",\"SKU%05d\",\"SKU%05d.PRICE\",\"%012d\",\"Account %d\",%s\n",
			billed, bs.AddDate(0, 1, 0).Format(time.DateTime), bs.Format(time.DateTime), svc,
			cs.Add(time.Hour).Format(time.DateTime), cs.Format(time.DateTime), rng.IntN(100), billed, billed, billed,
			regions[svc%len(regions)], regions[svc%len(regions)], svc, regions[svc%len(regions)], acct, rng.IntN(resourcesPerService),
			cats[svc%len(cats)], svc, rng.IntN(5000), rng.IntN(5000), 100000000000+acct, acct, tags)
	}
	return bw.Flush()
}

func cmdGen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	rows := fs.Int("rows", 1_000_000, "rows to write")
	out := fs.String("o", "-", "output file (.gz compresses), - for stdout")
	startS := fs.String("start", "2025-01-01", "first charge day")
	days := fs.Int("days", 30, "days the charges spread over")
	_ = fs.Parse(args)
	start, err := time.Parse(time.DateOnly, *startS)
	if err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
		if strings.HasSuffix(*out, ".gz") {
			gz := gzip.NewWriter(f)
			defer gz.Close()
			w = gz
		}
	}
	return generate(w, *rows, start, *days, 1)
}

// peakRSS is the process's high-water resident set size from /proc.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

func open(ctx context.Context, url string) (*db.DB, error) {
	d, err := db.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := d.Migrate(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func cmdImport(args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	url := fs.String("db", "", "database URL")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the imports to this file")
	_ = fs.Parse(args)
	ctx := context.Background()
	d, err := open(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		t0 := time.Now()
		res, err := costs.ImportFOCUS(ctx, d, f, costs.ImportOptions{Name: name})
		f.Close()
		if err != nil {
			return err
		}
		el := time.Since(t0)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("%s (%s): %d rows in %s = %.0f rows/s; peak RSS %s, Go heap sys %d MiB\n", name, d.Kind, res.Import.RowsImported, el.Round(time.Millisecond),
			float64(res.Import.RowsImported)/el.Seconds(), peakRSS(), ms.HeapSys>>20)
	}
	return nil
}

func cmdQuery(args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	url := fs.String("db", "", "database URL")
	rows := fs.Int("rows", 10_000_000, "cost rows to load first when the store has fewer")
	runs := fs.Int("runs", 21, "runs per query")
	fill := fs.String("fill", "import", "how to load missing rows on PostgreSQL: import (the real importer) or sql (generate_series, much faster)")
	only := fs.String("only", "", "run only the cases whose name contains this")
	index := fs.Bool("index", true, "build the resource index before timing (as the server does after imports)")
	_ = fs.Parse(args)
	ctx := context.Background()
	d, err := open(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	var have int
	if err := d.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &have); err != nil {
		return err
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if have < *rows && *fill == "sql" && d.IsPostgres() {
		t0 := time.Now()
		if err := fillSQL(ctx, d, *rows-have, start); err != nil {
			return err
		}
		fmt.Printf("filled %d rows with SQL in %s\n", *rows-have, time.Since(t0).Round(time.Second))
		have = *rows
		if _, err := d.ExecContext(ctx, "ANALYZE cost_rows; ANALYZE cost_daily; ANALYZE cost_dim_daily; ANALYZE cost_tag_daily; ANALYZE cost_resource_monthly; ANALYZE cost_resource_totals"); err != nil {
			return err
		}
	}
	if have < *rows {
		// Stream the generator straight into the importer: no file on disk.
		// Several imports of 1M rows, each a different billing account so
		// that none replaces another.
		for done, part := have, 0; done < *rows; part++ {
			n := min(1_000_000, *rows-done)
			pr, pw := io.Pipe()
			go func(seed uint64) {
				var sb strings.Builder
				_ = sb
				pw.CloseWithError(generateAccount(pw, n, start, 90, seed))
			}(uint64(part + 100))
			t0 := time.Now()
			res, err := costs.ImportFOCUS(ctx, d, pr, costs.ImportOptions{Name: fmt.Sprintf("gen-%d", part)})
			if err != nil {
				return err
			}
			done += int(res.Import.RowsImported)
			fmt.Printf("loaded %d rows (%.0f rows/s)\n", done, float64(res.Import.RowsImported)/time.Since(t0).Seconds())
		}
		if d.IsPostgres() {
			if _, err := d.ExecContext(ctx, "ANALYZE cost_rows; ANALYZE cost_daily; ANALYZE cost_dim_daily; ANALYZE cost_tag_daily; ANALYZE cost_resource_monthly; ANALYZE cost_resource_totals"); err != nil {
				return err
			}
		}
	}
	// The resource index, which the server's job would build after the
	// imports; with -index=false RESOURCE breakdowns read the rollups.
	if *index {
		t0 := time.Now()
		n, err := costs.RefreshResourceIndex(ctx, d)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Printf("resource index: %d months built in %v\n", n, time.Since(t0).Round(time.Millisecond))
		}
	}
	q := costs.Query{From: start, To: start.AddDate(0, 0, 89)}
	month := costs.Query{From: start.AddDate(0, 1, 0), To: start.AddDate(0, 2, -1)}
	filtered := month
	filtered.Filters = []costs.Filter{{Dimension: costs.DimRegion, Values: []string{"us-east-1", "eu-west-1", "region-1", "region-2"}}} // names of the generated file and of -fill sql
	// Each case returns how many rows it answered: an empty answer means
	// the benchmark measured nothing (a rollup missing), which is an error.
	cases := []struct {
		name string
		run  func() (int, error)
	}{
		{"total, 90 days", func() (int, error) { r, err := costs.Total(ctx, d, q); return len(r), err }},
		{"breakdown SERVICE, 90 days", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, q, costs.DimService, "", 10)
			return len(r), err
		}},
		{"breakdown SUB_ACCOUNT, 1 month", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, month, costs.DimSubAccount, "", 10)
			return len(r), err
		}},
		{"breakdown REGION filtered, 1 month", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, filtered, costs.DimService, "", 10)
			return len(r), err
		}},
		{"timeseries DAY, 90 days", func() (int, error) { r, err := costs.Timeseries(ctx, d, q, costs.Day); return len(r), err }},
		{"anomalies SERVICE, 1 month", func() (int, error) {
			_, err := costs.Anomalies(ctx, d, month, costs.DimService, costs.DefaultDetect)
			return 1, err // finding no anomaly is a valid answer
		}},
		{"breakdown TAG, 1 month", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, month, costs.DimTag, "application", 10)
			return len(r), err
		}},
		{"breakdown TAG, 90 days", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, q, costs.DimTag, "application", 10)
			return len(r), err
		}},
		{"breakdown TAG, 1 day", func() (int, error) {
			oneDay := costs.Query{From: start.AddDate(0, 0, 40), To: start.AddDate(0, 0, 40)}
			r, err := costs.Breakdown(ctx, d, oneDay, costs.DimTag, "application", 10)
			return len(r), err
		}},
		{"breakdown TAG filtered by SERVICE (raw rows), 1 day", func() (int, error) {
			oneDay := costs.Query{From: start.AddDate(0, 0, 40), To: start.AddDate(0, 0, 40),
				Filters: []costs.Filter{{Dimension: costs.DimService, Values: []string{"Service 01", "Service 02"}}}}
			r, err := costs.Breakdown(ctx, d, oneDay, costs.DimTag, "application", 10)
			return len(r), err
		}},
		{"breakdown RESOURCE, 1 month", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, month, costs.DimResource, "", 10)
			return len(r), err
		}},
		{"breakdown RESOURCE, 90 days", func() (int, error) {
			r, err := costs.Breakdown(ctx, d, q, costs.DimResource, "", 10)
			return len(r), err
		}},
		// The worst range for the monthly rollup: half of each of two
		// months, read as raw rows.
		{"breakdown RESOURCE, 30 days mid-month to mid-month", func() (int, error) {
			mid := costs.Query{From: start.AddDate(0, 1, 14), To: start.AddDate(0, 2, 12)}
			r, err := costs.Breakdown(ctx, d, mid, costs.DimResource, "", 10)
			return len(r), err
		}},
		// The data ends on the last day of the third month, as a bill
		// does on the day it is read.
		{"breakdown RESOURCE, last 30 days (to the last billed day)", func() (int, error) {
			last := costs.Query{From: start.AddDate(0, 3, -30), To: start.AddDate(0, 3, -1)}
			r, err := costs.Breakdown(ctx, d, last, costs.DimResource, "", 10)
			return len(r), err
		}},
		{"breakdown RESOURCE, month to date (range past the last billed day)", func() (int, error) {
			mtd := costs.Query{From: start.AddDate(0, 2, 0), To: start.AddDate(0, 3, 19)}
			r, err := costs.Breakdown(ctx, d, mtd, costs.DimResource, "", 10)
			return len(r), err
		}},
		{"breakdown RESOURCE, 7 days", func() (int, error) {
			week := costs.Query{From: start.AddDate(0, 1, 3), To: start.AddDate(0, 1, 9)}
			r, err := costs.Breakdown(ctx, d, week, costs.DimResource, "", 10)
			return len(r), err
		}},
		{"breakdown RESOURCE all but two, 7 days", func() (int, error) {
			week := costs.Query{From: start.AddDate(0, 1, 3), To: start.AddDate(0, 1, 9),
				Filters: []costs.Filter{{Dimension: costs.DimResource, Values: []string{"res-1", "res-2"}, Exclude: true}}}
			r, err := costs.Breakdown(ctx, d, week, costs.DimResource, "", 10)
			return len(r), err
		}},
	}
	var total int
	if err := d.NewSelect().Table("cost_rows").ColumnExpr("count(*)").Scan(ctx, &total); err != nil {
		return err
	}
	var rollup int
	_ = d.NewSelect().Table("cost_daily").ColumnExpr("count(*)").Scan(ctx, &rollup)
	fmt.Printf("%s: %d cost rows, %d rollup rows, %d runs each\n", d.Kind, total, rollup, *runs)
	for _, c := range cases {
		if !strings.Contains(c.name, *only) {
			continue
		}
		var ds []time.Duration
		for i := 0; i < *runs; i++ {
			t0 := time.Now()
			n, err := c.run()
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if n == 0 {
				return fmt.Errorf("%s: empty answer, nothing was measured", c.name)
			}
			ds = append(ds, time.Since(t0))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Printf("  %-36s p50 %8s  p95 %8s\n", c.name, ds[len(ds)/2].Round(10*time.Microsecond), ds[len(ds)*95/100].Round(10*time.Microsecond))
	}
	return nil
}

// generateAccount is generate with the billing account made unique per seed.
func generateAccount(w io.Writer, n int, start time.Time, days int, seed uint64) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(generate(pw, n, start, days, seed)) }()
	br := bufio.NewReaderSize(pr, 1<<20)
	bw := bufio.NewWriterSize(w, 1<<20)
	acct := fmt.Sprintf(`"acct-%06d"`, seed)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.Replace(line, `"123456789012"`, acct, 1)
			if _, werr := bw.WriteString(line); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return bw.Flush()
		}
		if err != nil {
			return err
		}
	}
}

// fillSQL inserts n synthetic rows shaped like generate's (40 services, 50
// sub accounts, 12 regions, 90 days, 70 % tagged with one of 20 apps) with
// generate_series, then their rollups as the importer would write them.
// Rows are written in time order, as exports of successive billing periods
// are; 111,111 resources, each in one of 10 billing accounts, are billed
// once a day (a daily-granularity export); billing periods are calendar
// months. Until 2026-12-01 the billing periods were 30-day blocks, the
// rows of each million had their own account (so every resource was spread
// over ten accounts and two periods a month, which made the monthly
// resource rollup ten times larger) and every hour was spread over the
// whole table: unlike any export.
func fillSQL(ctx context.Context, d *db.DB, n int, start time.Time) error {
	var imp costs.Import
	imp.Kind, imp.Name, imp.Status, imp.StartedAt = "file", "fill-sql", costs.StatusOK, time.Now()
	if _, err := d.NewInsert().Model(&imp).Exec(ctx); err != nil {
		return err
	}
	s0 := start.Unix()
	perHour := (n + 2159) / 2160 // rows per hour over 90 days, in time order
	for done := 0; done < n; done += 1_000_000 {
		m := min(1_000_000, n-done)
		_, err := d.ExecContext(ctx, `INSERT INTO cost_rows (source_id, import_id, charge_period_start, charge_period_end, billing_period_start, billing_period_end,
			billing_currency, billed_cost, effective_cost, list_cost, provider_name, billing_account_id, sub_account_id, service_name, service_category,
			region_id, resource_id, charge_category, tags)
		SELECT 0, ?, cs, cs + 3600, bps, extract(epoch FROM to_timestamp(bps) AT TIME ZONE 'UTC' + interval '1 month')::bigint,
			'USD', amt, amt, amt * 1.1, 'AWS', 'fill-' || (res % 10)::text,
			lpad((g % 50)::text, 12, '0'), 'Service ' || lpad(((g / 50) % 40)::text, 2, '0'), 'Category ' || ((g / 50) % 8)::text,
			'region-' || ((g / 50) % 12)::text, 'res-' || res::text, 'Usage',
			CASE WHEN g % 10 < 7 THEN jsonb_build_object('application', 'app-' || ((g / 7) % 20)::text, 'environment', 'prod') ELSE '{}'::jsonb END
		FROM (SELECT g, cs, g % 111111 AS res,
		             extract(epoch FROM date_trunc('month', to_timestamp(cs) AT TIME ZONE 'UTC'))::bigint AS bps,
		             ((g * 7919) % 1000000)::numeric / 1000000 AS amt
		      FROM (SELECT g, ? + (g / ?) * 3600 AS cs FROM generate_series(?::bigint, ?::bigint) AS g) y) x`, imp.ID, s0, perHour, done, done+m-1)
		if err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		fmt.Printf("filled %d rows\n", done+m)
	}
	_, err := d.ExecContext(ctx, `INSERT INTO cost_daily (source_id, import_id, billing_period_start, day, provider_name,
		billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category,
		billing_currency, billed_cost, effective_cost, list_cost, row_count)
	SELECT source_id, import_id, billing_period_start, charge_period_start - charge_period_start % 86400, provider_name,
		billing_account_id, sub_account_id, service_name, service_category, region_id, charge_category,
		billing_currency, SUM(billed_cost), SUM(effective_cost), SUM(list_cost), COUNT(*)
	FROM cost_rows WHERE import_id = ? GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12`, imp.ID)
	if err != nil {
		return fmt.Errorf("fill cost_daily: %w", err)
	}
	// the per-dimension rollup most queries read, with the importer's SQL
	if err := costs.RebuildDimRollup(ctx, d); err != nil {
		return fmt.Errorf("fill cost_dim_daily: %w", err)
	}
	// and the tag and resource rollups, with the same SQL the importer
	// falls back to when its in-memory sums give up
	if err := costs.RebuildKeyRollups(ctx, d); err != nil {
		return fmt.Errorf("fill tag and resource rollups: %w", err)
	}
	return nil
}

// cmdSkew copies the daily dimension rollup and the resource totals of a
// schema filled by query into the (empty) schema of -db, with the totals'
// spend made Pareto-distributed (resource k costs about 1000 / k^1.1 a
// month, ±20 % between months) as on real bills, where the generator
// spreads it evenly; then it times a RESOURCE breakdown over the three
// whole months, which is what those two tables answer.
func cmdSkew(args []string) error {
	fs := flag.NewFlagSet("skew", flag.ExitOnError)
	url := fs.String("db", "", "PostgreSQL URL whose search_path is an empty schema")
	from := fs.String("from", "bench10", "schema filled by costbench query")
	runs := fs.Int("runs", 15, "runs")
	_ = fs.Parse(args)
	ctx := context.Background()
	d, err := db.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	src := bun.Ident(*from)
	for _, q := range []string{
		"CREATE TABLE cost_dim_daily (LIKE ?.cost_dim_daily INCLUDING ALL)",
		"INSERT INTO cost_dim_daily SELECT * FROM ?.cost_dim_daily",
		"CREATE TABLE cost_resource_totals (LIKE ?.cost_resource_totals INCLUDING ALL)",
		`INSERT INTO cost_resource_totals
		SELECT month, billing_currency, resource_id, c, c * 0.9, c * 1.1, row_count FROM (
			SELECT month, billing_currency, resource_id, row_count,
				round((1000.0 / power((hashtext(resource_id) & 1048575) % 111111 + 1, 1.1) * (0.8 + 0.4 * random()))::numeric, 6) AS c
			FROM ?.cost_resource_totals) AS s`,
		"ANALYZE cost_dim_daily",
		"ANALYZE cost_resource_totals",
	} {
		if _, err := d.ExecContext(ctx, q, src); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	q := costs.Query{From: start, To: start.AddDate(0, 3, -1)}
	var ds []time.Duration
	for range *runs {
		t0 := time.Now()
		r, err := costs.Breakdown(ctx, d, q, costs.DimResource, "", 10)
		if err != nil {
			return err
		}
		if len(r) == 0 {
			return fmt.Errorf("empty answer: is %s filled?", *from)
		}
		ds = append(ds, time.Since(t0))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	fmt.Printf("RESOURCE, three whole months, skewed spend: p50 %v p95 %v (%d runs)\n", ds[len(ds)/2], ds[len(ds)*95/100], len(ds))
	return nil
}
