package enrich

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The uap-core OS corpus: every string must parse to the expected OS family
// (and major version when the corpus gives one), unless we classify it as a
// bot. The rate is reported and must stay at or above the floor.
func TestUAPCoreOSCorpus(t *testing.T) {
	raw, err := os.ReadFile("testdata/uap-core-test_os.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Cases []struct {
			UA     string `yaml:"user_agent_string"`
			Family string `yaml:"family"`
			Major  string `yaml:"major"`
		} `yaml:"test_cases"`
	}
	if err := yaml.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus.Cases) < 400 {
		t.Fatalf("corpus has %d cases", len(corpus.Cases))
	}
	p, err := NewUAParser(100)
	if err != nil {
		t.Fatal(err)
	}
	pass, bots := 0, 0
	var fails []string
	for _, c := range corpus.Cases {
		a := p.Parse(c.UA)
		if a.Bot != "" {
			bots++
			fails = append(fails, "bot("+a.Bot+"): "+c.UA)
			continue
		}
		wantFamily := c.Family
		if wantFamily == "Other" {
			wantFamily = ""
		}
		ok := a.OS == wantFamily && (c.Major == "" || strings.HasPrefix(a.OSVersion+".", c.Major+"."))
		if ok {
			pass++
		} else {
			fails = append(fails, a.OS+" "+a.OSVersion+" != "+c.Family+" "+c.Major+": "+c.UA)
		}
	}
	rate := float64(pass) / float64(len(corpus.Cases))
	t.Logf("uap-core test_os.yaml: %d/%d pass (%.1f%%), %d classified as bots", pass, len(corpus.Cases), 100*rate, bots)
	for i, f := range fails {
		if i < 15 {
			t.Logf("  %s", f)
		}
	}
	if rate < 0.95 {
		t.Fatalf("pass rate %.1f%% is below 95%%", 100*rate)
	}
}

// Every example string in the crawler list must be recognised as a bot.
func TestCrawlerListInstances(t *testing.T) {
	list, err := CrawlerEntries()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := NewUAParser(100)
	total, caught := 0, 0
	var missed []string
	for _, e := range list {
		for _, ua := range e.Instances {
			if len(ua) > MaxUALength || strings.TrimSpace(ua) == "" {
				continue
			}
			total++
			if p.Parse(ua).Bot != "" {
				caught++
			} else {
				missed = append(missed, ua)
			}
		}
	}
	t.Logf("crawler-user-agents instances: %d/%d recognised (%.2f%%)", caught, total, 100*float64(caught)/float64(total))
	if total < 1000 || caught != total {
		t.Fatalf("missed %d: %q", len(missed), missed[:min(5, len(missed))])
	}
}

func TestParseAgents(t *testing.T) {
	p, _ := NewUAParser(100)
	cases := []struct {
		ua   string
		want Agent
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36",
			Agent{Browser: "Chrome", BrowserVersion: "120.0", OS: "Windows", OSVersion: "10", Device: "desktop"}},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
			Agent{Browser: "Firefox", BrowserVersion: "121.0", OS: "Mac OS X", OSVersion: "10.15", Device: "desktop"}},
		{"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			Agent{Browser: "Mobile Safari", BrowserVersion: "16.6", OS: "iOS", OSVersion: "16.6", Device: "tablet"}},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
			Agent{Browser: "Chrome Mobile", BrowserVersion: "120.0", OS: "Android", OSVersion: "14", Device: "mobile"}},
		{"Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Agent{Browser: "Chrome", BrowserVersion: "120.0", OS: "Android", OSVersion: "13", Device: "tablet"}},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", Agent{Bot: "crawler"}},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.0.0 Safari/537.36", Agent{Bot: "headless"}},
		{"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", Agent{Bot: "monitoring"}},
		{"", Agent{Bot: "empty"}},
		{strings.Repeat("A", MaxUALength+1), Agent{Bot: "too_long"}},
	}
	for _, c := range cases {
		for range 2 { // the second round comes from the cache
			if got := p.Parse(c.ua); got != c.want {
				t.Errorf("%.60s…\n got %+v\nwant %+v", c.ua, got, c.want)
			}
		}
	}
}
