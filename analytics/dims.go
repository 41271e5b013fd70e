package analytics

import (
	"fmt"
	"github.com/tallyhq/tally/db"
	"strings"
)

// Dimension is a property stats can be broken down or filtered by; the names
// are the GraphQL enum values.
type Dimension string

const (
	DimPage           Dimension = "PAGE"
	DimEntryPage      Dimension = "ENTRY_PAGE"
	DimExitPage       Dimension = "EXIT_PAGE"
	DimHostname       Dimension = "HOSTNAME"
	DimSource         Dimension = "SOURCE"
	DimChannel        Dimension = "CHANNEL"
	DimReferrer       Dimension = "REFERRER"
	DimUTMSource      Dimension = "UTM_SOURCE"
	DimUTMMedium      Dimension = "UTM_MEDIUM"
	DimUTMCampaign    Dimension = "UTM_CAMPAIGN"
	DimUTMTerm        Dimension = "UTM_TERM"
	DimUTMContent     Dimension = "UTM_CONTENT"
	DimCountry        Dimension = "COUNTRY"
	DimRegion         Dimension = "REGION"
	DimCity           Dimension = "CITY"
	DimBrowser        Dimension = "BROWSER"
	DimBrowserVersion Dimension = "BROWSER_VERSION"
	DimOS             Dimension = "OS"
	DimOSVersion      Dimension = "OS_VERSION"
	DimDevice         Dimension = "DEVICE"
	DimEventName      Dimension = "EVENT_NAME"
	DimProp           Dimension = "PROP"

	// dimTotal keys the site totals in the rollup tables.
	dimTotal Dimension = ""
)

// dimInfo says where a dimension lives: event dimensions are columns of each
// event, visit dimensions are columns of the visit (sessions) row.
type dimInfo struct {
	column  string
	session bool
}

var dims = map[Dimension]dimInfo{
	DimPage:           {"pathname", false},
	DimHostname:       {"hostname", false},
	DimEventName:      {"name", false},
	DimProp:           {"props", false},
	DimEntryPage:      {"entry_page", true},
	DimExitPage:       {"exit_page", true},
	DimSource:         {"source", true},
	DimChannel:        {"channel", true},
	DimReferrer:       {"referrer", true},
	DimUTMSource:      {"utm_source", true},
	DimUTMMedium:      {"utm_medium", true},
	DimUTMCampaign:    {"utm_campaign", true},
	DimUTMTerm:        {"utm_term", true},
	DimUTMContent:     {"utm_content", true},
	DimCountry:        {"country", true},
	DimRegion:         {"region", true},
	DimCity:           {"city", true},
	DimBrowser:        {"browser", true},
	DimBrowserVersion: {"browser_version", true},
	DimOS:             {"os", true},
	DimOSVersion:      {"os_version", true},
	DimDevice:         {"device", true},
}

// AllDimensions lists every dimension in a stable order.
var AllDimensions = []Dimension{
	DimPage, DimEntryPage, DimExitPage, DimHostname, DimSource, DimChannel, DimReferrer,
	DimUTMSource, DimUTMMedium, DimUTMCampaign, DimUTMTerm, DimUTMContent,
	DimCountry, DimRegion, DimCity, DimBrowser, DimBrowserVersion, DimOS, DimOSVersion,
	DimDevice, DimEventName, DimProp,
}

// IsSession reports whether the dimension is a property of the visit.
func (d Dimension) IsSession() bool { return dims[d].session }

// Valid reports whether d names a dimension.
func (d Dimension) Valid() bool { _, ok := dims[d]; return ok }

// eventRollupDims are kept in analytics_event_rollups: event columns and the
// visit columns that never change during a visit (the exit page does).
var eventRollupDims = []Dimension{
	dimTotal, DimPage, DimHostname, DimEventName, DimProp,
	DimEntryPage, DimSource, DimChannel, DimReferrer,
	DimUTMSource, DimUTMMedium, DimUTMCampaign, DimUTMTerm, DimUTMContent,
	DimCountry, DimRegion, DimCity, DimBrowser, DimBrowserVersion, DimOS, DimOSVersion, DimDevice,
}

// sessionRollupDims are kept in analytics_session_rollups.
var sessionRollupDims = []Dimension{
	dimTotal, DimEntryPage, DimExitPage, DimSource, DimChannel, DimReferrer,
	DimUTMSource, DimUTMMedium, DimUTMCampaign, DimUTMTerm, DimUTMContent,
	DimCountry, DimRegion, DimCity, DimBrowser, DimBrowserVersion, DimOS, DimOSVersion, DimDevice,
}

func inList(d Dimension, l []Dimension) bool {
	for _, x := range l {
		if x == d {
			return true
		}
	}
	return false
}

// propSep joins a property key and value in a rollup value; it cannot occur
// in keys that collect accepts as JSON object keys of printable text.
const propSep = "\x1f"

func propValue(key, value string) string { return key + propSep + value }

// sessionValue reads a visit dimension from a session row.
func sessionValue(d Dimension, s *db.Session) string {
	switch d {
	case DimEntryPage:
		return s.EntryPage
	case DimExitPage:
		return s.ExitPage
	case DimSource:
		return s.Source
	case DimChannel:
		return s.Channel
	case DimReferrer:
		return s.Referrer
	case DimUTMSource:
		return s.UTMSource
	case DimUTMMedium:
		return s.UTMMedium
	case DimUTMCampaign:
		return s.UTMCampaign
	case DimUTMTerm:
		return s.UTMTerm
	case DimUTMContent:
		return s.UTMContent
	case DimCountry:
		return s.Country
	case DimRegion:
		return s.Region
	case DimCity:
		return s.City
	case DimBrowser:
		return s.Browser
	case DimBrowserVersion:
		return s.BrowserVersion
	case DimOS:
		return s.OS
	case DimOSVersion:
		return s.OSVersion
	case DimDevice:
		return s.Device
	}
	panic(fmt.Sprintf("analytics: %q is not a visit dimension", d))
}

// ParseDimension maps an enum name to a Dimension.
func ParseDimension(s string) (Dimension, error) {
	d := Dimension(strings.ToUpper(s))
	if !d.Valid() {
		return "", fmt.Errorf("unknown dimension %q", s)
	}
	return d, nil
}
