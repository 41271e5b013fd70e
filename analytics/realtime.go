package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/tallyhq/tally/db"
)

// RealtimeWindow is how far back "now" reaches.
const RealtimeWindow = 5 * time.Minute

// RealtimePage is a page with its current visitors.
type RealtimePage struct {
	Page     string
	Visitors int64
}

// RealtimeVisitors counts distinct visitors with an event in the window
// before now, from the raw events (exact).
func RealtimeVisitors(ctx context.Context, d *db.DB, siteID int64, now time.Time) (int64, error) {
	var n int64
	err := d.QueryRowContext(ctx, "SELECT COUNT(DISTINCT visitor_id) FROM events WHERE site_id = ? AND ts > ? AND ts <= ?",
		siteID, now.Add(-RealtimeWindow).Unix(), now.Unix()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("realtime visitors: %w", err)
	}
	return n, nil
}

// RealtimePages lists the top pages of the window by visitors.
func RealtimePages(ctx context.Context, d *db.DB, siteID int64, now time.Time, limit int) ([]RealtimePage, error) {
	rows, err := d.QueryContext(ctx, `SELECT pathname, COUNT(DISTINCT visitor_id) AS v FROM events
 WHERE site_id = ? AND ts > ? AND ts <= ? AND name = 'pageview' GROUP BY pathname ORDER BY v DESC, pathname LIMIT ?`,
		siteID, now.Add(-RealtimeWindow).Unix(), now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("realtime pages: %w", err)
	}
	defer rows.Close()
	var out []RealtimePage
	for rows.Next() {
		var p RealtimePage
		if err := rows.Scan(&p.Page, &p.Visitors); err != nil {
			return nil, fmt.Errorf("realtime pages: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
