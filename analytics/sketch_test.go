package analytics

import (
	"math"
	"math/rand/v2"
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
