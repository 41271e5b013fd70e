// Package costs is Tally's cloud and LLM spend: the FinOps FOCUS cost model,
// streaming FOCUS imports (files and provider syncs), cost queries over daily
// rollups, anomalies, budgets with forecasts and unit economics.
//
// Money is exact everywhere: decimal.Decimal in Go, NUMERIC in PostgreSQL,
// TEXT in SQLite (summed in Go). Amounts in different currencies are never
// added together: every total is per currency.
//
// Outside systems plug in through two small interfaces defined here: Source
// (a provider that yields FOCUS rows for a time window, implemented in
// package providers) and Traffic (visitor numbers for unit economics).
package costs
