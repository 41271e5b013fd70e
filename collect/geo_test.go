package collect

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/db/dbtest"
)

// With a GeoIP database configured, events and visits carry the client's
// country, region and city (and still not its address).
func TestGeoIPEnrichment(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("203.0.113.0/24")
	if err := tree.Insert(n, mmdbtype.Map{
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String("NL")},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("NH")}},
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Amsterdam")}},
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "city.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mustSite(t, d, "example.com", nil)
		e := newEnv(t, d, Options{GeoIPDB: path})
		e.send(t, hit{ip: "203.0.113.200", body: `{"n":"pageview","u":"https://example.com/","d":"example.com"}`})
		e.send(t, hit{ip: "198.51.100.200", body: `{"n":"pageview","u":"https://example.com/","d":"example.com"}`})
		e.flush(t)
		got := map[string]bool{}
		for _, ev := range events(t, d) {
			got[ev.Country+"/"+ev.Region+"/"+ev.City] = true
		}
		if !got["NL/NL-NH/Amsterdam"] || !got["//"] || len(got) != 2 {
			t.Fatalf("locations %v", got)
		}
		for _, s := range sessionsOf(t, d) {
			if s.Country == "NL" && s.City != "Amsterdam" {
				t.Fatalf("visit %+v", s)
			}
		}
	})
}
