package insights

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	runs       *prometheus.CounterVec
	tokens     *prometheus.CounterVec
	deliveries *prometheus.CounterVec
}

// RegisterMetrics exports tally_insights_runs_total{provider,status},
// tally_insights_llm_tokens_total{kind} (prompt, completion) and
// tally_insights_deliveries_total{notifier,result} (delivered, failed).
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_insights_runs_total",
			Help: "Insights runs finished by this replica, by provider and status."}, []string{"provider", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_insights_llm_tokens_total",
			Help: "LLM tokens used by insights runs on this replica."}, []string{"kind"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_insights_deliveries_total",
			Help: "Digest delivery attempts by notifier and result."}, []string{"notifier", "result"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.tokens, m.deliveries} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.metrics = m
	s.mu.Unlock()
	return nil
}

func (s *Service) countRun(run *Run) {
	s.mu.Lock()
	m := s.metrics
	s.mu.Unlock()
	if m == nil {
		return
	}
	m.runs.WithLabelValues(run.Provider, run.Status).Inc()
	m.tokens.WithLabelValues("prompt").Add(float64(run.PromptTokens))
	m.tokens.WithLabelValues("completion").Add(float64(run.CompletionTokens))
}

func (s *Service) countDelivery(notifier string, ok bool) {
	s.mu.Lock()
	m := s.metrics
	s.mu.Unlock()
	if m == nil {
		return
	}
	result := "delivered"
	if !ok {
		result = "failed"
	}
	m.deliveries.WithLabelValues(notifier, result).Inc()
}
