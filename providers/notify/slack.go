package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tallyhq/tally/insights"
)

// Slack's documented limits for messages and blocks.
const (
	slackMaxBlocks     = 50
	slackMaxText       = 3000
	slackMaxHeader     = 150
	slackMaxFields     = 10
	slackMaxButtonText = 75
)

// Slack posts the digest to an incoming webhook.
type Slack struct {
	URL string
	p   poster
}

// NewSlack returns a Slack notifier for an incoming-webhook URL.
func NewSlack(url string) *Slack { return &Slack{URL: url, p: newPoster()} }

// Name is "slack".
func (s *Slack) Name() string { return "slack" }

// Notify posts the digest.
func (s *Slack) Notify(ctx context.Context, d *insights.Digest) error {
	body, err := json.Marshal(SlackMessage(d))
	if err != nil {
		return fmt.Errorf("slack: encode: %w", err)
	}
	return s.p.post(ctx, "slack", s.URL, body, nil)
}

type text struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type block struct {
	Type     string `json:"type"`
	Text     *text  `json:"text,omitempty"`
	Fields   []text `json:"fields,omitempty"`
	Elements []any  `json:"elements,omitempty"`
}

type button struct {
	Type string `json:"type"`
	Text text   `json:"text"`
	URL  string `json:"url"`
}

// SlackMessage renders a digest as a Block Kit message within Slack's
// limits: at most 50 blocks, 3,000 characters per text, 10 fields.
func SlackMessage(d *insights.Digest) map[string]any {
	title := fmt.Sprintf("Tally insights %s to %s", d.Period.From, d.Period.To)
	blocks := []block{{Type: "header", Text: &text{Type: "plain_text", Text: cut(title, slackMaxHeader)}}}
	var fields []text
	for _, h := range d.Headline {
		if len(fields) == slackMaxFields {
			break
		}
		fields = append(fields, text{Type: "mrkdwn", Text: cut(fmt.Sprintf("*%s*\n%s %s", esc(h.Label), esc(h.Value), change(h.ChangePct)), slackMaxText)})
	}
	if len(fields) > 0 {
		blocks = append(blocks, block{Type: "section", Fields: fields})
	}
	blocks = append(blocks, block{Type: "divider"})
	if len(d.Recommendations) == 0 {
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: "No recommendations this week."}})
	}
	for i, r := range d.Recommendations {
		if len(blocks) >= slackMaxBlocks-2 {
			break
		}
		var b strings.Builder
		fmt.Fprintf(&b, "*%d. %s*", i+1, esc(r.Title))
		if r.Impact != nil {
			fmt.Fprintf(&b, "\nEstimated impact: *%s %s / month*", r.Impact.Amount.StringFixed(2), esc(r.Impact.Currency))
		}
		fmt.Fprintf(&b, "\n_%s · confidence %.0f%%", esc(strings.ReplaceAll(r.Category, "_", " ")), r.Confidence*100)
		if r.TimesSeen > 1 {
			fmt.Fprintf(&b, " · seen %d weeks", r.TimesSeen)
		}
		b.WriteString("_")
		if r.Unverified {
			b.WriteString("\n:warning: contains figures not found in the data")
		}
		if r.Action != "" {
			b.WriteString("\n→ " + esc(r.Action))
		}
		blocks = append(blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: cut(b.String(), slackMaxText)}})
	}
	footer := fmt.Sprintf("Run %d · %s", d.RunID, providerLabel(d.Provider))
	blocks = append(blocks, block{Type: "context", Elements: []any{text{Type: "mrkdwn", Text: cut(esc(footer), slackMaxText)}}})
	if d.Link != "" {
		blocks = append(blocks, block{Type: "actions", Elements: []any{button{Type: "button", Text: text{Type: "plain_text", Text: cut("Open in Tally", slackMaxButtonText)}, URL: d.Link}}})
	}
	if len(blocks) > slackMaxBlocks {
		blocks = blocks[:slackMaxBlocks]
	}
	// text is the notification fallback and what screen readers announce.
	return map[string]any{"text": cut(fmt.Sprintf("%s: %d recommendations", title, len(d.Recommendations)), slackMaxText), "blocks": blocks}
}

func providerLabel(p string) string {
	if p == "none" || p == "" {
		return "built-in rules"
	}
	return p
}

func change(p *float64) string {
	if p == nil {
		return ""
	}
	arrow := "▲"
	if *p < 0 {
		arrow = "▼"
	}
	return fmt.Sprintf("(%s %+.1f%%)", arrow, *p)
}

// esc escapes the three characters Slack's mrkdwn treats as control.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cut shortens s to at most n characters (runes), marking the cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
