package collect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/tallyhq/tally/collect/tracker"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestScriptServedSmallAndCached(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d, Options{})
	req, _ := http.NewRequest(http.MethodGet, e.url+"/js/script.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	tr := &http.Transport{DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if len(raw) > 1000 {
		t.Fatalf("script is %d bytes gzipped, the budget is 1000", len(raw))
	}
	t.Logf("script.js: %d bytes, %d gzipped", len(tracker.Script()), len(raw))
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Equal(plain, tracker.Script()) {
		t.Fatal("gzip body does not decode to the script")
	}
	cc := res.Header.Get("Cache-Control")
	etag := res.Header.Get("ETag")
	if !strings.Contains(cc, "max-age=86400") || etag == "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/javascript") {
		t.Fatalf("headers %v", res.Header)
	}
	req.Header.Set("If-None-Match", etag)
	res2, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d, want 304", res2.StatusCode)
	}
	for _, banned := range []string{"cookie", "localStorage", "sessionStorage", "indexedDB"} {
		if bytes.Contains(tracker.Script(), []byte(banned)) {
			t.Errorf("the script mentions %s", banned)
		}
	}
}

// browser runs the tracker in a JavaScript engine with a minimal fake DOM
// and records what it sends.
type browser struct {
	vm *goja.Runtime
}

type sent struct {
	URL       string
	Keepalive bool
	Body      map[string]any
	Raw       string
}

const fakeDOM = `
var sent = [], listeners = {}, docListeners = {};
var location = {href: PAGE.href, hostname: PAGE.hostname, host: PAGE.hostname, pathname: PAGE.pathname, hash: PAGE.hash || "", protocol: "https:"};
var history = {pushState: function(s, t, url) { location.pathname = url; location.href = "https://" + location.host + url; }};
var window = {location: location, history: history, navigator: {webdriver: PAGE.webdriver || false},
  addEventListener: function(type, fn) { listeners[type] = fn; }};
var document = {referrer: PAGE.referrer || "", visibilityState: "visible",
  currentScript: {src: "https://stats.example.net/js/script.js", getAttribute: function(n) { var v = PAGE.attrs[n.replace(/^data-/, "")]; return v === undefined ? null : v; }},
  addEventListener: function(type, fn) { docListeners[type] = fn; }};
function fetch(url, opts) { sent.push({URL: url, Keepalive: opts.keepalive === true, Raw: opts.body}); return Promise.resolve({}); }
if (PAGE.queue) { window.tally = function() { (window.tally.q = window.tally.q || []).push(arguments); }; (eval("(" + PAGE.queue + ")"))(window.tally); }
`

func loadPage(t *testing.T, page map[string]any) *browser {
	t.Helper()
	vm := goja.New()
	if err := vm.Set("PAGE", page); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunString(fakeDOM); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.RunString(string(tracker.Script())); err != nil {
		t.Fatalf("script: %v", err)
	}
	return &browser{vm: vm}
}

func (b *browser) run(t *testing.T, js string) {
	t.Helper()
	if _, err := b.vm.RunString(js); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

func (b *browser) sent(t *testing.T) []sent {
	t.Helper()
	raw, err := json.Marshal(b.vm.Get("sent").Export())
	if err != nil {
		t.Fatal(err)
	}
	var out []sent
	_ = json.Unmarshal(raw, &out)
	for i := range out {
		if err := json.Unmarshal([]byte(out[i].Raw), &out[i].Body); err != nil {
			t.Fatalf("body %q is not JSON", out[i].Raw)
		}
	}
	return out
}

func names(s []sent) string {
	var n []string
	for _, x := range s {
		n = append(n, x.Body["n"].(string))
	}
	return strings.Join(n, ",")
}

func page(attrs map[string]any) map[string]any {
	return map[string]any{"href": "https://example.com/start?x=1", "hostname": "example.com", "pathname": "/start",
		"referrer": "https://news.example.org/", "attrs": attrs}
}

func TestTrackerBehaviour(t *testing.T) {
	t.Run("pageview on load, pushState, same path ignored", func(t *testing.T) {
		b := loadPage(t, page(map[string]any{"domain": "example.com"}))
		b.run(t, `history.pushState({}, "", "/next"); history.pushState({}, "", "/next"); listeners.popstate();`)
		s := b.sent(t)
		if names(s) != "pageview,pageview" {
			t.Fatalf("sent %s", names(s))
		}
		first := s[0]
		if first.URL != "https://stats.example.net/api/event" || !first.Keepalive || first.Body["d"] != "example.com" ||
			first.Body["u"] != "https://example.com/start?x=1" || first.Body["r"] != "https://news.example.org/" {
			t.Fatalf("first send %+v", first)
		}
		if s[1].Body["u"] != "https://example.com/next" {
			t.Fatalf("second send %+v", s[1])
		}
	})
	t.Run("queued custom events are replayed", func(t *testing.T) {
		p := page(map[string]any{"domain": "example.com"})
		b := loadPageWithQueue(t, p, `function(tally){ tally("Signup", {props: {plan: "pro"}, revenue: {amount: "29.00", currency: "EUR"}}); }`)
		b.run(t, `window.tally("Play", {props: {track: "a"}, interactive: false})`)
		s := b.sent(t)
		if names(s) != "Signup,pageview,Play" {
			t.Fatalf("sent %s", names(s))
		}
		if s[0].Body["p"].(map[string]any)["plan"] != "pro" || s[0].Body["$"].(map[string]any)["currency"] != "EUR" {
			t.Fatalf("custom event %+v", s[0].Body)
		}
		if s[2].Body["i"] != false {
			t.Fatalf("non-interactive flag missing: %+v", s[2].Body)
		}
	})
	t.Run("inactive on localhost unless data-local", func(t *testing.T) {
		p := page(map[string]any{"domain": "example.com"})
		p["hostname"] = "localhost"
		if s := loadPage(t, p).sent(t); len(s) != 0 {
			t.Fatalf("sent %d events on localhost", len(s))
		}
		p["attrs"] = map[string]any{"domain": "example.com", "local": ""}
		if s := loadPage(t, p).sent(t); len(s) != 1 {
			t.Fatalf("data-local: sent %d", len(s))
		}
	})
	t.Run("automation is ignored", func(t *testing.T) {
		p := page(map[string]any{"domain": "example.com"})
		p["webdriver"] = true
		if s := loadPage(t, p).sent(t); len(s) != 0 {
			t.Fatalf("sent %d under webdriver", len(s))
		}
	})
	t.Run("data-api and hash routing", func(t *testing.T) {
		p := page(map[string]any{"domain": "example.com", "api": "https://collector.example.com/e", "hash": ""})
		p["hash"] = "#/home"
		b := loadPage(t, p)
		b.run(t, `location.hash = "#/settings"; location.href = "https://example.com/start#/settings"; listeners.hashchange();`)
		s := b.sent(t)
		if names(s) != "pageview,pageview" || s[0].URL != "https://collector.example.com/e" || s[1].Body["h"] != int64(1) && s[1].Body["h"] != float64(1) {
			t.Fatalf("sent %+v", s)
		}
	})
	t.Run("outbound links and file downloads", func(t *testing.T) {
		b := loadPage(t, page(map[string]any{"domain": "example.com", "outbound": "", "files": "epub"}))
		b.run(t, `
			var out = {tagName: "A", href: "https://other.org/page", protocol: "https:", host: "other.org"};
			var pdf = {tagName: "A", href: "https://example.com/docs/report.PDF?v=2", protocol: "https:", host: "example.com"};
			var epub = {tagName: "A", href: "https://example.com/book.epub", protocol: "https:", host: "example.com"};
			var inner = {tagName: "A", href: "https://example.com/about", protocol: "https:", host: "example.com"};
			docListeners.click({type: "click", target: {tagName: "SPAN", parentNode: out}});
			docListeners.click({type: "click", target: pdf});
			docListeners.auxclick({type: "auxclick", button: 1, target: epub});
			docListeners.auxclick({type: "auxclick", button: 2, target: out});
			docListeners.click({type: "click", target: inner});`)
		s := b.sent(t)
		if names(s) != "pageview,Outbound Link: Click,File Download,File Download" {
			t.Fatalf("sent %s", names(s))
		}
		if s[2].Body["p"].(map[string]any)["url"] != "https://example.com/docs/report.PDF" {
			t.Fatalf("download url %+v", s[2].Body)
		}
	})
}

func loadPageWithQueue(t *testing.T, p map[string]any, queueJS string) *browser {
	t.Helper()
	p["queue"] = queueJS
	return loadPage(t, p)
}

// What the tracker sends is accepted by the endpoint and stored.
func TestTrackerPayloadAccepted(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	mustSite(t, d, "example.com", nil)
	e := newEnv(t, d, Options{})
	b := loadPage(t, page(map[string]any{"domain": "example.com"}))
	b.run(t, `window.tally("Signup", {props: {plan: "pro", seats: 3}, revenue: {amount: "29.00", currency: "EUR"}})`)
	for _, s := range b.sent(t) {
		if code, msg, _ := e.send(t, hit{body: s.Raw, ip: "198.51.100.50"}); code != 202 {
			t.Fatalf("tracker body %s: %d %s", s.Raw, code, msg)
		}
	}
	e.flush(t)
	evs := events(t, d)
	if len(evs) != 2 || evs[1].Props["seats"] != "3" || evs[1].RevenueAmount == nil || evs[0].Source != "news.example.org" {
		t.Fatalf("stored %+v", evs)
	}
}
