package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// MaxDeliveryAttempts is how often a digest is tried before giving up.
const MaxDeliveryAttempts = 6

// Delivery is one digest sent (or to be sent) through one notifier.
type Delivery struct {
	bun.BaseModel `bun:"table:insight_deliveries"`

	ID            int64      `bun:"id,pk,autoincrement"`
	RunID         int64      `bun:"run_id,notnull"`
	Notifier      string     `bun:"notifier,notnull"`
	Status        string     `bun:"status,notnull"`
	Digest        string     `bun:"digest,notnull"`
	Attempts      int        `bun:"attempts,notnull"`
	LastError     string     `bun:"last_error,notnull"`
	NextAttemptAt *time.Time `bun:"next_attempt_at"`
	CreatedAt     time.Time  `bun:"created_at,notnull"`
	DeliveredAt   *time.Time `bun:"delivered_at"`
}

// retryDelay grows with each failed attempt: 5 min, 15 min, 45 min, ...
func retryDelay(attempts int) time.Duration {
	d := 5 * time.Minute
	for i := 1; i < attempts; i++ {
		d *= 3
	}
	return min(d, 12*time.Hour)
}

// deliver records a delivery per notifier and tries each once now. The
// digest passes the privacy scanner first, like the payload.
func (s *Service) deliver(ctx context.Context, runID int64, d *Digest) {
	if len(s.Notifiers) == 0 {
		return
	}
	body, err := json.Marshal(d)
	if err == nil {
		err = Scan(body)
	}
	if err != nil {
		s.log().Error("insights digest refused by the privacy guard; nothing sent", "run", runID, "error", err)
		return
	}
	now := s.now().UTC()
	for _, n := range s.Notifiers {
		del := &Delivery{RunID: runID, Notifier: n.Name(), Status: DeliveryPending, Digest: string(body), CreatedAt: now, NextAttemptAt: &now}
		res, err := s.DB.NewInsert().Model(del).On("CONFLICT (run_id, notifier) DO NOTHING").Returning("id").Exec(ctx)
		if err != nil {
			s.log().Error("record delivery", "run", runID, "notifier", n.Name(), "error", err)
			continue
		}
		if k, _ := res.RowsAffected(); k == 0 {
			continue
		}
		s.attempt(ctx, n, del, d)
	}
}

func (s *Service) attempt(ctx context.Context, n Notifier, del *Delivery, d *Digest) {
	err := n.Notify(ctx, d)
	s.countDelivery(del.Notifier, err == nil)
	now := s.now().UTC()
	del.Attempts++
	if err == nil {
		del.Status, del.DeliveredAt, del.NextAttemptAt, del.LastError = DeliveryDelivered, &now, nil, ""
		s.log().Info("insights digest delivered", "run", del.RunID, "notifier", del.Notifier)
	} else {
		del.LastError = err.Error()
		if del.Attempts >= MaxDeliveryAttempts {
			del.Status, del.NextAttemptAt = DeliveryFailed, nil
		} else {
			next := now.Add(retryDelay(del.Attempts))
			del.NextAttemptAt = &next
		}
		s.log().Warn("insights digest delivery failed", "run", del.RunID, "notifier", del.Notifier, "attempt", del.Attempts, "error", err)
	}
	if _, err := s.DB.NewUpdate().Model(del).WherePK().Exec(ctx); err != nil {
		s.log().Error("record delivery", "run", del.RunID, "notifier", del.Notifier, "error", err)
	}
}

// RetryDeliveries sends again every pending delivery whose time has come; a
// scheduled job calls it.
func (s *Service) RetryDeliveries(ctx context.Context) error {
	var dels []Delivery
	err := s.DB.NewSelect().Model(&dels).Where("status = ?", DeliveryPending).
		Where("next_attempt_at <= ?", s.now().UTC()).Order("id").Limit(100).Scan(ctx)
	if err != nil {
		return fmt.Errorf("list pending deliveries: %w", err)
	}
	byName := map[string]Notifier{}
	for _, n := range s.Notifiers {
		byName[n.Name()] = n
	}
	for i := range dels {
		del := &dels[i]
		n := byName[del.Notifier]
		if n == nil {
			continue // notifier no longer configured; keep the row for later
		}
		var d Digest
		if err := json.Unmarshal([]byte(del.Digest), &d); err != nil {
			return fmt.Errorf("delivery %d: decode digest: %w", del.ID, err)
		}
		s.attempt(ctx, n, del, &d)
	}
	return nil
}

// Deliveries lists the deliveries of a run.
func Deliveries(ctx context.Context, d bun.IDB, runID int64) ([]Delivery, error) {
	var out []Delivery
	if err := d.NewSelect().Model(&out).Where("run_id = ?", runID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list deliveries of run %d: %w", runID, err)
	}
	return out, nil
}
