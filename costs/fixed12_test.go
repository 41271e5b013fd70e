package costs

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// fixed12 must agree with decimal arithmetic wherever it accepts a value,
// and refuse what it cannot hold exactly.
func TestFixed12MatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name string
		vals []string
	}{
		{"small", []string{"0.01", "1.5", "-0.25", "0"}},
		{"twelve places", []string{"0.000000000001", "123.456789012345", "-0.999999999999"}},
		{"large", []string{"999999.999999999999", "12345678901234567", "-5000000000000000"}},
		{"cancel", []string{"7.77", "-7.77", "1e-12", "-1e-12"}},
	}
	var random []string
	for range 2000 {
		c := rng.Int64N(1e17) - 5e16
		random = append(random, decimal.New(c, -int32(rng.IntN(13))).String())
	}
	cases = append(cases, struct {
		name string
		vals []string
	}{"random", random})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f fixed12
			want := decimal.Zero
			for _, s := range tc.vals {
				d := decimal.RequireFromString(s)
				if !f.add(d) {
					t.Fatalf("add(%s) refused", s)
				}
				want = want.Add(d)
			}
			if got := f.decimal(); !got.Equal(want) {
				t.Fatalf("sum = %s, want %s", got, want)
			}
		})
	}
	refused := []string{"0.0000000000001", "99999999999999.999999999999", "1234567890123456789", "1e20"}
	for _, s := range refused {
		var f fixed12
		if f.add(decimal.RequireFromString(s)) {
			t.Errorf("add(%s) accepted a value fixed12 cannot hold exactly", s)
		}
		if !f.decimal().IsZero() {
			t.Errorf("a refused add(%s) changed the sum to %s", s, f.decimal())
		}
	}
}

// The index reads amounts as PostgreSQL prints them; its parser must give
// the decimal's exact value, and refuse what does not fit.
func TestParseFixed12(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"1.5", true}, {"-0.000000000001", true}, {"12345678901234.123456789012", true},
		{"99999999999999999999999999.999999999999", true}, {"-42.100000000000", true},
		{"1.0000000000001", false}, {"", false}, {"-", false}, {"1e5", false}, {".5", false}, {"1.2.3", false},
		{"999999999999999999999999999999", false},
	} {
		f, ok := parseFixed12(c.in)
		if ok != c.ok {
			t.Errorf("%q: ok %v, want %v", c.in, ok, c.ok)
			continue
		}
		if ok {
			want := decimal.RequireFromString(c.in)
			if got := f.decimal(); !got.Equal(want) {
				t.Errorf("%q: got %s", c.in, got)
			}
		}
	}
}

// The index's vectors give back what was put in them, and zero past their
// end (a resource first billed after that day).
func TestIndexVectors(t *testing.T) {
	vals := []string{"0", "1.5", "-2.000000000001", "99999999999999999999999999.999999999999", "-99999999999999999999999999.999999999999"}
	sums := make([]resourceSums, len(vals))
	for i, v := range vals {
		if !sums[i].add(v, v, v) {
			t.Fatalf("add %s", v)
		}
	}
	var day indexDay
	day.encode(sums[:1]) // the vectors are reused: a shorter day first
	day.encode(sums)
	for i, v := range vals {
		for name, vec := range map[string][]byte{"billed": day.billed, "effective": day.effective, "list": day.list} {
			if got := fixedAt(vec, i).decimal(); !got.Equal(decimal.RequireFromString(v)) {
				t.Errorf("%s[%d] = %s, want %s", name, i, got, v)
			}
		}
		if n := countAt(day.counts, i); n != 1 {
			t.Errorf("count[%d] = %d", i, n)
		}
	}
	if f := fixedAt(day.billed, len(vals)); f != (fixed12{}) {
		t.Errorf("past the end: %v", f)
	}
	if n := countAt(day.counts, len(vals)); n != 0 {
		t.Errorf("count past the end: %d", n)
	}
	// A running sum past 128 bits is refused rather than wrapped.
	var s resourceSums
	max := vals[3]
	if !s.add(max, max, max) || s.add(max, max, max) {
		t.Error("two maximal amounts must not fit one sum")
	}
}
