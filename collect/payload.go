package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/collect/enrich"
)

// Limits on one event, the same as Plausible's so that trackers written for
// it never hit a surprise.
const (
	MaxBodyBytes     = 8 << 10
	MaxProps         = 30
	MaxPropKeyLen    = 300
	MaxPropValueLen  = 2000
	MaxNameLen       = 120
	MaxURLLen        = 2000
	MaxDomainListLen = 10
)

// payload is the Plausible Events API body: long keys from server-side
// integrations and short keys from trackers.
type payload struct {
	Name        string          `json:"name"`
	N           string          `json:"n"`
	URL         string          `json:"url"`
	U           string          `json:"u"`
	Domain      string          `json:"domain"`
	D           string          `json:"d"`
	Referrer    *string         `json:"referrer"`
	R           *string         `json:"r"`
	Props       json.RawMessage `json:"props"`
	P           json.RawMessage `json:"p"`
	Revenue     json.RawMessage `json:"revenue"`
	Dollar      json.RawMessage `json:"$"`
	Hash        json.RawMessage `json:"h"`
	Interactive *bool           `json:"interactive"`
	I           *bool           `json:"i"`
}

// badRequest is a refusal with a reason label (for /metrics and the JSON
// answer) and a message naming the field.
type badRequest struct {
	status int
	reason string
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func bad(reason, format string, args ...any) *badRequest {
	return &badRequest{status: 400, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// request is a validated payload.
type request struct {
	name        string
	url         *url.URL
	domains     []string
	referrer    string
	props       map[string]string
	revAmount   *string
	revCurrency string
	hash        bool
	interactive bool
}

func parsePayload(body []byte) (*request, *badRequest) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, bad("invalid_json", "the body is empty: send a JSON object such as {\"name\":\"pageview\",\"url\":\"https://example.com/\",\"domain\":\"example.com\"}")
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, bad("invalid_json", "the body is not a valid JSON event object: %s", jsonErr(err))
	}
	r := &request{name: enrich.Clean(first(p.Name, p.N)), interactive: true}
	if r.name == "" {
		return nil, bad("missing_name", "name (n) is required, e.g. \"pageview\"")
	}
	if len(r.name) > MaxNameLen {
		return nil, bad("name_too_long", "name (n) is %d bytes long, the limit is %d", len(r.name), MaxNameLen)
	}
	raw := first(p.URL, p.U)
	if raw == "" {
		return nil, bad("bad_url", "url (u) is required: the full address of the page, e.g. https://example.com/pricing")
	}
	if len(raw) > MaxURLLen {
		return nil, bad("bad_url", "url (u) is %d bytes long, the limit is %d", len(raw), MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, bad("bad_url", "url (u) %q is not an absolute http(s) URL", raw)
	}
	r.url = u
	dom := first(p.Domain, p.D)
	if dom == "" {
		return nil, bad("missing_domain", "domain (d) is required: the site's domain as registered in Tally")
	}
	for _, d := range strings.Split(dom, ",") {
		if d = strings.TrimSpace(d); d != "" {
			r.domains = append(r.domains, d)
		}
	}
	if len(r.domains) == 0 || len(r.domains) > MaxDomainListLen {
		return nil, bad("missing_domain", "domain (d) must name between 1 and %d sites, separated by commas", MaxDomainListLen)
	}
	if p.Referrer != nil {
		r.referrer = *p.Referrer
	} else if p.R != nil {
		r.referrer = *p.R
	}
	props := p.Props
	if len(props) == 0 {
		props = p.P
	}
	if r.props, err = parseProps(props); err != nil {
		return nil, err.(*badRequest)
	}
	rev := p.Revenue
	if len(rev) == 0 {
		rev = p.Dollar
	}
	if br := r.parseRevenue(rev); br != nil {
		return nil, br
	}
	r.hash = truthy(p.Hash)
	if p.Interactive != nil {
		r.interactive = *p.Interactive
	} else if p.I != nil {
		r.interactive = *p.I
	}
	return r, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truthy(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "1" || s == "true" || s == `"1"` || s == `"true"`
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s, not a JSON %s", te.Field, te.Type.Kind(), te.Value)
	}
	return err.Error()
}

// unwrapString accepts both an object and a string holding an object's
// JSON, since trackers send props as JSON.stringify(...).
func unwrapString(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return json.RawMessage(strings.TrimSpace(s)), nil
	}
	return raw, nil
}

func parseProps(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return out, nil
	}
	raw, err := unwrapString(raw)
	if err != nil || len(raw) == 0 || raw[0] != '{' {
		return nil, bad("props_invalid", "props (p) must be a JSON object of strings, numbers or booleans")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, bad("props_invalid", "props (p) must be a JSON object: %s", jsonErr(err))
	}
	if len(m) > MaxProps {
		return nil, bad("too_many_props", "props (p) has %d properties, the limit is %d", len(m), MaxProps)
	}
	for k, v := range m {
		if k == "" {
			return nil, bad("props_invalid", "props (p) has an empty property name")
		}
		if len(k) > MaxPropKeyLen {
			return nil, bad("prop_too_long", "props (p): the name %.40q… is %d bytes long, the limit is %d", k, len(k), MaxPropKeyLen)
		}
		s, ok := scalar(v)
		if !ok {
			return nil, bad("props_invalid", "props (p): %q must be a string, number or boolean", k)
		}
		if s == "" {
			continue // null and empty values are dropped, as Plausible does
		}
		if len(s) > MaxPropValueLen {
			return nil, bad("prop_too_long", "props (p): the value of %q is %d bytes long, the limit is %d", k, len(s), MaxPropValueLen)
		}
		out[enrich.Clean(k)] = enrich.Clean(s)
	}
	return out, nil
}

func scalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case 'n':
		return "", true
	case 't', 'f':
		return string(v), true
	case '{', '[':
		return "", false
	}
	if _, err := strconv.ParseFloat(string(v), 64); err != nil {
		return "", false
	}
	return string(v), true
}

func (r *request) parseRevenue(raw json.RawMessage) *badRequest {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	raw, err := unwrapString(raw)
	if err != nil {
		return bad("revenue_invalid", "revenue ($) must be an object {\"amount\": \"29.00\", \"currency\": \"EUR\"}")
	}
	var rv struct {
		Amount   json.RawMessage `json:"amount"`
		Currency string          `json:"currency"`
	}
	if err := json.Unmarshal(raw, &rv); err != nil {
		return bad("revenue_invalid", "revenue ($) must be an object {\"amount\": \"29.00\", \"currency\": \"EUR\"}")
	}
	amt := strings.Trim(string(bytes.TrimSpace(rv.Amount)), `"`)
	d, err := decimal.NewFromString(amt)
	if err != nil || len(amt) > 40 {
		return bad("revenue_invalid", "revenue.amount %q is not a decimal number", amt)
	}
	cur := strings.ToUpper(strings.TrimSpace(rv.Currency))
	if len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return bad("revenue_invalid", "revenue.currency %q is not an ISO 4217 code such as EUR", rv.Currency)
	}
	// NUMERIC(38,12): 26 digits before the point at most
	if d.Abs().GreaterThanOrEqual(decimal.New(1, 26)) {
		return bad("revenue_invalid", "revenue.amount %q is too large", amt)
	}
	s := d.Round(12).String()
	r.revAmount, r.revCurrency = &s, cur
	return nil
}
