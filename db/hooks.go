package db

import (
	"context"

	"github.com/uptrace/bun"
)

// SessionChange is one visit touched by a stored batch: its state before the
// batch (nil when the batch started it) and after.
type SessionChange struct {
	Before *Session
	After  Session
}

// BatchHook lets another domain keep derived data (rollups) in step with the
// raw events. The event writer calls it inside the transaction that stores a
// batch, so derived data and events commit or fail together.
type BatchHook interface {
	AfterBatch(ctx context.Context, tx bun.Tx, events []Event, sessions []SessionChange) error
}
