package insights

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Completion is a request for a JSON answer that follows Schema.
type Completion struct {
	Messages   []Message
	SchemaName string
	Schema     map[string]any
}

// CompletionResult is the answer and what it used.
type CompletionResult struct {
	Content          string
	Model            string
	PromptTokens     int
	CompletionTokens int
	// Mode is "json_schema" or "json_object" (the fallback for servers
	// without structured output).
	Mode string
	// Attempts counts HTTP attempts including retries.
	Attempts int
}

// LLM is a chat model that answers in JSON. Implementations (providers/llm)
// retry rate limits and server errors themselves.
type LLM interface {
	Provider() string
	Model() string
	Complete(ctx context.Context, c Completion) (*CompletionResult, error)
}

// systemPrompt tells the model what to do with the summary. It forbids
// numbers that are not in the payload; Verify flags any that slip through.
const systemPrompt = `You are a FinOps and web analytics advisor. You receive a JSON summary (version %s) of one period of a company's website traffic and cloud/LLM spend, built from aggregates only.
Answer with JSON only, following the schema: at most 8 recommendations, most valuable first.
Rules:
- Use only numbers that appear in the summary; never invent figures. Write numbers as they appear.
- Each recommendation cites its evidence as JSON Pointers into the summary (for example "/spend/by_service/0/change_pct").
- monthly_impact is your estimate of the monthly amount at stake, as a decimal string with the currency of the data, or null when there is no amount.
- confidence is between 0 and 1.
- category is one of: %s.
- Actions are concrete steps an engineer can take this week.`

// ResponseSchema is the JSON Schema the LLM's answer must follow; it is
// strict-mode compatible (every property required, no extra properties).
func ResponseSchema() map[string]any {
	str := map[string]any{"type": "string"}
	return map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"recommendations"},
		"properties": map[string]any{
			"recommendations": map[string]any{
				"type": "array",
				"items": map[string]any{
					"type":                 "object",
					"additionalProperties": false,
					"required":             []string{"title", "category", "monthly_impact", "confidence", "actions", "evidence"},
					"properties": map[string]any{
						"title":    str,
						"category": map[string]any{"type": "string", "enum": Categories},
						"monthly_impact": map[string]any{
							"type":                 []string{"object", "null"},
							"additionalProperties": false,
							"required":             []string{"amount", "currency"},
							"properties":           map[string]any{"amount": str, "currency": str},
						},
						"confidence": map[string]any{"type": "number"},
						"actions":    map[string]any{"type": "array", "items": str},
						"evidence": map[string]any{
							"type": "array",
							"items": map[string]any{
								"type":                 "object",
								"additionalProperties": false,
								"required":             []string{"key", "note"},
								"properties":           map[string]any{"key": str, "note": str},
							},
						},
					},
				},
			},
		},
	}
}

// Prompt returns the messages sent for a payload.
func Prompt(payload []byte) []Message {
	return []Message{
		{Role: "system", Content: fmt.Sprintf(systemPrompt, SummaryVersion, strings.Join(Categories, ", "))},
		{Role: "user", Content: "Summary:\n" + string(payload)},
	}
}

type llmAnswer struct {
	Recommendations []struct {
		Title         string `json:"title"`
		Category      string `json:"category"`
		MonthlyImpact *struct {
			Amount   json.RawMessage `json:"amount"`
			Currency string          `json:"currency"`
		} `json:"monthly_impact"`
		Confidence float64    `json:"confidence"`
		Actions    []string   `json:"actions"`
		Evidence   []Evidence `json:"evidence"`
	} `json:"recommendations"`
}

// ParseAnswer decodes and validates an LLM answer. The error says what is
// wrong in words the model can act on in a repair attempt.
func ParseAnswer(content string) ([]Recommendation, error) {
	content = strings.TrimSpace(content)
	// Some servers wrap JSON mode answers in a Markdown fence.
	content = strings.TrimPrefix(strings.TrimPrefix(content, "```json"), "```")
	content = strings.TrimSuffix(strings.TrimSpace(content), "```")
	var a llmAnswer
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("the answer is not valid JSON for the schema: %v", err)
	}
	if a.Recommendations == nil {
		return nil, errors.New(`the answer has no "recommendations" array`)
	}
	if len(a.Recommendations) > 20 {
		return nil, fmt.Errorf("the answer has %d recommendations; at most 20 are allowed", len(a.Recommendations))
	}
	out := make([]Recommendation, 0, len(a.Recommendations))
	for i, x := range a.Recommendations {
		r := Recommendation{Title: strings.TrimSpace(x.Title), Category: x.Category, Confidence: x.Confidence, Actions: x.Actions, Evidence: x.Evidence, Source: "llm"}
		if x.MonthlyImpact != nil {
			var s string
			if err := json.Unmarshal(x.MonthlyImpact.Amount, &s); err != nil {
				s = string(x.MonthlyImpact.Amount)
			}
			amt, err := decimal.NewFromString(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("recommendation %d: monthly_impact.amount %q is not a decimal number", i+1, s)
			}
			r.Impact = &Money{Amount: amt, Currency: strings.ToUpper(strings.TrimSpace(x.MonthlyImpact.Currency))}
		}
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("recommendation %d: %v", i+1, err)
		}
		for j := range r.Evidence {
			r.Evidence[j].Value = nil
		}
		r.Fingerprint = Fingerprint(r.Category, r.Title)
		out = append(out, r)
	}
	return out, nil
}
