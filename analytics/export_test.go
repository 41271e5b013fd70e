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

// SetIDBitmap makes the shared scan ask PostgreSQL for visits with a bitmap
// from minIDs ids on, of bitsPerID bits per id and at least 8 (few bits:
// many visits share a bit), and returns the function that restores the
// defaults.
func SetIDBitmap(minIDs, bitsPerID int) (restore func()) {
	oldIDs, oldMin, oldPer, oldAge := bitmapMinIDs, bitmapMinBits, bitmapBitsPerID, bitmapOpenEndAge
	// The fixtures lie in the past: let the unbounded half use the
	// bitmap too, as it does for a period that ends today.
	bitmapMinIDs, bitmapMinBits, bitmapBitsPerID, bitmapOpenEndAge = minIDs, 8, bitsPerID, 1<<40
	return func() {
		bitmapMinIDs, bitmapMinBits, bitmapBitsPerID, bitmapOpenEndAge = oldIDs, oldMin, oldPer, oldAge
	}
}

// UseBitmap exposes useBitmap with the default thresholds.
func UseBitmap(n int, hi, periodEnd, now int64) bool { return useBitmap(n, hi, periodEnd, now) }
