package collect

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"untrusted peer ignores header", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins over spoofed left", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.1, 10.0.0.9"}, "198.51.100.1"},
		{"several headers", "10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.2, 10.0.0.9"}, "198.51.100.2"},
		{"all trusted gives left-most", "10.1.2.3:4000", []string{"10.0.0.7, 10.0.0.9"}, "10.0.0.7"},
		{"no header", "10.1.2.3:4000", nil, "10.1.2.3"},
		{"garbage stops the walk", "10.1.2.3:4000", []string{"198.51.100.3, junk, 10.0.0.9"}, "10.0.0.9"},
		{"ipv6 with port", "[fd00::1]:443", []string{"[2001:db8::5]:1234"}, "2001:db8::5"},
		{"mapped v4", "[::ffff:10.0.0.1]:80", []string{"198.51.100.4"}, "198.51.100.4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddr(r, trusted); got.String() != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}
