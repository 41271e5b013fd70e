package enrich

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeCityDB writes a tiny GeoIP2-City-shaped database.
func writeCityDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoIP2-City", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := func(country, sub, city string) mmdbtype.Map {
		return mmdbtype.Map{
			"country":      mmdbtype.Map{"iso_code": mmdbtype.String(country), "names": mmdbtype.Map{"en": mmdbtype.String(country + " land")}},
			"subdivisions": mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String(sub)}},
			"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city)}},
		}
	}
	for cidr, r := range map[string]mmdbtype.Map{
		"203.0.113.0/24": rec("DE", "BE", "Berlin"),
		"2001:db8::/32":  rec("FR", "IDF", "Paris"),
	} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, r); err != nil {
			t.Fatal(err)
		}
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
	return path
}

func TestGeoLookup(t *testing.T) {
	g, err := OpenGeo(writeCityDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cases := []struct {
		ip   string
		want Location
	}{
		{"203.0.113.9", Location{"DE", "DE-BE", "Berlin"}},
		{"::ffff:203.0.113.9", Location{"DE", "DE-BE", "Berlin"}},
		{"2001:db8::1", Location{"FR", "FR-IDF", "Paris"}},
		{"198.51.100.1", Location{}},
		{"10.0.0.1", Location{}},
	}
	for _, c := range cases {
		if got := g.Lookup(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.ip, got, c.want)
		}
	}
	var none *Geo
	if got := none.Lookup(netip.MustParseAddr("203.0.113.9")); got != (Location{}) {
		t.Errorf("nil Geo: %+v", got)
	}
	if _, err := OpenGeo(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("missing file: no error")
	}
}
