package tier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// staleBound is the wall-clock time after an Invalidate returns within
// which the tests expect every other instance to have dropped the value
// it replaced: the notice's trip on loopback with a wide margin. It is
// reported against, not asserted: on a loaded machine under the race
// detector a notice can take longer, and what must hold is the order
// (see visibleFrom).
const staleBound = 250 * time.Millisecond

// history records, per key, each version's write: when it began and when
// its Invalidate returned, by which instance.
type history struct {
	mu     sync.RWMutex
	writes map[string][]write
}

type write struct {
	version        int
	writer         int
	began, settled time.Time
}

// newestSettled is the newest version of key whose Invalidate returned
// at or before t.
func (h *history) newestSettled(key string, t time.Time) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	w := h.writes[key]
	for i := len(w) - 1; i >= 0; i-- {
		if !w[i].settled.After(t) {
			return w[i].version
		}
	}
	return 0
}

// notices records when each instance heard of each key's change: the
// hook runs after the tier has handled the notice.
type noticeLog struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (n *noticeLog) hook(msgs []rueidis.RedisMessage) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range msgs {
		if k, err := m.ToString(); err == nil {
			n.at[k] = append(n.at[k], now)
		}
	}
}

// first is the first notice of key in [from, to).
func (n *noticeLog) first(key string, from, to time.Time) (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, at := range n.at[key] {
		if !at.Before(from) && at.Before(to) {
			return at, true
		}
	}
	return time.Time{}, false
}

// visibleFrom is when instance inst must serve w's version or a newer one:
// when w's Invalidate returned, for the instance that made it; for the
// others, when they handled a notice of the key that came after that (a
// notice ends the local copy, and Redis no longer holds an older
// version). The zero time means never within the run.
func visibleFrom(w write, inst int, log *noticeLog, key string) time.Time {
	if w.writer == inst {
		return w.settled
	}
	at, _ := log.first(key, w.settled, time.Now())
	return at
}

// aRead is one GetOrLoad a reader made: which instance, when it began, and
// the version it returned.
type aRead struct {
	inst    int
	key     string
	began   time.Time
	version int
}

func TestThreeInstancesServeNoOverwrittenValuePastTheBound(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		const writes = 2000
		keys := newKeys("versioned", 16)
		src := newSource()
		hist := &history{writes: map[string][]write{}}
		var insts []*Tier
		var logs []*noticeLog
		for i := 0; i < 3; i++ {
			log := &noticeLog{at: map[string][]time.Time{}}
			cfg := testConfig(b)
			cfg.Redis.OnInvalidations = log.hook
			insts = append(insts, newTier(t, cfg))
			logs = append(logs, log)
		}
		ctx := context.Background()
		var stop atomic.Bool
		var reads, staleWithin, stalePast atomic.Int64
		readLogs := make([][]aRead, 3*4)
		failures := make(chan error, 16)
		fail := func(err error) { // the first few are enough to read
			select {
			case failures <- err:
			default:
			}
		}
		var wg sync.WaitGroup
		for i, inst := range insts {
			load := src.load
			for g := 0; g < 4; g++ {
				wg.Add(1)
				mine := &readLogs[i*4+g]
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(i), uint64(g)))
					for !stop.Load() {
						key := keys[rng.IntN(len(keys))]
						began := time.Now()
						got, err := inst.GetOrLoad(ctx, nil, key, load)
						if err != nil {
							fail(fmt.Errorf("read %q: %w", key, err))
							return
						}
						v, err := parseVersion(key, got)
						if err != nil {
							fail(err)
							return
						}
						reads.Add(1)
						*mine = append(*mine, aRead{i, string(key), began, v})
						if v < hist.newestSettled(string(key), began) {
							staleWithin.Add(1)
						}
						if v < hist.newestSettled(string(key), began.Add(-staleBound)) {
							stalePast.Add(1)
						}
					}
				}()
			}
		}
		type done struct {
			key    string
			writer int
			write
		}
		var log []done
		rng := rand.New(rand.NewPCG(7, 7))
		for w := 0; w < writes; w++ {
			key, writer := keys[rng.IntN(len(keys))], rng.IntN(len(insts))
			began := time.Now()
			v := src.bump(key)
			require.NoError(t, insts[writer].Invalidate(ctx, key))
			settled := time.Now()
			hist.mu.Lock()
			hist.writes[string(key)] = append(hist.writes[string(key)], write{v, writer, began, settled})
			hist.mu.Unlock()
			log = append(log, done{string(key), writer, write{v, writer, began, settled}})
		}
		stop.Store(true)
		wg.Wait()
		close(failures)
		for err := range failures {
			t.Error(err)
		}
		// The order that must hold on any machine: no read that began
		// after its instance had to see a version returns an older one.
		visible := map[string][][]time.Time{} // key, write, instance
		for key, ws := range hist.writes {
			for _, w := range ws {
				at := make([]time.Time, len(insts))
				for j := range insts {
					at[j] = visibleFrom(w, j, logs[j], key)
				}
				visible[key] = append(visible[key], at)
			}
		}
		violations := 0
		for _, rs := range readLogs {
			for _, r := range rs {
				ws := hist.writes[r.key]
				for wi := len(ws) - 1; wi >= 0 && ws[wi].version > r.version; wi-- {
					if at := visible[r.key][wi][r.inst]; !at.IsZero() && !at.After(r.began) {
						violations++
						if violations <= 5 {
							t.Errorf("instance %d read %q version %d at %v, after it had to see version %d (from %v)",
								r.inst, r.key, r.version, r.began.Format(time.StampMicro), ws[wi].version, at.Format(time.StampMicro))
						}
						break
					}
				}
			}
		}
		require.Zero(t, violations, "reads that returned a version older than one their instance had seen invalidated")
		for _, inst := range insts {
			require.Zero(t, inst.waits.pending(), "no registration for a notice outlives its read")
		}

		// Push latency: for each write, each other instance's first notice
		// of the key after the write began and before the key's next write.
		var delays []time.Duration
		for i, d := range log {
			next := time.Now()
			for _, later := range log[i+1:] {
				if later.key == d.key {
					next = later.began
					break
				}
			}
			for j, nl := range logs {
				if j == d.writer {
					continue
				}
				if at, ok := nl.first(d.key, d.began, next); ok {
					delays = append(delays, at.Sub(d.settled))
				}
			}
		}
		require.NotEmpty(t, delays)
		slices.Sort(delays)
		pct := func(p float64) time.Duration { return delays[int(p*float64(len(delays)-1))] }
		t.Logf("%s: %d writes, %d reads, 0 out of order; in wall-clock time, %d older than the last write settled before them, %d older than one settled %v before them; notice after Invalidate returned (negative: before): p50 %v p99 %v max %v over %d notices",
			b.name, writes, reads.Load(), staleWithin.Load(), stalePast.Load(), staleBound, pct(0.5), pct(0.99), delays[len(delays)-1], len(delays))
	})
}

func parseVersion(key, value []byte) (int, error) {
	prefix := string(key) + "@"
	if len(value) <= len(prefix) || string(value[:len(prefix)]) != prefix {
		return 0, fmt.Errorf("value %q is not of key %q", value, key)
	}
	v := 0
	for _, c := range value[len(prefix):] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("value %q has a bad version", value)
		}
		v = v*10 + int(c-'0')
	}
	return v, nil
}
