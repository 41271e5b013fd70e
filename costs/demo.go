package costs

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/db"
)

// sampleFOCUS is 942 real, anonymized AWS rows in FOCUS 1.0 (September
// 2024) from the FinOps Foundation's FOCUS-Sample-Data, CC BY 4.0.
//
//go:embed testdata/focus-1.0-sample-aws.csv
var sampleFOCUS []byte

// LoadDemo imports demo cost data: the real FOCUS sample, and 60 days up
// to now of synthetic daily spend (AWS services, OpenAI and Anthropic
// models) tagged app=shop or app=docs, with one spike for the anomaly
// detector, plus a monthly budget.
func LoadDemo(ctx context.Context, d *db.DB, now time.Time) error {
	if _, err := ImportFOCUS(ctx, d, bytes.NewReader(sampleFOCUS), ImportOptions{Name: "focus-1.0-sample-aws.csv"}); err != nil {
		return fmt.Errorf("demo costs: %w", err)
	}
	if _, err := ImportFOCUS(ctx, d, strings.NewReader(demoCSV(now)), ImportOptions{Name: "demo-recent.csv"}); err != nil {
		return fmt.Errorf("demo costs: %w", err)
	}
	if _, err := CreateBudget(ctx, d, Budget{Name: "Cloud and LLM, monthly", Amount: decimal.NewFromInt(2500), Currency: "USD", Period: PeriodMonth}); err != nil {
		return fmt.Errorf("demo budget: %w", err)
	}
	return nil
}

func demoCSV(now time.Time) string {
	type line struct {
		provider, account, sub, service, category, region, app string
		cents                                                  int64 // a usual weekday
		resource                                               string
	}
	// The cloud lines name the resource they bill, as AWS exports do; the
	// LLM vendors' cost reports have no resources.
	lines := []line{
		{"AWS", "demo-payer", "shop-prod", "Amazon Elastic Compute Cloud", "Compute", "eu-central-1", "shop", 3800, "arn:aws:ec2:eu-central-1:111122223333:instance/i-0shop0web0000001"},
		{"AWS", "demo-payer", "shop-prod", "Amazon Relational Database Service", "Databases", "eu-central-1", "shop", 2100, "arn:aws:rds:eu-central-1:111122223333:db:shop-prod"},
		{"AWS", "demo-payer", "shop-prod", "Amazon Simple Storage Service", "Storage", "eu-central-1", "shop", 450, "arn:aws:s3:::shop-assets"},
		{"AWS", "demo-payer", "docs-prod", "Amazon CloudFront", "Networking", "us-east-1", "docs", 600, "arn:aws:cloudfront::111122223333:distribution/EDEMODOCS0001"},
		{"AWS", "demo-payer", "docs-prod", "AWS Lambda", "Compute", "us-east-1", "", 120, "arn:aws:lambda:us-east-1:111122223333:function:docs-search"},
		{"OpenAI", "org-demo", "proj_shop", "gpt-4o", "AI and Machine Learning", "", "shop", 1700, ""},
		{"OpenAI", "org-demo", "proj_shop", "gpt-4o-mini", "AI and Machine Learning", "", "shop", 300, ""},
		{"Anthropic", "anthropic-demo", "wrkspc_docs", "claude-sonnet-4", "AI and Machine Learning", "", "docs", 900, ""},
	}
	rng := rand.New(rand.NewPCG(42, 6))
	var b strings.Builder
	b.WriteString("ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BillingPeriodEnd,BilledCost,EffectiveCost,ListCost,BillingCurrency,ProviderName,PublisherName,InvoiceIssuerName,BillingAccountId,SubAccountId,ServiceName,ServiceCategory,RegionId,ResourceId,ChargeCategory,ChargeFrequency,PricingCategory,Tags\n")
	today := time.Unix(dayOf(now), 0).UTC()
	for i := 60; i >= 0; i-- {
		day := today.AddDate(0, 0, -i)
		bs := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
		for _, l := range lines {
			// ±10 % noise, weekends at 70 %, in whole cents
			v := l.cents * (90 + rng.Int64N(21)) / 100
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				v = v * 7 / 10
			}
			if i == 5 && l.service == "gpt-4o" {
				v *= 4 // a runaway batch job, for the anomaly detector
			}
			billed := decimal.New(v, -2)
			effective, list := billed, billed
			if l.provider == "AWS" && l.category == "Compute" {
				// covered by a savings plan: paid less than list
				list = billed.Mul(decimal.RequireFromString("1.28")).Round(4)
			}
			tags := "{}"
			if l.app != "" {
				tags = fmt.Sprintf(`{"app": "%s", "env": "prod"}`, l.app)
			}
			fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,USD,%s,%s,%s,%s,%s,%s,%s,%s,%s,Usage,Usage-Based,Standard,\"%s\"\n",
				day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339), bs.Format(time.RFC3339), bs.AddDate(0, 1, 0).Format(time.RFC3339),
				billed, effective, list, l.provider, l.provider, l.provider, l.account, l.sub, l.service, l.category, l.region, l.resource,
				strings.ReplaceAll(tags, `"`, `""`))
		}
	}
	return b.String()
}
