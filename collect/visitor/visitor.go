// Package visitor derives the daily visitor identifier: a SipHash-2-4 of the
// site, the client address and the User-Agent, keyed with a random salt that
// changes every UTC day. Salts live in the salts table so that every replica
// hashes alike; each is deleted 48 hours after its day began (yesterday's is
// kept so that a visit crossing midnight stays one visit), after which
// nobody, the operator included, can link a visitor to another day.
package visitor

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/dchest/siphash"

	"github.com/tallyhq/tally/db"
)

// SaltSize is the salt length: a SipHash key.
const SaltSize = 16

// Salt is one day's key.
type Salt struct {
	Day string
	Key [SaltSize]byte
}

// Hash is the visitor identifier of (site, addr, ua) under salt. It is
// masked to 63 bits so it stays positive in a BIGINT column.
func Hash(salt *Salt, siteID int64, addr netip.Addr, ua string) int64 {
	k0 := binary.LittleEndian.Uint64(salt.Key[:8])
	k1 := binary.LittleEndian.Uint64(salt.Key[8:])
	buf := make([]byte, 0, 8+16+len(ua))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(siteID))
	a16 := addr.Unmap().As16()
	buf = append(buf, a16[:]...)
	buf = append(buf, ua...)
	return int64(siphash.Hash(k0, k1, buf) & math.MaxInt64)
}

// Salts hands out today's and yesterday's salts, creating today's in the
// database the first time any replica needs it.
type Salts struct {
	db  *db.DB
	now func() time.Time

	mu    sync.Mutex
	day   string
	today *Salt
	prev  *Salt
	// next is tomorrow's salt, made during the last hour of a day so that
	// midnight does not depend on the database being reachable.
	next *Salt
}

// NewSalts returns a salt source over d; now may be nil for time.Now.
func NewSalts(d *db.DB, now func() time.Time) *Salts {
	if now == nil {
		now = time.Now
	}
	return &Salts{db: d, now: now}
}

// DayOf names the UTC day of t.
func DayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Current returns today's salt and yesterday's (nil when none was made).
func (s *Salts) Current(ctx context.Context) (today, yesterday *Salt, err error) {
	now := s.now().UTC()
	day := DayOf(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.day == day && s.today != nil {
		return s.today, s.prev, nil
	}
	if s.next != nil && s.next.Day == day && s.today != nil && s.today.Day == DayOf(now.AddDate(0, 0, -1)) {
		s.day, s.prev, s.today, s.next = day, s.today, s.next, nil
		return s.today, s.prev, nil
	}
	t, err := s.ensure(ctx, day, now)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.load(ctx, DayOf(now.AddDate(0, 0, -1)))
	if err != nil {
		return nil, nil, err
	}
	s.day, s.today, s.prev = day, t, p
	return t, p, nil
}

// ensure inserts a fresh random salt for day unless a replica already did,
// then reads back whichever won.
func (s *Salts) ensure(ctx context.Context, day string, now time.Time) (*Salt, error) {
	var key [SaltSize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("salt for %s: %w", day, err)
	}
	if _, err := s.db.NewRaw("INSERT INTO salts (day, salt, created_at) VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING",
		day, key[:], now).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store salt for %s: %w", day, err)
	}
	salt, err := s.load(ctx, day)
	if err != nil {
		return nil, err
	}
	if salt == nil {
		return nil, fmt.Errorf("salt for %s vanished after insert", day)
	}
	return salt, nil
}

func (s *Salts) load(ctx context.Context, day string) (*Salt, error) {
	var rows []struct {
		Salt []byte `bun:"salt"`
	}
	if err := s.db.NewRaw("SELECT salt FROM salts WHERE day = ?", day).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load salt for %s: %w", day, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if len(rows[0].Salt) != SaltSize {
		return nil, fmt.Errorf("salt for %s has %d bytes, want %d", day, len(rows[0].Salt), SaltSize)
	}
	out := &Salt{Day: day}
	copy(out.Key[:], rows[0].Salt)
	return out, nil
}

// Rotate deletes salts older than yesterday, makes sure today's exists and,
// in the last hour of a day, tomorrow's; run it periodically (every replica
// may, the statements are idempotent).
func (s *Salts) Rotate(ctx context.Context) error {
	now := s.now().UTC()
	keep := DayOf(now.AddDate(0, 0, -1))
	if _, err := s.db.NewRaw("DELETE FROM salts WHERE day < ?", keep).Exec(ctx); err != nil {
		return fmt.Errorf("delete old salts: %w", err)
	}
	if _, _, err := s.Current(ctx); err != nil {
		return err
	}
	if now.Hour() == 23 {
		tomorrow := DayOf(now.AddDate(0, 0, 1))
		next, err := s.ensure(ctx, tomorrow, now)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.next = next
		s.mu.Unlock()
	}
	return nil
}
