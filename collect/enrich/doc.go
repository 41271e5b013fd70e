// Package enrich turns the raw facts of a request into the dimensions Tally
// stores: browser, OS and device from the User-Agent (uap-core rules through
// uap-go, cached because user agents repeat), whether the client is a
// crawler, headless browser or monitoring agent (the crawler-user-agents
// list plus Tally's own patterns), the traffic source and channel of a
// referrer and its UTM tags, a path without private query parameters, and
// the location of an address in a GeoIP database. Nothing here keeps the
// address or the raw User-Agent.
package enrich
