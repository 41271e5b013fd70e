package costs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// maxScale is the number of decimal places the store keeps exactly
// (PostgreSQL NUMERIC(38,12)).
const maxScale = 12

// isNull reports whether a CSV field means "no value": empty, or the bare
// word NULL that real exports write even in mandatory columns.
func isNull(s string) bool {
	return s == "" || s == "NULL" || s == "null"
}

var errScale = errors.New("more than 12 decimal places")

// parseDecimal reads an exact decimal. Money with more than 12 significant
// decimal places is refused rather than rounded; quantities and unit
// prices (round=true) are rounded half-even to 12 places.
func parseDecimal(s string, round bool) (decimal.Decimal, error) {
	if d, ok := parsePlainDecimal(s); ok {
		return d, nil
	}
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", clip(s))
	}
	if d.Exponent() < -maxScale {
		if r := d.RoundBank(maxScale); round || r.Equal(d) {
			return r, nil
		}
		return decimal.Decimal{}, errScale
	}
	return d, nil
}

// parsePlainDecimal reads the common spelling of an amount, an optional
// minus and at most 18 digits with at most maxScale of them after a point,
// without the general parser (a tenth of an import's CPU time went to it).
// It gives the same coefficient and exponent as decimal.NewFromString; ok
// is false for anything else, which the general parser then reads.
func parsePlainDecimal(s string) (d decimal.Decimal, ok bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	var coef int64
	digits, places := 0, -1
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if places >= 0 || digits == 0 {
				return decimal.Decimal{}, false
			}
			places = 0
			continue
		}
		if c < '0' || c > '9' || digits == 18 {
			return decimal.Decimal{}, false
		}
		coef = coef*10 + int64(c-'0')
		digits++
		if places >= 0 {
			places++
		}
	}
	if digits == 0 || places == 0 || places > maxScale {
		return decimal.Decimal{}, false
	}
	if neg {
		coef = -coef
	}
	return decimal.New(coef, -int32(max(places, 0))), true
}

// timeLayouts are the timestamp spellings seen in real exports: RFC 3339,
// the space-separated form without a zone (UTC) and a bare date.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05 MST",
	time.DateOnly,
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp (want RFC 3339 or YYYY-MM-DD HH:MM:SS)", clip(s))
}

func parseCurrency(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 3 {
		return "", fmt.Errorf("%q is not a 3-letter currency code", clip(s))
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return "", fmt.Errorf("%q is not a 3-letter currency code", clip(s))
		}
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// monthBounds returns the calendar month (UTC) around t, the billing period
// assumed when an export leaves it null.
func monthBounds(t time.Time) (time.Time, time.Time) {
	s := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return s, s.AddDate(0, 1, 0)
}
