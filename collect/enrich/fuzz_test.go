package enrich

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzUserAgent: parsing never panics, is deterministic (cached or not)
// and gives bounded, known values.
func FuzzUserAgent(f *testing.F) {
	for _, s := range []string{"", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Googlebot/2.1", "curl/8", "\x00\xff", strings.Repeat("(", 2000)} {
		f.Add(s)
	}
	p, err := NewUAParser(64)
	if err != nil {
		f.Fatal(err)
	}
	fresh, _ := NewUAParser(1)
	f.Fuzz(func(t *testing.T, ua string) {
		a := p.Parse(ua)
		if b := fresh.parseOrReason(ua); a != b {
			t.Fatalf("cached %+v != fresh %+v", a, b)
		}
		switch a.Bot {
		case "", "crawler", "headless", "monitoring", "empty", "too_long":
		default:
			t.Fatalf("bot reason %q", a.Bot)
		}
		if a.Bot == "" && a.Device != "desktop" && a.Device != "mobile" && a.Device != "tablet" {
			t.Fatalf("device %q", a.Device)
		}
		if len(a.Browser)+len(a.OS)+len(a.BrowserVersion)+len(a.OSVersion) > 2*MaxUALength {
			t.Fatalf("unbounded result %+v", a)
		}
	})
}

// parseOrReason is Parse without the cache.
func (p *UAParser) parseOrReason(ua string) Agent {
	ua = strings.TrimSpace(ua)
	switch {
	case ua == "":
		return Agent{Bot: "empty"}
	case len(ua) > MaxUALength:
		return Agent{Bot: "too_long"}
	}
	return p.parse(ua)
}

// FuzzReferrer: attribution never panics, never returns the raw query, and
// keeps every dimension within its length.
func FuzzReferrer(f *testing.F) {
	for _, s := range []string{"https://www.google.com/search?q=secret", "android-app://com.google.android.gm", "javascript:x", "http://[::1", "https://a.b/c?d#e", ""} {
		f.Add(s, "https://example.com/p?utm_source=x&ref=y&gclid=1")
	}
	f.Fuzz(func(t *testing.T, ref, page string) {
		u, err := url.Parse(page)
		if err != nil {
			return
		}
		tr := ClassifyTraffic(ref, u.Query(), u.Hostname(), []string{"example.com", "*.example.com"})
		for _, v := range []string{tr.Referrer, tr.Source, tr.UTMSource, tr.UTMMedium, tr.UTMCampaign, tr.UTMTerm, tr.UTMContent} {
			if len(v) > maxDim || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("dimension %q out of bounds", v)
			}
		}
		if strings.Contains(tr.Referrer, "?") && !strings.Contains(ref, "%3F") && !strings.Contains(ref, "?") {
			t.Fatalf("referrer %q gained a query", tr.Referrer)
		}
		switch tr.Channel {
		case ChannelDirect, ChannelSearch, ChannelSocial, ChannelEmail, ChannelPaid, ChannelReferral:
		default:
			t.Fatalf("channel %q", tr.Channel)
		}
		p := CleanPath(u, []string{"q"}, true)
		if len(p) > MaxPathLength+3 || !strings.HasPrefix(p, "/") || !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 {
			t.Fatalf("path %q", p)
		}
	})
}
