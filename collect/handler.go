package collect

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tallyhq/tally/collect/enrich"
	"github.com/tallyhq/tally/collect/visitor"
	"github.com/tallyhq/tally/db"
)

// pending is an accepted event waiting for the writer, which assigns its
// visit. prevVisitor is the same person's hash under yesterday's salt, so a
// visit that crosses midnight continues.
type pending struct {
	ev          db.Event
	prevVisitor int64
}

// EventHandler serves POST /api/event (and the CORS preflight).
func (c *Collector) EventHandler() http.Handler { return http.HandlerFunc(c.serveEvent) }

func setCORS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Any page may send events: the domain field decides which site they
	// belong to, and no credentials are involved.
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, User-Agent, X-Forwarded-For")
	h.Set("Access-Control-Max-Age", "86400")
}

func (c *Collector) serveEvent(w http.ResponseWriter, r *http.Request) {
	setCORS(w, r)
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		c.refuse(w, &badRequest{status: http.StatusMethodNotAllowed, reason: "method", msg: "use POST to send events"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
		if mt != "text/plain" && mt != "application/json" {
			c.refuse(w, &badRequest{status: http.StatusUnsupportedMediaType, reason: "content_type", msg: "Content-Type must be text/plain or application/json, not " + mt})
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.refuse(w, &badRequest{status: http.StatusRequestEntityTooLarge, reason: "body_too_large", msg: "the body is larger than 8 KiB"})
			return
		}
		c.refuse(w, bad("read_error", "could not read the body"))
		return
	}
	if len(body) > MaxBodyBytes {
		c.refuse(w, &badRequest{status: http.StatusRequestEntityTooLarge, reason: "body_too_large", msg: "the body is larger than 8 KiB"})
		return
	}
	req, br := parsePayload(body)
	if br != nil {
		c.refuse(w, br)
		return
	}
	// The database is only reached on cache misses; bound the wait so a
	// slow database answers 503 instead of piling up requests.
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var targets []*site
	for _, d := range req.domains {
		s, err := c.sites.get(ctx, d)
		if errors.Is(err, errUnknownSite) {
			continue
		}
		if err != nil {
			c.opts.Log.Error("collect: site lookup failed", "err", err)
			c.unavailable(w, "site_lookup", "the site could not be looked up, try again")
			return
		}
		targets = append(targets, s)
	}
	if len(targets) == 0 {
		c.refuse(w, bad("unknown_domain", "domain (d) %q is not a site in this Tally: add it first (tally site add DOMAIN)", strings.Join(req.domains, ",")))
		return
	}
	host := enrich.Clean(strings.ToLower(req.url.Hostname()))
	for _, s := range targets {
		if !s.hostAllowed(host) {
			c.refuse(w, bad("hostname_not_allowed", "url (u) host %q is not in the allowed hostnames of site %s", host, s.domain))
			return
		}
	}

	// From here on the event is well-formed: anything that drops it answers
	// 202 like Plausible, so that trackers do not retry.
	ua := r.Header.Get("User-Agent")
	agent := c.ua.Parse(ua)
	if agent.Bot != "" {
		c.metrics.bots.WithLabelValues(agent.Bot).Inc()
		accepted(w)
		return
	}
	addr := ClientAddr(r, c.opts.TrustedProxies)
	pathname := enrich.CleanPath(req.url, c.opts.KeepQueryParams, req.hash)
	today, yesterday, err := c.salts.Current(ctx)
	if err != nil {
		c.opts.Log.Error("collect: visitor salt unavailable", "err", err)
		c.unavailable(w, "salt_unavailable", "the database is not reachable, try again")
		return
	}
	var loc enrich.Location
	geoDone := false
	now := c.opts.Now().Unix()
	for _, s := range targets {
		switch {
		case s.ipExcluded(addr):
			c.metrics.ignored.WithLabelValues("excluded_ip").Inc()
			continue
		case s.dnt && r.Header.Get("DNT") == "1":
			c.metrics.ignored.WithLabelValues("dnt").Inc()
			continue
		case s.pathExcluded(pathname):
			c.metrics.ignored.WithLabelValues("excluded_path").Inc()
			continue
		}
		if !geoDone {
			loc, geoDone = c.geo.Lookup(addr), true
		}
		t := enrich.ClassifyTraffic(req.referrer, req.url.Query(), host, s.self)
		p := pending{ev: db.Event{
			SiteID: s.id, TS: now, Name: req.name,
			VisitorID: visitor.Hash(today, s.id, addr, ua),
			Hostname:  strings.TrimPrefix(host, "www."), Pathname: pathname,
			Referrer: t.Referrer, Source: t.Source, Channel: t.Channel,
			UTMSource: t.UTMSource, UTMMedium: t.UTMMedium, UTMCampaign: t.UTMCampaign, UTMTerm: t.UTMTerm, UTMContent: t.UTMContent,
			Country: loc.Country, Region: loc.Region, City: loc.City,
			Browser: agent.Browser, BrowserVersion: agent.BrowserVersion, OS: agent.OS, OSVersion: agent.OSVersion, Device: agent.Device,
			Props: req.props, RevenueAmount: req.revAmount, RevenueCurrency: req.revCurrency,
			Interactive: req.interactive,
		}}
		if yesterday != nil {
			p.prevVisitor = visitor.Hash(yesterday, s.id, addr, ua)
		}
		if !c.queue.push(p) {
			w.Header().Set("Retry-After", "1")
			c.refuse(w, &badRequest{status: http.StatusServiceUnavailable, reason: "queue_full", msg: "the event queue is full, retry shortly"})
			return
		}
		c.metrics.accepted.Inc()
	}
	accepted(w)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte("ok"))
}

func (c *Collector) unavailable(w http.ResponseWriter, reason, msg string) {
	w.Header().Set("Retry-After", "5")
	c.refuse(w, &badRequest{status: http.StatusServiceUnavailable, reason: reason, msg: msg})
}

// refuse answers with {"error": ..., "reason": ...} and counts the reason.
func (c *Collector) refuse(w http.ResponseWriter, br *badRequest) {
	c.metrics.rejected.WithLabelValues(br.reason).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(br.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": br.msg, "reason": br.reason})
}
