// Package synth generates realistic, seeded traffic (visits and their
// events) for benchmarks, the demo and tests. It produces rows exactly as the
// collect writer stores them; it never talks to the HTTP endpoint.
package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/tallyhq/tally/db"
)

// Config says how much traffic to make and where.
type Config struct {
	SiteID   int64
	Hostname string
	// Events is the approximate number of events; Days the span ending at End.
	Events int
	Days   int
	End    time.Time
	Seed   uint64
	// Loc shapes the daily curve (people browse in their afternoon).
	Loc *time.Location
}

type weighted[T any] struct {
	v T
	w float64
}

func pick[T any](r *rand.Rand, l []weighted[T]) T {
	total := 0.0
	for _, x := range l {
		total += x.w
	}
	f := r.Float64() * total
	for _, x := range l {
		f -= x.w
		if f < 0 {
			return x.v
		}
	}
	return l[len(l)-1].v
}

type source struct{ name, channel, referrer, utmSource, utmMedium, utmCampaign string }

var sources = []weighted[source]{
	{source{"", "Direct", "", "", "", ""}, 30},
	{source{"Google", "Organic Search", "https://www.google.com/", "", "", ""}, 35},
	{source{"Bing", "Organic Search", "https://www.bing.com/", "", "", ""}, 4},
	{source{"DuckDuckGo", "Organic Search", "https://duckduckgo.com/", "", "", ""}, 3},
	{source{"Twitter", "Organic Social", "https://t.co/abc", "", "", ""}, 6},
	{source{"Reddit", "Organic Social", "https://www.reddit.com/r/golang/", "", "", ""}, 4},
	{source{"Hacker News", "Referral", "https://news.ycombinator.com/", "", "", ""}, 5},
	{source{"GitHub", "Referral", "https://github.com/tallyhq/tally", "", "", ""}, 5},
	{source{"Newsletter", "Email", "", "newsletter", "email", "weekly"}, 4},
	{source{"Google", "Paid Search", "https://www.google.com/", "google", "cpc", "spring_sale"}, 4},
}

type place struct{ country, region, city string }

var places = []weighted[place]{
	{place{"US", "US-CA", "San Francisco"}, 10}, {place{"US", "US-NY", "New York"}, 10}, {place{"US", "US-TX", "Austin"}, 5},
	{place{"DE", "DE-BE", "Berlin"}, 9}, {place{"DE", "DE-BY", "Munich"}, 5}, {place{"GB", "GB-ENG", "London"}, 9},
	{place{"FR", "FR-IDF", "Paris"}, 6}, {place{"IN", "IN-KA", "Bengaluru"}, 7}, {place{"BR", "BR-SP", "São Paulo"}, 5},
	{place{"JP", "JP-13", "Tokyo"}, 5}, {place{"CA", "CA-ON", "Toronto"}, 4}, {place{"NL", "NL-NH", "Amsterdam"}, 3},
	{place{"", "", ""}, 2},
}

type client struct{ browser, bversion, os, osversion, device string }

var clients = []weighted[client]{
	{client{"Chrome", "124.0", "Windows", "10", "Desktop"}, 22}, {client{"Chrome", "125.0", "Mac", "14.4", "Desktop"}, 12},
	{client{"Safari", "17.4", "iOS", "17.4", "Mobile"}, 16}, {client{"Chrome", "124.0", "Android", "14", "Mobile"}, 14},
	{client{"Firefox", "126.0", "Windows", "11", "Desktop"}, 7}, {client{"Firefox", "125.0", "GNU/Linux", "", "Desktop"}, 4},
	{client{"Edge", "124.0", "Windows", "11", "Desktop"}, 7}, {client{"Safari", "17.4", "Mac", "14.4", "Desktop"}, 8},
	{client{"Samsung Internet", "25.0", "Android", "13", "Mobile"}, 3}, {client{"Safari", "17.4", "iPadOS", "17.4", "Tablet"}, 3},
	{client{"Chrome", "124.0", "Chrome OS", "", "Laptop"}, 1},
}

var pages = func() []weighted[string] {
	base := []string{"/", "/pricing", "/features", "/docs", "/docs/getting-started", "/docs/api", "/docs/graphql",
		"/docs/self-hosting", "/docs/script", "/blog", "/about", "/contact", "/signup", "/login", "/changelog"}
	for i := 1; i <= 40; i++ {
		base = append(base, fmt.Sprintf("/blog/post-%d", i))
	}
	out := make([]weighted[string], len(base))
	for i, p := range base {
		out[i] = weighted[string]{p, 1 / math.Pow(float64(i+1), 1.1)}
	}
	return out
}()

// hourly traffic shape, local hours 0..23
var hourly = []float64{2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8.5, 9, 9, 9, 9, 8.5, 8, 7, 6.5, 6, 5.5, 5, 4, 3}

// Visit is one generated visit with its events in time order.
type Visit struct {
	Session db.Session
	Events  []db.Event
}

// Generate calls emit for each visit, in start order, until about
// cfg.Events events were made. The same config always gives the same rows.
func Generate(cfg Config, emit func(v *Visit) error) error {
	if cfg.Days <= 0 || cfg.Events <= 0 {
		return fmt.Errorf("synth: need positive events and days, got %d and %d", cfg.Events, cfg.Days)
	}
	loc := cfg.Loc
	if loc == nil {
		loc = time.UTC
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	end := cfg.End.In(loc)
	firstDay := time.Date(end.Year(), end.Month(), end.Day()-cfg.Days+1, 0, 0, 0, 0, loc)
	// share of visits per day: weekdays busier and slow growth over time
	weights := make([]float64, cfg.Days)
	total := 0.0
	for i := range weights {
		day := firstDay.AddDate(0, 0, i)
		w := 1.0 + 0.5*float64(i)/float64(cfg.Days)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			w *= 0.6
		}
		weights[i] = w * (0.85 + 0.3*r.Float64())
		total += weights[i]
	}
	const eventsPerVisit = 2.35 // measured mean of visit()
	hourTotal := 0.0
	for _, h := range hourly {
		hourTotal += h
	}
	made := 0
	var sessionSeq int64
	for i := 0; i < cfg.Days && made < cfg.Events; i++ {
		day := firstDay.AddDate(0, 0, i)
		visits := int(float64(cfg.Events) / eventsPerVisit * weights[i] / total)
		if visits < 1 {
			visits = 1
		}
		// returning visitors within a day share a hash; the pool is smaller than the visits
		pool := visits*3/4 + 1
		starts := make([]int64, visits)
		for j := range starts {
			f := r.Float64() * hourTotal
			h := 0
			for ; h < 23 && f >= hourly[h]; h++ {
				f -= hourly[h]
			}
			starts[j] = time.Date(day.Year(), day.Month(), day.Day(), h, 0, 0, 0, loc).Unix() + int64(r.IntN(3600))
		}
		sortInt64(starts)
		for _, st := range starts {
			if made >= cfg.Events {
				break
			}
			if st > cfg.End.Unix() {
				continue
			}
			sessionSeq++
			v := visit(r, cfg, st, int64(r.IntN(pool))+int64(i)<<32, int64(cfg.SiteID)<<40|sessionSeq)
			made += len(v.Events)
			if err := emit(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortInt64(a []int64) {
	slices.Sort(a)
}

func visit(r *rand.Rand, cfg Config, start, visitorSeed, sessionID int64) *Visit {
	src := pick(r, sources)
	pl := pick(r, places)
	cl := pick(r, clients)
	visitor := int64(mix(uint64(visitorSeed)^cfg.Seed) >> 1)
	base := db.Event{
		SiteID: cfg.SiteID, VisitorID: visitor, SessionID: sessionID, Hostname: cfg.Hostname,
		Referrer: src.referrer, Source: src.name, Channel: src.channel,
		UTMSource: src.utmSource, UTMMedium: src.utmMedium, UTMCampaign: src.utmCampaign,
		Country: pl.country, Region: pl.region, City: pl.city,
		Browser: cl.browser, BrowserVersion: cl.bversion, OS: cl.os, OSVersion: cl.osversion, Device: cl.device,
		Props: map[string]string{}, Interactive: true,
	}
	n := 1
	for n < 12 && r.Float64() < 0.55 {
		n++
	}
	v := &Visit{}
	ts := start
	for k := 0; k < n; k++ {
		e := base
		e.TS = ts
		e.Name = "pageview"
		e.Pathname = pick(r, pages)
		if k > 0 {
			e.Referrer, e.Source, e.Channel = "", "", ""
		}
		e.Props = map[string]string{}
		v.Events = append(v.Events, e)
		switch x := r.Float64(); {
		case e.Pathname == "/signup" && x < 0.4:
			c := e
			c.Name, c.TS = "Signup", ts+int64(5+r.IntN(60))
			c.Props = map[string]string{"plan": pick(r, []weighted[string]{{"free", 7}, {"pro", 3}})}
			v.Events = append(v.Events, c)
			if c.Props["plan"] == "pro" {
				p := c
				p.Name, p.TS = "Purchase", c.TS+int64(10+r.IntN(120))
				cur := pick(r, []weighted[string]{{"USD", 3}, {"EUR", 1}})
				amt := fmt.Sprintf("%d.%02d", 19+r.IntN(80), r.IntN(100))
				p.RevenueAmount, p.RevenueCurrency = &amt, cur
				p.Props = map[string]string{"plan": "pro"}
				v.Events = append(v.Events, p)
			}
		case x < 0.05:
			c := e
			c.Name, c.TS = "Outbound Link: Click", ts+int64(3+r.IntN(40))
			c.Props = map[string]string{"url": pick(r, []weighted[string]{{"https://github.com/tallyhq/tally", 3}, {"https://x.com/tally", 1}})}
			v.Events = append(v.Events, c)
		}
		ts = v.Events[len(v.Events)-1].TS + int64(10+r.ExpFloat64()*90)
	}
	v.Session = Fold(v.Events)
	return v
}

// Fold derives a visit row from its events (in time order), the way the
// collect writer keeps it: the first event fixes the source, place and
// client, the last pageview is the exit page, and a bounce is a visit with
// one pageview and no interactive custom event.
func Fold(evs []db.Event) db.Session {
	f := evs[0]
	s := db.Session{
		SiteID: f.SiteID, SessionID: f.SessionID, VisitorID: f.VisitorID, StartedAt: f.TS,
		Hostname: f.Hostname, Referrer: f.Referrer, Source: f.Source, Channel: f.Channel,
		UTMSource: f.UTMSource, UTMMedium: f.UTMMedium, UTMCampaign: f.UTMCampaign, UTMTerm: f.UTMTerm, UTMContent: f.UTMContent,
		Country: f.Country, Region: f.Region, City: f.City, Browser: f.Browser, BrowserVersion: f.BrowserVersion,
		OS: f.OS, OSVersion: f.OSVersion, Device: f.Device,
	}
	interactive := false
	for _, e := range evs {
		s.Events++
		s.LastSeen = max(s.LastSeen, e.TS)
		if e.Name == "pageview" {
			s.Pageviews++
			if s.EntryPage == "" {
				s.EntryPage = e.Pathname
			}
			s.ExitPage = e.Pathname
		} else if e.Interactive {
			interactive = true
		}
	}
	s.Duration = int(s.LastSeen - s.StartedAt)
	s.IsBounce = s.Pageviews <= 1 && !interactive
	return s
}

func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
