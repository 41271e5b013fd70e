package enrich

import (
	"strings"

	agents "github.com/monperrus/crawler-user-agents"
)

// CrawlerEntry is one entry of the crawler list.
type CrawlerEntry struct {
	Pattern   string
	Instances []string
}

// Headless browsers and automation frameworks announce themselves with
// these words; they are checked before the crawler list so the reason
// counted in /metrics is the more specific one.
var headlessWords = []string{"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver", "slimerjs", "cypress", "jsdom", "nightmare", "htmlunit", "lighthouse", "chrome-lighthouse", "prerender"}

// Uptime and performance monitors.
var monitoringWords = []string{"uptimerobot", "pingdom", "statuscake", "site24x7", "datadog", "newrelicpinger", "new relic", "better uptime", "betteruptime", "checkly", "freshping", "hetrixtools", "uptime-kuma", "uptime kuma", "nodeping", "updown.io", "monitis", "gtmetrix", "pagespeed", "zabbix", "nagios", "icinga", "prometheus", "blackbox", "elastic-heartbeat", "catchpoint", "dynatrace", "uptimia", "oh dear", "ohdear", "cron-job.org", "healthcheck"}

// CrawlerEntries returns the crawler list of github.com/monperrus/crawler-user-agents
// with its real example strings, which the tests check.
func CrawlerEntries() ([]CrawlerEntry, error) {
	out := make([]CrawlerEntry, len(agents.Crawlers))
	for i, c := range agents.Crawlers {
		out[i] = CrawlerEntry{Pattern: c.Pattern, Instances: c.Instances}
	}
	return out, nil
}

// BotReason says why ua is not a person ("headless", "monitoring",
// "crawler") or returns "" for an ordinary browser.
func BotReason(ua string) string {
	l := strings.ToLower(ua)
	for _, w := range headlessWords {
		if strings.Contains(l, w) {
			return "headless"
		}
	}
	for _, w := range monitoringWords {
		if strings.Contains(l, w) {
			return "monitoring"
		}
	}
	if agents.IsCrawler(ua) {
		return "crawler"
	}
	if strings.HasPrefix(l, "java/") {
		return "crawler"
	}
	// Generic tell-tales that the list does not cover.
	for _, w := range []string{"bot", "crawl", "spider", "scrape", "curl/", "wget/", "python-requests", "go-http-client", "okhttp", "libwww", "httpclient", "axios/", "node-fetch"} {
		if strings.Contains(l, w) {
			return "crawler"
		}
	}
	return ""
}
