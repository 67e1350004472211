package tier

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/tier/redistest"
)

// stampedSource is a source whose values also say which load made them:
// "key@version#serial", serials counting loads from 1.
type stampedSource struct {
	*source
	serial atomic.Int64
}

func (s *stampedSource) load(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
	v, d, err := s.source.load(ctx, key)
	if err != nil {
		return v, d, err
	}
	return fmt.Appendf(v, "#%d", s.serial.Add(1)), d, nil
}

func parseStamped(key, value []byte) (version int, serial int64, err error) {
	head, tail, ok := strings.Cut(string(value), "#")
	if !ok {
		return 0, 0, fmt.Errorf("value %q has no serial", value)
	}
	if version, err = parseVersion(key, []byte(head)); err != nil {
		return 0, 0, err
	}
	serial, err = strconv.ParseInt(tail, 10, 64)
	return version, serial, err
}

// fault is what happens to Redis in a faultRun, and how it ends.
type fault struct {
	name       string
	start, end func() error
}

// faultRun drives three instances through a fault of Redis during
// updates: a writer (instance 0) bumps keys in the source and
// Invalidates them, before, during and after the fault, while readers in
// every instance read them. It asserts the orders that must hold however
// slow the machine, and reports the wall-clock figures:
//
//   - lease: a read that begins after its instance's lease lapsed and
//     ends before the fault does serves no copy loaded before the fault
//     began;
//   - read-your-writes: a read in the writer that begins after an
//     Invalidate returned gets that version or a newer one, through the
//     fault;
//   - notices: a read in another instance that begins after it handled a
//     notice of the key that came after a write gets that write's
//     version or a newer one (the queued write's notice comes when it is
//     delivered);
//   - delivery: once every instance is up again and the writer's queue
//     is delivered, and two heartbeats later in each instance, every
//     instance serves each key's last version and Redis holds no older.
func faultRun(t *testing.T, b backend, f fault) {
	const readersPerInstance = 4
	keys := newKeys("fault", 16)
	src := &stampedSource{source: newSource()}
	var insts []*Tier
	var noticeLogs []*noticeLog
	for range 3 {
		log := &noticeLog{at: map[string][]time.Time{}}
		noticeLogs = append(noticeLogs, log)
		cfg := testConfig(b)
		cfg.Redis.OnInvalidations = log.hook
		cfg.Lease = 300 * time.Millisecond
		cfg.UntrackedTTL = 100 * time.Millisecond
		cfg.RedisTimeout = 300 * time.Millisecond
		insts = append(insts, newTier(t, cfg))
	}
	ctx := context.Background()
	for _, inst := range insts {
		for _, key := range keys {
			_, err := inst.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
		}
	}

	type aRead struct {
		inst, version int
		key           string
		serial        int64
		began, ended  time.Time
		down          bool // the instance's lease had lapsed when the read began, and it was not up again when it ended
	}
	var stop atomic.Bool
	var faultAt, endAt time.Time
	// The instances' counters when the fault began: a lapse on a loaded
	// machine before it (the lease is short) must not pass for the
	// fault's, nor a recovery from it for the end of the fault.
	var lapsesAtFault, recoveriesAtFault [3]atomic.Uint64
	for i := range insts {
		lapsesAtFault[i].Store(math.MaxUint64)
	}
	hist := &history{writes: map[string][]write{}}
	logs := make([][]aRead, len(insts)*readersPerInstance)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for i, inst := range insts {
		for g := range readersPerInstance {
			mine := &logs[i*readersPerInstance+g]
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(g)))
				for !stop.Load() {
					key := keys[rng.IntN(len(keys))]
					lapsed := inst.stats.lapses.Load() > lapsesAtFault[i].Load()
					began := time.Now()
					got, err := inst.GetOrLoad(ctx, nil, key, src.load)
					down := lapsed && inst.stats.recoveries.Load() == recoveriesAtFault[i].Load()
					ended := time.Now()
					if err == nil {
						var r aRead
						r.version, r.serial, err = parseStamped(key, got)
						r.inst, r.key, r.began, r.ended, r.down = i, string(key), began, ended, down
						*mine = append(*mine, r)
					}
					if err != nil {
						select {
						case errs <- fmt.Errorf("instance %d read %q: %w", i, key, err):
						default:
						}
						return
					}
				}
			}()
		}
	}

	writer := insts[0]
	rng := rand.New(rand.NewPCG(9, 9))
	writeOne := func() {
		key := keys[rng.IntN(len(keys))]
		began := time.Now()
		v := src.bump(key)
		require.NoError(t, writer.Invalidate(ctx, key), "a write Redis cannot take now is queued")
		hist.mu.Lock()
		hist.writes[string(key)] = append(hist.writes[string(key)], write{v, 0, began, time.Now()})
		hist.mu.Unlock()
	}
	writeFor := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			writeOne()
		}
	}

	writeFor(200 * time.Millisecond)
	for i, inst := range insts {
		recoveriesAtFault[i].Store(inst.stats.recoveries.Load())
		lapsesAtFault[i].Store(inst.stats.lapses.Load())
	}
	serialAtFault := src.serial.Load()
	faultAt = time.Now()
	require.NoError(t, f.start())
	// Write through the fault until every instance is down, and some
	// more.
	for i, inst := range insts {
		for inst.up.Load() {
			writeOne()
			time.Sleep(5 * time.Millisecond)
			require.Less(t, time.Since(faultAt), time.Minute, "instance %d's lease never lapsed", i)
		}
	}
	lapsedAfter := time.Since(faultAt)
	writeFor(300 * time.Millisecond)
	queued := writer.Stats().Pending
	require.NotZero(t, queued, "writes during the fault were queued")
	endAt = time.Now()
	require.NoError(t, f.end())
	writeFor(100 * time.Millisecond)

	// Every instance comes up again and the queue is delivered.
	eventually(t, func() bool {
		for i, inst := range insts {
			if inst.stats.recoveries.Load() == recoveriesAtFault[i].Load() {
				return false
			}
		}
		return writer.Stats().Pending == 0
	}, "every instance up again, the queue delivered")
	upAfter := time.Since(endAt)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	beats := make([]uint64, len(insts))
	for i, inst := range insts {
		beats[i] = inst.stats.beats.Load()
	}
	for i, inst := range insts {
		eventually(t, func() bool { return inst.stats.beats.Load() >= beats[i]+2 }, "two more heartbeats")
	}

	violations := func(what string, n int, r aRead, detail string) int {
		if n < 5 {
			t.Errorf("%s: instance %d read %q version %d (load %d) at %v: %s", what, r.inst, r.key, r.version, r.serial, r.began.Format(time.StampMicro), detail)
		}
		return n + 1
	}
	var n, reads, pastLease, staleAfter int
	var maxAfter time.Duration
	lease := 300 * time.Millisecond
	for _, rs := range logs {
		for _, r := range rs {
			reads++
			if r.down && r.ended.Before(endAt) && r.serial <= serialAtFault {
				n = violations("lease", n, r, fmt.Sprintf("a copy loaded before the fault (load %d or earlier)", serialAtFault))
			}
			newest := hist.newestSettled(r.key, r.began)
			if r.inst == 0 && r.version < newest {
				n = violations("read-your-writes", n, r, fmt.Sprintf("after version %d was written here", newest))
			}
			ws := hist.writes[r.key]
			for wi := len(ws) - 1; r.inst != 0 && wi >= 0 && ws[wi].version > r.version; wi-- {
				if at := visibleFrom(ws[wi], r.inst, noticeLogs[r.inst], r.key); !at.IsZero() && !at.After(r.began) {
					n = violations("notice", n, r, fmt.Sprintf("after its notice of version %d at %v", ws[wi].version, at.Format(time.StampMicro)))
					break
				}
			}
			switch {
			case r.began.After(faultAt.Add(lease)) && r.began.Before(endAt) && r.serial <= serialAtFault:
				pastLease++
			case r.began.After(endAt) && r.version < newest:
				staleAfter++
				maxAfter = max(maxAfter, r.began.Sub(endAt))
			}
		}
	}
	require.Zero(t, n, "reads out of order")
	for i, inst := range insts {
		for _, key := range keys {
			got, err := inst.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
			v, _, err := parseStamped(key, got)
			require.NoError(t, err)
			want := src.version(key)
			require.Equal(t, want, v, "instance %d, %q: the last version after the fault", i, key)
			if raw, ok := redisGetOK(b, key); ok && !isReserved([]byte(raw)) {
				rv, _, err := parseStamped(key, []byte(raw))
				require.NoError(t, err)
				require.Equal(t, want, rv, "Redis holds no older version of %q", key)
			}
		}
	}
	t.Logf("%s on %s: %d reads, 0 out of order; %d writes queued during the fault and delivered; every lease lapsed %v after the fault began, every instance up %v after it ended; in wall-clock time, %d reads during the fault served a copy from before it more than the lease (%v) after it began, and %d reads after it ended were older than the last write settled before them, the last %v after it ended",
		f.name, b.name, reads, queued, lapsedAfter.Round(time.Millisecond), upAfter.Round(time.Millisecond), pastLease, lease, staleAfter, maxAfter.Round(time.Millisecond))
}

// settledAfter is when the version after v of key was written (its
// Invalidate returned): a read of v from then on is stale.
func settledAfter(h *history, key string, v int) time.Time {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, w := range h.writes[key] {
		if w.version > v {
			return w.settled
		}
	}
	return time.Now()
}

// Redis paused (SIGSTOP: connections open, nothing answered) and killed
// (connections refused, data gone) during updates: a standalone server,
// and every node of a cluster. (One node of several is
// TestAClusterNodeKilledAndBack.)
func TestFaultsDuringUpdates(t *testing.T) {
	redistest.Need(t)
	onAll := func(servers []*redistest.Server, do func(*redistest.Server) error) func() error {
		return func() error {
			for _, s := range servers {
				if err := do(s); err != nil {
					return err
				}
			}
			return nil
		}
	}
	standalone := func(t *testing.T) (backend, []*redistest.Server) {
		s := redistest.Start(t)
		return backend{"standalone", []string{s.Addr}}, []*redistest.Server{s}
	}
	clustered := func(t *testing.T) (backend, []*redistest.Server) {
		// A node timeout longer than the fault: the nodes do not fail
		// each other over it.
		c, err := redistest.NewCluster(t.TempDir(), 3, "--cluster-node-timeout", "60000")
		require.NoError(t, err)
		t.Cleanup(c.Stop)
		return backend{"cluster", c.Addrs}, []*redistest.Server{c.Node(0), c.Node(1), c.Node(2)}
	}
	for _, deploy := range []struct {
		name  string
		start func(*testing.T) (backend, []*redistest.Server)
	}{{"standalone", standalone}, {"cluster", clustered}} {
		for _, kind := range []string{"paused", "killed"} {
			t.Run(deploy.name+"/"+kind, func(t *testing.T) {
				b, servers := deploy.start(t)
				f := fault{"Redis paused", onAll(servers, (*redistest.Server).Pause), onAll(servers, (*redistest.Server).Resume)}
				if kind == "killed" {
					kill := func(s *redistest.Server) error { s.Kill(); return nil }
					f = fault{"Redis killed", onAll(servers, kill), onAll(servers, (*redistest.Server).Restart)}
				}
				faultRun(t, b, f)
			})
		}
	}
}
