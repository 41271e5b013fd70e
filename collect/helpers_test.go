package collect

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

// clock is a settable time source shared by a test and its collectors.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// env is one collector behind a real HTTP server, with its logs captured.
type env struct {
	c    *Collector
	url  string
	logs *syncBuffer
	d    *db.DB
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// loopback is trusted so that tests can play many clients through
// X-Forwarded-For.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

func newEnv(t *testing.T, d *db.DB, opts Options) *env {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.TrustedProxies == nil {
		opts.TrustedProxies = loopback
	}
	c, err := New(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return &env{c: c, url: srv.URL, logs: logs, d: d}
}

func mustSite(t *testing.T, d *db.DB, domain string, in *sites.Input) *db.Site {
	t.Helper()
	s, err := sites.Create(context.Background(), d, domain, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		if s, err = sites.Update(context.Background(), d, s.ID, *in); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type hit struct {
	body string
	ua   string
	ip   string
	hdr  map[string]string
	ct   string
}

const chromeWin = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
const safariIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"

// send posts one event and returns the status and body.
func (e *env) send(t *testing.T, h hit) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/api/event", strings.NewReader(h.body))
	ct := h.ct
	if ct == "" {
		ct = "text/plain"
	}
	req.Header.Set("Content-Type", ct)
	ua := h.ua
	if ua == "" {
		ua = chromeWin
	}
	req.Header.Set("User-Agent", ua)
	if h.ip != "" {
		req.Header.Set("X-Forwarded-For", h.ip)
	}
	for k, v := range h.hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (e *env) flush(t *testing.T) {
	t.Helper()
	if err := e.c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, d *db.DB) []db.Event {
	t.Helper()
	var out []db.Event
	if err := d.NewSelect().Model(&out).Order("ts").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

func sessionsOf(t *testing.T, d *db.DB) []db.Session {
	t.Helper()
	var out []db.Session
	if err := d.NewSelect().Model(&out).Order("started_at").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func decEqual(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

func sitesCreate(d *db.DB, domain string) (int64, error) {
	s, err := sites.Create(context.Background(), d, domain, "UTC")
	if err != nil {
		return 0, err
	}
	return s.ID, nil
}
