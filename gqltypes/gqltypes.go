// Package gqltypes holds the hand-written GraphQL scalars: Decimal (exact
// money, serialized as a string), Date (YYYY-MM-DD) and JSON.
package gqltypes

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal number, sent as a string so that no client
// turns money into a float.
type Decimal struct{ decimal.Decimal }

// NewDecimal wraps a decimal.
func NewDecimal(d decimal.Decimal) Decimal { return Decimal{d} }

// MarshalGQL writes the decimal as a JSON string.
func (d Decimal) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(d.Decimal.String()))
}

// UnmarshalGQL accepts a string or a number.
func (d *Decimal) UnmarshalGQL(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case int, int64, float64:
		s = fmt.Sprint(x)
	default:
		return fmt.Errorf("Decimal must be a string such as \"12.34\", got %T", v)
	}
	dec, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("%q is not a decimal number", s)
	}
	d.Decimal = dec
	return nil
}

// Date is a calendar day without a time zone.
type Date struct{ Year, Month, Day int }

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { return Date{t.Year(), int(t.Month()), t.Day()} }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// In returns midnight of the day in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, loc)
}

// String formats YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// MarshalGQL writes the date as a string.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) }

// UnmarshalGQL reads a YYYY-MM-DD string.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("Date must be a string in the form YYYY-MM-DD, got %T", v)
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// JSON is any JSON value.
type JSON struct{ V any }

// MarshalGQL writes the value as JSON.
func (j JSON) MarshalGQL(w io.Writer) {
	b, err := json.Marshal(j.V)
	if err != nil {
		b = []byte("null")
	}
	_, _ = w.Write(b)
}

// UnmarshalGQL keeps the value as decoded.
func (j *JSON) UnmarshalGQL(v any) error { j.V = v; return nil }
