package insights

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

// fixture is raw events and sessions as the collector would store them.
type fixture struct {
	events   []db.Event
	sessions []db.Session
}

// rawPaths maps the raw paths the generator uses to what the test expects
// after normalization (written by hand, not computed by NormalizePath).
var rawPaths = map[string]string{
	"/":                     "/",
	"/pricing":              "/pricing",
	"/docs/start":           "/docs/start",
	"/product/123":          "/product/{n}",
	"/product/456":          "/product/{n}",
	"/product/789?ref=mail": "/product/{n}",
	"/blog/hello-world":     "/blog/hello-world",
}

var pathList = []string{"/", "/pricing", "/docs/start", "/product/123", "/product/456", "/product/789?ref=mail", "/blog/hello-world"}

// gen makes visitors over [start, start+days) with seeded randomness.
func gen(f *fixture, siteID int64, start time.Time, days, visitors int, seed uint64, firstVisitor int64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	sources := []struct{ source, channel string }{{"", "Direct"}, {"Google", "Organic Search"}, {"Newsletter", "Email"}, {"Hacker News", "Referral"}}
	countries := []string{"DE", "US", "FR", "GB"}
	devices := []string{"Desktop", "Mobile", "Tablet"}
	sid := firstVisitor * 100
	for v := 0; v < visitors; v++ {
		vid := firstVisitor + int64(v)
		nSess := 1 + rng.IntN(2)
		for s := 0; s < nSess; s++ {
			sid++
			t0 := start.Unix() + rng.Int64N(int64(days)*86400-3600)
			src := sources[rng.IntN(len(sources))]
			sess := db.Session{SiteID: siteID, SessionID: sid, VisitorID: vid, StartedAt: t0, Source: src.source, Channel: src.channel,
				Country: countries[rng.IntN(len(countries))], Device: devices[rng.IntN(len(devices))], Hostname: "shop.example.com"}
			n := 1 + rng.IntN(4)
			for p := 0; p < n; p++ {
				path := pathList[rng.IntN(len(pathList))]
				ts := t0 + int64(p*30)
				if p == 0 {
					sess.EntryPage = path
				}
				sess.ExitPage = path
				sess.LastSeen = ts
				f.events = append(f.events, ev(siteID, ts, "pageview", vid, sid, path, sess))
			}
			sess.Pageviews = n
			sess.Events = n
			sess.Duration = int(sess.LastSeen - t0)
			sess.IsBounce = n == 1
			if rng.IntN(4) == 0 {
				f.events = append(f.events, ev(siteID, sess.LastSeen, "Signup", vid, sid, "/signup", sess))
				sess.Events++
				sess.IsBounce = false
			}
			f.sessions = append(f.sessions, sess)
		}
	}
}

func ev(siteID, ts int64, name string, vid, sid int64, path string, s db.Session) db.Event {
	return db.Event{SiteID: siteID, TS: ts, Name: name, VisitorID: vid, SessionID: sid, Hostname: s.Hostname, Pathname: path,
		Source: s.Source, Channel: s.Channel, Country: s.Country, Device: s.Device, Props: map[string]string{}, Interactive: true}
}

func (f *fixture) insert(t testing.TB, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < len(f.events); i += 500 {
		chunk := f.events[i:min(i+500, len(f.events))]
		if _, err := d.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			t.Fatalf("insert events: %v", err)
		}
	}
	for i := 0; i < len(f.sessions); i += 500 {
		chunk := f.sessions[i:min(i+500, len(f.sessions))]
		if _, err := d.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			t.Fatalf("insert sessions: %v", err)
		}
	}
}

func mustSite(t testing.TB, d *db.DB, domain string) *db.Site {
	t.Helper()
	s, err := sites.Create(context.Background(), d, domain, "UTC")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
