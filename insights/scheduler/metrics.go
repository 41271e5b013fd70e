package scheduler

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// RegisterMetrics exports tally_job_runs_total{job,result} (result:
// succeeded, failed, skipped) and tally_job_duration_seconds{job}.
func (s *Scheduler) RegisterMetrics(reg prometheus.Registerer) error {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_job_runs_total",
			Help: "Scheduled job ticks seen by this replica, by result (skipped: another replica or a running instance had it)."}, []string{"job", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tally_job_duration_seconds",
			Help: "Duration of scheduled job runs on this replica.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"job"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.metrics = m
	s.mu.Unlock()
	return nil
}

func (s *Scheduler) count(job, result string, seconds float64) {
	s.mu.Lock()
	m := s.metrics
	s.mu.Unlock()
	if m == nil {
		return
	}
	m.runs.WithLabelValues(job, result).Inc()
	if seconds >= 0 {
		m.duration.WithLabelValues(job).Observe(seconds)
	}
}
