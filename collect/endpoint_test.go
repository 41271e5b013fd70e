package collect

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/sites"
)

func TestEndpointRefusals(t *testing.T) {
	manyProps := map[string]string{}
	for i := 0; i < MaxProps+1; i++ {
		manyProps["k"+itoa(int64(i))] = "v"
	}
	mp, _ := json.Marshal(manyProps)
	cases := []struct {
		name   string
		h      hit
		status int
		reason string
	}{
		{"not json", hit{body: `{"n":"pageview",`}, 400, "invalid_json"},
		{"empty", hit{body: ``}, 400, "invalid_json"},
		{"array", hit{body: `[1,2]`}, 400, "invalid_json"},
		{"no url", hit{body: `{"n":"pageview","d":"example.com"}`}, 400, "bad_url"},
		{"ftp url", hit{body: `{"n":"pageview","u":"ftp://example.com/x","d":"example.com"}`}, 400, "bad_url"},
		{"relative url", hit{body: `{"n":"pageview","u":"/x","d":"example.com"}`}, 400, "bad_url"},
		{"no name", hit{body: `{"u":"https://example.com/","d":"example.com"}`}, 400, "missing_name"},
		{"no domain", hit{body: `{"n":"pageview","u":"https://example.com/"}`}, 400, "missing_domain"},
		{"unknown domain", hit{body: `{"n":"pageview","u":"https://other.org/","d":"other.org"}`}, 400, "unknown_domain"},
		{"hostname not allowed", hit{body: `{"n":"pageview","u":"https://evil.net/","d":"example.com"}`}, 400, "hostname_not_allowed"},
		{"too big", hit{body: `{"n":"pageview","u":"https://example.com/","d":"example.com","p":{"x":"` + strings.Repeat("a", 9000) + `"}}`}, 413, "body_too_large"},
		{"too many props", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","p":` + string(mp) + `}`}, 400, "too_many_props"},
		{"prop value too long", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","p":{"x":"` + strings.Repeat("a", MaxPropValueLen+1) + `"}}`}, 400, "prop_too_long"},
		{"prop key too long", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","p":{"` + strings.Repeat("k", MaxPropKeyLen+1) + `":"v"}}`}, 400, "prop_too_long"},
		{"nested prop", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","p":{"x":{"y":1}}}`}, 400, "props_invalid"},
		{"bad revenue", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","$":{"amount":"lots","currency":"EUR"}}`}, 400, "revenue_invalid"},
		{"bad currency", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","revenue":{"amount":1,"currency":"euro"}}`}, 400, "revenue_invalid"},
		{"wrong content type", hit{ct: "application/x-www-form-urlencoded", body: `n=pageview`}, 415, "content_type"},
		{"props as string ok", hit{body: `{"n":"e","u":"https://example.com/","d":"example.com","p":"{\"a\":\"b\"}"}`}, 202, ""},
		{"allowed subdomain", hit{body: `{"n":"pageview","u":"https://app.example.com/","d":"example.com"}`}, 202, ""},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", &sites.Input{AllowedHostnames: []string{"example.com", "*.example.com"}})
		reg := prometheus.NewRegistry()
		e := newEnv(t, d, Options{Registry: reg})
		want := map[string]int{}
		for _, c := range cases {
			code, body, _ := e.send(t, c.h)
			if code != c.status {
				t.Errorf("%s: status %d, want %d (%s)", c.name, code, c.status, body)
				continue
			}
			if c.reason == "" {
				continue
			}
			want[c.reason]++
			var out struct{ Error, Reason string }
			if err := json.Unmarshal([]byte(body), &out); err != nil || out.Reason != c.reason || out.Error == "" {
				t.Errorf("%s: body %s, want reason %s and a message", c.name, body, c.reason)
			}
		}
		for reason, n := range want {
			if got := testutil.ToFloat64(e.c.metrics.rejected.WithLabelValues(reason)); int(got) != n {
				t.Errorf("rejected{reason=%s} = %v, want %d", reason, got, n)
			}
		}
		if got := testutil.ToFloat64(e.c.metrics.accepted); got != 2 {
			t.Errorf("accepted = %v, want 2", got)
		}
	})
}

func TestCORSPreflight(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d, Options{})
	req, _ := http.NewRequest(http.MethodOptions, e.url+"/api/event", nil)
	req.Header.Set("Origin", "https://example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	res, _ = http.Get(e.url + "/api/event")
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Fatalf("GET /api/event = %d, want 405", res.StatusCode)
	}
}

func TestDropsBotsAndRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		dnt := true
		mustSite(t, d, "example.com", &sites.Input{ExcludedIPs: []string{"192.0.2.0/24", "2001:db8::1"}, ExcludedPaths: []string{"/admin/**", "/preview/*"}, HonorDNT: &dnt})
		e := newEnv(t, d, Options{})
		body := func(path string) string {
			return `{"n":"pageview","u":"https://example.com` + path + `","d":"example.com"}`
		}
		cases := []struct {
			name   string
			h      hit
			stored bool
			metric string
		}{
			{"googlebot", hit{body: body("/"), ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, false, "bots:crawler"},
			{"headless", hit{body: body("/"), ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"}, false, "bots:headless"},
			{"uptime robot", hit{body: body("/"), ua: "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"}, false, "bots:monitoring"},
			{"curl", hit{body: body("/"), ua: "curl/8.5.0"}, false, "bots:crawler"},
			{"excluded v4", hit{body: body("/"), ip: "192.0.2.77"}, false, "ignored:excluded_ip"},
			{"excluded v6", hit{body: body("/"), ip: "2001:db8::1"}, false, "ignored:excluded_ip"},
			{"excluded deep path", hit{body: body("/admin/users/7"), ip: "198.51.100.1"}, false, "ignored:excluded_path"},
			{"excluded one level", hit{body: body("/preview/x"), ip: "198.51.100.1"}, false, "ignored:excluded_path"},
			{"two levels not excluded by *", hit{body: body("/preview/x/y"), ip: "198.51.100.1"}, true, ""},
			{"dnt", hit{body: body("/"), ip: "198.51.100.2", hdr: map[string]string{"DNT": "1"}}, false, "ignored:dnt"},
			{"person", hit{body: body("/ok"), ip: "198.51.100.3"}, true, ""},
		}
		wantStored := 0
		for _, c := range cases {
			code, b, _ := e.send(t, c.h)
			if code != 202 {
				t.Errorf("%s: %d %s, want 202", c.name, code, b)
			}
			if c.stored {
				wantStored++
			}
			if c.metric != "" {
				kind, reason, _ := strings.Cut(c.metric, ":")
				vec := e.c.metrics.bots
				if kind == "ignored" {
					vec = e.c.metrics.ignored
				}
				if testutil.ToFloat64(vec.WithLabelValues(reason)) < 1 {
					t.Errorf("%s: %s not counted", c.name, c.metric)
				}
			}
		}
		e.flush(t)
		if got := len(events(t, d)); got != wantStored {
			t.Errorf("stored %d events, want %d", got, wantStored)
		}
	})
}

func TestQueueFullAnswers503(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	mustSite(t, d, "example.com", nil)
	e := newEnv(t, d, Options{QueueSize: 3}) // not started: nothing drains
	b := `{"n":"pageview","u":"https://example.com/","d":"example.com"}`
	for i := 0; i < 3; i++ {
		if code, body, _ := e.send(t, hit{body: b}); code != 202 {
			t.Fatalf("event %d: %d %s", i, code, body)
		}
	}
	code, body, hdr := e.send(t, hit{body: b})
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(body, "queue_full") {
		t.Fatalf("full queue: %d %s %v", code, body, hdr)
	}
	e.flush(t)
	if n := len(events(t, d)); n != 3 {
		t.Fatalf("stored %d, want the 3 accepted", n)
	}
	if code, _, _ := e.send(t, hit{body: b}); code != 202 {
		t.Fatalf("after drain: %d", code)
	}
}
