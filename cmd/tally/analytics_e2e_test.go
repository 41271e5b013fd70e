package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/analytics"
	"github.com/tallyhq/tally/analytics/synth"
	"github.com/tallyhq/tally/db"
)

// storeVisits writes finished visits the way the collect writer does: raw
// rows plus the analytics hook, in one transaction per chunk.
func storeVisits(t *testing.T, d *db.DB, visits []*synth.Visit) {
	t.Helper()
	ctx := context.Background()
	for len(visits) > 0 {
		n := min(len(visits), 50)
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var evs []db.Event
		var ch []db.SessionChange
		for _, v := range visits[:n] {
			evs = append(evs, v.Events...)
			s := v.Session
			if _, err := tx.NewInsert().Model(&s).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			ch = append(ch, db.SessionChange{After: s})
		}
		if _, err := tx.NewInsert().Model(&evs).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := (analytics.Hook{}).AfterBatch(ctx, tx, evs, ch); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		visits = visits[n:]
	}
}

func TestAnalyticsOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		var created struct{ CreateSite struct{ ID string } }
		h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "stats.example.com", timezone: "America/New_York"}) { id } }`, nil, &created)
		siteID := created.CreateSite.ID
		sid, _ := strconv.ParseInt(siteID, 10, 64)
		loc, _ := time.LoadLocation("America/New_York")
		now := time.Now()
		var visits []*synth.Visit
		err := synth.Generate(synth.Config{SiteID: sid, Hostname: "stats.example.com", Events: 2500, Days: 40, End: now.Add(-time.Hour), Seed: 7, Loc: loc},
			func(v *synth.Visit) error { visits = append(visits, v); return nil })
		if err != nil {
			t.Fatal(err)
		}
		storeVisits(t, h.DB, visits)

		// the oracle: brute force over the generated rows
		today := now.In(loc)
		day := func(off int) time.Time {
			return time.Date(today.Year(), today.Month(), today.Day()+off, 0, 0, 0, 0, loc)
		}
		type tot struct {
			visitors          map[int64]bool
			pageviews, visits int
			sources           map[string]map[int64]bool
			pricing           int
		}
		count := func(from, to time.Time) tot {
			x := tot{visitors: map[int64]bool{}, sources: map[string]map[int64]bool{}}
			for _, v := range visits {
				if v.Session.StartedAt >= from.Unix() && v.Session.StartedAt < to.Unix() {
					x.visits++
				}
				for _, e := range v.Events {
					if e.TS < from.Unix() || e.TS >= to.Unix() {
						continue
					}
					x.visitors[e.VisitorID] = true
					if x.sources[v.Session.Source] == nil {
						x.sources[v.Session.Source] = map[int64]bool{}
					}
					x.sources[v.Session.Source][e.VisitorID] = true
					if e.Name == "pageview" {
						x.pageviews++
						if e.Pathname == "/pricing" {
							x.pricing++
						}
					}
				}
			}
			return x
		}
		cur, prev := count(day(-13), day(1)), count(day(-27), day(-13))

		var res struct {
			Site struct {
				Stats struct {
					From, To  string
					Aggregate struct {
						Visitors, Visits, Pageviews int
						BounceRate                  float64
					}
					Breakdown struct {
						Rows []struct {
							Value    string
							Visitors int
						}
						TotalCount int
						PageInfo   struct {
							HasNextPage bool
							EndCursor   string
						}
					}
					Timeseries []struct {
						Date      string
						Pageviews int
					}
					Comparison struct {
						From      string
						Aggregate struct{ Visitors int }
						Change    struct{ Visitors *float64 }
					}
				}
			}
		}
		q := `query($id: ID!, $from: Date!, $to: Date!) { site(id: $id) { stats(dateRange: {from: $from, to: $to}, compare: PREVIOUS_PERIOD) {
			from to aggregate { visitors visits pageviews bounceRate }
			breakdown(dimension: SOURCE, limit: 3) { rows { value visitors } totalCount pageInfo { hasNextPage endCursor } }
			timeseries(interval: DAY) { date pageviews }
			comparison { from aggregate { visitors } change { visitors } } } } }`
		vars := map[string]any{"id": siteID, "from": day(-13).Format(time.DateOnly), "to": day(0).Format(time.DateOnly)}
		h.mustGQL(t, h.Admin, q, vars, &res)
		st := res.Site.Stats
		if st.Aggregate.Visitors != len(cur.visitors) || st.Aggregate.Pageviews != cur.pageviews || st.Aggregate.Visits != cur.visits {
			t.Errorf("aggregate %+v, oracle visitors %d pageviews %d visits %d", st.Aggregate, len(cur.visitors), cur.pageviews, cur.visits)
		}
		if st.Aggregate.BounceRate <= 0 || st.Aggregate.BounceRate >= 100 {
			t.Errorf("bounceRate %v is not a percentage of a realistic site", st.Aggregate.BounceRate)
		}
		if len(st.Timeseries) != 14 || st.Timeseries[0].Date != day(-13).Format(time.DateOnly) {
			t.Errorf("timeseries has %d points starting %v", len(st.Timeseries), st.Timeseries)
		}
		sum := 0
		for _, p := range st.Timeseries {
			sum += p.Pageviews
		}
		if sum != cur.pageviews {
			t.Errorf("timeseries pageviews sum %d, oracle %d", sum, cur.pageviews)
		}
		if st.Breakdown.TotalCount != len(cur.sources) || len(st.Breakdown.Rows) != 3 || !st.Breakdown.PageInfo.HasNextPage {
			t.Errorf("breakdown: %+v, oracle %d sources", st.Breakdown, len(cur.sources))
		}
		for _, r := range st.Breakdown.Rows {
			if r.Visitors != len(cur.sources[r.Value]) {
				t.Errorf("source %q: %d visitors, oracle %d", r.Value, r.Visitors, len(cur.sources[r.Value]))
			}
		}
		if st.Comparison.From != day(-27).Format(time.DateOnly) || st.Comparison.Aggregate.Visitors != len(prev.visitors) {
			t.Errorf("comparison %+v, oracle from %s visitors %d", st.Comparison, day(-27).Format(time.DateOnly), len(prev.visitors))
		}
		wantChange := (float64(len(cur.visitors)) - float64(len(prev.visitors))) / float64(len(prev.visitors)) * 100
		if c := st.Comparison.Change.Visitors; c == nil || math.Abs(*c-wantChange) > 1e-9 {
			t.Errorf("change %v, oracle %v", c, wantChange)
		}

		// the next page continues after the cursor
		var page2 struct {
			Site struct {
				Stats struct {
					Breakdown struct{ Rows []struct{ Value string } }
				}
			}
		}
		h.mustGQL(t, h.Admin, `query($id: ID!, $from: Date!, $to: Date!, $after: String) { site(id: $id) { stats(dateRange: {from: $from, to: $to}) {
			breakdown(dimension: SOURCE, limit: 3, after: $after) { rows { value } } } } }`,
			map[string]any{"id": siteID, "from": vars["from"], "to": vars["to"], "after": st.Breakdown.PageInfo.EndCursor}, &page2)
		if len(page2.Site.Stats.Breakdown.Rows) == 0 || page2.Site.Stats.Breakdown.Rows[0].Value == st.Breakdown.Rows[0].Value {
			t.Errorf("page 2 = %+v", page2.Site.Stats.Breakdown.Rows)
		}

		// a page filter
		var filtered struct {
			Site struct {
				Stats struct{ Aggregate struct{ Pageviews int } }
			}
		}
		h.mustGQL(t, h.Admin, `query($id: ID!, $from: Date!, $to: Date!) { site(id: $id) { stats(dateRange: {from: $from, to: $to}, filters: [{dimension: PAGE, is: ["/pricing"]}]) { aggregate { pageviews } } } }`, vars, &filtered)
		if filtered.Site.Stats.Aggregate.Pageviews != cur.pricing || cur.pricing == 0 {
			t.Errorf("pricing pageviews %d, oracle %d", filtered.Site.Stats.Aggregate.Pageviews, cur.pricing)
		}

		// bad input is BAD_USER_INPUT, naming the argument
		for _, bad := range []string{
			`{ site(id: "%s") { stats(filters: [{dimension: PAGE, matches: ["(unclosed"]}]) { aggregate { visitors } } } }`,
			`{ site(id: "%s") { stats(filters: [{dimension: PAGE, is: ["/"], contains: ["x"]}]) { aggregate { visitors } } } }`,
			`{ site(id: "%s") { stats(dateRange: {from: "2026-02-01", to: "2026-01-01"}) { aggregate { visitors } } } }`,
			`{ site(id: "%s") { stats { breakdown(dimension: PROP) { rows { value } } } } }`,
			`{ site(id: "%s") { stats { breakdown(dimension: PAGE, after: "bm9wZQ") { rows { value } } } } }`,
		} {
			r := h.gql(t, h.Admin, fmt.Sprintf(bad, siteID), nil)
			if r.code() != "BAD_USER_INPUT" {
				t.Errorf("%s: want BAD_USER_INPUT, got %+v", bad, r.Errors)
			}
		}

		// goals, conversion rate and a funnel
		var g1, g2 struct{ CreateGoal struct{ ID, Kind string } }
		h.mustGQL(t, h.Admin, `mutation($s: ID!) { createGoal(siteId: $s, input: {pagePath: "/signup"}) { id kind } }`, map[string]any{"s": siteID}, &g1)
		h.mustGQL(t, h.Admin, `mutation($s: ID!) { createGoal(siteId: $s, input: {eventName: "Signup"}) { id kind } }`, map[string]any{"s": siteID}, &g2)
		if g1.CreateGoal.Kind != "PAGEVIEW" || g2.CreateGoal.Kind != "EVENT" {
			t.Fatalf("goals %+v %+v", g1, g2)
		}
		from, to := day(-13).Unix(), day(1).Unix()
		base, conv := map[int64]bool{}, map[int64]bool{}
		step1, step2 := map[int64]bool{}, map[int64]bool{}
		for _, v := range visits {
			for _, e := range v.Events {
				if e.TS < from || e.TS >= to {
					continue
				}
				base[e.VisitorID] = true
				if e.Name == "Signup" {
					conv[e.VisitorID] = true
					if step1[e.VisitorID] {
						step2[e.VisitorID] = true
					}
				}
				if e.Name == "pageview" && e.Pathname == "/signup" {
					step1[e.VisitorID] = true
				}
			}
		}
		var gr struct {
			Site struct {
				Stats struct {
					Aggregate struct {
						Visitors       int
						ConversionRate float64
					}
				}
				Funnel struct {
					Steps []struct{ Visitors, DropOff int }
				}
				Goals []struct{ ID string }
			}
		}
		h.mustGQL(t, h.Admin, `query($id: ID!, $from: Date!, $to: Date!, $g: ID!, $steps: [ID!]!) { site(id: $id) {
			goals { id }
			stats(dateRange: {from: $from, to: $to}, goalId: $g) { aggregate { visitors conversionRate } }
			funnel(steps: $steps, dateRange: {from: $from, to: $to}) { steps { visitors dropOff } } } }`,
			map[string]any{"id": siteID, "from": vars["from"], "to": vars["to"], "g": g2.CreateGoal.ID, "steps": []string{g1.CreateGoal.ID, g2.CreateGoal.ID}}, &gr)
		wantCR := 100 * float64(len(conv)) / float64(len(base))
		if gr.Site.Stats.Aggregate.Visitors != len(conv) || math.Abs(gr.Site.Stats.Aggregate.ConversionRate-wantCR) > 1e-9 || len(conv) == 0 {
			t.Errorf("goal stats %+v, oracle %d converted, %v%%", gr.Site.Stats.Aggregate, len(conv), wantCR)
		}
		if len(gr.Site.Goals) != 2 || len(gr.Site.Funnel.Steps) != 2 || gr.Site.Funnel.Steps[0].Visitors != len(step1) ||
			gr.Site.Funnel.Steps[1].Visitors != len(step2) || gr.Site.Funnel.Steps[1].DropOff != len(step1)-len(step2) {
			t.Errorf("funnel %+v goals %d, oracle %d then %d", gr.Site.Funnel, len(gr.Site.Goals), len(step1), len(step2))
		}

		// a read token of another site may not read these stats
		var other struct{ CreateSite struct{ ID string } }
		h.mustGQL(t, h.Admin, `mutation { createSite(input: {domain: "other.example.com"}) { id } }`, nil, &other)
		var tok struct {
			CreateAPIToken struct{ Secret string } `json:"createApiToken"`
		}
		h.mustGQL(t, h.Admin, `mutation($s: ID!) { createApiToken(input: {name: "other", scope: READ, siteId: $s}) { secret } }`, map[string]any{"s": other.CreateSite.ID}, &tok)
		if r := h.gql(t, tok.CreateAPIToken.Secret, `query($id: ID!) { site(id: $id) { stats { aggregate { visitors } } } }`, map[string]any{"id": siteID}); len(r.Errors) == 0 || r.code() == "" || r.code() == "INTERNAL" {
			t.Errorf("a foreign read token read stats: %+v %s", r.Errors, r.Data)
		}
		if r := h.gql(t, tok.CreateAPIToken.Secret, `mutation($s: ID!) { createGoal(siteId: $s, input: {eventName: "x"}) { id } }`, map[string]any{"s": siteID}); len(r.Errors) == 0 {
			t.Error("a foreign read token created a goal")
		}

		// realtime: two visitors in the last five minutes, one older
		rt := []*synth.Visit{}
		for i, ago := range []time.Duration{time.Minute, 2 * time.Minute, 10 * time.Minute} {
			e := db.Event{SiteID: sid, TS: now.Add(-ago).Unix(), Name: "pageview", VisitorID: int64(5000 + i), SessionID: int64(88000 + i), Pathname: "/live", Props: map[string]string{}, Interactive: true}
			rt = append(rt, &synth.Visit{Events: []db.Event{e}, Session: synth.Fold([]db.Event{e})})
		}
		storeVisits(t, h.DB, rt)
		visits = append(visits, rt...) // the oracle sees them too
		var live struct {
			Site struct {
				Realtime struct {
					Visitors int
					Pages    []struct {
						Page     string
						Visitors int
					}
				}
			}
		}
		h.mustGQL(t, h.Admin, `query($id: ID!) { site(id: $id) { realtime { visitors pages { page visitors } } } }`, map[string]any{"id": siteID}, &live)
		if live.Site.Realtime.Visitors != 2 || len(live.Site.Realtime.Pages) != 1 || live.Site.Realtime.Pages[0].Page != "/live" {
			t.Errorf("realtime %+v", live.Site.Realtime)
		}
		testRealtimeSubscription(t, h, siteID, 2)

		// a new time zone (with a half-hour offset) recounts the daily rollups
		h.mustGQL(t, h.Admin, `mutation($id: ID!) { updateSite(id: $id, input: {timezone: "Asia/Kolkata"}) { id } }`, map[string]any{"id": siteID}, nil)
		kol, _ := time.LoadLocation("Asia/Kolkata")
		kt := now.In(kol)
		kday := func(off int) time.Time { return time.Date(kt.Year(), kt.Month(), kt.Day()+off, 0, 0, 0, 0, kol) }
		var ts struct {
			Site struct {
				Stats struct {
					Timeseries []struct {
						Date      string
						Pageviews int
					}
				}
			}
		}
		h.mustGQL(t, h.Admin, `query($id: ID!, $from: Date!, $to: Date!) { site(id: $id) { stats(dateRange: {from: $from, to: $to}) { timeseries { date pageviews } } } }`,
			map[string]any{"id": siteID, "from": kday(-6).Format(time.DateOnly), "to": kday(-1).Format(time.DateOnly)}, &ts)
		if len(ts.Site.Stats.Timeseries) != 6 {
			t.Fatalf("timeseries after time-zone change: %+v", ts)
		}
		for i, p := range ts.Site.Stats.Timeseries {
			want := count(kday(i-6), kday(i-5)).pageviews
			if p.Date != kday(i-6).Format(time.DateOnly) || p.Pageviews != want {
				t.Errorf("Kolkata day %s: %d pageviews, oracle %s %d", p.Date, p.Pageviews, kday(i-6).Format(time.DateOnly), want)
			}
		}
	})
}

// testRealtimeSubscription speaks graphql-transport-ws to /graphql.
func testRealtimeSubscription(t *testing.T, h *harness, siteID string, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+h.URL[len("http"):]+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	send := func(v any) {
		if err := wsjson.Write(ctx, c, v); err != nil {
			t.Fatal(err)
		}
	}
	type msg struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	read := func() msg {
		for {
			var m msg
			if err := wsjson.Read(ctx, c, &m); err != nil {
				t.Fatalf("read: %v", err)
			}
			if m.Type != "ping" && m.Type != "pong" && m.Type != "ka" {
				return m
			}
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + h.Admin}})
	if m := read(); m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($s: ID!) { realtimeVisitors(siteId: $s) }`, "variables": map[string]any{"s": siteID}}})
	for i := 0; i < 2; i++ {
		m := read()
		var p struct {
			Data struct{ RealtimeVisitors int } `json:"data"`
		}
		if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil || p.Data.RealtimeVisitors != want {
			t.Fatalf("push %d: %+v %s", i, m, m.Payload)
		}
	}
	send(map[string]any{"id": "1", "type": "complete"})
}

// goalQueries counts queries that read the goals table.
type goalQueries struct{ n atomic.Int64 }

func (g *goalQueries) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if strings.Contains(e.Query, "analytics_goals") && strings.HasPrefix(strings.TrimSpace(e.Query), "SELECT") {
		g.n.Add(1)
	}
	return ctx
}
func (g *goalQueries) AfterQuery(context.Context, *bun.QueryEvent) {}

func TestGoalsOfManySitesInOneQuery(t *testing.T) {
	eachStore(t, func(t *testing.T, h *harness) {
		want := map[string]int{}
		for i := 0; i < 4; i++ {
			var c struct{ CreateSite struct{ ID string } }
			h.mustGQL(t, h.Admin, fmt.Sprintf(`mutation { createSite(input: {domain: "s%d.example.com"}) { id } }`, i), nil, &c)
			for j := 0; j < i; j++ {
				h.mustGQL(t, h.Admin, `mutation($s: ID!, $e: String!) { createGoal(siteId: $s, input: {eventName: $e}) { id } }`,
					map[string]any{"s": c.CreateSite.ID, "e": fmt.Sprintf("E%d", j)}, nil)
			}
			want[c.CreateSite.ID] = i
		}
		counter := &goalQueries{}
		h.DB.AddQueryHook(counter)
		var res struct {
			Sites []struct {
				ID    string
				Goals []struct{ Name string }
			}
		}
		h.mustGQL(t, h.Admin, `{ sites { id goals { name } } }`, nil, &res)
		for _, s := range res.Sites {
			if len(s.Goals) != want[s.ID] {
				t.Errorf("site %s: %d goals, want %d", s.ID, len(s.Goals), want[s.ID])
			}
		}
		if n := counter.n.Load(); n != 1 {
			t.Errorf("%d goal queries for %d sites, want 1 (no N+1)", n, len(res.Sites))
		}
	})
}
