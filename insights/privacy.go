package insights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/shopspring/decimal"
)

// DefaultK is the smallest number of distinct visitors a dimension value
// needs to appear in a summary by name; rarer values fold into Other.
const DefaultK = 5

// Other is the name rare and unsafe values are folded into.
const Other = "(other)"

var (
	reEmail   = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+(@|%40)[a-z0-9.\-]+\.[a-z]{2,}`)
	reIPv4    = regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}\b`)
	reIPv6    = regexp.MustCompile(`(?i)\b(?:[0-9a-f]{0,4}:){3,7}[0-9a-f]{0,4}\b`)
	reUUID    = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b`)
	reHexHash = regexp.MustCompile(`(?i)\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b`)
	reLongNum = regexp.MustCompile(`\d{6,}`)
	reToken   = regexp.MustCompile(`(?i)\b(tly_|sk-|xox[abp]-|ghp_|bearer\s)[a-z0-9_\-]*`)
	reUA      = regexp.MustCompile(`(?i)mozilla/\d|applewebkit|gecko/|msie \d|trident/`)
	reQuery   = regexp.MustCompile(`\?[^\s"]*=`)
	reNumSeg  = regexp.MustCompile(`^\d+$`)
)

// NormalizePath makes a page path safe to share: query string and fragment
// dropped, and segments that identify someone or something (numbers, UUIDs,
// hashes, e-mail-like and IP-like segments, long opaque tokens) replaced by
// placeholders. "/users/42/orders/1b4e28ba-2fa1-11d2-883f-0016d3cca427"
// becomes "/users/{n}/orders/{uuid}".
func NormalizePath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = normalizeSegment(s)
	}
	out := strings.Join(segs, "/")
	if !strings.HasPrefix(out, "/") {
		out = "/" + out
	}
	if len(out) > 200 {
		out = out[:200]
	}
	return out
}

func normalizeSegment(s string) string {
	switch {
	case s == "":
		return s
	case reEmail.MatchString(s):
		return "{email}"
	case reIPv4.MatchString(s) || (strings.Count(s, ":") >= 2 && reIPv6.MatchString(s)):
		return "{ip}"
	case reNumSeg.MatchString(s):
		return "{n}"
	case len(s) >= 16 && isHex(s):
		return "{hash}"
	case reUUID.MatchString(s):
		return "{uuid}"
	case reLongNum.MatchString(s):
		return "{id}"
	case len(s) >= 24 && opaque(s):
		return "{token}"
	}
	return s
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// opaque reports a long segment mixing letters and digits without word
// separators, such as a session token or a signed link.
func opaque(s string) bool {
	var letters, digits int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '=':
			letters++
		case r == '-':
		default:
			return false
		}
	}
	return digits > 0 && letters > 0 && !strings.Contains(s, "-")
}

// CleanValue makes a non-path dimension value safe: values that look like an
// e-mail address, an IP address, an identifier or a token become Other;
// URLs lose their path and query. Empty values become "(none)".
func CleanValue(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return "(none)"
	}
	if strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			v = u.Hostname()
		}
	}
	if len(v) > 100 || personal(v) {
		return Other
	}
	return v
}

// personal reports whether a string looks like it names or tracks a person
// or a secret.
func personal(s string) bool {
	return reEmail.MatchString(s) || reIPv4.MatchString(s) || (strings.Count(s, ":") >= 3 && reIPv6.MatchString(s)) ||
		reUUID.MatchString(s) || reToken.MatchString(s) || reUA.MatchString(s) || reQuery.MatchString(s) ||
		reLongNum.MatchString(s) || (len(s) >= 16 && hexHashLike(s))
}

func hexHashLike(s string) bool {
	for _, m := range reHexHash.FindAllString(s, -1) {
		if len(m) >= 16 {
			return true
		}
	}
	return false
}

// Fold keeps values seen by at least k visitors and folds the rest into one
// Other row (whose visitors are the sum of the folded rows: an upper bound,
// as one visitor may be behind several). Rows are sorted by visitors, then
// count, then value, and cut to limit named rows.
func Fold(rows []DimCount, k int64, limit int) []DimCount {
	var keep []DimCount
	var other DimCount
	other.Value = Other
	for _, r := range rows {
		if r.Visitors >= k && r.Value != Other {
			keep = append(keep, r)
			continue
		}
		other.Visitors += r.Visitors
		other.Count += r.Count
	}
	sort.Slice(keep, func(i, j int) bool {
		if keep[i].Visitors != keep[j].Visitors {
			return keep[i].Visitors > keep[j].Visitors
		}
		if keep[i].Count != keep[j].Count {
			return keep[i].Count > keep[j].Count
		}
		return keep[i].Value < keep[j].Value
	})
	if limit > 0 && len(keep) > limit {
		for _, r := range keep[limit:] {
			other.Visitors += r.Visitors
			other.Count += r.Count
		}
		keep = keep[:limit]
	}
	if other.Visitors > 0 || other.Count > 0 {
		keep = append(keep, other)
	}
	return keep
}

// ErrPrivacy is returned (wrapped) when a payload fails the final scan.
var ErrPrivacy = errors.New("privacy guard")

// forbiddenKeys are object keys no payload may carry, whatever their value.
var forbiddenKeys = map[string]bool{
	"ip": true, "ip_address": true, "email": true, "visitor_id": true, "session_id": true,
	"salt": true, "token": true, "user_agent": true, "ua": true, "props": true, "query": true,
}

// Scan checks a serialized payload for anything personal-looking: e-mail
// addresses, IP addresses, UUIDs and hashes, tokens, query strings, raw user
// agents, long digit runs, and keys naming identifiers. It returns every
// finding, wrapped in ErrPrivacy, or nil when the payload is clean.
func Scan(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%w: payload is not JSON: %v", ErrPrivacy, err)
	}
	var findings []string
	walkJSON(v, "", func(path string, key string, s string, isKey bool) {
		if isKey {
			if forbiddenKeys[strings.ToLower(key)] {
				findings = append(findings, fmt.Sprintf("%s: forbidden key %q", path, key))
			}
			return
		}
		if _, err := decimal.NewFromString(s); err == nil {
			return // an amount
		}
		if personal(s) {
			findings = append(findings, fmt.Sprintf("%s: personal-looking value", path))
		}
	})
	if len(findings) > 0 {
		sort.Strings(findings)
		return fmt.Errorf("%w: payload refused: %s", ErrPrivacy, strings.Join(findings, "; "))
	}
	return nil
}

func walkJSON(v any, path string, visit func(path, key, s string, isKey bool)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := path + "/" + k
			visit(p, k, "", true)
			if personal(k) {
				visit(p, "", k, false)
			}
			walkJSON(e, p, visit)
		}
	case []any:
		for i, e := range x {
			walkJSON(e, fmt.Sprintf("%s/%d", path, i), visit)
		}
	case string:
		visit(path, "", x, false)
	}
}
