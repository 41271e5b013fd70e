// Command loadgen sends a realistic, seeded mix of analytics events to a
// running Tally and reports what came out: events accepted per second,
// latency percentiles, and, once the server's queue has drained, how many
// events the database holds, so that any loss is visible.
//
//	go run ./bench/loadgen -url http://127.0.0.1:8080 -db postgres://... -rate 20000 -duration 30s
//
// User agents are the real strings of uap-core's OS test corpus (a few of
// them are bots, which the server drops and counts); paths follow a Zipf
// distribution; a share of events carry referrers, UTM tags or are custom
// events with props and revenue. The same -seed gives the same traffic.
package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

//go:embed testdata/uap-core-test_os.yaml
var uaCorpus []byte

type person struct {
	ip, ua string
}

type traffic struct {
	people []person
	paths  []string
	domain string
}

func loadUAs() ([]string, error) {
	var c struct {
		Cases []struct {
			UA string `yaml:"user_agent_string"`
		} `yaml:"test_cases"`
	}
	if err := yaml.Unmarshal(uaCorpus, &c); err != nil {
		return nil, fmt.Errorf("user-agent corpus: %w", err)
	}
	out := make([]string, 0, len(c.Cases))
	for _, x := range c.Cases {
		if x.UA != "" {
			out = append(out, x.UA)
		}
	}
	return out, nil
}

func newTraffic(seed uint64, visitors int, domain string) (*traffic, error) {
	uas, err := loadUAs()
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	t := &traffic{domain: domain}
	for i := 0; i < visitors; i++ {
		// addresses from 100.64.0.0/10 (shared address space): they only
		// travel in X-Forwarded-For headers to the local server
		ip := fmt.Sprintf("100.%d.%d.%d", 64+r.IntN(64), r.IntN(256), 1+r.IntN(254))
		t.people = append(t.people, person{ip: ip, ua: uas[r.IntN(len(uas))]})
	}
	sections := []string{"blog", "docs", "pricing", "product", "about", "careers", "changelog", "help"}
	for i := 0; i < 500; i++ {
		t.paths = append(t.paths, fmt.Sprintf("/%s/%d", sections[i%len(sections)], i))
	}
	t.paths[0] = "/"
	return t, nil
}

var referrers = []string{"https://www.google.com/", "https://www.bing.com/search?q=tally", "https://duckduckgo.com/",
	"https://t.co/abc", "https://www.reddit.com/r/selfhosted/", "https://news.ycombinator.com/item?id=1",
	"https://blog.example.org/post/analytics", "https://mail.google.com/", "https://www.facebook.com/"}

// body builds one event for person p.
func (t *traffic) body(r *rand.Rand, zipf *rand.Zipf) []byte {
	path := t.paths[zipf.Uint64()]
	u := "https://" + t.domain + path
	ev := map[string]any{"n": "pageview", "d": t.domain}
	switch x := r.IntN(100); {
	case x < 10:
		u += "?utm_source=newsletter&utm_medium=email&utm_campaign=launch"
	case x < 13:
		u += "?gclid=abc123"
	}
	ev["u"] = u
	if r.IntN(100) < 55 {
		ev["r"] = referrers[r.IntN(len(referrers))]
	}
	if r.IntN(100) < 10 {
		ev["n"] = "Signup"
		ev["p"] = map[string]any{"plan": []string{"free", "pro", "team"}[r.IntN(3)], "seats": r.IntN(20)}
		if r.IntN(3) == 0 {
			ev["$"] = map[string]string{"amount": strconv.Itoa(10+r.IntN(90)) + ".00", "currency": "EUR"}
		}
	}
	b, _ := json.Marshal(ev)
	return b
}

type result struct {
	sent, ok, rejected, unavailable, failed atomic.Int64
	mu                                      sync.Mutex
	lat                                     []time.Duration
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "Tally base URL")
	dbURL := flag.String("db", "", "database URL of that Tally: creates the site if missing and counts stored events")
	domain := flag.String("domain", "bench.example.com", "site domain to send to")
	rate := flag.Int("rate", 0, "target events per second (0: as fast as possible)")
	duration := flag.Duration("duration", 20*time.Second, "how long to send")
	conc := flag.Int("concurrency", 32, "parallel connections")
	visitors := flag.Int("visitors", 20000, "distinct simulated people")
	seed := flag.Uint64("seed", 1, "random seed")
	pid := flag.Int("pid", 0, "server process id, to report its peak RSS (VmHWM)")
	drain := flag.Duration("drain-timeout", 120*time.Second, "how long to wait for the server's queue to empty")
	flag.Parse()
	if err := run(*url, *dbURL, *domain, *rate, *duration, *conc, *visitors, *seed, *pid, *drain); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(base, dbURL, domain string, rate int, duration time.Duration, conc, visitors int, seed uint64, pid int, drainTimeout time.Duration) error {
	ctx := context.Background()
	var d *db.DB
	var siteID int64
	if dbURL != "" {
		var err error
		if d, err = db.Open(ctx, dbURL); err != nil {
			return err
		}
		defer d.Close()
		s, err := sites.ByDomain(ctx, d, domain)
		if err != nil {
			if s, err = sites.Create(ctx, d, domain, "UTC"); err != nil {
				return fmt.Errorf("create site %s: %w", domain, err)
			}
		}
		siteID = s.ID
	}
	tr, err := newTraffic(seed, visitors, domain)
	if err != nil {
		return err
	}
	// The mix is generated up front so that the generator spends its CPU
	// on sending, not on building JSON: 50,000 seeded requests, cycled.
	type request struct {
		body []byte
		p    person
	}
	gen := rand.New(rand.NewPCG(seed, 0))
	zipf := rand.NewZipf(gen, 1.1, 1, uint64(len(tr.paths)-1))
	reqs := make([]request, 50_000)
	for i := range reqs {
		reqs[i] = request{body: tr.body(gen, zipf), p: tr.people[gen.IntN(len(tr.people))]}
	}
	var nextReq atomic.Int64
	before, err := countEvents(ctx, d, siteID)
	if err != nil {
		return err
	}
	m0, _ := scrape(base)
	cpu0 := cpuSeconds(pid)
	self0 := cpuSeconds(os.Getpid())

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}, Timeout: 10 * time.Second}
	res := &result{}
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for k := 0; ; k++ {
				if rate > 0 {
					// open schedule: request k of worker w is due at
					// (k*conc + w) / rate after the start
					due := start.Add(time.Duration(float64(k*conc+w) / float64(rate) * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
				}
				if time.Now().After(deadline) {
					break
				}
				rq := reqs[nextReq.Add(1)%int64(len(reqs))]
				p := rq.p
				req, _ := http.NewRequest(http.MethodPost, base+"/api/event", bytes.NewReader(rq.body))
				req.Header.Set("Content-Type", "text/plain")
				req.Header.Set("User-Agent", p.ua)
				req.Header.Set("X-Forwarded-For", p.ip)
				t0 := time.Now()
				resp, err := client.Do(req)
				el := time.Since(t0)
				res.sent.Add(1)
				if err != nil {
					res.failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, el)
				switch {
				case resp.StatusCode == 202:
					res.ok.Add(1)
				case resp.StatusCode == 503:
					res.unavailable.Add(1)
				default:
					res.rejected.Add(1)
				}
			}
			res.mu.Lock()
			res.lat = append(res.lat, lat...)
			res.mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)

	// wait for the server to store everything it accepted
	drainStart := time.Now()
	for time.Since(drainStart) < drainTimeout {
		m, err := scrape(base)
		if err == nil && m["tally_collect_queue_depth"] == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	drained := time.Since(drainStart)
	m1, _ := scrape(base)
	cpu1 := cpuSeconds(pid)
	self1 := cpuSeconds(os.Getpid())
	after, err := countEvents(ctx, d, siteID)
	if err != nil {
		return err
	}

	slices.Sort(res.lat)
	pct := func(p float64) time.Duration {
		if len(res.lat) == 0 {
			return 0
		}
		return res.lat[min(len(res.lat)-1, int(float64(len(res.lat))*p))]
	}
	accepted := m1["tally_collect_accepted_total"] - m0["tally_collect_accepted_total"]
	bots := sumPrefix(m1, "tally_collect_bots_dropped_total") - sumPrefix(m0, "tally_collect_bots_dropped_total")
	fmt.Printf("target rate        %s\n", map[bool]string{true: "max", false: strconv.Itoa(rate) + "/s"}[rate == 0])
	fmt.Printf("sent               %d in %.1fs (%d workers)\n", res.sent.Load(), elapsed.Seconds(), conc)
	fmt.Printf("answered 202       %d (%.0f/s)\n", res.ok.Load(), float64(res.ok.Load())/elapsed.Seconds())
	fmt.Printf("answered 503       %d\n", res.unavailable.Load())
	fmt.Printf("answered 4xx       %d\n", res.rejected.Load())
	fmt.Printf("transport errors   %d\n", res.failed.Load())
	fmt.Printf("latency            p50 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms\n", ms(pct(.5)), ms(pct(.99)), ms(pct(.999)), ms(pct(1)))
	fmt.Printf("server accepted    %.0f queued for storage (%.0f/s), %.0f bots dropped\n", accepted, accepted/elapsed.Seconds(), bots)
	fmt.Printf("queue drained in   %.1fs\n", drained.Seconds())
	if d != nil {
		stored := after - before
		fmt.Printf("database holds     %d new events; lost %d\n", stored, int64(accepted)-stored)
	}
	if pid > 0 {
		fmt.Printf("server peak RSS    %s\n", peakRSS(pid))
		fmt.Printf("server CPU         %.1fs (%.0f µs per event answered; the load generator used %.1fs)\n",
			cpu1-cpu0, (cpu1-cpu0)/float64(max(1, res.ok.Load()))*1e6, self1-self0)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func countEvents(ctx context.Context, d *db.DB, siteID int64) (int64, error) {
	if d == nil {
		return 0, nil
	}
	n, err := d.NewSelect().Table("events").Where("site_id = ?", siteID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return int64(n), nil
}

// scrape reads the server's Prometheus text: metric line -> value.
func scrape(base string) (map[string]float64, error) {
	res, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

func sumPrefix(m map[string]float64, prefix string) float64 {
	var s float64
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			s += v
		}
	}
	return s
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

// cpuSeconds is the user+system CPU time of a process so far (Linux).
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// fields after the command name in parentheses; utime and stime are
	// the 14th and 15th fields, in clock ticks (100 per second on Linux)
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}
