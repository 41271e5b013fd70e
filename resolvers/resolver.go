// Package resolvers implements the GraphQL schema in graph/: each resolver
// checks the caller's access, calls a domain package and maps the result.
package resolvers

import (
	"time"

	"github.com/tallyhq/tally/costs"
	"github.com/tallyhq/tally/db"
	"github.com/tallyhq/tally/insights"
)

// Resolver holds what resolvers need; cmd builds it and server mounts it.
type Resolver struct {
	DB      *db.DB
	Started time.Time
	// CostSync configures and syncs cost providers.
	CostSync *costs.Sources
	// Traffic supplies visitor numbers for unit economics.
	Traffic costs.Traffic
	// Insights runs summaries and recommendations (insights domain).
	Insights *insights.Service
	// Now is the clock of date presets and realtime; nil means time.Now.
	Now func() time.Time
	// RealtimeInterval is how often realtimeVisitors pushes; 0 means 5s.
	RealtimeInterval time.Duration
}
