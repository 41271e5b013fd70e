package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/tallyhq/tally/db"
)

// EnforceRetention deletes raw events and visits older than each site's
// retention_days (0 keeps them forever). Rollups are kept, so unfiltered
// stats of older days still answer; filtered ones have no raw rows left.
// It returns the number of events deleted.
func EnforceRetention(ctx context.Context, d *db.DB, now time.Time) (int64, error) {
	var sites []struct {
		ID   int64 `bun:"id"`
		Days int   `bun:"retention_days"`
	}
	if err := d.NewSelect().Table("sites").Column("id", "retention_days").Where("retention_days > 0").Scan(ctx, &sites); err != nil {
		return 0, fmt.Errorf("retention: list sites: %w", err)
	}
	var total int64
	for _, s := range sites {
		cutoff := now.Unix() - int64(s.Days)*86400
		res, err := d.ExecContext(ctx, "DELETE FROM events WHERE site_id = ? AND ts < ?", s.ID, cutoff)
		if err != nil {
			return total, fmt.Errorf("retention: site %d events: %w", s.ID, err)
		}
		n, _ := res.RowsAffected()
		total += n
		// a visit goes once its last event has gone
		if _, err := d.ExecContext(ctx, "DELETE FROM sessions WHERE site_id = ? AND last_seen < ?", s.ID, cutoff); err != nil {
			return total, fmt.Errorf("retention: site %d visits: %w", s.ID, err)
		}
	}
	return total, nil
}

// DeleteSiteData removes a deleted site's rollups and goals.
func DeleteSiteData(ctx context.Context, d *db.DB, siteID int64) error {
	for _, t := range []string{"analytics_event_rollups", "analytics_session_rollups", "analytics_goals"} {
		if _, err := d.ExecContext(ctx, "DELETE FROM "+t+" WHERE site_id = ?", siteID); err != nil {
			return fmt.Errorf("delete %s of site %d: %w", t, siteID, err)
		}
	}
	return nil
}
