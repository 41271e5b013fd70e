package collect

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// BenchmarkEndpoint measures the request path up to the queue (no HTTP
// transport, no database writes).
func BenchmarkEndpoint(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	mustSiteTB(b, d, "example.com")
	c, err := New(d, Options{QueueSize: 1 << 30, BatchSize: 1 << 30, TrustedProxies: loopback})
	if err != nil {
		b.Fatal(err)
	}
	h := c.EventHandler()
	body := `{"n":"pageview","u":"https://example.com/docs/12?utm_source=x","d":"example.com","r":"https://www.google.com/"}`
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req := httptest.NewRequest(http.MethodPost, "/api/event", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("User-Agent", chromeWin)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("100.64.%d.%d", i%256, i/256%256))
			req.RemoteAddr = "127.0.0.1:1234"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 202 {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
}

// BenchmarkFlush measures storing batches of 5,000 events from 2,000 people
// on each store.
func BenchmarkFlush(b *testing.B) {
	for _, k := range dbtest.Kinds {
		b.Run(string(k), func(b *testing.B) {
			d := dbtest.Open(b, k)
			site := mustSiteTB(b, d, "example.com")
			w := &writer{db: d, metrics: newMetrics(), log: slog.New(slog.DiscardHandler)}
			now := time.Now().Unix()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch := make([]pending, 5000)
				for j := range batch {
					batch[j] = pending{ev: db.Event{SiteID: site, TS: now + int64(i), Name: "pageview", VisitorID: int64(j%2000 + 1), Pathname: "/p", Props: map[string]string{}, Interactive: true}}
				}
				if err := w.write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func mustSiteTB(tb testing.TB, d *db.DB, domain string) int64 {
	tb.Helper()
	s, err := sitesCreate(d, domain)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
