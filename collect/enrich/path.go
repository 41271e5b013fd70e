package enrich

import (
	"net/url"
	"sort"
	"strings"
)

// MaxPathLength bounds stored paths.
const MaxPathLength = 2000

// CleanPath returns the page's path without its query string, except the
// parameters named in keep (in a stable order), and with the fragment when
// the site uses hash routing. Query strings often carry e-mail addresses,
// tokens and search terms, so dropping them is the safe default.
func CleanPath(u *url.URL, keep []string, withHash bool) string {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if len(keep) > 0 && u.RawQuery != "" {
		q := u.Query()
		kept := url.Values{}
		for _, k := range keep {
			if vs, ok := q[k]; ok {
				kept[k] = vs
			}
		}
		if len(kept) > 0 {
			keys := make([]string, 0, len(kept))
			for k := range kept {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var b strings.Builder
			for i, k := range keys {
				for j, v := range kept[k] {
					if i+j > 0 {
						b.WriteByte('&')
					}
					b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
				}
			}
			p += "?" + b.String()
		}
	}
	if withHash && u.Fragment != "" {
		p += "#" + u.EscapedFragment()
	}
	if len(p) > MaxPathLength {
		p = p[:MaxPathLength]
	}
	return Clean(p)
}
