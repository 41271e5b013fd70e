// Package scheduler runs named jobs on cron schedules, once per tick across
// every replica sharing a database, and records each run.
//
// Two mechanisms make that hold. A job_runs row unique on (job, tick) is
// claimed before a job starts, so a tick that two replicas both see runs on
// one of them. On PostgreSQL a session advisory lock per job is held while it
// runs, so a slow job is never started again (by any replica) before it
// ends; in-process a mutex does the same on SQLite, which serves one process.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/uptrace/bun"

	"github.com/tallyhq/tally/db"
)

// Run statuses.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// JobRun is one recorded run of a job.
type JobRun struct {
	bun.BaseModel `bun:"table:job_runs"`

	ID         int64      `bun:"id,pk,autoincrement"`
	Job        string     `bun:"job,notnull"`
	Tick       time.Time  `bun:"tick,notnull"`
	Instance   string     `bun:"instance,notnull"`
	Status     string     `bun:"status,notnull"`
	Error      string     `bun:"error,notnull"`
	StartedAt  time.Time  `bun:"started_at,notnull"`
	FinishedAt *time.Time `bun:"finished_at"`
}

type job struct {
	name  string
	spec  string
	sched cron.Schedule
	fn    func(context.Context) error
	mu    sync.Mutex // no overlap within this process
}

// Scheduler is a cron of named jobs.
type Scheduler struct {
	db       *db.DB
	loc      *time.Location
	log      *slog.Logger
	parser   cron.Parser
	instance string

	mu      sync.Mutex
	jobs    map[string]*job
	cron    *cron.Cron
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
	metrics *metrics
}

// Options tune a scheduler.
type Options struct {
	// Seconds accepts 6-field specs with a leading seconds field (tests).
	Seconds bool
	// Instance names this replica in job_runs; the host name and process
	// id by default.
	Instance string
}

// New returns a scheduler whose specs are read in loc.
func New(d *db.DB, loc *time.Location, log *slog.Logger, o Options) *Scheduler {
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if o.Seconds {
		fields |= cron.Second
	}
	if o.Instance == "" {
		host, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Scheduler{db: d, loc: loc, log: log, parser: cron.NewParser(fields), instance: o.Instance, jobs: map[string]*job{}}
}

// Register adds a job. A bad spec is an error naming the job, so start-up
// stops with a clear message. Jobs must be registered before Start.
func (s *Scheduler) Register(name, spec string, fn func(context.Context) error) error {
	sched, err := s.parser.Parse(spec)
	if err != nil {
		return fmt.Errorf("schedule of job %q: %q is not a valid cron expression: %w", name, spec, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[name]; dup {
		return fmt.Errorf("job %q is registered twice", name)
	}
	if s.cron != nil {
		return fmt.Errorf("job %q registered after the scheduler started", name)
	}
	s.jobs[name] = &job{name: name, spec: spec, sched: sched, fn: fn}
	return nil
}

// Jobs lists the registered jobs with their specs, by name.
func (s *Scheduler) Jobs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for n, j := range s.jobs {
		out[n] = j.spec
	}
	return out
}

// Start begins ticking. Stop ends it and waits for running jobs.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cron != nil {
		return
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.cron = cron.New(cron.WithLocation(s.loc), cron.WithParser(s.parser))
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		j := s.jobs[n]
		var id cron.EntryID
		c := s.cron
		id = c.Schedule(j.sched, cron.FuncJob(func() {
			// The tick is the scheduled instant (the entry's Prev once it
			// fires), which every replica computes alike.
			tick := c.Entry(id).Prev
			if tick.IsZero() {
				tick = time.Now().Truncate(time.Second)
			}
			s.running.Add(1)
			defer s.running.Done()
			if _, err := s.Tick(s.ctx, n, tick); err != nil {
				s.log.Error("scheduled job", "job", n, "error", err)
			}
		}))
	}
	s.cron.Start()
	s.log.Info("scheduler started", "jobs", len(names), "timezone", s.loc.String())
}

// Stop stops ticking and waits for running jobs (whose context is
// cancelled) to return.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	c, cancel := s.cron, s.cancel
	s.mu.Unlock()
	if c == nil {
		return
	}
	<-c.Stop().Done()
	cancel()
	s.running.Wait()
}

// ErrUnknownJob is returned for a job name that was never registered.
var ErrUnknownJob = errors.New("unknown job")

// Tick runs a job for one scheduled instant unless this or another replica
// already ran (or is running) it. It reports whether this call ran the job.
// The cron calls it; tests call it directly to simulate ticks.
func (s *Scheduler) Tick(ctx context.Context, name string, tick time.Time) (bool, error) {
	s.mu.Lock()
	j := s.jobs[name]
	s.mu.Unlock()
	if j == nil {
		return false, fmt.Errorf("%w %q", ErrUnknownJob, name)
	}
	if !j.mu.TryLock() {
		s.log.Warn("job still running; skipping tick", "job", name, "tick", tick)
		s.count(name, "skipped", -1)
		return false, nil
	}
	defer j.mu.Unlock()

	release, ok, err := s.lock(ctx, name)
	if err != nil {
		return false, err
	}
	if !ok {
		s.log.Info("job running on another replica; skipping tick", "job", name, "tick", tick)
		s.count(name, "skipped", -1)
		return false, nil
	}
	defer release()

	// Holding the job's advisory lock, nothing else can be running it: a
	// row still "running" belongs to a replica that stopped mid-run. SQLite
	// serves one process, so there it is a row of another (dead) process.
	q := s.db.NewUpdate().Model((*JobRun)(nil)).Set("status = ?", StatusFailed).
		Set("error = ?", "interrupted: the replica stopped while the job ran").Set("finished_at = ?", time.Now().UTC()).
		Where("job = ? AND status = ?", name, StatusRunning)
	if !s.db.IsPostgres() {
		q = q.Where("instance <> ?", s.instance)
	}
	if _, err := q.Exec(ctx); err != nil {
		return false, fmt.Errorf("job %s: close interrupted runs: %w", name, err)
	}
	run := &JobRun{Job: name, Tick: tick.UTC().Truncate(time.Second), Instance: s.instance, Status: StatusRunning, StartedAt: time.Now().UTC()}
	res, err := s.db.NewInsert().Model(run).On("CONFLICT (job, tick) DO NOTHING").Returning("id").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("job %s: claim tick: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.count(name, "skipped", -1)
		return false, nil // another replica had this tick
	}
	runErr := safeRun(ctx, j.fn)
	end := time.Now().UTC()
	run.FinishedAt = &end
	run.Status = StatusSucceeded
	s.count(name, map[bool]string{true: StatusFailed, false: StatusSucceeded}[runErr != nil], end.Sub(run.StartedAt).Seconds())
	if runErr != nil {
		run.Status, run.Error = StatusFailed, runErr.Error()
		s.log.Error("job failed", "job", name, "error", runErr)
	} else {
		s.log.Info("job finished", "job", name, "duration_ms", end.Sub(run.StartedAt).Milliseconds())
	}
	// The record must land even when ctx was cancelled by Stop.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.db.NewUpdate().Model(run).WherePK().Exec(uctx); err != nil {
		return true, fmt.Errorf("job %s: record run: %w", name, err)
	}
	return true, runErr
}

func safeRun(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx)
}

// lock takes the job's PostgreSQL session advisory lock on a dedicated
// connection. SQLite serves a single process, where the job mutex suffices.
func (s *Scheduler) lock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if !s.db.IsPostgres() {
		return func() {}, true, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("job %s: advisory lock connection: %w", name, err)
	}
	key := lockKey(name)
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", key).Scan(&ok); err != nil {
		_ = conn.Close()
		return nil, false, fmt.Errorf("job %s: advisory lock: %w", name, err)
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.ExecContext(uctx, "SELECT pg_advisory_unlock(?)", key)
		_ = conn.Close()
	}, true, nil
}

// lockKey maps a job name to an advisory lock key in a namespace of its own.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("tally.scheduler:" + name))
	return int64(h.Sum64())
}

// Filter selects job runs.
type Filter struct {
	Job   string
	Limit int
}

// Runs lists recorded job runs, newest first.
func Runs(ctx context.Context, d bun.IDB, f Filter) ([]JobRun, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var out []JobRun
	q := d.NewSelect().Model(&out).Order("started_at DESC", "id DESC").Limit(int64(f.Limit))
	if f.Job != "" {
		q = q.Where("job = ?", f.Job)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list job runs: %w", err)
	}
	return out, nil
}
