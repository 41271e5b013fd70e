package insights

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Categories a recommendation may have.
var Categories = []string{"cost_anomaly", "cost_trend", "governance", "unit_economics", "traffic", "budget", "commitment", "conversion", "other"}

// Evidence cites a key of the summary as a JSON Pointer (RFC 6901), such as
// "/spend/by_service/0/change_pct", with the value found there.
type Evidence struct {
	Key   string `json:"key"`
	Value any    `json:"value,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Recommendation is one suggested action.
type Recommendation struct {
	ID          int64      `json:"id,omitempty"`
	Fingerprint string     `json:"fingerprint"`
	Title       string     `json:"title"`
	Category    string     `json:"category"`
	Impact      *Money     `json:"monthly_impact"`
	Confidence  float64    `json:"confidence"`
	Actions     []string   `json:"actions"`
	Evidence    []Evidence `json:"evidence"`
	// Unverified lists numbers in the text and evidence keys that the
	// payload does not contain: they are shown as unverified, not as fact.
	Unverified []string  `json:"unverified"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	TimesSeen  int       `json:"times_seen"`
	FirstRunID int64     `json:"first_run_id,omitempty"`
	LastRunID  int64     `json:"last_run_id,omitempty"`
	FirstSeen  time.Time `json:"first_seen_at"`
	LastSeen   time.Time `json:"last_seen_at"`
}

// Recommendation statuses.
const (
	StatusOpen      = "open"
	StatusDone      = "done"
	StatusDismissed = "dismissed"
)

var reNumber = regexp.MustCompile(`\b\d[\d,]*(?:\.\d+)?\b`)

// Verify fills in evidence values from the payload and lists in Unverified
// every evidence key the payload lacks and every number in the title,
// actions or evidence notes that no value of the payload matches (at the
// precision written).
func Verify(r *Recommendation, payload []byte) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	_ = dec.Decode(&doc)
	known := payloadNumbers(doc)
	r.Unverified = []string{}
	seen := map[string]bool{}
	flag := func(s string) {
		if !seen[s] {
			seen[s] = true
			r.Unverified = append(r.Unverified, s)
		}
	}
	for i, e := range r.Evidence {
		v, ok := pointer(doc, e.Key)
		if !ok {
			flag("evidence key " + e.Key)
			continue
		}
		if n, isNum := v.(json.Number); isNum {
			v = json.RawMessage(n.String())
		}
		r.Evidence[i].Value = v
	}
	texts := append([]string{r.Title}, r.Actions...)
	for _, e := range r.Evidence {
		texts = append(texts, e.Note)
	}
	for _, t := range texts {
		for _, m := range reNumber.FindAllString(t, -1) {
			if !numberKnown(m, known) {
				flag(m)
			}
		}
	}
}

func numberKnown(s string, known []float64) bool {
	clean := strings.ReplaceAll(s, ",", "")
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return false
	}
	decimals := 0
	if i := strings.IndexByte(clean, '.'); i >= 0 {
		decimals = len(clean) - i - 1
	}
	tol := 0.5*math.Pow(10, -float64(decimals)) + 1e-9
	for _, k := range known {
		if math.Abs(math.Abs(k)-f) <= tol {
			return true
		}
	}
	return false
}

// payloadNumbers collects every number of the payload: numeric values,
// decimal strings and the digit runs inside strings (dates, names).
func payloadNumbers(v any) []float64 {
	var out []float64
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case json.Number:
			if f, err := x.Float64(); err == nil {
				out = append(out, f)
			}
		case string:
			if d, err := decimal.NewFromString(x); err == nil {
				f, _ := d.Float64()
				out = append(out, f)
				return
			}
			for _, m := range reNumber.FindAllString(x, -1) {
				if f, err := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64); err == nil {
					out = append(out, f)
				}
			}
		}
	}
	walk(v)
	return out
}

// pointer resolves a JSON Pointer in a decoded document.
func pointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// Fingerprint identifies "the same recommendation" across weeks: the
// category and the title with numbers removed, so "EC2 up 40%" and next
// week's "EC2 up 55%" merge.
func Fingerprint(category, title string) string {
	t := strings.ToLower(reNumber.ReplaceAllString(title, "#"))
	t = strings.Join(strings.Fields(t), " ")
	h := sha256.Sum256([]byte(category + "\x00" + t))
	return category + ":" + hex.EncodeToString(h[:8])
}

// Validate checks a recommendation's shape (from an LLM or the rules).
func (r *Recommendation) Validate() error {
	if strings.TrimSpace(r.Title) == "" || len(r.Title) > 200 {
		return fmt.Errorf("title must be 1 to 200 characters")
	}
	ok := false
	for _, c := range Categories {
		if r.Category == c {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("category %q is not one of %s", r.Category, strings.Join(Categories, ", "))
	}
	if r.Confidence < 0 || r.Confidence > 1 || math.IsNaN(r.Confidence) {
		return fmt.Errorf("confidence %v is not between 0 and 1", r.Confidence)
	}
	if len(r.Actions) == 0 {
		return fmt.Errorf("at least one action is required")
	}
	for i, a := range r.Actions {
		if strings.TrimSpace(a) == "" || len(a) > 500 {
			return fmt.Errorf("action %d must be 1 to 500 characters", i+1)
		}
	}
	if len(r.Evidence) == 0 {
		return fmt.Errorf("at least one evidence key is required")
	}
	if r.Impact != nil {
		if len(r.Impact.Currency) != 3 || strings.ToUpper(r.Impact.Currency) != r.Impact.Currency {
			return fmt.Errorf("impact currency %q is not an ISO 4217 code", r.Impact.Currency)
		}
	}
	return nil
}
