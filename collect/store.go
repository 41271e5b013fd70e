package collect

import (
	"context"
	"log/slog"

	"github.com/tallyhq/tally/db"
)

// WriteEvents stores already-enriched events the way the endpoint's writer
// does: visits assigned by the 30-minute rule (SessionID is ignored and
// set), PostgreSQL COPY or SQLite batches, and hook called inside each
// batch's transaction. Demo data and imports use it so that their visits
// and rollups match live traffic.
func WriteEvents(ctx context.Context, d *db.DB, hook db.BatchHook, events []db.Event) error {
	w := &writer{db: d, hook: hook, log: slog.New(slog.DiscardHandler), metrics: newMetrics()}
	const chunk = 10_000
	for lo := 0; lo < len(events); lo += chunk {
		part := events[lo:min(lo+chunk, len(events))]
		batch := make([]pending, len(part))
		for i := range part {
			batch[i] = pending{ev: part[i]}
			if batch[i].ev.Props == nil {
				batch[i].ev.Props = map[string]string{}
			}
		}
		if err := w.write(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}
