package collect

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// BenchmarkHTTPPipeline sends events over real HTTP (64 keep-alive
// connections) to a collector that flushes to PostgreSQL, and waits until
// all are stored.
func BenchmarkHTTPPipeline(b *testing.B) {
	d := dbtest.Open(b, db.Postgres)
	mustSiteTB(b, d, "example.com")
	c, err := New(d, Options{TrustedProxies: loopback})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c.Start()
	defer c.Close(context.Background())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				body := fmt.Sprintf(`{"n":"pageview","u":"https://example.com/docs/%d","d":"example.com","r":"https://www.google.com/"}`, i%300)
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/event", strings.NewReader(body))
				req.Header.Set("Content-Type", "text/plain")
				req.Header.Set("User-Agent", chromeWin)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("100.64.%d.%d", i%256, i/256%40))
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	for c.queue.len() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
