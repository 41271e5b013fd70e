package costs

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/shopspring/decimal"
	"io"
	"strings"
	"time"
)

// focusReader turns a FOCUS CSV stream into Rows one at a time, so that
// memory stays flat whatever the file size. Columns are found by header
// name, in any order; unknown columns (provider extensions such as x_…) are
// ignored.
type focusReader struct {
	cr     *csv.Reader
	idx    []int // per entry of columns: field index, or -1 when absent
	width  int
	times  map[string]time.Time // real exports repeat a few hundred timestamps
	record []string
}

// required are the columns without which a row cannot be placed or summed.
var required = []string{"ChargePeriodStart", "ChargePeriodEnd", "BilledCost", "BillingCurrency"}

func newFocusReader(r io.Reader) (*focusReader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("line 1: the file is empty, expected a FOCUS header row")
	}
	if err != nil {
		return nil, fmt.Errorf("line 1: cannot read the header: %w", err)
	}
	pos := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		pos[strings.ToLower(h)] = i
	}
	f := &focusReader{cr: cr, idx: make([]int, len(columns)), width: len(header), times: map[string]time.Time{}}
	for i, c := range columns {
		if p, ok := pos[strings.ToLower(c.focus)]; ok {
			f.idx[i] = p
		} else {
			f.idx[i] = -1
		}
	}
	var missing []string
	for _, name := range required {
		if _, ok := pos[strings.ToLower(name)]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("line 1: the header lacks the FOCUS column(s) %s", strings.Join(missing, ", "))
	}
	return f, nil
}

// next reads one row into r. It returns io.EOF at the end, a non-nil errs
// for an invalid row (the stream goes on), or another error when the
// stream itself cannot be read.
func (f *focusReader) next(r *Row) (line int, errs []RowError, err error) {
	rec, err := f.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return pe.StartLine, []RowError{{Line: pe.StartLine, Reason: pe.Err.Error()}}, nil
		}
		return 0, nil, err
	}
	line, _ = f.cr.FieldPos(0)
	if len(rec) != f.width {
		return line, []RowError{{Line: line, Reason: fmt.Sprintf("has %d fields, the header has %d", len(rec), f.width)}}, nil
	}
	*r = Row{}
	for i, c := range columns {
		var v string
		if p := f.idx[i]; p >= 0 {
			v = rec[p]
		}
		null := isNull(v)
		bad := func(reason string) { errs = append(errs, RowError{Line: line, Column: c.focus, Reason: reason}) }
		switch c.kind {
		case kindString:
			if !null {
				*c.str(r) = v
			}
		case kindCurrency:
			if null {
				bad("is required")
				continue
			}
			cur, err := parseCurrency(v)
			if err != nil {
				bad(err.Error())
				continue
			}
			*c.str(r) = cur
		case kindMoney:
			if null {
				bad("is required")
				continue
			}
			d, err := parseDecimal(v, false)
			if err != nil {
				bad(err.Error())
				continue
			}
			r.BilledCost = d
			r.text[i] = plainText(v, d)
		case kindDecimal:
			if null {
				continue
			}
			isMoney := strings.HasSuffix(c.focus, "Cost")
			d, err := parseDecimal(v, !isMoney)
			if err != nil {
				bad(err.Error())
				continue
			}
			*c.dec(r) = Dec(d)
			r.text[i] = plainText(v, d)
		case kindTime:
			if null {
				if c.focus == "ChargePeriodStart" || c.focus == "ChargePeriodEnd" {
					bad("is required")
				}
				continue
			}
			t, ok := f.times[v]
			if !ok {
				var err error
				if t, err = parseTime(v); err != nil {
					bad(err.Error())
					continue
				}
				if len(f.times) < 8192 {
					f.times[v] = t
				}
			}
			*c.tm(r) = t
		case kindTags:
			if null {
				continue
			}
			s := strings.TrimSpace(v)
			if !strings.HasPrefix(s, "{") || !json.Valid([]byte(s)) {
				bad("is not a JSON object")
				continue
			}
			r.Tags = s
		}
	}
	if errs == nil {
		errs = r.complete(line)
	}
	return line, errs, nil
}

// complete fills what FOCUS lets exports omit and checks what is left.
func (r *Row) complete(line int) []RowError {
	if r.BillingPeriodStart.IsZero() || r.BillingPeriodEnd.IsZero() {
		s, e := monthBounds(r.ChargePeriodStart)
		if r.BillingPeriodStart.IsZero() {
			r.BillingPeriodStart = s
		}
		if r.BillingPeriodEnd.IsZero() {
			r.BillingPeriodEnd = e
		}
	}
	// Exports that leave EffectiveCost or ListCost null (or omit them) did
	// not amortize or discount: the billed amount is what the charge cost.
	if !r.EffectiveCost.Valid {
		r.EffectiveCost = Dec(r.BilledCost)
	}
	if !r.ListCost.Valid {
		r.ListCost = Dec(r.BilledCost)
	}
	if r.ChargePeriodEnd.Before(r.ChargePeriodStart) {
		return []RowError{{Line: line, Column: "ChargePeriodEnd", Reason: "is before ChargePeriodStart"}}
	}
	if r.Tags == "" {
		r.Tags = "{}"
	}
	return nil
}

// plainText returns v when it is a plain decimal literal (digits, one
// optional dot and sign) that parsed to d without rounding, so that the
// writers can send it unchanged; otherwise "".
func plainText(v string, d decimal.Decimal) string {
	if d.Exponent() < -maxScale || len(v) == 0 || len(v) > 40 {
		return ""
	}
	dot := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		case c == '-' && i == 0 && len(v) > 1:
		default:
			return ""
		}
	}
	return v
}
