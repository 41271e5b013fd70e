package enrich

import (
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ua-parser/uap-go/uaparser"
)

// Agent is what Tally keeps of a User-Agent string.
type Agent struct {
	Browser        string
	BrowserVersion string
	OS             string
	OSVersion      string
	// Device is "desktop", "mobile" or "tablet".
	Device string
	// Bot names why the client is not a person ("crawler", "headless",
	// "monitoring", "empty", "too_long"), or is empty for a browser.
	Bot string
}

// MaxUALength bounds the User-Agent strings that are parsed at all: real
// browsers send a few hundred bytes, and regular expressions over megabytes
// would let one request burn CPU.
const MaxUALength = 1024

// UAParser parses User-Agent strings with a bounded LRU cache in front.
type UAParser struct {
	uap   *uaparser.Parser
	cache *lru.Cache[string, Agent]
}

// NewUAParser compiles the uap-core rules and the bot patterns (about
// 100 ms) and keeps the last cacheSize results.
func NewUAParser(cacheSize int) (*UAParser, error) {
	if cacheSize <= 0 {
		cacheSize = 10000
	}
	p, err := uaparser.New()
	if err != nil {
		return nil, err
	}
	c, err := lru.New[string, Agent](cacheSize)
	if err != nil {
		return nil, err
	}
	return &UAParser{uap: p, cache: c}, nil
}

// Parse returns the agent behind ua.
func (p *UAParser) Parse(ua string) Agent {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return Agent{Bot: "empty"}
	}
	if len(ua) > MaxUALength {
		return Agent{Bot: "too_long"}
	}
	if a, ok := p.cache.Get(ua); ok {
		return a
	}
	a := p.parse(ua)
	p.cache.Add(ua, a)
	return a
}

func (p *UAParser) parse(ua string) Agent {
	if reason := BotReason(ua); reason != "" {
		return Agent{Bot: reason}
	}
	c := p.uap.Parse(ua)
	a := Agent{Device: deviceType(ua)}
	if c.UserAgent != nil && c.UserAgent.Family != "Other" {
		a.Browser = c.UserAgent.Family
		a.BrowserVersion = version(c.UserAgent.Major, c.UserAgent.Minor)
	}
	if c.Os != nil && c.Os.Family != "Other" {
		a.OS = c.Os.Family
		a.OSVersion = version(c.Os.Major, c.Os.Minor)
	}
	a.Browser, a.BrowserVersion, a.OS, a.OSVersion = clip(a.Browser), clip(a.BrowserVersion), clip(a.OS), clip(a.OSVersion)
	if c.Device != nil && c.Device.Family == "Spider" {
		a = Agent{Bot: "crawler"}
	}
	return a
}

// version keeps major.minor: patch levels multiply the number of rows in a
// breakdown without telling anyone anything.
func version(major, minor string) string {
	switch {
	case major == "":
		return ""
	case minor == "":
		return major
	}
	return major + "." + minor
}

// deviceType follows the browser vendors' own conventions: tablets say iPad,
// Tablet, or Android without Mobile; phones say Mobi (Mobile, Mobile
// Safari), iPhone or a phone OS name.
func deviceType(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "ipad"), strings.Contains(l, "tablet"), strings.Contains(l, "kindle"), strings.Contains(l, "silk/"),
		strings.Contains(l, "playbook"), strings.Contains(l, "android") && !strings.Contains(l, "mobi"):
		return "tablet"
	case strings.Contains(l, "mobi"), strings.Contains(l, "iphone"), strings.Contains(l, "ipod"), strings.Contains(l, "windows phone"),
		strings.Contains(l, "blackberry"), strings.Contains(l, "opera mini"), strings.Contains(l, "watchos"):
		return "mobile"
	}
	return "desktop"
}
