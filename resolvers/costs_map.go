package resolvers

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tallyhq/tally/apperr"
	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/gqltypes"
	"github.com/tallyhq/tally/graph/model"
)

// Mapping between the costs package and the GraphQL models.

func dec(d decimal.Decimal) gqltypes.Decimal { return gqltypes.NewDecimal(d) }

func decPtr(d *decimal.Decimal) *gqltypes.Decimal {
	if d == nil {
		return nil
	}
	v := gqltypes.NewDecimal(*d)
	return &v
}

func costQuery(dr model.CostDateRange, filters []model.CostFilter, currency *string) (costs.Query, error) {
	from, to, err := costDays(dr, time.Now())
	if err != nil {
		return costs.Query{}, err
	}
	q := costs.Query{From: from, To: to, Filters: costFilters(filters)}
	if currency != nil {
		q.Currency = *currency
	}
	return q, q.Validate()
}

func costFilters(in []model.CostFilter) []costs.Filter {
	out := make([]costs.Filter, 0, len(in))
	for _, f := range in {
		cf := costs.Filter{Dimension: costs.Dimension(f.Dimension), Values: f.Values}
		if f.TagKey != nil {
			cf.TagKey = *f.TagKey
		}
		if f.Exclude != nil {
			cf.Exclude = *f.Exclude
		}
		out = append(out, cf)
	}
	return out
}

func costImport(i *costs.Import) *model.CostImport {
	return &model.CostImport{
		ID: strconv.FormatInt(i.ID, 10), SourceID: strconv.FormatInt(i.SourceID, 10),
		Kind: i.Kind, Name: i.Name, Status: i.Status,
		RowsImported: i.RowsImported, RowsSkipped: i.RowsSkipped, RowsReplaced: i.RowsReplaced,
		Error: i.Error, StartedAt: i.StartedAt, FinishedAt: i.FinishedAt,
	}
}

func costSource(c *costs.SourceConfig, last *costs.Import) *model.CostSource {
	settings := map[string]any{}
	for k, v := range c.Settings {
		settings[k] = v
	}
	out := &model.CostSource{
		ID: strconv.FormatInt(c.ID, 10), Name: c.Name, Kind: c.Kind, BaseURL: c.BaseURL,
		Settings: gqltypes.JSON{V: settings}, HasCredentials: c.Credentials != "",
		LookbackDays: c.LookbackDays, CreatedAt: c.CreatedAt,
	}
	if last != nil {
		out.LastSync = costImport(last)
	}
	return out
}

func unitCosts(u costs.UnitCosts) model.UnitCosts {
	out := model.UnitCosts{
		Cost: dec(u.Cost), Visitors: u.Traffic.Visitors, Pageviews: u.Traffic.Pageviews, Conversions: u.Traffic.Conversions,
		CostPerVisitor: decPtr(u.PerVisitor), CostPerThousandPageviews: decPtr(u.PerThousandPageviews), CostPerConversion: decPtr(u.PerConversion),
	}
	if !u.Date.IsZero() {
		d := gqltypes.DateOf(u.Date)
		out.Date = &d
	}
	return out
}

// costDays turns a cost date range into its first and last day (UTC
// midnights). Presets count back from today in UTC, because charge periods
// are UTC.
func costDays(dr model.CostDateRange, now time.Time) (time.Time, time.Time, error) {
	if dr.Preset != nil {
		if dr.From != nil || dr.To != nil {
			return time.Time{}, time.Time{}, apperr.Invalid("dateRange", "give a preset or from/to, not both")
		}
		y, m, d := now.UTC().Date()
		today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		switch *dr.Preset {
		case model.DatePresetToday:
			return today, today, nil
		case model.DatePresetYesterday:
			return today.AddDate(0, 0, -1), today.AddDate(0, 0, -1), nil
		case model.DatePresetLast7Days:
			return today.AddDate(0, 0, -6), today, nil
		case model.DatePresetLast30Days:
			return today.AddDate(0, 0, -29), today, nil
		case model.DatePresetThisMonth:
			return first, today, nil
		case model.DatePresetLastMonth:
			return first.AddDate(0, -1, 0), first.AddDate(0, 0, -1), nil
		case model.DatePresetLast12Months:
			return first.AddDate(0, -11, 0), today, nil
		default:
			return time.Time{}, time.Time{}, apperr.Invalid("dateRange.preset", "%s is not available for costs: give from and to", *dr.Preset)
		}
	}
	if dr.From == nil || dr.To == nil {
		return time.Time{}, time.Time{}, apperr.Invalid("dateRange", "give a preset, or both from and to")
	}
	return dr.From.In(time.UTC), dr.To.In(time.UTC), nil
}
