package costsrc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
)

// Anthropic reads the Admin API cost report (GET
// /v1/organizations/cost_report with an admin key in x-api-key, daily
// buckets grouped by workspace_id and description, pages followed through
// next_page while has_more).
//
// Column mapping:
//
//	ProviderName, PublisherName, InvoiceIssuerName  "Anthropic"
//	BillingAccountId                               settings.organization (default "anthropic")
//	SubAccountId                                   result.workspace_id ("default" when null: the default workspace)
//	ServiceName                                    result.model, else result.description, else "Claude API"
//	SkuMeter                                       result.token_type, else result.cost_type
//	ChargeDescription                              result.description
//	ServiceCategory                                "AI and Machine Learning"
//	BilledCost = EffectiveCost = ListCost          result.amount / 100 (a decimal string in cents, kept exact)
//	BillingCurrency                                result.currency (default USD)
//	ChargePeriodStart/End                          bucket starting_at/ending_at (RFC 3339)
//	Tags                                           {"service_tier": …, "context_window": …} when present
type Anthropic struct {
	base, key, org string
	client         *Client
}

// AnthropicVersion is the API version header the provider sends.
const AnthropicVersion = "2023-06-01"

// NewAnthropic builds the Anthropic source: credentials is an Admin API key
// (sk-ant-admin…).
func NewAnthropic(cfg costs.SourceConfig) (costs.Source, error) {
	b, err := baseURL(cfg.BaseURL, "https://api.anthropic.com")
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == "" {
		return nil, errors.New("anthropic needs an Admin API key as credentials")
	}
	org := cfg.Settings["organization"]
	if org == "" {
		org = "anthropic"
	}
	return &Anthropic{base: b, key: cfg.Credentials, org: org, client: DefaultClient}, nil
}

type anthropicReport struct {
	Data []struct {
		StartingAt time.Time `json:"starting_at"`
		EndingAt   time.Time `json:"ending_at"`
		Results    []struct {
			Amount        string  `json:"amount"`
			Currency      string  `json:"currency"`
			WorkspaceID   *string `json:"workspace_id"`
			Description   *string `json:"description"`
			CostType      *string `json:"cost_type"`
			ContextWindow *string `json:"context_window"`
			Model         *string `json:"model"`
			ServiceTier   *string `json:"service_tier"`
			TokenType     *string `json:"token_type"`
		} `json:"results"`
	} `json:"data"`
	HasMore  bool    `json:"has_more"`
	NextPage *string `json:"next_page"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Pull yields one row per bucket and result.
func (a *Anthropic) Pull(ctx context.Context, from, to time.Time, yield func(*costs.Row) error) error {
	h := http.Header{"X-Api-Key": {a.key}, "Anthropic-Version": {AnthropicVersion}}
	page := ""
	for {
		q := url.Values{
			"starting_at":  {from.UTC().Format(time.RFC3339)},
			"ending_at":    {to.UTC().Format(time.RFC3339)},
			"bucket_width": {"1d"},
			"group_by[]":   {"workspace_id", "description"},
			"limit":        {"31"},
		}
		if page != "" {
			q.Set("page", page)
		}
		var rep anthropicReport
		if err := a.client.GetJSON(ctx, a.base+"/v1/organizations/cost_report?"+q.Encode(), h, &rep); err != nil {
			return fmt.Errorf("anthropic cost report: %w", err)
		}
		for _, b := range rep.Data {
			for _, r := range b.Results {
				cents, err := decimal.NewFromString(r.Amount)
				if err != nil {
					return fmt.Errorf("anthropic cost report: amount %q is not a decimal string", r.Amount)
				}
				row := llmRow("Anthropic", a.org, b.StartingAt, b.EndingAt, cents.Shift(-2), r.Currency)
				row.SubAccountID = "default"
				if w := str(r.WorkspaceID); w != "" {
					row.SubAccountID = w
				}
				row.ChargeDescription = str(r.Description)
				switch {
				case str(r.Model) != "":
					row.ServiceName = *r.Model
				case row.ChargeDescription != "":
					row.ServiceName = row.ChargeDescription
				default:
					row.ServiceName = "Claude API"
				}
				row.SkuMeter = str(r.TokenType)
				if row.SkuMeter == "" {
					row.SkuMeter = str(r.CostType)
				}
				tags := map[string]string{}
				if s := str(r.ServiceTier); s != "" {
					tags["service_tier"] = s
				}
				if s := str(r.ContextWindow); s != "" {
					tags["context_window"] = s
				}
				row.Tags = costs.TagsJSON(tags)
				if err := yield(row); err != nil {
					return err
				}
			}
		}
		if !rep.HasMore || rep.NextPage == nil || *rep.NextPage == "" {
			return nil
		}
		page = *rep.NextPage
	}
}
