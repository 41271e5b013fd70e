package analytics

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestSketchExactThenWithinOnePercent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 999, ExactLimit, ExactLimit + 1, 50_000, 400_000} {
		// split the visitors over 24 sketches with overlap, as hourly or daily
		// rows are merged by a query
		parts := make([]*Sketch, 24)
		for i := range parts {
			parts[i] = NewSketch()
		}
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = r.Int64()
		}
		for i, id := range ids {
			parts[i%24].Add(id)
			parts[(i*7)%24].Add(id) // the same visitor in another part
		}
		merged := NewSketch()
		for _, p := range parts {
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := merged.MergeBinary(b); err != nil {
				t.Fatal(err)
			}
		}
		got := merged.Count()
		if n <= ExactLimit {
			if got != int64(n) {
				t.Errorf("%d visitors: counted %d, want exact", n, got)
			}
			continue
		}
		if e := math.Abs(float64(got)-float64(n)) / float64(n); e > 0.01 {
			t.Errorf("%d visitors: counted %d, error %.2f%% > 1%%", n, got, 100*e)
		}
	}
}

func TestSketchRejectsGarbage(t *testing.T) {
	s := NewSketch()
	for _, b := range [][]byte{{9}, {sketchExact, 1, 2, 3}, {sketchHLL, 1}} {
		if err := s.MergeBinary(b); err == nil {
			t.Errorf("%v: merged garbage", b)
		}
	}
}

// repeatedHashes returns n hashes drawn from distinct values with repeats,
// plus the number of distinct ones counted with a map.
func repeatedHashes(r *rand.Rand, n, distinct int, withZero bool) ([]uint64, int) {
	pool := make([]uint64, distinct)
	for i := range pool {
		pool[i] = mix(r.Uint64())
	}
	if withZero {
		pool[0] = 0
	}
	out := make([]uint64, n)
	seen := map[uint64]bool{}
	for i := range out {
		out[i] = pool[r.IntN(len(pool))]
		seen[out[i]] = true
	}
	return out, len(seen)
}

func TestDedupeSmallAndPartitioned(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		n, distinct int
		zero        bool
	}{
		{2, 1, false}, {100, 30, true}, {2 * dedupePart, dedupePart, false},
		{2*dedupePart + 1, 2 * dedupePart, true}, {300_000, 225_000, true}, {300_000, 10, false},
	} {
		hashes, want := repeatedHashes(r, c.n, c.distinct, c.zero)
		s := &Sketch{set: hashes}
		if got := s.Count(); got != int64(want) {
			t.Errorf("n=%d distinct=%d: count %d, want %d", c.n, c.distinct, got, want)
		}
		seen := map[uint64]bool{}
		for _, h := range s.set {
			if seen[h] {
				t.Fatalf("n=%d: %x kept twice", c.n, h)
			}
			seen[h] = true
		}
	}
}

func BenchmarkDedupe(b *testing.B) {
	for _, n := range []int{5_000, 300_000} {
		src, _ := repeatedHashes(rand.New(rand.NewPCG(1, 2)), n, n*3/4, false)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			buf := make([]uint64, n)
			for b.Loop() {
				copy(buf, src)
				s := Sketch{set: buf}
				s.dedupe()
			}
		})
	}
}
