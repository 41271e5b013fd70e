package collect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParsePayload: any body either parses into a request within the
// limits or is refused with a reason; it never panics.
func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{
		`{"n":"pageview","u":"https://example.com/","d":"example.com"}`,
		`{"name":"Signup","url":"https://example.com/x?y=1","domain":"a.com,b.com","props":{"a":1,"b":true,"c":null},"revenue":{"amount":"1.5","currency":"EUR"}}`,
		`{"n":"e","u":"https://e.com","d":"e.com","p":"{\"k\":\"v\"}","$":"{\"amount\":2,\"currency\":\"usd\"}","h":1,"i":false}`,
		`{"n":"e","u":"http://[::1]:80/","d":"x","r":null}`,
		`[]`, `null`, `"x"`, `{"p":{"a":{"b":1}}}`, `{"n":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, br := parsePayload(body)
		if (r == nil) == (br == nil) {
			t.Fatalf("parsePayload returned %v and %v", r, br)
		}
		if br != nil {
			if br.reason == "" || br.msg == "" || br.status < 400 {
				t.Fatalf("refusal without reason: %+v", br)
			}
			return
		}
		if r.name == "" || len(r.name) > MaxNameLen || r.url == nil || (r.url.Scheme != "http" && r.url.Scheme != "https") || len(r.domains) == 0 {
			t.Fatalf("accepted an invalid request: %+v", r)
		}
		if len(r.props) > MaxProps {
			t.Fatalf("%d props", len(r.props))
		}
		if !utf8.ValidString(r.name) || strings.IndexByte(r.name, 0) >= 0 {
			t.Fatalf("name %q not storable", r.name)
		}
		for k, v := range r.props {
			if !utf8.ValidString(k+v) || strings.IndexByte(k+v, 0) >= 0 {
				t.Fatalf("prop %q=%q not storable", k, v)
			}
			if k == "" || len(k) > MaxPropKeyLen || len(v) > MaxPropValueLen {
				t.Fatalf("prop %q=%q out of limits", k, v)
			}
		}
		if r.revAmount != nil && (len(r.revCurrency) != 3 || strings.ToUpper(r.revCurrency) != r.revCurrency) {
			t.Fatalf("revenue %v %q", *r.revAmount, r.revCurrency)
		}
	})
}
