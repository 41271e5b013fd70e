package enrich

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/geoip2-golang/v2"
)

// Location is what Tally keeps of an address: never the address itself.
type Location struct {
	// Country is the ISO 3166-1 alpha-2 code, e.g. "DE".
	Country string
	// Region is the ISO 3166-2 code of the largest subdivision, e.g. "DE-BE".
	Region string
	// City is the English city name.
	City string
}

// Geo looks addresses up in a MaxMind-format city or country database.
type Geo struct{ r *geoip2.Reader }

// OpenGeo opens an .mmdb file (GeoLite2-City, GeoIP2-City, DB-IP City Lite
// or a country database).
func OpenGeo(path string) (*Geo, error) {
	r, err := geoip2.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: %w", path, err)
	}
	return &Geo{r: r}, nil
}

// Lookup returns the location of addr; a nil Geo, private addresses and
// unknown ones give an empty Location.
func (g *Geo) Lookup(addr netip.Addr) Location {
	if g == nil || !addr.IsValid() || addr.IsPrivate() || addr.IsLoopback() {
		return Location{}
	}
	c, err := g.r.City(addr.Unmap())
	if err != nil || c == nil {
		return Location{}
	}
	l := Location{Country: c.Country.ISOCode, City: c.City.Names.English}
	if len(c.Subdivisions) > 0 && c.Subdivisions[0].ISOCode != "" && l.Country != "" {
		l.Region = l.Country + "-" + c.Subdivisions[0].ISOCode
	}
	return l
}

// Close releases the database.
func (g *Geo) Close() error {
	if g == nil {
		return nil
	}
	return g.r.Close()
}
