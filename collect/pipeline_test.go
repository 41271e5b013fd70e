package collect

import (
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestStoresEnrichedEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		site := mustSite(t, d, "example.com", nil)
		e := newEnv(t, d, Options{})
		code, body, _ := e.send(t, hit{ip: "203.0.113.9", ua: safariIPhone,
			body: `{"n":"pageview","u":"https://www.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&email=a@b.c#top","d":"example.com","r":"https://www.google.de/search?q=x"}`})
		if code != 202 || body != "ok" {
			t.Fatalf("status %d %q", code, body)
		}
		e.send(t, hit{ip: "203.0.113.9", ua: safariIPhone, ct: "application/json",
			body: `{"name":"Signup","url":"https://example.com/pricing","domain":"example.com","props":{"plan":"pro","seats":3,"trial":true,"none":null},"revenue":{"amount":"29.90","currency":"eur"}}`})
		e.flush(t)
		evs := events(t, d)
		if len(evs) != 2 {
			t.Fatalf("stored %d events, want 2", len(evs))
		}
		pv, su := evs[0], evs[1]
		if pv.Name != "pageview" {
			pv, su = su, pv
		}
		checks := []struct{ name, got, want string }{
			{"site", itoa(pv.SiteID), itoa(site.ID)},
			{"hostname", pv.Hostname, "example.com"},
			{"pathname", pv.Pathname, "/pricing"},
			{"referrer", pv.Referrer, "google.de/search"},
			{"source", pv.Source, "newsletter"},
			{"channel", pv.Channel, "email"},
			{"utm_source", pv.UTMSource, "newsletter"},
			{"utm_campaign", pv.UTMCampaign, "spring"},
			{"browser", pv.Browser, "Mobile Safari"},
			{"browser_version", pv.BrowserVersion, "17.1"},
			{"os", pv.OS, "iOS"},
			{"os_version", pv.OSVersion, "17.1"},
			{"device", pv.Device, "mobile"},
			{"custom name", su.Name, "Signup"},
			{"prop plan", su.Props["plan"], "pro"},
			{"prop seats", su.Props["seats"], "3"},
			{"prop trial", su.Props["trial"], "true"},
			{"currency", su.RevenueCurrency, "EUR"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
			}
		}
		if _, ok := su.Props["none"]; ok {
			t.Errorf("null prop stored: %v", su.Props)
		}
		if su.RevenueAmount == nil || !decEqual(*su.RevenueAmount, "29.9") {
			t.Errorf("revenue amount = %v, want 29.9", su.RevenueAmount)
		}
		if pv.VisitorID != su.VisitorID || pv.SessionID != su.SessionID || pv.VisitorID <= 0 {
			t.Errorf("same person got visitor %d/%d session %d/%d", pv.VisitorID, su.VisitorID, pv.SessionID, su.SessionID)
		}
		ss := sessionsOf(t, d)
		if len(ss) != 1 || ss[0].Pageviews != 1 || ss[0].Events != 2 || ss[0].IsBounce || ss[0].EntryPage != "/pricing" || ss[0].Channel != "email" {
			t.Errorf("sessions = %+v", ss)
		}
	})
}

func TestSessionsOverTime(t *testing.T) {
	// One person's events with the gaps below; the expected visits are
	// worked out by hand from the 30-minute rule.
	type step struct {
		after time.Duration
		name  string
		path  string
		inter bool
	}
	steps := []step{
		{0, "pageview", "/a", true},
		{60 * time.Second, "pageview", "/b", true},
		{60 * time.Second, "Scroll", "/b", false},
		{30*time.Minute + time.Second, "pageview", "/c", true}, // new visit
		{10 * time.Second, "Signup", "/c", true},               // interactive: not a bounce
		{31 * time.Minute, "pageview", "/d", true},             // new visit, a bounce
		{29 * time.Minute, "Scroll", "/d", false},              // non-interactive: still a bounce
	}
	want := []db.Session{
		{EntryPage: "/a", ExitPage: "/b", Pageviews: 2, Events: 3, Duration: 120, IsBounce: false},
		{EntryPage: "/c", ExitPage: "/c", Pageviews: 1, Events: 2, Duration: 10, IsBounce: false},
		{EntryPage: "/d", ExitPage: "/d", Pageviews: 1, Events: 2, Duration: 29 * 60, IsBounce: true},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
		e := newEnv(t, d, Options{Now: clk.Now})
		for i, s := range steps {
			clk.Add(s.after)
			inter := "false"
			if s.inter {
				inter = "true"
			}
			code, body, _ := e.send(t, hit{ip: "198.51.100.7", body: `{"n":"` + s.name + `","u":"https://example.com` + s.path + `","d":"example.com","i":` + inter + `}`})
			if code != 202 {
				t.Fatalf("step %d: %d %s", i, code, body)
			}
			e.flush(t) // every event in its own batch: visits come back from the DB
		}
		got := sessionsOf(t, d)
		if len(got) != len(want) {
			t.Fatalf("%d visits, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.EntryPage != w.EntryPage || g.ExitPage != w.ExitPage || g.Pageviews != w.Pageviews || g.Events != w.Events || g.Duration != w.Duration || g.IsBounce != w.IsBounce {
				t.Errorf("visit %d = entry %s exit %s pv %d ev %d dur %d bounce %v, want %+v", i, g.EntryPage, g.ExitPage, g.Pageviews, g.Events, g.Duration, g.IsBounce, w)
			}
		}
		// every event points at an existing visit of the same visitor
		byID := map[int64]db.Session{}
		for _, s := range got {
			byID[s.SessionID] = s
		}
		for _, ev := range events(t, d) {
			if s, ok := byID[ev.SessionID]; !ok || s.VisitorID != ev.VisitorID {
				t.Errorf("event %+v has no matching visit", ev)
			}
		}
	})
}

// Strings PostgreSQL would refuse (NUL, invalid UTF-8 after decoding) are
// cleaned before they reach a batch, so one bad event cannot block a flush.
func TestUnstorableStringsAreCleaned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		e := newEnv(t, d, Options{})
		body := `{"n":"Sign\u0000up","u":"https://example.com/a?utm_source=x%80y%00z","d":"example.com","p":{"k\u0000":"v\u0000w"}}`
		if code, msg, _ := e.send(t, hit{ip: "198.51.100.30", body: body}); code != 202 {
			t.Fatalf("%d %s", code, msg)
		}
		e.flush(t)
		evs := events(t, d)
		if len(evs) != 1 || evs[0].Name != "Signup" || evs[0].UTMSource != "x\uFFFDyz" || evs[0].Props["k"] != "vw" {
			t.Fatalf("stored %+v", evs)
		}
	})
}
