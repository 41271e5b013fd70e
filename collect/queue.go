package collect

import "sync"

// queue is the bounded buffer between the endpoint and the writer. Events
// taken by a flush count against the bound until they are stored, so memory
// stays bounded while the database is down.
type queue struct {
	mu       sync.Mutex
	items    []pending
	inflight int
	cap      int
	batch    int
	// ready gets a token when a full batch is waiting.
	ready chan struct{}
}

func newQueue(capacity, batch int) *queue {
	return &queue{cap: capacity, batch: batch, ready: make(chan struct{}, 1), items: make([]pending, 0, min(capacity, batch, 16384))}
}

// push adds p unless the queue is full.
func (q *queue) push(p pending) bool {
	q.mu.Lock()
	if len(q.items)+q.inflight >= q.cap {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, p)
	n := len(q.items)
	q.mu.Unlock()
	if n >= q.batch {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return true
}

// take removes up to n events, oldest first, and counts them as in flight.
func (q *queue) take(n int) []pending {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	if n > len(q.items) {
		n = len(q.items)
	}
	out := make([]pending, n)
	copy(out, q.items[:n])
	rest := copy(q.items, q.items[n:])
	clear(q.items[rest:])
	q.items = q.items[:rest]
	q.inflight += n
	return out
}

// done marks n in-flight events as stored.
func (q *queue) done(n int) {
	q.mu.Lock()
	q.inflight -= n
	q.mu.Unlock()
}

// putBack returns a failed batch to the head of the queue.
func (q *queue) putBack(b []pending) {
	q.mu.Lock()
	q.inflight -= len(b)
	q.items = append(b, q.items...)
	q.mu.Unlock()
}

// len is the number of events not yet stored, in flight included.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) + q.inflight
}
