package visitor

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

func TestHashInputsAllMatter(t *testing.T) {
	s1 := &Salt{Day: "d1", Key: [16]byte{1}}
	s2 := &Salt{Day: "d2", Key: [16]byte{2}}
	a := netip.MustParseAddr("203.0.113.1")
	b := netip.MustParseAddr("203.0.113.2")
	base := Hash(s1, 1, a, "UA")
	cases := []struct {
		name string
		got  int64
	}{
		{"other salt", Hash(s2, 1, a, "UA")},
		{"other site", Hash(s1, 2, a, "UA")},
		{"other address", Hash(s1, 1, b, "UA")},
		{"other agent", Hash(s1, 1, a, "UA2")},
	}
	for _, c := range cases {
		if c.got == base {
			t.Errorf("%s: same id %d", c.name, base)
		}
		if c.got < 0 {
			t.Errorf("%s: negative id", c.name)
		}
	}
	if Hash(s1, 1, a, "UA") != base {
		t.Error("not deterministic")
	}
	if Hash(s1, 1, netip.MustParseAddr("::ffff:203.0.113.1"), "UA") != base {
		t.Error("IPv4-mapped address hashes differently")
	}
}

// Two salt sources over one database (two replicas) agree on the salt.
func TestSaltsSharedAcrossReplicas(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, kind db.Kind, url string) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) }
		var got [2]*Salt
		for i := range got {
			d, err := db.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			s, prev, err := NewSalts(d, now).Current(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if prev != nil {
				t.Fatalf("a yesterday salt appeared from nowhere: %+v", prev)
			}
			got[i] = s
		}
		if got[0].Key != got[1].Key || got[0].Key == ([16]byte{}) {
			t.Fatalf("replicas disagree: %x vs %x", got[0].Key, got[1].Key)
		}
	})
}

// Tomorrow's salt is made in the last hour of the day, so that the first
// events after midnight need no database, and yesterday's becomes prev.
func TestMidnightWithoutDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 23, 30, 0, 0, time.UTC)
		s := NewSalts(d, func() time.Time { return now })
		if err := s.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		today, _, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_ = d.Close() // the database is gone from here on
		now = now.Add(time.Hour)
		tomorrow, prev, err := s.Current(ctx)
		if err != nil {
			t.Fatalf("after midnight without a database: %v", err)
		}
		if tomorrow.Day != "2026-05-02" || prev == nil || prev.Key != today.Key || tomorrow.Key == today.Key {
			t.Fatalf("tomorrow %+v prev %+v today %+v", tomorrow, prev, today)
		}
	})
}
