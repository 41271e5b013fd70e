package insights

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/", "/"},
		{"/pricing", "/pricing"},
		{"/users/42/orders", "/users/{n}/orders"},
		{"/o/1b4e28ba-2fa1-11d2-883f-0016d3cca427", "/o/{uuid}"},
		{"/d/5f4dcc3b5aa765d61d8327deb882cf99", "/d/{hash}"},
		{"/u/alice@example.com/profile", "/u/{email}/profile"},
		{"/u/alice%40example.com", "/u/{email}"},
		{"/reset?token=abc&email=x@y.z", "/reset"},
		{"/ip/203.0.113.9", "/ip/{ip}"},
		{"/v/2001:db8::1", "/v/{ip}"},
		{"/invoice/INV20261234567", "/invoice/{id}"},
		{"/s/aZ3kLm9QpR2sT8uVwX4yB7cD", "/s/{token}"},
		{"/blog/how-to-use-tally-in-2026", "/blog/how-to-use-tally-in-2026"},
		{"/docs#install", "/docs"},
	}
	for _, c := range cases {
		if got := NormalizePath(c.in); got != c.want {
			t.Errorf("NormalizePath(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestScan(t *testing.T) {
	cases := []struct {
		name, payload string
		bad           bool
	}{
		{"clean", `{"version":"v1","sites":[{"site":"shop.example.com","value":"/product/{n}","amount":"12.345678901234","date":"2026-11-09"}]}`, false},
		{"email", `{"value":"/u/alice@example.com"}`, true},
		{"encoded email", `{"value":"alice%40example.com"}`, true},
		{"ipv4", `{"source":"203.0.113.9"}`, true},
		{"ipv6", `{"source":"2001:db8:0:0:1::1"}`, true},
		{"uuid", `{"v":"1b4e28ba-2fa1-11d2-883f-0016d3cca427"}`, true},
		{"hash", `{"v":"5f4dcc3b5aa765d61d8327deb882cf99"}`, true},
		{"query", `{"page":"/reset?token=x"}`, true},
		{"token", `{"v":"tly_0123456789abcdef"}`, true},
		{"user agent", `{"device":"Mozilla/5.0 (X11; Linux x86_64)"}`, true},
		{"long number", `{"v":"order 12345678"}`, true},
		{"visitor key", `{"visitor_id":1}`, true},
		{"salt key", `{"x":{"salt":"abc"}}`, true},
		{"personal key", `{"x":{"bob@example.com":1}}`, true},
		{"not json", `{`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Scan([]byte(c.payload))
			if c.bad != (err != nil) {
				t.Fatalf("Scan(%s) = %v, want bad=%v", c.payload, err, c.bad)
			}
			if err != nil && !errors.Is(err, ErrPrivacy) {
				t.Fatalf("error %v is not ErrPrivacy", err)
			}
			if err != nil && strings.Contains(err.Error(), "alice") {
				t.Fatalf("the error repeats the personal value: %v", err)
			}
		})
	}
}

// adversarial inserts events carrying personal data in every place an
// attacker or a careless site owner could put it.
func adversarial(site *db.Site, start time.Time) fixture {
	var f fixture
	sid := int64(900_000)
	add := func(visitors int, vidBase int64, mut func(e *db.Event, s *db.Session)) {
		for i := 0; i < visitors; i++ {
			sid++
			vid := vidBase + int64(i)
			ts := start.Unix() + 3600 + int64(i)*60
			s := db.Session{SiteID: site.ID, SessionID: sid, VisitorID: vid, StartedAt: ts, LastSeen: ts, Pageviews: 1, Events: 1, IsBounce: true,
				Country: "DE", Device: "Desktop", Channel: "Direct"}
			e := ev(site.ID, ts, "pageview", vid, sid, "/", s)
			mut(&e, &s)
			f.events = append(f.events, e)
			f.sessions = append(f.sessions, s)
		}
	}
	add(8, 987_654_001, func(e *db.Event, s *db.Session) {
		e.Pathname = "/u/alice@example.com/profile"
		e.Props = map[string]string{"email": "bob@example.com", "ip": "203.0.113.9"}
	})
	add(8, 987_655_001, func(e *db.Event, s *db.Session) {
		e.Pathname = "/reset?token=tly_abcdefghijklmnop&mail=carol@example.org"
		s.UTMSource, s.Source, s.Channel = "198.51.100.23", "198.51.100.23", "Paid"
		e.UTMSource, e.Source = "198.51.100.23", "198.51.100.23"
		s.Referrer = "https://mail.example.net/?to=carol@example.org"
	})
	add(1, 987_656_001, func(e *db.Event, s *db.Session) { e.Pathname = "/only-me-page" })
	add(6, 987_657_001, func(e *db.Event, s *db.Session) {
		e.Pathname = "/d/5f4dcc3b5aa765d61d8327deb882cf99"
		s.Device = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0"
		s.Country = "2001:db8::1"
	})
	add(6, 987_658_001, func(e *db.Event, s *db.Session) {
		e.Name = "signup dave@example.com"
		e.Pathname = "/signup/9b2f3c4d-1111-2222-3333-444455556666"
		s.Source = "newsletter-dave@example.com"
	})
	return f
}

var leaks = []string{"alice", "bob@", "203.0.113.9", "198.51.100.23", "carol", "only-me-page", "tly_abc", "5f4dcc3b", "dave@", "Mozilla", "Gecko", "2001:db8", "9b2f3c4d", "987654", "987655", "987656", "987657", "987658", "?", "token="}

func TestAdversarialEventsNeverReachPayload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := mustSite(t, d, "shop.example.com")
		f := adversarial(site, periodFrom)
		f.insert(t, d)
		rec := &recordingNotifier{}
		svc := &Service{DB: d, Builder: &Builder{DB: d, Traffic: SQLTraffic{DB: d}}, Location: time.UTC, Notifiers: []Notifier{rec}}
		res, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo, Trigger: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, leak := range leaks {
			if strings.Contains(string(res.Payload), leak) {
				t.Errorf("payload contains %q: %s", leak, res.Payload)
			}
			for _, body := range rec.bodies {
				if strings.Contains(body, leak) {
					t.Errorf("digest contains %q", leak)
				}
			}
		}
		stored, err := RunByID(ctx, d, res.Run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Payload != string(res.Payload) || stored.Status != RunSucceeded {
			t.Fatalf("stored run differs: status %s", stored.Status)
		}
		// What did survive: the e-mail path as a placeholder, with its 8 visitors.
		pages := res.Summary.Sites[0].Traffic.TopPages
		found := false
		for _, p := range pages {
			if p.Value == "/u/{email}/profile" && p.Visitors == 8 {
				found = true
			}
		}
		if !found {
			t.Fatalf("pages = %+v", pages)
		}
		if len(rec.bodies) != 1 {
			t.Fatalf("notifier got %d digests", len(rec.bodies))
		}
	})
}

// leakyTraffic is a TrafficSource with a bug: it ignores the normalizer. The
// final scanner must still stop the payload.
type leakyTraffic struct{ SQLTraffic }

func (l leakyTraffic) Breakdown(ctx context.Context, siteID int64, r TimeRange, dim Dimension, _ func(string) string) ([]DimCount, error) {
	return l.SQLTraffic.Breakdown(ctx, siteID, r, dim, func(s string) string { return s })
}

func TestGuardBlocksLeakyPayload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		site := mustSite(t, d, "shop.example.com")
		f := adversarial(site, periodFrom)
		f.insert(t, d)
		rec := &recordingNotifier{}
		svc := &Service{DB: d, Builder: &Builder{DB: d, Traffic: leakyTraffic{SQLTraffic{DB: d}}}, Location: time.UTC, Notifiers: []Notifier{rec}}
		if _, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo, DryRun: true}); !errors.Is(err, ErrPrivacy) {
			t.Fatalf("dry run: want ErrPrivacy, got %v", err)
		}
		res, err := svc.Run(ctx, RunOptions{From: periodFrom, To: periodTo})
		if !errors.Is(err, ErrPrivacy) {
			t.Fatalf("run: want ErrPrivacy, got %v", err)
		}
		if res.Run.Status != RunBlocked || res.Run.Payload != "" {
			t.Fatalf("run = %s payload %q", res.Run.Status, res.Run.Payload)
		}
		for _, leak := range []string{"alice", "198.51.100.23"} {
			if strings.Contains(res.Run.Error, leak) {
				t.Fatalf("the recorded error repeats %q", leak)
			}
		}
		if len(rec.bodies) != 0 {
			t.Fatal("a blocked run was delivered")
		}
	})
}

type recordingNotifier struct {
	bodies []string
	fail   error
}

func (r *recordingNotifier) Name() string { return "recorder" }
func (r *recordingNotifier) Notify(_ context.Context, d *Digest) error {
	if r.fail != nil {
		return r.fail
	}
	b, _ := jsonMarshal(d)
	r.bodies = append(r.bodies, string(b))
	return nil
}
