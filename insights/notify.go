package insights

import (
	"context"
	"fmt"
	"strconv"
)

// Notifier delivers a digest somewhere (Slack, a webhook). Implementations
// live in providers/notify; they retry rate limits themselves and return an
// error when delivery failed, which the service records and retries later.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, d *Digest) error
}

// Digest is what notifiers send: headline figures and the top
// recommendations, built from the (already guarded) summary.
type Digest struct {
	RunID           int64        `json:"run_id"`
	Period          Period       `json:"period"`
	Provider        string       `json:"provider"`
	Headline        []Headline   `json:"headline"`
	Recommendations []DigestItem `json:"recommendations"`
	Link            string       `json:"link,omitempty"`
}

// Headline is one figure with its change.
type Headline struct {
	Label     string   `json:"label"`
	Value     string   `json:"value"`
	ChangePct *float64 `json:"change_pct"`
}

// DigestItem is one recommendation in a digest.
type DigestItem struct {
	ID         int64   `json:"id"`
	Title      string  `json:"title"`
	Category   string  `json:"category"`
	Impact     *Money  `json:"monthly_impact"`
	Confidence float64 `json:"confidence"`
	Action     string  `json:"action,omitempty"`
	Unverified bool    `json:"unverified"`
	TimesSeen  int     `json:"times_seen"`
}

// MaxDigestItems is how many recommendations a digest carries.
const MaxDigestItems = 5

// BuildDigest makes the digest of a run.
func BuildDigest(runID int64, s *Summary, provider string, recs []Recommendation, publicURL string) *Digest {
	d := &Digest{RunID: runID, Period: s.Period, Provider: provider, Headline: []Headline{}, Recommendations: []DigestItem{}}
	t := s.Account.Traffic
	d.Headline = append(d.Headline,
		Headline{Label: "Visitors", Value: num(t.Visitors.Current), ChangePct: t.Visitors.ChangePct},
		Headline{Label: "Pageviews", Value: num(t.Pageviews.Current), ChangePct: t.Pageviews.ChangePct},
		Headline{Label: "Bounce rate", Value: num(t.BounceRate.Current) + "%", ChangePct: t.BounceRate.ChangePct},
	)
	if s.Spend != nil {
		for _, tot := range s.Spend.Totals {
			d.Headline = append(d.Headline, Headline{Label: "Spend (" + tot.Currency + ")", Value: tot.Current.StringFixed(2) + " " + tot.Currency, ChangePct: tot.ChangePct})
		}
	}
	for _, u := range s.UnitEconomics {
		if u.CostPerVisitor != nil {
			d.Headline = append(d.Headline, Headline{Label: "Cost per visitor", Value: u.CostPerVisitor.Current.String() + " " + u.Currency, ChangePct: u.CostPerVisitor.ChangePct})
		}
	}
	for _, r := range recs {
		if len(d.Recommendations) == MaxDigestItems {
			break
		}
		if r.Status == StatusDismissed {
			continue
		}
		it := DigestItem{ID: r.ID, Title: r.Title, Category: r.Category, Impact: r.Impact, Confidence: r.Confidence, Unverified: len(r.Unverified) > 0, TimesSeen: r.TimesSeen}
		if len(r.Actions) > 0 {
			it.Action = r.Actions[0]
		}
		d.Recommendations = append(d.Recommendations, it)
	}
	if publicURL != "" {
		d.Link = publicURL + "/#insight-run-" + strconv.FormatInt(runID, 10)
	}
	return d
}

// String is a one-line description for logs.
func (d *Digest) String() string {
	return fmt.Sprintf("run %d %s..%s, %d recommendations", d.RunID, d.Period.From, d.Period.To, len(d.Recommendations))
}
