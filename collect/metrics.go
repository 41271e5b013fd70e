package collect

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	accepted    prometheus.Counter
	rejected    *prometheus.CounterVec
	bots        *prometheus.CounterVec
	ignored     *prometheus.CounterVec
	stored      prometheus.Counter
	flushErrors prometheus.Counter
	flushTime   prometheus.Histogram
	batchSize   prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		accepted:    prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_collect_accepted_total", Help: "Events accepted into the queue (answered 202)."}),
		rejected:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_collect_rejected_total", Help: "Event requests refused, by reason (4xx and 503)."}, []string{"reason"}),
		bots:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_collect_bots_dropped_total", Help: "Events dropped because the client is not a person, by reason."}, []string{"reason"}),
		ignored:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_collect_ignored_total", Help: "Events dropped by a site rule (excluded_ip, excluded_path, dnt)."}, []string{"reason"}),
		stored:      prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_collect_stored_total", Help: "Events written to the database."}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_collect_flush_errors_total", Help: "Failed flush attempts (each is retried)."}),
		flushTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_collect_flush_duration_seconds", Help: "Time to store one batch.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_collect_batch_size", Help: "Events per stored batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
	}
}

func (m *metrics) register(reg prometheus.Registerer, q *queue) error {
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tally_collect_queue_depth", Help: "Events accepted but not yet stored."},
		func() float64 { return float64(q.len()) })
	capacity := prometheus.NewGauge(prometheus.GaugeOpts{Name: "tally_collect_queue_capacity", Help: "Most events the queue holds before answering 503."})
	capacity.Set(float64(q.cap))
	for _, c := range []prometheus.Collector{m.accepted, m.rejected, m.bots, m.ignored, m.stored, m.flushErrors, m.flushTime, m.batchSize, depth, capacity} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
