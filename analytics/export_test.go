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
	oldIDs, oldMin, oldPer := bitmapMinIDs, bitmapMinBits, bitmapBitsPerID
	bitmapMinIDs, bitmapMinBits, bitmapBitsPerID = minIDs, 8, bitsPerID
	return func() { bitmapMinIDs, bitmapMinBits, bitmapBitsPerID = oldIDs, oldMin, oldPer }
}
