package collect

import (
	"context"
	"errors"
	"time"
)

var errStopping = errors.New("collector is stopping")

// run flushes on every tick and whenever a full batch is queued, and
// rotates the visitor salts once a minute.
func (c *Collector) run() {
	defer close(c.done)
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	rotate := time.NewTicker(time.Minute)
	defer rotate.Stop()
	ctx := context.Background()
	if err := c.salts.Rotate(ctx); err != nil {
		c.opts.Log.Warn("collect: rotate visitor salts", "err", err)
	}
	for {
		select {
		case <-c.stop:
			return
		case <-rotate.C:
			if err := c.salts.Rotate(ctx); err != nil {
				c.opts.Log.Warn("collect: rotate visitor salts", "err", err)
			}
			continue
		case <-tick.C:
		case <-c.queue.ready:
		}
		for {
			batch := c.queue.take(c.opts.BatchSize)
			if len(batch) == 0 {
				break
			}
			if err := c.writeWithRetry(ctx, batch); err != nil {
				// stopping: the batch is back in the queue for Close
				return
			}
			if len(batch) < c.opts.BatchSize {
				break
			}
		}
	}
}

// writeWithRetry stores batch, retrying with exponential backoff (100 ms up
// to 10 s) while the database fails. The batch stays in memory meanwhile; on
// stop or when ctx ends it is put back at the head of the queue.
func (c *Collector) writeWithRetry(ctx context.Context, batch []pending) error {
	backoff := 100 * time.Millisecond
	for {
		err := c.writer.write(ctx, batch)
		if err == nil {
			c.queue.done(len(batch))
			return nil
		}
		c.metrics.flushErrors.Inc()
		c.opts.Log.Warn("collect: flush failed, retrying", "events", len(batch), "retry_in", backoff.String(), "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.queue.putBack(batch)
			return ctx.Err()
		case <-c.stopping():
			t.Stop()
			c.queue.putBack(batch)
			return errStopping
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// stopping is closed once Close began; during Close's own drain it is
// replaced by a channel that never fires, so that drain retries until its
// deadline.
func (c *Collector) stopping() <-chan struct{} {
	if c.draining.Load() {
		return nil
	}
	return c.stop
}
