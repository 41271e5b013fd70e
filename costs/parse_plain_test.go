package costs

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The fast path must give exactly what the general parser gives (same
// coefficient and exponent), and leave every other spelling to it.
func TestParsePlainDecimalMatchesGeneralParser(t *testing.T) {
	cases := []struct {
		in     string
		plain  bool // taken by the fast path
		reason string
	}{
		{"0", true, "zero"},
		{"-0.0", true, "negative zero"},
		{"1.50", true, "trailing zero kept in the exponent"},
		{"0.377956548100", true, "twelve places"},
		{"-123456789012.345678", true, "18 digits"},
		{"007.5", true, "leading zeros"},
		{"1234567890123456789", false, "19 digits"},
		{"0.0000000000001", false, "13 places: the general path decides"},
		{"1.", false, "point without places"},
		{".5", false, "no integer digits"},
		{"+1", false, "plus sign"},
		{"1e5", false, "exponent"},
		{" 1.5", false, "space"},
		{"-", false, "sign alone"},
		{"", false, "empty"},
		{"1.2.3", false, "two points"},
		{"NULL", false, "word"},
	}
	for _, tc := range cases {
		d, ok := parsePlainDecimal(tc.in)
		if ok != tc.plain {
			t.Errorf("%q (%s): fast path took it = %v, want %v", tc.in, tc.reason, ok, tc.plain)
			continue
		}
		if ok {
			checkSame(t, tc.in, d)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var sb strings.Builder
		if rng.IntN(3) == 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.FormatUint(rng.Uint64N(1e9), 10))
		if p := rng.IntN(14); p > 0 {
			sb.WriteByte('.')
			for range p {
				sb.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		s := sb.String()
		if d, ok := parsePlainDecimal(s); ok {
			checkSame(t, s, d)
		} else if _, err := decimal.NewFromString(s); err != nil {
			t.Fatalf("%q: generated an invalid number", s)
		}
	}
}

func checkSame(t *testing.T, s string, d decimal.Decimal) {
	t.Helper()
	want := decimal.RequireFromString(s)
	if d.Exponent() != want.Exponent() || d.Coefficient().Cmp(want.Coefficient()) != 0 {
		t.Errorf("%q: fast path %s (coef %s exp %d), general %s (coef %s exp %d)", s, d, d.Coefficient(), d.Exponent(), want, want.Coefficient(), want.Exponent())
	}
}
