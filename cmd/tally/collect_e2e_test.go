package main

import (
	"context"
	"fmt"
	"github.com/tallyhq/tally/config"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// The collect capability through the real server: a site made over
// GraphQL, the script, events over HTTP behind a trusted proxy, metrics,
// and the shutdown flush that stores what was queued.
func TestCollectOverHTTP(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		h := startHarness(t, url, map[string]string{"TALLY_TRUSTED_PROXIES": "127.0.0.1/32,::1/128", "TALLY_COLLECT_KEEP_PARAMS": "page"})
		h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "shop.example.com"}) { id } }`, nil, nil)

		res, err := http.Get(h.URL + "/js/script.js")
		if err != nil {
			t.Fatal(err)
		}
		js, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(js), "/api/event") {
			t.Fatalf("script: %d", res.StatusCode)
		}

		const ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15 E2EProbe"
		post := func(ip, body string) int {
			req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/event", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/plain")
			req.Header.Set("User-Agent", ua)
			req.Header.Set("X-Forwarded-For", ip)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for i, ip := range []string{"203.0.113.61", "203.0.113.62", "203.0.113.61"} {
			body := fmt.Sprintf(`{"n":"pageview","u":"https://shop.example.com/list?page=%d&session=secret","d":"shop.example.com","r":"https://www.bing.com/"}`, i)
			if code := post(ip, body); code != 202 {
				t.Fatalf("event %d: %d", i, code)
			}
		}
		if code := post("203.0.113.63", `{"n":"pageview","u":"https://shop.example.com/","d":"nope.example"}`); code != 400 {
			t.Fatalf("unknown domain: %d", code)
		}

		res, _ = http.Get(h.URL + "/metrics")
		m, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{"tally_collect_accepted_total 3", `tally_collect_rejected_total{reason="unknown_domain"} 1`, "tally_collect_queue_depth"} {
			if !strings.Contains(string(m), want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}

		// SIGTERM path: the shutdown hook flushes everything queued.
		if err := h.app.collector.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var evs []db.Event
		if err := h.DB.NewSelect().Model(&evs).Order("ts").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 {
			t.Fatalf("stored %d events, want 3", len(evs))
		}
		visitors := map[int64]bool{}
		for _, e := range evs {
			visitors[e.VisitorID] = true
			if !strings.HasPrefix(e.Pathname, "/list?page=") || strings.Contains(e.Pathname, "secret") || e.Source != "Bing" || e.Browser != "Safari" {
				t.Errorf("event %+v", e)
			}
		}
		var visits int64
		visits, err = h.DB.NewSelect().Table("sessions").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(visitors) != 2 || visits != 2 {
			t.Fatalf("%d visitors, %d visits; want 2 and 2", len(visitors), visits)
		}
		logs := h.Logs.String()
		for _, s := range []string{"203.0.113.6", "E2EProbe"} {
			if strings.Contains(logs, s) {
				t.Errorf("server log contains %q", s)
			}
		}
	})
}

// SIGTERM: Serve returns only after the queued events are stored.
func TestShutdownFlushesQueuedEvents(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		h := startHarness(t, url, nil)
		h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "shop.example.com"}) { id } }`, nil, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.app.server.Serve(ctx, ln) }()
		base := "http://" + ln.Addr().String()
		send := func(i int) {
			req, _ := http.NewRequest(http.MethodPost, base+"/api/event", strings.NewReader(fmt.Sprintf(`{"n":"pageview","u":"https://shop.example.com/%d","d":"shop.example.com"}`, i)))
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 202 {
				t.Fatalf("event %d: %d", i, res.StatusCode)
			}
		}
		queued := func() bool {
			res, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			m, _ := io.ReadAll(res.Body)
			return !strings.Contains(string(m), "\ntally_collect_queue_depth 0\n")
		}
		n := 0
		for ; n < 50; n++ {
			send(n)
		}
		// make sure the shutdown, not a periodic flush, has work to do
		for !queued() && n < 5000 {
			send(n)
			n++
		}
		if !queued() {
			t.Fatal("could not catch events in the queue")
		}
		cancel() // what SIGTERM does in `tally serve`
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got, err := h.DB.NewSelect().Table("events").Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != int64(n) {
			t.Fatalf("after shutdown the database holds %d events, want the %d accepted", got, n)
		}
	})
}

// The demo's generated traffic is consistent: every event belongs to a visit
// whose counters match its events.
func TestDemoEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var out strings.Builder
		cfg, err := config.Load(nil, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if err := loadDemo(ctx, d, cfg, &out, false); err != nil {
			t.Fatal(err)
		}
		var evs []db.Event
		if err := d.NewSelect().Model(&evs).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		var visits []db.Session
		if err := d.NewSelect().Model(&visits).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(evs) < 1000 || len(visits) < 500 {
			t.Fatalf("%d events, %d visits", len(evs), len(visits))
		}
		// recount pageviews and events per visit from the raw events
		type count struct{ pv, ev int }
		per := map[int64]*count{}
		revenue := 0
		for _, e := range evs {
			c := per[e.SessionID]
			if c == nil {
				c = &count{}
				per[e.SessionID] = c
			}
			c.ev++
			if e.Name == "pageview" {
				c.pv++
			}
			if e.RevenueAmount != nil {
				revenue++
			}
		}
		if len(per) != len(visits) || revenue == 0 {
			t.Fatalf("%d visits referenced, %d stored, %d revenue events", len(per), len(visits), revenue)
		}
		for _, v := range visits {
			c := per[v.SessionID]
			if c == nil || c.pv != v.Pageviews || c.ev != v.Events {
				t.Fatalf("visit %d: stored %d/%d, events say %+v", v.SessionID, v.Pageviews, v.Events, c)
			}
		}
		if !strings.Contains(out.String(), "events in") {
			t.Fatalf("output %q", out.String())
		}
	})
}
