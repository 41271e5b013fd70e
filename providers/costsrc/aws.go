package costsrc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ce "github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/costs"
)

// AWS reads Cost Explorer GetCostAndUsage through aws-sdk-go-v2: DAILY
// granularity, grouped by the SERVICE and LINKED_ACCOUNT dimensions, metrics
// UnblendedCost and AmortizedCost, pages followed through NextPageToken.
// The SDK signs requests (SigV4) and retries throttling and 5xx answers.
//
// Column mapping:
//
//	ProviderName, PublisherName      "AWS"; InvoiceIssuerName "Amazon Web Services, Inc."
//	BillingAccountId                 settings.accountId (the payer account, default "aws")
//	SubAccountId / SubAccountName    group key LINKED_ACCOUNT / its DimensionValueAttributes description
//	ServiceName                      group key SERVICE
//	BilledCost                       UnblendedCost.Amount (exact decimal string)
//	EffectiveCost                    AmortizedCost.Amount
//	ListCost                         UnblendedCost.Amount (Cost Explorer has no list price)
//	BillingCurrency                  UnblendedCost.Unit
//	ChargePeriodStart/End            ResultsByTime.TimePeriod.Start/End (dates, UTC)
//	ChargeCategory / ChargeFrequency "Usage" / "Usage-Based"
//	Tags                             {"estimated": "true"} while AWS marks the day Estimated
type AWS struct {
	client  *ce.Client
	account string
}

// NewAWS builds the AWS source: credentials is ACCESS_KEY_ID:SECRET_ACCESS_KEY;
// baseUrl overrides the Cost Explorer endpoint; settings.region defaults to
// us-east-1 (Cost Explorer's home).
func NewAWS(cfg costs.SourceConfig) (costs.Source, error) {
	id, secret, ok := strings.Cut(cfg.Credentials, ":")
	if !ok || id == "" || secret == "" {
		return nil, errors.New("aws needs credentials ACCESS_KEY_ID:SECRET_ACCESS_KEY")
	}
	region := cfg.Settings["region"]
	if region == "" {
		region = "us-east-1"
	}
	opts := ce.Options{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 5,
	}
	if cfg.BaseURL != "" {
		b, err := baseURL(cfg.BaseURL, "")
		if err != nil {
			return nil, err
		}
		opts.BaseEndpoint = aws.String(b)
	}
	account := cfg.Settings["accountId"]
	if account == "" {
		account = "aws"
	}
	return &AWS{client: ce.New(opts), account: account}, nil
}

// Pull yields one row per day, service and linked account.
func (a *AWS) Pull(ctx context.Context, from, to time.Time, yield func(*costs.Row) error) error {
	in := &ce.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(from.UTC().Format(time.DateOnly)), End: aws.String(to.UTC().Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily,
		Metrics:     []string{"UnblendedCost", "AmortizedCost"},
		GroupBy: []cetypes.GroupDefinition{
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")},
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("LINKED_ACCOUNT")},
		},
	}
	for {
		out, err := a.client.GetCostAndUsage(ctx, in)
		if err != nil {
			return fmt.Errorf("aws cost explorer: %w", err)
		}
		names := map[string]string{}
		for _, dv := range out.DimensionValueAttributes {
			names[aws.ToString(dv.Value)] = dv.Attributes["description"]
		}
		for _, rt := range out.ResultsByTime {
			if rt.TimePeriod == nil {
				continue
			}
			start, err1 := time.Parse(time.DateOnly, aws.ToString(rt.TimePeriod.Start))
			end, err2 := time.Parse(time.DateOnly, aws.ToString(rt.TimePeriod.End))
			if err1 != nil || err2 != nil {
				return fmt.Errorf("aws cost explorer: bad time period %q-%q", aws.ToString(rt.TimePeriod.Start), aws.ToString(rt.TimePeriod.End))
			}
			for _, g := range rt.Groups {
				if len(g.Keys) != 2 {
					return fmt.Errorf("aws cost explorer: group has keys %v, want SERVICE and LINKED_ACCOUNT", g.Keys)
				}
				unb, ok := g.Metrics["UnblendedCost"]
				if !ok {
					return errors.New("aws cost explorer: group without UnblendedCost")
				}
				billed, err := decimal.NewFromString(aws.ToString(unb.Amount))
				if err != nil {
					return fmt.Errorf("aws cost explorer: UnblendedCost %q: %w", aws.ToString(unb.Amount), err)
				}
				effective := billed
				if am, ok := g.Metrics["AmortizedCost"]; ok {
					if effective, err = decimal.NewFromString(aws.ToString(am.Amount)); err != nil {
						return fmt.Errorf("aws cost explorer: AmortizedCost %q: %w", aws.ToString(am.Amount), err)
					}
				}
				row := llmRow("AWS", a.account, start, end, billed, aws.ToString(unb.Unit))
				row.InvoiceIssuerName = "Amazon Web Services, Inc."
				row.EffectiveCost = costs.Dec(effective)
				row.ServiceCategory = ""
				row.ServiceName, row.SubAccountID = g.Keys[0], g.Keys[1]
				row.SubAccountName = names[g.Keys[1]]
				if rt.Estimated {
					row.Tags = `{"estimated":"true"}`
				}
				if err := yield(row); err != nil {
					return err
				}
			}
		}
		if out.NextPageToken == nil || *out.NextPageToken == "" {
			return nil
		}
		in.NextPageToken = out.NextPageToken
	}
}
