// Package collect receives analytics events: the Plausible-compatible
// POST /api/event endpoint and the tracking script at GET /js/script.js. It
// validates a request, applies the site's rules, enriches the event (see
// package enrich), replaces the client address and User-Agent by a daily
// visitor hash (see package visitor) and queues it; a background writer
// stores queued events in batches, assigns them to visits and hands each
// batch to an optional db.BatchHook inside the same transaction.
package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tallyhq/tally/collect/enrich"
	"github.com/tallyhq/tally/collect/tracker"
	"github.com/tallyhq/tally/collect/visitor"
	"github.com/tallyhq/tally/db"
)

// Options configure a Collector. Zero values mean the defaults.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// GeoIPDB is the path of an .mmdb city database; empty disables GeoIP.
	GeoIPDB string
	// KeepQueryParams names query parameters kept in stored paths; every
	// other parameter is dropped.
	KeepQueryParams []string
	// QueueSize bounds the events waiting to be written (default 100,000).
	// When it is full the endpoint answers 503 with Retry-After.
	QueueSize int
	// BatchSize is the most events one flush writes (default 25,000); a
	// flush starts as soon as this many are queued.
	BatchSize int
	// FlushInterval is the longest an event waits in the queue while the
	// database is up (default 1s).
	FlushInterval time.Duration
	// SiteCacheTTL is how long a site's rules are cached (default 30s).
	SiteCacheTTL time.Duration
	// Hook, when set, is called inside every flush transaction.
	Hook db.BatchHook
	// Registry receives the collector's metrics; nil registers nothing.
	Registry prometheus.Registerer
	// Log receives operational messages; it never gets client addresses or
	// User-Agent strings.
	Log *slog.Logger
	// Now replaces the clock in tests.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.QueueSize <= 0 {
		o.QueueSize = 100_000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 25_000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.SiteCacheTTL <= 0 {
		o.SiteCacheTTL = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Collector is the event pipeline of one server process.
type Collector struct {
	db      *db.DB
	opts    Options
	ua      *enrich.UAParser
	geo     *enrich.Geo
	salts   *visitor.Salts
	sites   *siteCache
	queue   *queue
	metrics *metrics
	writer  *writer

	startOnce sync.Once
	running   atomic.Bool
	draining  atomic.Bool
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New builds a collector; call Start to begin flushing and Close to stop.
func New(d *db.DB, opts Options) (*Collector, error) {
	opts.defaults()
	ua, err := enrich.NewUAParser(20_000)
	if err != nil {
		return nil, fmt.Errorf("user-agent parser: %w", err)
	}
	var geo *enrich.Geo
	if opts.GeoIPDB != "" {
		if geo, err = enrich.OpenGeo(opts.GeoIPDB); err != nil {
			return nil, err
		}
	}
	c := &Collector{
		db:      d,
		opts:    opts,
		ua:      ua,
		geo:     geo,
		salts:   visitor.NewSalts(d, opts.Now),
		sites:   newSiteCache(d, opts.SiteCacheTTL, opts.Now),
		queue:   newQueue(opts.QueueSize, opts.BatchSize),
		metrics: newMetrics(),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.writer = &writer{db: d, hook: opts.Hook, log: opts.Log, metrics: c.metrics}
	if opts.Registry != nil {
		if err := c.metrics.register(opts.Registry, c.queue); err != nil {
			return nil, fmt.Errorf("register collect metrics: %w", err)
		}
	}
	return c, nil
}

// Start begins the background flusher and salt rotation.
func (c *Collector) Start() {
	c.startOnce.Do(func() {
		c.running.Store(true)
		go c.run()
	})
}

// Close stops the background loop and writes every queued event, retrying
// until ctx ends. Events still queued then are logged as lost (counted, never
// listed).
func (c *Collector) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		close(c.stop)
		if c.running.Load() {
			<-c.done
		}
		c.draining.Store(true)
		err = c.drain(ctx)
		if c.geo != nil {
			_ = c.geo.Close()
		}
	})
	return err
}

// Flush writes everything queued now (tests and shutdown use it).
func (c *Collector) Flush(ctx context.Context) error {
	for {
		batch := c.queue.take(c.opts.BatchSize)
		if len(batch) == 0 {
			return nil
		}
		if err := c.writeWithRetry(ctx, batch); err != nil {
			return err
		}
	}
}

func (c *Collector) drain(ctx context.Context) error {
	err := c.Flush(ctx)
	if n := c.queue.len(); n > 0 || err != nil {
		c.opts.Log.Error("collect: events lost at shutdown: the database did not accept them in time", "events", n, "err", err)
		if err == nil {
			err = errors.New("queued events remain")
		}
	}
	return err
}

// Mux is where Routes mounts handlers (server.Server and http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Routes mounts POST/OPTIONS /api/event and GET /js/script.js.
func (c *Collector) Routes(m Mux) {
	m.Handle("/api/event", c.EventHandler())
	m.Handle("GET /js/script.js", tracker.Handler())
}
