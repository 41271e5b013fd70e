package costs

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
)

// Row is one FOCUS charge row. Strings that FOCUS allows to be null are
// stored as ""; decimals that may be null are NullDecimal; the four period
// bounds and BilledCost are always present once a row is accepted, and a
// null EffectiveCost or ListCost is taken to be BilledCost.
type Row struct {
	ChargePeriodStart, ChargePeriodEnd   time.Time
	BillingPeriodStart, BillingPeriodEnd time.Time

	BillingCurrency string
	BilledCost      decimal.Decimal

	EffectiveCost, ListCost, ContractedCost            decimal.NullDecimal
	ListUnitPrice, ContractedUnitPrice                 decimal.NullDecimal
	PricingQuantity, ConsumedQuantity                  decimal.NullDecimal
	CommitmentDiscountQuantity                         decimal.NullDecimal
	PricingCurrencyEffectiveCost                       decimal.NullDecimal
	PricingCurrencyListUnitPrice                       decimal.NullDecimal
	PricingCurrencyContractedUnitPrice                 decimal.NullDecimal
	ProviderName, PublisherName, InvoiceIssuerName     string
	InvoiceID                                          string
	BillingAccountID, BillingAccountName               string
	BillingAccountType                                 string
	SubAccountID, SubAccountName, SubAccountType       string
	ServiceName, ServiceCategory, ServiceSubcategory   string
	RegionID, RegionName, AvailabilityZone             string
	ResourceID, ResourceName, ResourceType             string
	SkuID, SkuPriceID, SkuMeter, SkuPriceDetails       string
	ChargeCategory, ChargeClass, ChargeDescription     string
	ChargeFrequency                                    string
	PricingCategory, PricingUnit, PricingCurrency      string
	ConsumedUnit                                       string
	CommitmentDiscountID, CommitmentDiscountName       string
	CommitmentDiscountCategory, CommitmentDiscountType string
	CommitmentDiscountStatus, CommitmentDiscountUnit   string
	CapacityReservationID, CapacityReservationStatus   string

	// Tags is a JSON object of tag key to value; "" means {}.
	Tags string

	// text keeps, per column index, the exact spelling a file gave a
	// decimal when it can be written as is, which spares formatting it
	// again on the hot path of imports.
	text [numColumns]string
}

// TagsJSON encodes tags for Row.Tags.
func TagsJSON(tags map[string]string) string {
	if len(tags) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// Dec wraps a decimal as a non-null NullDecimal.
func Dec(d decimal.Decimal) decimal.NullDecimal { return decimal.NullDecimal{Decimal: d, Valid: true} }

type colKind int

const (
	kindString   colKind = iota
	kindDecimal          // nullable decimal
	kindMoney            // BilledCost: decimal, never null
	kindTime             // period bound
	kindCurrency         // BillingCurrency
	kindTags
)

// column ties a FOCUS column name to its SQL column and its Row field.
type column struct {
	focus, sql string
	kind       colKind
	str        func(*Row) *string
	dec        func(*Row) *decimal.NullDecimal
	tm         func(*Row) *time.Time
}

// columns is the cost_rows layout, in the order both writers use. The
// first four are the period bounds, then currency, billed cost, tags.
// numColumns is len(columns); init checks it.
const numColumns = 57

func init() {
	if len(columns) != numColumns {
		panic("costs: numColumns is out of date")
	}
}

var columns = []column{
	{focus: "ChargePeriodStart", sql: "charge_period_start", kind: kindTime, tm: func(r *Row) *time.Time { return &r.ChargePeriodStart }},
	{focus: "ChargePeriodEnd", sql: "charge_period_end", kind: kindTime, tm: func(r *Row) *time.Time { return &r.ChargePeriodEnd }},
	{focus: "BillingPeriodStart", sql: "billing_period_start", kind: kindTime, tm: func(r *Row) *time.Time { return &r.BillingPeriodStart }},
	{focus: "BillingPeriodEnd", sql: "billing_period_end", kind: kindTime, tm: func(r *Row) *time.Time { return &r.BillingPeriodEnd }},
	{focus: "BillingCurrency", sql: "billing_currency", kind: kindCurrency, str: func(r *Row) *string { return &r.BillingCurrency }},
	{focus: "BilledCost", sql: "billed_cost", kind: kindMoney},
	{focus: "Tags", sql: "tags", kind: kindTags, str: func(r *Row) *string { return &r.Tags }},
	dcol("EffectiveCost", "effective_cost", func(r *Row) *decimal.NullDecimal { return &r.EffectiveCost }),
	dcol("ListCost", "list_cost", func(r *Row) *decimal.NullDecimal { return &r.ListCost }),
	dcol("ContractedCost", "contracted_cost", func(r *Row) *decimal.NullDecimal { return &r.ContractedCost }),
	dcol("ListUnitPrice", "list_unit_price", func(r *Row) *decimal.NullDecimal { return &r.ListUnitPrice }),
	dcol("ContractedUnitPrice", "contracted_unit_price", func(r *Row) *decimal.NullDecimal { return &r.ContractedUnitPrice }),
	dcol("PricingQuantity", "pricing_quantity", func(r *Row) *decimal.NullDecimal { return &r.PricingQuantity }),
	dcol("ConsumedQuantity", "consumed_quantity", func(r *Row) *decimal.NullDecimal { return &r.ConsumedQuantity }),
	dcol("CommitmentDiscountQuantity", "commitment_discount_quantity", func(r *Row) *decimal.NullDecimal { return &r.CommitmentDiscountQuantity }),
	dcol("PricingCurrencyEffectiveCost", "pricing_currency_effective_cost", func(r *Row) *decimal.NullDecimal { return &r.PricingCurrencyEffectiveCost }),
	dcol("PricingCurrencyListUnitPrice", "pricing_currency_list_unit_price", func(r *Row) *decimal.NullDecimal { return &r.PricingCurrencyListUnitPrice }),
	dcol("PricingCurrencyContractedUnitPrice", "pricing_currency_contracted_unit_price", func(r *Row) *decimal.NullDecimal { return &r.PricingCurrencyContractedUnitPrice }),
	scol("ProviderName", "provider_name", func(r *Row) *string { return &r.ProviderName }),
	scol("PublisherName", "publisher_name", func(r *Row) *string { return &r.PublisherName }),
	scol("InvoiceIssuerName", "invoice_issuer_name", func(r *Row) *string { return &r.InvoiceIssuerName }),
	scol("InvoiceId", "invoice_id", func(r *Row) *string { return &r.InvoiceID }),
	scol("BillingAccountId", "billing_account_id", func(r *Row) *string { return &r.BillingAccountID }),
	scol("BillingAccountName", "billing_account_name", func(r *Row) *string { return &r.BillingAccountName }),
	scol("BillingAccountType", "billing_account_type", func(r *Row) *string { return &r.BillingAccountType }),
	scol("SubAccountId", "sub_account_id", func(r *Row) *string { return &r.SubAccountID }),
	scol("SubAccountName", "sub_account_name", func(r *Row) *string { return &r.SubAccountName }),
	scol("SubAccountType", "sub_account_type", func(r *Row) *string { return &r.SubAccountType }),
	scol("ServiceName", "service_name", func(r *Row) *string { return &r.ServiceName }),
	scol("ServiceCategory", "service_category", func(r *Row) *string { return &r.ServiceCategory }),
	scol("ServiceSubcategory", "service_subcategory", func(r *Row) *string { return &r.ServiceSubcategory }),
	scol("RegionId", "region_id", func(r *Row) *string { return &r.RegionID }),
	scol("RegionName", "region_name", func(r *Row) *string { return &r.RegionName }),
	scol("AvailabilityZone", "availability_zone", func(r *Row) *string { return &r.AvailabilityZone }),
	scol("ResourceId", "resource_id", func(r *Row) *string { return &r.ResourceID }),
	scol("ResourceName", "resource_name", func(r *Row) *string { return &r.ResourceName }),
	scol("ResourceType", "resource_type", func(r *Row) *string { return &r.ResourceType }),
	scol("SkuId", "sku_id", func(r *Row) *string { return &r.SkuID }),
	scol("SkuPriceId", "sku_price_id", func(r *Row) *string { return &r.SkuPriceID }),
	scol("SkuMeter", "sku_meter", func(r *Row) *string { return &r.SkuMeter }),
	scol("SkuPriceDetails", "sku_price_details", func(r *Row) *string { return &r.SkuPriceDetails }),
	scol("ChargeCategory", "charge_category", func(r *Row) *string { return &r.ChargeCategory }),
	scol("ChargeClass", "charge_class", func(r *Row) *string { return &r.ChargeClass }),
	scol("ChargeDescription", "charge_description", func(r *Row) *string { return &r.ChargeDescription }),
	scol("ChargeFrequency", "charge_frequency", func(r *Row) *string { return &r.ChargeFrequency }),
	scol("PricingCategory", "pricing_category", func(r *Row) *string { return &r.PricingCategory }),
	scol("PricingUnit", "pricing_unit", func(r *Row) *string { return &r.PricingUnit }),
	scol("PricingCurrency", "pricing_currency", func(r *Row) *string { return &r.PricingCurrency }),
	scol("ConsumedUnit", "consumed_unit", func(r *Row) *string { return &r.ConsumedUnit }),
	scol("CommitmentDiscountId", "commitment_discount_id", func(r *Row) *string { return &r.CommitmentDiscountID }),
	scol("CommitmentDiscountName", "commitment_discount_name", func(r *Row) *string { return &r.CommitmentDiscountName }),
	scol("CommitmentDiscountCategory", "commitment_discount_category", func(r *Row) *string { return &r.CommitmentDiscountCategory }),
	scol("CommitmentDiscountType", "commitment_discount_type", func(r *Row) *string { return &r.CommitmentDiscountType }),
	scol("CommitmentDiscountStatus", "commitment_discount_status", func(r *Row) *string { return &r.CommitmentDiscountStatus }),
	scol("CommitmentDiscountUnit", "commitment_discount_unit", func(r *Row) *string { return &r.CommitmentDiscountUnit }),
	scol("CapacityReservationId", "capacity_reservation_id", func(r *Row) *string { return &r.CapacityReservationID }),
	scol("CapacityReservationStatus", "capacity_reservation_status", func(r *Row) *string { return &r.CapacityReservationStatus }),
}

func scol(focus, sql string, f func(*Row) *string) column {
	return column{focus: focus, sql: sql, kind: kindString, str: f}
}

func dcol(focus, sql string, f func(*Row) *decimal.NullDecimal) column {
	return column{focus: focus, sql: sql, kind: kindDecimal, dec: f}
}

// rowColumns lists the SQL columns a writer fills: the FOCUS columns plus
// the row's source and import.
func rowColumns() []string {
	out := []string{"source_id", "import_id"}
	for _, c := range columns {
		out = append(out, c.sql)
	}
	return out
}
