package sites_test

import (
	"context"
	"testing"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
	"github.com/tallyhq/tally/sites"
)

func TestNormalizeDomain(t *testing.T) {
	cases := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"  Example.COM ", "example.com"},
		{"https://www.example.com/pricing?x=1#top", "example.com"},
		{"http://shop.example.com:8443/", "shop.example.com"},
		{"www.example.com.", "example.com"},
		{"example.com/blog", "example.com"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	}
	for _, c := range cases {
		got, err := sites.NormalizeDomain(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "   ", "exa mple.com", "-bad.com", "a..b", "https://", "ex@mple.com"} {
		if _, err := sites.NormalizeDomain(bad); !apperr.IsInvalid(err) {
			t.Errorf("NormalizeDomain(%q): want an invalid-input error, got %v", bad, err)
		}
	}
}

func TestCreateUpdateDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, err := sites.Create(ctx, d, "https://www.Example.com/x", "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Domain != "example.com" || s.Timezone != "UTC" {
			t.Fatalf("created %+v", s)
		}
		if _, err := sites.Create(ctx, d, "example.com", "UTC"); !apperr.IsInvalid(err) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := sites.Create(ctx, d, "other.com", "Europe/Nowhere"); !apperr.IsInvalid(err) {
			t.Fatalf("bad tz: %v", err)
		}
		tz, dnt := "Asia/Kolkata", true
		u, err := sites.Update(ctx, d, s.ID, sites.Input{Timezone: &tz, HonorDNT: &dnt, ExcludedIPs: []string{"10.0.0.0/8", "192.0.2.1"}, ExcludedPaths: []string{"/admin/*"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := sites.ByDomain(ctx, d, "WWW.EXAMPLE.COM")
		if err != nil {
			t.Fatal(err)
		}
		if got.Timezone != tz || !got.HonorDNT || len(got.ExcludedIPs) != 2 || got.ExcludedPaths[0] != "/admin/*" || u.ID != got.ID {
			t.Fatalf("after update: %+v", got)
		}
		if _, err := sites.Update(ctx, d, s.ID, sites.Input{ExcludedIPs: []string{"not-an-ip"}}); !apperr.IsInvalid(err) {
			t.Fatalf("bad ip: %v", err)
		}
		if err := sites.Delete(ctx, d, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sites.ByID(ctx, d, s.ID); !apperr.IsNotFound(err) {
			t.Fatalf("after delete: %v", err)
		}
		if err := sites.Delete(ctx, d, s.ID); !apperr.IsNotFound(err) {
			t.Fatalf("second delete: %v", err)
		}
	})
}
