package analytics

import (
	"math"
	"strconv"
	"testing"
)

// parseInt must agree with strconv on every int64 PostgreSQL can send
// (visitor hashes use the whole range) and refuse everything else.
func TestParseIntMatchesStrconv(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "1099515468248", "-4611686018427387904",
		strconv.FormatInt(math.MaxInt64, 10), strconv.FormatInt(math.MinInt64, 10)} {
		want, _ := strconv.ParseInt(s, 10, 64)
		got, err := parseInt([]byte(s))
		if err != nil || got != want {
			t.Errorf("parseInt(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-", "+1", "1.5", "12a", "9223372036854775808", "-9223372036854775809", "99999999999999999999"} {
		if got, err := parseInt([]byte(s)); err == nil {
			t.Errorf("parseInt(%q) = %d, want an error", s, got)
		}
	}
}

func TestInternerSharesOneStringPerValue(t *testing.T) {
	in := interner{}
	buf := []byte("Google")
	a := in.get(buf)
	buf[0] = 'X' // the row buffer is reused by the next row
	b := in.get([]byte("Google"))
	if a != "Google" || b != "Google" || in.get(nil) != "" || len(in) != 1 {
		t.Fatalf("interner: %q %q, %d entries", a, b, len(in))
	}
}
