// Package analytics answers stats questions over the raw events and sessions
// that collect writes: aggregates, breakdowns by a dimension, time series,
// goals, funnels and realtime counts, in a site's time zone.
//
// Unfiltered questions over whole local days read rollups (per site, local
// day, dimension value) that the collect writer keeps current through the
// db.BatchHook implemented by Hook; everything else reads the raw tables.
// Both paths answer the same definitions:
//
//   - pageviews, events, revenue: events whose timestamp is in the range;
//   - visitors: distinct visitor hashes among those events;
//   - visits, bounceRate, visitDuration, viewsPerVisit: visits that started
//     in the range;
//   - a filter on an event dimension (PAGE, HOSTNAME, EVENT_NAME, PROP, goal)
//     keeps matching events and the visits with a matching event in the
//     range; a filter on a visit dimension (SOURCE, COUNTRY, ENTRY_PAGE…)
//     keeps matching visits and their events.
package analytics
