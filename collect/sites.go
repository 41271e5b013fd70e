package collect

import (
	"context"
	"errors"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/sites"
)

// site is a site with its rules compiled for the hot path.
type site struct {
	id       int64
	domain   string
	hosts    []string
	excluded []netip.Prefix
	paths    []*regexp.Regexp
	dnt      bool
	// self lists the hostnames whose referrers are internal navigation.
	self []string
}

func compileSite(s *db.Site) *site {
	c := &site{id: s.ID, domain: s.Domain, dnt: s.HonorDNT, self: []string{s.Domain}}
	for _, h := range s.AllowedHostnames {
		h = strings.ToLower(strings.TrimSpace(h))
		if h != "" {
			c.hosts = append(c.hosts, h)
			c.self = append(c.self, h)
		}
	}
	for _, x := range s.ExcludedIPs {
		if p, err := netip.ParsePrefix(x); err == nil {
			c.excluded = append(c.excluded, p.Masked())
		} else if a, err := netip.ParseAddr(x); err == nil {
			c.excluded = append(c.excluded, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	for _, g := range s.ExcludedPaths {
		if re, err := globRegexp(g); err == nil {
			c.paths = append(c.paths, re)
		}
	}
	return c
}

// hostAllowed applies the allowed-hostnames list: empty allows any host;
// entries are exact names or globs such as *.example.com.
func (s *site) hostAllowed(host string) bool {
	if len(s.hosts) == 0 {
		return true
	}
	host = strings.ToLower(host)
	for _, h := range s.hosts {
		if h == host {
			return true
		}
		if strings.ContainsAny(h, "*?[") {
			if ok, _ := path.Match(h, host); ok {
				return true
			}
		}
	}
	return false
}

func (s *site) ipExcluded(a netip.Addr) bool {
	for _, p := range s.excluded {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *site) pathExcluded(p string) bool {
	for _, re := range s.paths {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// globRegexp turns an excluded-path glob into an anchored expression: "*"
// matches within one path segment, "**" across segments, "?" one character.
func globRegexp(g string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// siteCache keeps recently used sites (and unknown domains, so that a flood
// of bad domains does not reach the database) for a short time; rule changes
// take effect within the TTL.
type siteCache struct {
	db    *db.DB
	ttl   time.Duration
	now   func() time.Time
	cache *lru.Cache[string, siteEntry]
	mu    sync.Mutex // one database lookup per domain at a time
}

type siteEntry struct {
	site    *site
	expires time.Time
}

var errUnknownSite = errors.New("unknown site")

func newSiteCache(d *db.DB, ttl time.Duration, now func() time.Time) *siteCache {
	c, _ := lru.New[string, siteEntry](10_000)
	return &siteCache{db: d, ttl: ttl, now: now, cache: c}
}

// get returns the site for a domain as sent by a tracker, or errUnknownSite.
func (c *siteCache) get(ctx context.Context, domain string) (*site, error) {
	key := strings.ToLower(strings.TrimSpace(domain))
	now := c.now()
	if e, ok := c.cache.Get(key); ok && now.Before(e.expires) {
		if e.site == nil {
			return nil, errUnknownSite
		}
		return e.site, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cache.Get(key); ok && now.Before(e.expires) {
		if e.site == nil {
			return nil, errUnknownSite
		}
		return e.site, nil
	}
	s, err := sites.ByDomain(ctx, c.db, domain)
	var nf *apperr.NotFoundError
	var inv *apperr.InvalidError
	switch {
	case err == nil:
		cs := compileSite(s)
		c.cache.Add(key, siteEntry{site: cs, expires: now.Add(c.ttl)})
		return cs, nil
	case errors.Is(err, sites.ErrNotFound), errors.As(err, &nf), errors.As(err, &inv):
		c.cache.Add(key, siteEntry{expires: now.Add(c.ttl)})
		return nil, errUnknownSite
	}
	return nil, err
}
