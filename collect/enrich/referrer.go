package enrich

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Channels a visit can be attributed to.
const (
	ChannelDirect   = "direct"
	ChannelSearch   = "organic search"
	ChannelSocial   = "social"
	ChannelEmail    = "email"
	ChannelPaid     = "paid"
	ChannelReferral = "referral"
)

type knownSource struct{ name, kind string }

// knownHosts maps a registrable host (without "www.") to a display name and
// the kind of site. Lookups also try every parent domain, so "news.google.com"
// finds "google.com", and a country suffix is tried as a prefix ("google.").
var knownHosts = map[string]knownSource{
	"google.com": {"Google", "search"}, "bing.com": {"Bing", "search"}, "duckduckgo.com": {"DuckDuckGo", "search"},
	"yahoo.com": {"Yahoo!", "search"}, "search.yahoo.com": {"Yahoo!", "search"}, "yandex.ru": {"Yandex", "search"},
	"yandex.com": {"Yandex", "search"}, "baidu.com": {"Baidu", "search"}, "ecosia.org": {"Ecosia", "search"},
	"search.brave.com": {"Brave", "search"}, "qwant.com": {"Qwant", "search"}, "startpage.com": {"Startpage", "search"},
	"naver.com": {"Naver", "search"}, "seznam.cz": {"Seznam", "search"}, "kagi.com": {"Kagi", "search"},
	"ask.com": {"Ask", "search"}, "aol.com": {"AOL", "search"}, "sogou.com": {"Sogou", "search"},
	"perplexity.ai": {"Perplexity", "search"}, "chatgpt.com": {"ChatGPT", "search"}, "search.aol.com": {"AOL", "search"},
	"facebook.com": {"Facebook", "social"}, "m.facebook.com": {"Facebook", "social"}, "l.facebook.com": {"Facebook", "social"},
	"lm.facebook.com": {"Facebook", "social"}, "fb.com": {"Facebook", "social"}, "instagram.com": {"Instagram", "social"},
	"l.instagram.com": {"Instagram", "social"}, "twitter.com": {"Twitter", "social"}, "t.co": {"Twitter", "social"},
	"x.com": {"Twitter", "social"}, "linkedin.com": {"LinkedIn", "social"}, "lnkd.in": {"LinkedIn", "social"},
	"reddit.com": {"Reddit", "social"}, "old.reddit.com": {"Reddit", "social"}, "news.ycombinator.com": {"Hacker News", "social"},
	"youtube.com": {"YouTube", "social"}, "m.youtube.com": {"YouTube", "social"}, "youtu.be": {"YouTube", "social"},
	"pinterest.com": {"Pinterest", "social"}, "tiktok.com": {"TikTok", "social"}, "mastodon.social": {"Mastodon", "social"},
	"bsky.app": {"Bluesky", "social"}, "threads.net": {"Threads", "social"}, "vk.com": {"VKontakte", "social"},
	"tumblr.com": {"Tumblr", "social"}, "quora.com": {"Quora", "social"}, "discord.com": {"Discord", "social"},
	"slack.com": {"Slack", "social"}, "telegram.org": {"Telegram", "social"}, "t.me": {"Telegram", "social"},
	"whatsapp.com": {"WhatsApp", "social"}, "medium.com": {"Medium", "social"}, "lobste.rs": {"Lobsters", "social"},
	"producthunt.com": {"Product Hunt", "social"}, "weibo.com": {"Weibo", "social"}, "xing.com": {"XING", "social"},
	"mail.google.com": {"Gmail", "email"}, "outlook.live.com": {"Outlook.com", "email"}, "outlook.office.com": {"Outlook", "email"},
	"outlook.office365.com": {"Outlook", "email"}, "mail.yahoo.com": {"Yahoo! Mail", "email"}, "mail.proton.me": {"Proton Mail", "email"},
	"mail.yandex.ru": {"Yandex Mail", "email"}, "mail.aol.com": {"AOL Mail", "email"}, "fastmail.com": {"Fastmail", "email"},
	"mail.zoho.com": {"Zoho Mail", "email"}, "webmail.gmx.net": {"GMX", "email"}, "web.de": {"WEB.DE", "email"},
	"com.google.android.gm": {"Gmail", "email"}, "com.microsoft.office.outlook": {"Outlook", "email"},
	"com.google.android.googlequicksearchbox": {"Google", "search"}, "com.google.android.gm.lite": {"Gmail", "email"},
}

// knownNames lets a tag such as utm_source=facebook name the same source
// as a referrer from facebook.com.
var knownNames = func() map[string]knownSource {
	m := map[string]knownSource{}
	for _, k := range knownHosts {
		m[strings.ToLower(k.name)] = k
	}
	return m
}()

// searchPrefixes catch country domains such as google.de or bing.co.uk.
var searchPrefixes = []struct{ prefix, name string }{{"google.", "Google"}, {"bing.", "Bing"}, {"yandex.", "Yandex"}, {"yahoo.", "Yahoo!"}, {"ecosia.", "Ecosia"}}

var (
	paidMedium   = regexp.MustCompile(`^(.*cp.*|ppc|retargeting|paid.*|display|banner|cpm)$`)
	socialMedium = map[string]bool{"social": true, "social-network": true, "social-media": true, "sm": true, "social network": true, "social media": true}
	emailMedium  = map[string]bool{"email": true, "e-mail": true, "e_mail": true, "e mail": true, "newsletter": true, "mail": true}
	searchMedium = map[string]bool{"organic": true, "search": true}
)

// Traffic is where a visit came from.
type Traffic struct {
	// Referrer is the referring page as host/path, without scheme or query,
	// or "" for direct visits and self-referrals.
	Referrer    string
	Source      string
	Channel     string
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMTerm     string
	UTMContent  string
}

const maxDim = 255

// Clean makes s storable in any text column: valid UTF-8 without NUL bytes
// (PostgreSQL rejects both, and one bad row would fail a whole batch).
func Clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

func clip(s string) string {
	s = Clean(strings.TrimSpace(s))
	if len(s) > maxDim {
		s = s[:maxDim]
		// do not cut a UTF-8 sequence in half
		for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xC0 {
			s = s[:len(s)-1]
		}
	}
	return s
}

// ClassifyTraffic attributes a visit from the raw referrer and the page's
// query. selfHosts are the site's own hostnames: a referrer from one of them
// is a click inside the site, not a source.
func ClassifyTraffic(rawReferrer string, page url.Values, pageHost string, selfHosts []string) Traffic {
	t := Traffic{
		UTMSource:   clip(page.Get("utm_source")),
		UTMMedium:   clip(page.Get("utm_medium")),
		UTMCampaign: clip(page.Get("utm_campaign")),
		UTMTerm:     clip(page.Get("utm_term")),
		UTMContent:  clip(page.Get("utm_content")),
	}
	refHost, refPath := parseReferrer(rawReferrer)
	if refHost != "" && isSelf(refHost, pageHost, selfHosts) {
		refHost, refPath = "", ""
	}
	if refHost != "" {
		t.Referrer = clip(refHost + refPath)
	}
	var kind string
	if refHost != "" {
		var name string
		name, kind = lookupHost(refHost)
		t.Source = name
	}
	// Tags the site author wrote win over what the browser reports.
	tagged := t.UTMSource
	if tagged == "" {
		tagged = clip(page.Get("ref"))
	}
	if tagged == "" {
		tagged = clip(page.Get("source"))
	}
	if tagged != "" {
		name, k := lookupHost(strings.ToLower(tagged))
		if k == "" {
			if ks, ok := knownNames[strings.ToLower(tagged)]; ok {
				name, k = ks.name, ks.kind
			}
		}
		if k != "" {
			t.Source, kind = name, k
		} else {
			t.Source = tagged
		}
	}
	medium := strings.ToLower(t.UTMMedium)
	switch {
	case page.Has("gclid") || page.Has("msclkid") || page.Has("gbraid") || page.Has("wbraid") || paidMedium.MatchString(medium):
		t.Channel = ChannelPaid
	case emailMedium[medium] || kind == "email" || strings.Contains(strings.ToLower(tagged), "newsletter"):
		t.Channel = ChannelEmail
	case socialMedium[medium] || kind == "social":
		t.Channel = ChannelSocial
	case searchMedium[medium] || kind == "search":
		t.Channel = ChannelSearch
	case t.Source != "" || medium == "referral":
		t.Channel = ChannelReferral
	default:
		t.Channel = ChannelDirect
	}
	return t
}

// parseReferrer returns the lower-case host (without "www.") and the path of
// a referrer, or "" when it is not a usable URL.
func parseReferrer(raw string) (host, path string) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 4096 {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	switch u.Scheme {
	case "http", "https", "android-app":
	default:
		return "", ""
	}
	host = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if host == "" {
		return "", ""
	}
	if u.Scheme == "android-app" {
		return host, ""
	}
	path = u.EscapedPath()
	if path == "/" {
		path = ""
	}
	return host, path
}

func isSelf(refHost, pageHost string, selfHosts []string) bool {
	pageHost = strings.TrimPrefix(strings.ToLower(pageHost), "www.")
	if refHost == pageHost {
		return true
	}
	for _, h := range selfHosts {
		h = strings.TrimPrefix(strings.ToLower(h), "www.")
		if h == refHost || strings.HasPrefix(h, "*.") && strings.HasSuffix(refHost, h[1:]) {
			return true
		}
	}
	return false
}

// lookupHost names a host: a known site's display name and kind, or the
// host itself with an empty kind.
func lookupHost(host string) (string, string) {
	host = strings.TrimPrefix(host, "www.")
	for h := host; h != ""; {
		if k, ok := knownHosts[h]; ok {
			return k.name, k.kind
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	for _, p := range searchPrefixes {
		// google.de, google.co.uk, but also www.google.de/search
		if strings.HasPrefix(host, p.prefix) || strings.Contains(host, "."+p.prefix) {
			if !strings.Contains(host, "mail.") {
				return p.name, "search"
			}
		}
	}
	return host, ""
}
