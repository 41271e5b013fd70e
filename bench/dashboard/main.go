// Command dashboard measures the analytics dashboard set — one aggregate, one
// daily time series and six top-10 breakdowns over the last 30 days — sent as
// one GraphQL request over HTTP to the real server, and prints p50/p95 with
// the row counts:
//
//	go run ./bench/dashboard -db 'postgres://postgres@127.0.0.1:5432/bench?sslmode=disable' -site bench.example.com -n 30
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/auth"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/resolvers"
	"github.com/tallyhq/tally/server"
	"github.com/tallyhq/tally/sites"
)

const dashboard = `query($id: ID!, $filters: [StatsFilter!]) { site(id: $id) { stats(dateRange: {preset: LAST_30_DAYS}, filters: $filters) {
  aggregate { visitors visits pageviews bounceRate visitDuration viewsPerVisit }
  timeseries(interval: DAY) { date visitors pageviews }
  pages: breakdown(dimension: PAGE, limit: 10) { rows { value visitors pageviews } }
  sources: breakdown(dimension: SOURCE, limit: 10) { rows { value visitors visits bounceRate } }
  entryPages: breakdown(dimension: ENTRY_PAGE, limit: 10) { rows { value visitors visits } }
  countries: breakdown(dimension: COUNTRY, limit: 10) { rows { value visitors } }
  browsers: breakdown(dimension: BROWSER, limit: 10) { rows { value visitors } }
  devices: breakdown(dimension: DEVICE, limit: 10) { rows { value visitors } }
} } }`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

func run() error {
	url := flag.String("db", os.Getenv("TALLY_DATABASE_URL"), "database URL")
	domain := flag.String("site", "bench.example.com", "site to query")
	n := flag.Int("n", 30, "measured requests per variant (after 3 warm-up requests)")
	page := flag.String("page", "/pricing", "page of the filtered variant")
	only := flag.String("only", "", "run only this variant: unfiltered or filtered")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the measured requests to this file")
	flag.Parse()
	if *only != "" && *only != "unfiltered" && *only != "filtered" {
		return fmt.Errorf("-only must be unfiltered or filtered, not %q", *only)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	site, err := sites.ByDomain(ctx, d, *domain)
	if err != nil {
		return err
	}
	_, secret, err := auth.Create(ctx, d, "bench-dashboard", auth.ScopeAdmin, nil)
	if err != nil {
		return err
	}
	res := &resolvers.Resolver{DB: d, Started: time.Now()}
	srv := server.New(server.DefaultConfig(), d, res, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	count := func(q string) int64 {
		var c int64
		_ = d.QueryRowContext(ctx, q, site.ID).Scan(&c)
		return c
	}
	fmt.Printf("store %s, site %s: %d events, %d visits, %d event rollup rows, %d visit rollup rows\n", d.Kind, site.Domain,
		count("SELECT COUNT(*) FROM events WHERE site_id = ?"), count("SELECT COUNT(*) FROM sessions WHERE site_id = ?"),
		count("SELECT COUNT(*) FROM analytics_event_rollups WHERE site_id = ?"), count("SELECT COUNT(*) FROM analytics_session_rollups WHERE site_id = ?"))
	// the sketch's answer next to the exact one, for the accuracy claim
	r, err := analytics.ResolveRange(ctx, d, site, analytics.Last30Days, nil, nil, time.Now())
	if err != nil {
		return err
	}
	var exact int64
	if err := d.QueryRowContext(ctx, "SELECT COUNT(DISTINCT visitor_id) FROM events WHERE site_id = ? AND ts >= ? AND ts < ?", site.ID, r.From(), r.To()).Scan(&exact); err != nil {
		return err
	}
	agg, err := analytics.Aggregate(ctx, d, &analytics.Query{Site: site, Range: r}, analytics.Want{Visitors: true})
	if err != nil {
		return err
	}
	fmt.Printf("30-day visitors: rollup sketch %d, exact %d (error %.3f%%)\n", agg.Visitors, exact, 100*float64(agg.Visitors-exact)/float64(exact))
	for _, v := range []struct {
		name    string
		filters any
	}{
		{"unfiltered", nil},
		{"page filter " + *page, []map[string]any{{"dimension": "PAGE", "is": []string{*page}}}},
	} {
		if *only != "" && (*only == "unfiltered") != (v.filters == nil) {
			continue
		}
		vars := map[string]any{"id": strconv.FormatInt(site.ID, 10), "filters": v.filters}
		var times []time.Duration
		var sample []byte
		for i := 0; i < *n+3; i++ {
			if i == 3 && *cpuprofile != "" {
				f, err := os.Create(*cpuprofile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			start := time.Now()
			body, err := post(ts.URL, secret, vars)
			if err != nil {
				return err
			}
			if i >= 3 {
				times = append(times, time.Since(start))
			}
			sample = body
		}
		if *cpuprofile != "" {
			pprof.StopCPUProfile()
		}
		slices.Sort(times)
		p := func(q float64) time.Duration {
			return times[int(q*float64(len(times)-1)+0.5)].Round(100 * time.Microsecond)
		}
		var parsed struct {
			Data struct {
				Site struct {
					Stats struct {
						Aggregate struct{ Visitors, Pageviews int }
					}
				}
			}
		}
		_ = json.Unmarshal(sample, &parsed)
		fmt.Printf("%-24s p50 %8s  p95 %8s  (n=%d; 30-day visitors %d, pageviews %d)\n", v.name, p(0.5), p(0.95), len(times),
			parsed.Data.Site.Stats.Aggregate.Visitors, parsed.Data.Site.Stats.Aggregate.Pageviews)
	}
	return nil
}

func post(url, token string, vars map[string]any) ([]byte, error) {
	b, _ := json.Marshal(map[string]any{"query": dashboard, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var e struct{ Errors []any }
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return nil, fmt.Errorf("graphql errors: %s", body)
	}
	return body, nil
}
