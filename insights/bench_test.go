package insights

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// BenchmarkSummary builds the weekly summary over raw events (the SQL
// adapter) for two weeks of generated traffic. TALLY_BENCH_VISITORS sets
// the visitors per week (default 20,000, about 2.5 events each).
//
//	TALLY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./insights -run '^$' -bench Summary -benchtime 5x
func BenchmarkSummary(b *testing.B) {
	visitors := 20_000
	if v, err := strconv.Atoi(os.Getenv("TALLY_BENCH_VISITORS")); err == nil && v > 0 {
		visitors = v
	}
	for _, kind := range dbtest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			d := dbtest.Open(b, kind)
			site := mustSite(b, d, "shop.example.com")
			var f fixture
			gen(&f, site.ID, periodFrom.AddDate(0, 0, -7), 7, visitors, 1, 1)
			gen(&f, site.ID, periodFrom, 7, visitors, 2, int64(visitors)+10)
			f.insert(b, d)
			if kind == db.Postgres {
				_, _ = d.ExecContext(context.Background(), "ANALYZE events; ANALYZE sessions")
			}
			b.ReportMetric(float64(len(f.events)), "events")
			cur, prev := Range(periodFrom, periodTo, time.UTC)
			bl := &Builder{DB: d, Traffic: SQLTraffic{DB: d}}
			b.ResetTimer()
			for b.Loop() {
				if _, err := bl.Build(context.Background(), cur, prev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
