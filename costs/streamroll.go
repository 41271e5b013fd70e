package costs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/bits"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// streamRollups sums an import's rows into its three rollups (cost_daily,
// cost_tag_daily, cost_resource_monthly) while they stream by, so that the
// import does not read its million rows back for each of them. On
// PostgreSQL that read-back took longer than the COPY itself; in Go the
// sums use the core the COPY leaves idle.
//
// Memory is bounded: a rollup that grows past maxRollupKeys (a file where
// nearly every row is its own resource, say) is dropped and computed by
// SQL from the written rows instead, as are tags whose values are not all
// strings, since only the database's JSON functions give the exact text the
// raw TAG query compares (1.50 or 1.5, true or 1).
type streamRollups struct {
	// Keys are interned ids: equal strings compare and hash as one small
	// integer instead of bytes scattered over the heap (the string keys
	// made these sums cost more than parsing the CSV).
	strs     interner // every key column but the resource
	res      interner // resources, the one column that may be nearly unique
	daily    keySums[dailySumKey]
	tags     keySums[tagSumKey]
	resource keySums[resSumKey]
	parsed   tagCache
}

// maxRollupKeys bounds each rollup's keys in memory (about 100 bytes each
// with the map's own overhead), and the distinct strings behind them.
var maxRollupKeys = 100_000

type dailySumKey struct {
	bps, day                                                       int64
	provider, account, sub, service, category, region, charge, cur uint32
}

type tagSumKey struct {
	bps, day                           int64
	provider, account, key, value, cur uint32
}

type resSumKey struct {
	bps, month                       int64
	provider, account, resource, cur uint32
}

// interner numbers the distinct strings of an import's key columns.
type interner struct {
	ids  map[string]uint32
	strs []string
}

// id returns s's number; ok is false once there are too many strings.
func (in *interner) id(s string) (uint32, bool) {
	if id, ok := in.ids[s]; ok {
		return id, true
	}
	if len(in.strs) >= maxRollupKeys {
		return 0, false
	}
	if in.ids == nil {
		in.ids = map[string]uint32{}
	}
	s = strings.Clone(s) // s points into the CSV record
	id := uint32(len(in.strs))
	in.strs = append(in.strs, s)
	in.ids[s] = id
	return id, true
}

// keySums is one rollup's sums per key; over means it gave up.
type keySums[K comparable] struct {
	m    map[K]*rollVal
	over bool
}

func (s *keySums[K]) giveUp() { s.over, s.m = true, nil }

// add sums r under k, giving up past maxRollupKeys or on an amount that
// does not fit fixed12.
func (s *keySums[K]) add(k K, r *Row) {
	if s.over {
		return
	}
	v := s.m[k]
	if v == nil {
		if len(s.m) >= maxRollupKeys {
			s.giveUp()
			return
		}
		if s.m == nil {
			s.m = map[K]*rollVal{}
		}
		v = &rollVal{}
		s.m[k] = v
	}
	if !v.add(r) {
		s.giveUp()
	}
}

// rollVal is one rollup row's sums.
type rollVal struct {
	billed, effective, list fixed12
	n                       int64
}

// add sums r into v; false when an amount does not fit fixed12, and the
// caller then leaves the rollup to SQL.
func (v *rollVal) add(r *Row) bool {
	ok := v.billed.add(r.BilledCost)
	if r.EffectiveCost.Valid {
		ok = v.effective.add(r.EffectiveCost.Decimal) && ok
	}
	if r.ListCost.Valid {
		ok = v.list.add(r.ListCost.Decimal) && ok
	}
	v.n++
	return ok
}

// fixed12 is an exact sum in units of 10^-12 held in 128 bits: a decimal
// add allocates, and an import makes millions of them. Amounts are stored
// as NUMERIC(38,12), so 12 places and |x| < 10^26 (< 2^127 units) cover
// every value the database accepts.
type fixed12 struct {
	hi int64
	lo uint64
}

var pow10u [19]uint64

func init() {
	pow10u[0] = 1
	for i := 1; i < len(pow10u); i++ {
		pow10u[i] = pow10u[i-1] * 10
	}
}

// add adds d; false (and f unchanged) when d has more than 12 places, more
// than 18 digits, or the sum would overflow.
func (f *fixed12) add(d decimal.Decimal) bool {
	exp := int(d.Exponent())
	if exp < -12 || exp > 6 || d.NumDigits() > 18 {
		return false
	}
	c := d.CoefficientInt64()
	u := uint64(c)
	if c < 0 {
		u = uint64(-c)
	}
	hi, lo := bits.Mul64(u, pow10u[exp+12])
	if hi>>62 != 0 {
		return false
	}
	x := fixed12{int64(hi), lo}
	if c < 0 {
		x = x.neg()
	}
	sum, ok := f.plus(x)
	if ok {
		*f = sum
	}
	return ok
}

// plus returns f+x; false (and f) when the sum overflows.
func (f fixed12) plus(x fixed12) (fixed12, bool) {
	lo, carry := bits.Add64(f.lo, x.lo, 0)
	hi := f.hi + x.hi + int64(carry)
	// Signed overflow: both operands of one sign, the result of the other.
	if (f.hi >= 0) == (x.hi >= 0) && (hi >= 0) != (f.hi >= 0) {
		return f, false
	}
	return fixed12{hi, lo}, true
}

func (f fixed12) neg() fixed12 {
	lo, borrow := bits.Sub64(0, f.lo, 0)
	return fixed12{-f.hi - int64(borrow), lo}
}

// decimal returns the sum as an exact decimal.
func (f fixed12) decimal() decimal.Decimal {
	neg := f.hi < 0
	if neg {
		f = f.neg()
	}
	b := new(big.Int).SetUint64(uint64(f.hi))
	b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(f.lo))
	if neg {
		b.Neg(b)
	}
	return decimal.NewFromBigInt(b, -12)
}

func (v *rollVal) strings() (string, string, string) {
	return v.billed.decimal().String(), v.effective.decimal().String(), v.list.decimal().String()
}

func (sr *streamRollups) add(r *Row) {
	if sr.daily.over && sr.tags.over && sr.resource.over {
		return
	}
	var ids [8]uint32
	ok := true
	for i, v := range [...]string{r.ProviderName, r.BillingAccountID, r.BillingCurrency, r.SubAccountID,
		r.ServiceName, r.ServiceCategory, r.RegionID, r.ChargeCategory} {
		if ids[i], ok = sr.strs.id(v); !ok {
			break
		}
	}
	if !ok {
		// More distinct strings than any rollup may hold.
		sr.daily.giveUp()
		sr.tags.giveUp()
		sr.resource.giveUp()
		return
	}
	var resID uint32
	if !sr.resource.over {
		if resID, ok = sr.res.id(r.ResourceID); !ok {
			sr.resource.giveUp()
			sr.res = interner{}
		}
	}
	bps, day := r.BillingPeriodStart.Unix(), dayOf(r.ChargePeriodStart)
	provider, account, cur := ids[0], ids[1], ids[2]
	sr.daily.add(dailySumKey{bps: bps, day: day, provider: provider, account: account, sub: ids[3],
		service: ids[4], category: ids[5], region: ids[6], charge: ids[7], cur: cur}, r)
	if !sr.resource.over {
		sr.resource.add(resSumKey{bps: bps, month: monthStart(r.ChargePeriodStart).Unix(), provider: provider,
			account: account, resource: resID, cur: cur}, r)
	}
	if sr.tags.over || r.Tags == "" || r.Tags == "{}" {
		return
	}
	kvs, ok := sr.parsed.get(r.Tags, &sr.strs)
	if !ok {
		sr.tags.giveUp()
		return
	}
	for _, kv := range kvs {
		sr.tags.add(tagSumKey{bps: bps, day: day, provider: provider, account: account, key: kv[0], value: kv[1], cur: cur}, r)
	}
}

// tagCache remembers the parsed tags of recent rows: an export repeats the
// same few tag sets on most of its rows.
type tagCache map[string][][2]uint32

// get returns the non-empty string tags of a JSON object as interned key
// and value ids; ok is false when a value is a number or a boolean (see
// streamRollups) or there are too many distinct strings.
func (c *tagCache) get(js string, in *interner) (kvs [][2]uint32, ok bool) {
	if kvs, ok := (*c)[js]; ok {
		return kvs, kvs != nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, false
	}
	kvs = [][2]uint32{}
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, false
			}
			if s != "" {
				ki, ok1 := in.id(k)
				vi, ok2 := in.id(s)
				if !ok1 || !ok2 {
					return nil, false
				}
				kvs = append(kvs, [2]uint32{ki, vi})
			}
		case string(v) == "null":
		default:
			kvs = nil
		}
		if kvs == nil {
			break
		}
	}
	if len(*c) >= 10_000 {
		*c = tagCache{}
	} else if *c == nil {
		*c = tagCache{}
	}
	(*c)[strings.Clone(js)] = kvs
	return kvs, kvs != nil
}

// write stores the sums of the import rec, or computes from its written
// rows the rollups that gave up.
func (sr *streamRollups) write(ctx context.Context, conn bun.Conn, tx bun.Tx, pg bool, rec *Import) error {
	where := "import_id = ?"
	str := sr.strs.strs
	if pg && (sr.daily.over || sr.tags.over || sr.resource.over) {
		// Summing a million rows into as many groups spilled to disk
		// with the default 4 MB of work memory.
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '256MB'"); err != nil {
			return fmt.Errorf("rollup work memory: %w", err)
		}
	}
	if err := writeSums(ctx, conn, tx, pg, &sr.daily, dailyRollupInsert, dailyRollupSelect(pg, where), 12, rec.ID,
		func(k dailySumKey, b, e, l string, n int64) []any {
			return []any{rec.SourceID, rec.ID, k.bps, k.day, str[k.provider], str[k.account], str[k.sub],
				str[k.service], str[k.category], str[k.region], str[k.charge], str[k.cur], b, e, l, n}
		}); err != nil {
		return fmt.Errorf("write daily rollup: %w", err)
	}
	if err := writeSums(ctx, conn, tx, pg, &sr.tags, tagRollupInsert, tagRollupSelect(pg, where), 9, rec.ID,
		func(k tagSumKey, b, e, l string, n int64) []any {
			return []any{rec.SourceID, rec.ID, k.bps, str[k.provider], str[k.account], k.day, str[k.key], str[k.value], str[k.cur], b, e, l, n}
		}); err != nil {
		return fmt.Errorf("write tag rollup: %w", err)
	}
	if err := writeSums(ctx, conn, tx, pg, &sr.resource, resourceRollupInsert, resourceRollupSelect(pg, where), 8, rec.ID,
		func(k resSumKey, b, e, l string, n int64) []any {
			return []any{rec.SourceID, rec.ID, k.bps, str[k.provider], str[k.account], k.month, sr.res.strs[k.resource], str[k.cur], b, e, l, n}
		}); err != nil {
		return fmt.Errorf("write resource rollup: %w", err)
	}
	return nil
}

// writeSums writes one rollup of an import: its sums as row makes them,
// or, when the sums gave up, the SQL rollup sel of the written rows. On
// PostgreSQL the sums go in with one COPY on conn, the connection of tx.
func writeSums[K comparable](ctx context.Context, conn bun.Conn, tx bun.Tx, pg bool, s *keySums[K], target, sel string, nkeys int, importID int64,
	row func(k K, billed, effective, list string, n int64) []any) error {
	if s.over {
		return rollupInto(ctx, tx, pg, target, sel, nkeys, importID)
	}
	if len(s.m) == 0 {
		return nil
	}
	var out rollupSink = &rowBatch{ctx: ctx, tx: tx, target: target}
	if pg {
		out = newCopySink(ctx, conn, target)
	}
	for k, v := range s.m {
		b, e, l := v.strings()
		if err := out.add(row(k, b, e, l, v.n)...); err != nil {
			out.abort()
			return err
		}
	}
	return out.flush()
}

// rollupSink takes the rows of one rollup table. After a failed add the
// caller aborts it; the import's transaction then rolls back.
type rollupSink interface {
	add(row ...any) error
	flush() error
	abort()
}

// rowBatch collects rows for one target and writes them 500 at a time.
type rowBatch struct {
	ctx    context.Context
	tx     bun.IDB
	target string
	rows   [][]any
}

func (b *rowBatch) add(row ...any) error {
	b.rows = append(b.rows, row)
	if len(b.rows) < 500 {
		return nil
	}
	return b.flush()
}

// abort drops the rows not yet written.
func (b *rowBatch) abort() { b.rows = nil }

func (b *rowBatch) flush() error {
	err := insertRows(b.ctx, b.tx, b.target, b.rows)
	b.rows = b.rows[:0]
	return err
}

// insertRows writes rows into target ("table (columns)") in multi-row
// statements. Bun formats the values into the statement, so a batch binds
// no parameters (which the SQLite driver matches one by one).
func insertRows(ctx context.Context, tx bun.IDB, target string, rows [][]any) error {
	const batch = 500
	for lo := 0; lo < len(rows); lo += batch {
		hi := min(lo+batch, len(rows))
		var sb strings.Builder
		sb.WriteString("INSERT INTO ")
		sb.WriteString(target)
		sb.WriteString(" VALUES ")
		var args []any
		for i, r := range rows[lo:hi] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			sb.WriteString(strings.TrimSuffix(strings.Repeat("?, ", len(r)), ", "))
			sb.WriteByte(')')
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
