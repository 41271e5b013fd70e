package analytics

// SetMaxScanEvents lowers the shared scan's bound for a test and returns
// the function that restores it.
func SetMaxScanEvents(n int) (restore func()) {
	old := maxScanEvents
	maxScanEvents = n
	return func() { maxScanEvents = old }
}

// ScanLoaded reports whether the shared scan of q's range was loaded (as
// opposed to refused as too large, or never asked for).
func ScanLoaded(q *Query) bool {
	if q.Scans == nil {
		return false
	}
	q.Scans.mu.Lock()
	defer q.Scans.mu.Unlock()
	for _, e := range q.Scans.byKey {
		if e.sc != nil {
			return true
		}
	}
	return false
}
