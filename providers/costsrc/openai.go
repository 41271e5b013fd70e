package costsrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
)

// OpenAI reads the organization Costs API (GET /v1/organization/costs with
// an admin key, daily buckets grouped by line_item and project_id, pages
// followed through next_page).
//
// Column mapping:
//
//	ProviderName, PublisherName, InvoiceIssuerName  "OpenAI"
//	BillingAccountId                               settings.organization (default "openai")
//	SubAccountId                                   result.project_id ("" when null)
//	ServiceName                                    model part of result.line_item ("gpt-4o" of "gpt-4o, input"), else the line item, else "OpenAI API"
//	SkuMeter                                       rest of the line item ("input")
//	ChargeDescription                              result.line_item
//	ServiceCategory                                "AI and Machine Learning"
//	ChargeCategory / ChargeFrequency               "Usage" / "Usage-Based"
//	BilledCost = EffectiveCost = ListCost          result.amount.value (exact decimal)
//	BillingCurrency                                upper-cased result.amount.currency
//	ChargePeriodStart/End                          bucket start_time/end_time (Unix seconds)
//	BillingPeriod                                  the calendar month of the charge
type OpenAI struct {
	base, key, org string
	client         *Client
}

// NewOpenAI builds the OpenAI source: credentials is an admin API key.
func NewOpenAI(cfg costs.SourceConfig) (costs.Source, error) {
	b, err := baseURL(cfg.BaseURL, "https://api.openai.com")
	if err != nil {
		return nil, err
	}
	if cfg.Credentials == "" {
		return nil, errors.New("openai needs an admin API key as credentials")
	}
	org := cfg.Settings["organization"]
	if org == "" {
		org = "openai"
	}
	return &OpenAI{base: b, key: cfg.Credentials, org: org, client: DefaultClient}, nil
}

type openaiPage struct {
	Data []struct {
		StartTime int64 `json:"start_time"`
		EndTime   int64 `json:"end_time"`
		Results   []struct {
			Amount struct {
				Value    json.Number `json:"value"`
				Currency string      `json:"currency"`
			} `json:"amount"`
			LineItem  *string `json:"line_item"`
			ProjectID *string `json:"project_id"`
		} `json:"results"`
	} `json:"data"`
	HasMore  bool    `json:"has_more"`
	NextPage *string `json:"next_page"`
}

// Pull yields one row per bucket, line item and project.
func (o *OpenAI) Pull(ctx context.Context, from, to time.Time, yield func(*costs.Row) error) error {
	h := http.Header{"Authorization": {"Bearer " + o.key}}
	if o.org != "openai" {
		h.Set("OpenAI-Organization", o.org)
	}
	page := ""
	for {
		q := url.Values{
			"start_time":   {strconv.FormatInt(from.Unix(), 10)},
			"end_time":     {strconv.FormatInt(to.Unix(), 10)},
			"bucket_width": {"1d"},
			"group_by":     {"line_item", "project_id"},
			"limit":        {"180"},
		}
		if page != "" {
			q.Set("page", page)
		}
		var p openaiPage
		if err := o.client.GetJSON(ctx, o.base+"/v1/organization/costs?"+q.Encode(), h, &p); err != nil {
			return fmt.Errorf("openai costs: %w", err)
		}
		for _, b := range p.Data {
			for _, r := range b.Results {
				amt, err := decimal.NewFromString(r.Amount.Value.String())
				if err != nil {
					return fmt.Errorf("openai costs: amount %q: %w", r.Amount.Value, err)
				}
				row := llmRow("OpenAI", o.org, time.Unix(b.StartTime, 0), time.Unix(b.EndTime, 0), amt, r.Amount.Currency)
				if r.ProjectID != nil {
					row.SubAccountID = *r.ProjectID
				}
				row.ServiceName = "OpenAI API"
				if r.LineItem != nil && *r.LineItem != "" {
					row.ChargeDescription = *r.LineItem
					model, meter, _ := strings.Cut(*r.LineItem, ", ")
					row.ServiceName, row.SkuMeter = model, meter
				}
				if err := yield(row); err != nil {
					return err
				}
			}
		}
		if !p.HasMore || p.NextPage == nil || *p.NextPage == "" {
			return nil
		}
		page = *p.NextPage
	}
}

// llmRow is the common shape of LLM vendor rows: usage charges billed at
// the price paid, so billed, effective and list cost are the same amount.
func llmRow(provider, account string, start, end time.Time, amount decimal.Decimal, currency string) *costs.Row {
	start, end = start.UTC(), end.UTC()
	bs := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	if currency == "" {
		currency = "USD"
	}
	return &costs.Row{
		ChargePeriodStart: start, ChargePeriodEnd: end,
		BillingPeriodStart: bs, BillingPeriodEnd: bs.AddDate(0, 1, 0),
		BillingCurrency: strings.ToUpper(currency),
		BilledCost:      amount, EffectiveCost: costs.Dec(amount), ListCost: costs.Dec(amount),
		ProviderName: provider, PublisherName: provider, InvoiceIssuerName: provider,
		BillingAccountID: account, ServiceCategory: "AI and Machine Learning",
		ChargeCategory: "Usage", ChargeFrequency: "Usage-Based", PricingCategory: "Standard",
		Tags: "{}",
	}
}
