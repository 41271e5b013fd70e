package enrich

import (
	"net/url"
	"testing"
)

func TestClassifyTraffic(t *testing.T) {
	self := []string{"example.com", "*.example.com"}
	cases := []struct {
		name, ref, page  string
		referrer, source string
		channel          string
	}{
		{"direct", "", "https://example.com/", "", "", ChannelDirect},
		{"google country", "https://www.google.co.uk/", "https://example.com/", "google.co.uk", "Google", ChannelSearch},
		{"duckduckgo", "https://duckduckgo.com/?q=tally", "https://example.com/", "duckduckgo.com", "DuckDuckGo", ChannelSearch},
		{"facebook mobile", "https://m.facebook.com/story.php?id=1", "https://example.com/", "m.facebook.com/story.php", "Facebook", ChannelSocial},
		{"t.co", "https://t.co/abc", "https://example.com/", "t.co/abc", "Twitter", ChannelSocial},
		{"gmail app", "android-app://com.google.android.gm", "https://example.com/", "com.google.android.gm", "Gmail", ChannelEmail},
		{"blog", "https://blog.other.org/post/1?x=y", "https://example.com/", "blog.other.org/post/1", "blog.other.org", ChannelReferral},
		{"self", "https://example.com/pricing", "https://example.com/", "", "", ChannelDirect},
		{"self www", "https://www.example.com/", "https://example.com/", "", "", ChannelDirect},
		{"self subdomain", "https://docs.example.com/", "https://example.com/", "", "", ChannelDirect},
		{"paid gclid", "https://www.google.com/", "https://example.com/?gclid=123", "google.com", "Google", ChannelPaid},
		{"paid medium", "", "https://example.com/?utm_source=bing&utm_medium=cpc", "", "Bing", ChannelPaid},
		{"newsletter", "", "https://example.com/?utm_source=weekly&utm_medium=email", "", "weekly", ChannelEmail},
		{"ref param", "", "https://example.com/?ref=producthunt.com", "", "Product Hunt", ChannelSocial},
		{"source param", "", "https://example.com/?source=partner-site", "", "partner-site", ChannelReferral},
		{"social medium", "", "https://example.com/?utm_source=mastodon.example&utm_medium=social", "", "mastodon.example", ChannelSocial},
		{"junk referrer", "javascript:alert(1)", "https://example.com/", "", "", ChannelDirect},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, _ := url.Parse(c.page)
			got := ClassifyTraffic(c.ref, u.Query(), u.Hostname(), self)
			if got.Referrer != c.referrer || got.Source != c.source || got.Channel != c.channel {
				t.Fatalf("got referrer %q source %q channel %q, want %q %q %q", got.Referrer, got.Source, got.Channel, c.referrer, c.source, c.channel)
			}
		})
	}
}

func TestCleanPath(t *testing.T) {
	cases := []struct {
		url  string
		keep []string
		hash bool
		want string
	}{
		{"https://e.com", nil, false, "/"},
		{"https://e.com/a/b?email=x@y.z&token=1#frag", nil, false, "/a/b"},
		{"https://e.com/search?q=shoes&page=2&email=x", []string{"q", "page"}, false, "/search?page=2&q=shoes"},
		{"https://e.com/app#/settings", nil, true, "/app#/settings"},
		{"https://e.com/app#/settings", nil, false, "/app"},
		{"https://e.com/caf%C3%A9", nil, false, "/caf%C3%A9"},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.url)
		if got := CleanPath(u, c.keep, c.hash); got != c.want {
			t.Errorf("CleanPath(%s, %v, %v) = %q, want %q", c.url, c.keep, c.hash, got, c.want)
		}
	}
}
