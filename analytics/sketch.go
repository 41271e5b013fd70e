package analytics

import (
	"encoding/binary"
	"fmt"

	"github.com/axiomhq/hyperloglog"
)

// ExactLimit is the number of distinct visitors up to which a sketch keeps
// the exact set; above it the count is a HyperLogLog++ estimate with
// precision 16 (standard error 0.41%, so within 1% for 99% of answers).
const ExactLimit = 10000

const (
	sketchExact byte = 1
	sketchHLL   byte = 2
)

// Sketch counts distinct visitors and merges with other sketches. Stored
// sketches are exact sets of visitor hashes up to ExactLimit and
// HyperLogLog++ above. While a query merges stored sketches it keeps the
// union exact as long as every part was exact and the union has at most
// queryExactLimit visitors, so answers are exact below ExactLimit and usually
// well above it.
type Sketch struct {
	// set holds visitor hashes, possibly repeated until the next dedupe;
	// appending is much cheaper than a hash set when a query merges
	// thousands of small rows.
	set []uint64
	hll *hyperloglog.Sketch
}

// queryExactLimit bounds the exact unions built by queries (8 MiB each).
const queryExactLimit = 1 << 20

// NewSketch returns an empty sketch.
func NewSketch() *Sketch { return &Sketch{} }

// dedupe removes repeated hashes. Small sets go straight through an
// open-addressing table (the hashes are already uniformly mixed, so their
// low bits index it directly). Large sets are first split by their top bits
// into parts of about dedupePart hashes, each deduplicated with a table that
// stays in the CPU cache: a table for the whole set misses the cache on
// nearly every probe, which made counting a 30-day union of 200,000+
// visitors the slowest part of a dashboard.
func (s *Sketch) dedupe() {
	n := len(s.set)
	if n < 2 {
		return
	}
	if n <= 2*dedupePart {
		s.set = dedupeTable(s.set, s.set[:0], nil)
		return
	}
	bits := 1
	for n>>bits > dedupePart {
		bits++
	}
	parts := 1 << bits
	shift := 64 - bits
	start := make([]int, parts+1)
	for _, h := range s.set {
		start[h>>shift+1]++
	}
	for i := 1; i <= parts; i++ {
		start[i] += start[i-1]
	}
	next := make([]int, parts)
	copy(next, start[:parts])
	split := make([]uint64, n)
	for _, h := range s.set {
		p := h >> shift
		split[next[p]] = h
		next[p]++
	}
	biggest := 0
	for p := 0; p < parts; p++ {
		biggest = max(biggest, start[p+1]-start[p])
	}
	table := make([]uint64, tableSize(biggest))
	out := s.set[:0] // s.set's hashes are all in split now
	for p := 0; p < parts; p++ {
		out = dedupeTable(split[start[p]:start[p+1]], out, table)
	}
	s.set = out
}

// tableSize is the power of two at least twice n.
func tableSize(n int) int {
	size := 1
	for size < 2*n {
		size <<= 1
	}
	return size
}

// dedupePart is the size of the parts a large set is split into: its
// table (16 bytes per hash) fits in a typical L2 cache.
const dedupePart = 2048

// dedupeTable appends the distinct hashes of in to out (which may share
// in's backing array, since it never gets ahead of the reading) using
// scratch as the table when it is large enough.
func dedupeTable(in, out, scratch []uint64) []uint64 {
	size := tableSize(len(in))
	var table []uint64
	if cap(scratch) >= size {
		table = scratch[:size]
		clear(table)
	} else {
		table = make([]uint64, size)
	}
	mask := uint64(size - 1)
	zero := false
	for _, h := range in {
		if h == 0 {
			if !zero {
				zero = true
				out = append(out, 0)
			}
			continue
		}
		for i := h & mask; ; i = (i + 1) & mask {
			if t := table[i]; t == 0 {
				table[i] = h
				out = append(out, h)
				break
			} else if t == h {
				break
			}
		}
	}
	return out
}

// mix spreads visitor ids over all 64 bits (the splitmix64 finalizer) so the
// HyperLogLog registers are uniform even for sequential ids.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Add records one visitor id.
func (s *Sketch) Add(visitor int64) { s.addHash(mix(uint64(visitor))) }

func (s *Sketch) addHash(h uint64) {
	if s.hll != nil {
		s.hll.InsertHash(h)
		return
	}
	s.set = append(s.set, h)
	if len(s.set) > 4*queryExactLimit {
		s.dedupe()
		if len(s.set) > queryExactLimit {
			s.toHLL()
		}
	}
}

func (s *Sketch) toHLL() {
	s.hll = hyperloglog.New16NoSparse()
	for _, h := range s.set {
		s.hll.InsertHash(h)
	}
	s.set = nil
}

// Count returns the number of distinct visitors: exact while the sketch is
// an exact set, an estimate within 1% otherwise.
func (s *Sketch) Count() int64 {
	if s.hll != nil {
		return int64(s.hll.Estimate())
	}
	s.dedupe()
	return int64(len(s.set))
}

// Merge adds every visitor of o.
func (s *Sketch) Merge(o *Sketch) error {
	if o.hll != nil {
		if s.hll == nil {
			s.toHLL()
		}
		return s.hll.Merge(o.hll)
	}
	for _, h := range o.set {
		s.addHash(h)
	}
	return nil
}

// MergeBinary adds the visitors of an encoded sketch without building an
// intermediate one for the exact form (the common case on the query path).
func (s *Sketch) MergeBinary(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case sketchExact:
		b = b[1:]
		if len(b)%8 != 0 {
			return fmt.Errorf("visitor sketch: exact set of %d bytes is not a multiple of 8", len(b))
		}
		for i := 0; i < len(b); i += 8 {
			s.addHash(binary.LittleEndian.Uint64(b[i:]))
		}
		return nil
	case sketchHLL:
		h := hyperloglog.New16NoSparse()
		if err := h.UnmarshalBinary(b[1:]); err != nil {
			return fmt.Errorf("visitor sketch: %w", err)
		}
		return s.Merge(&Sketch{hll: h})
	}
	return fmt.Errorf("visitor sketch: unknown format %d", b[0])
}

// MarshalBinary encodes the sketch: a format byte, then either the exact
// hashes (8 bytes each) or the HyperLogLog++ encoding.
func (s *Sketch) MarshalBinary() ([]byte, error) {
	s.dedupe()
	if s.hll == nil && len(s.set) > ExactLimit {
		s.toHLL()
	}
	if s.hll != nil {
		b, err := s.hll.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("visitor sketch: %w", err)
		}
		return append([]byte{sketchHLL}, b...), nil
	}
	out := make([]byte, 1, 1+8*len(s.set))
	out[0] = sketchExact
	for _, h := range s.set {
		out = binary.LittleEndian.AppendUint64(out, h)
	}
	return out, nil
}
