package costsrc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
)

// OpenCost reads the OpenCost allocation API (GET /allocation/compute with
// window=START,END in RFC 3339, step=1d, accumulate=false and
// aggregate=namespace by default): one allocation set per day, keyed by
// the aggregate value.
//
// Column mapping:
//
//	ProviderName                  "Kubernetes"; PublisherName, InvoiceIssuerName "OpenCost"
//	BillingAccountId              settings.cluster, else properties.cluster, else "kubernetes"
//	SubAccountId                  properties.namespace, else the allocation name
//	ServiceName                   "Kubernetes"; ServiceCategory "Compute"
//	ResourceId / ResourceName     the allocation name (the aggregate value, "__idle__" for idle cost)
//	BilledCost = EffectiveCost = ListCost   totalCost (exact decimal of the JSON number)
//	BillingCurrency               settings.currency (default USD; OpenCost prices in its configured currency)
//	ChargePeriodStart/End         start/end of the allocation (window.start/end when absent)
//	Tags                          properties.labels
type OpenCost struct {
	base, token, aggregate, cluster, currency string
	client                                    *Client
}

// NewOpenCost builds the OpenCost source; credentials, if set, is sent as a
// bearer token (for an authenticating proxy in front of OpenCost).
func NewOpenCost(cfg costs.SourceConfig) (costs.Source, error) {
	b, err := baseURL(cfg.BaseURL, "http://localhost:9003")
	if err != nil {
		return nil, err
	}
	o := &OpenCost{base: b, token: cfg.Credentials, aggregate: cfg.Settings["aggregate"], cluster: cfg.Settings["cluster"], currency: cfg.Settings["currency"], client: DefaultClient}
	if o.aggregate == "" {
		o.aggregate = "namespace"
	}
	if o.currency == "" {
		o.currency = "USD"
	}
	return o, nil
}

type ocAllocation struct {
	Name       string `json:"name"`
	Properties struct {
		Cluster   string            `json:"cluster"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"properties"`
	Window struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"window"`
	Start     *time.Time  `json:"start"`
	End       *time.Time  `json:"end"`
	TotalCost json.Number `json:"totalCost"`
}

type ocResponse struct {
	Code    int                       `json:"code"`
	Message string                    `json:"message"`
	Data    []map[string]ocAllocation `json:"data"`
}

// Pull yields one row per day and allocation.
func (o *OpenCost) Pull(ctx context.Context, from, to time.Time, yield func(*costs.Row) error) error {
	q := url.Values{
		"window":     {from.UTC().Format(time.RFC3339) + "," + to.UTC().Format(time.RFC3339)},
		"aggregate":  {o.aggregate},
		"step":       {"1d"},
		"accumulate": {"false"},
	}
	h := http.Header{}
	if o.token != "" {
		h.Set("Authorization", "Bearer "+o.token)
	}
	var res ocResponse
	if err := o.client.GetJSON(ctx, o.base+"/allocation/compute?"+q.Encode(), h, &res); err != nil {
		return fmt.Errorf("opencost allocation: %w", err)
	}
	if res.Code != 0 && res.Code != http.StatusOK {
		return fmt.Errorf("opencost allocation: code %d: %s", res.Code, clip(res.Message))
	}
	for _, set := range res.Data {
		names := make([]string, 0, len(set))
		for n := range set {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := set[n]
			cost, err := decimal.NewFromString(a.TotalCost.String())
			if err != nil {
				return fmt.Errorf("opencost allocation %s: totalCost %q: %w", n, a.TotalCost, err)
			}
			start, end := a.Window.Start, a.Window.End
			if a.Start != nil && a.End != nil {
				start, end = *a.Start, *a.End
			}
			row := llmRow("Kubernetes", "", start, end, cost, o.currency)
			row.PublisherName, row.InvoiceIssuerName = "OpenCost", "OpenCost"
			row.BillingAccountID = o.cluster
			if row.BillingAccountID == "" {
				row.BillingAccountID = a.Properties.Cluster
			}
			if row.BillingAccountID == "" {
				row.BillingAccountID = "kubernetes"
			}
			row.SubAccountID = a.Properties.Namespace
			if row.SubAccountID == "" {
				row.SubAccountID = n
			}
			row.ServiceName, row.ServiceCategory = "Kubernetes", "Compute"
			row.ResourceID, row.ResourceName = n, n
			row.Tags = costs.TagsJSON(a.Properties.Labels)
			if err := yield(row); err != nil {
				return err
			}
		}
	}
	return nil
}
