package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier"
	"github.com/ringcache/ringcache/tier/redistest"
)

// tierResults are the tier workload's: a cache layer in front of Redis,
// three instances of a service on loopback.
type tierResults struct {
	Note     string            `json:",omitempty"`
	HotKeys  int               // keys of the reads workload every instance holds
	Callers  int               // per instance, in the stampede
	Reads    []tierReadRow     `json:",omitempty"`
	Notices  *tierNoticeRow    `json:",omitempty"`
	Stampede []tierStampedeRow `json:",omitempty"`
	GC       []tierGCRow       `json:",omitempty"`
	Paused   []tierPauseRow    `json:",omitempty"`
}

type tierReadRow struct {
	Layer      string
	Mix        string
	Mops       float64
	P50, P99   time.Duration
	LocalShare float64 // reads answered without a round trip
	Note       string  `json:",omitempty"`
}

const (
	tierInstances = 3
	// Per instance: enough that the one read in ten that waits for Redis
	// does not leave the cores idle.
	tierGoroutines = 32
	tierValueSize  = 128
)

func tierValue(key []byte) []byte {
	v := make([]byte, tierValueSize)
	copy(v, key)
	return v
}

// runTier starts a redis-server of its own and measures each layer.
func runTier(cfg config, progress func(string)) tierResults {
	if !redistest.Available() {
		return tierResults{Note: "skipped: redis-server is not on PATH (apt-get install -y redis-server)"}
	}
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err != nil {
		return tierResults{Note: err.Error()}
	}
	defer os.RemoveAll(dir)
	server, err := redistest.NewServer(dir)
	if err != nil {
		return tierResults{Note: err.Error()}
	}
	defer server.Stop()
	hot, cold := 10_000, 400_000
	if cfg.smoke || cfg.quick {
		hot, cold = 1_000, 20_000
	}
	res := tierResults{HotKeys: hot, Callers: stampedeCallers(cfg)}
	for _, coldEvery := range []int{10, 0} {
		for _, c := range tierContenders {
			row := tierReads(cfg, c, server.Addr, hot, cold, coldEvery)
			progress(fmt.Sprintf("tier: reads, %s, through %s: %.2f Mops/s", row.Mix, c.name, row.Mops))
			res.Reads = append(res.Reads, row)
		}
	}
	progress("tier: invalidation notices")
	res.Notices = tierNotices(cfg, server.Addr)
	for _, c := range tierContenders {
		progress("tier: stampede across instances through " + c.name)
		res.Stampede = append(res.Stampede, tierStampede(cfg, c, server.Addr))
	}
	res.GC = runTierGC(cfg, server.Addr, progress)
	res.Paused = runTierPause(cfg, progress)
	return res
}

// fillRedis SETs keys prefix:0 .. prefix:n-1 to their tierValue.
func fillRedis(addr, prefix string, n int) error {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		return err
	}
	defer c.Close()
	for lo := 0; lo < n; lo += 1000 {
		cmds := make(rueidis.Commands, 0, 1000)
		for i := lo; i < min(lo+1000, n); i++ {
			k := prefix + ":" + strconv.Itoa(i)
			cmds = append(cmds, c.B().Set().Key(k).Value(rueidis.BinaryString(tierValue([]byte(k)))).Build())
		}
		for _, r := range c.DoMulti(context.Background(), cmds...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
	}
	return nil
}

func keyList(prefix string, n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(prefix + ":" + strconv.Itoa(i))
	}
	return keys
}

// tierReads runs reads of hot keys every instance has read (local hits
// for a layer with a local tier) and, one in coldEvery (none when 0), of
// a key this instance has not read yet (a round trip for every layer).
// Every key is in Redis; the loader is never needed.
func tierReads(cfg config, c tierContender, addr string, hot, cold, coldEvery int) tierReadRow {
	row := tierReadRow{Layer: c.name, Mix: "hot keys only"}
	if coldEvery > 0 {
		row.Mix = fmt.Sprintf("1 in %d reads a new key", coldEvery)
	}
	prefix := "reads-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := fillRedis(addr, prefix+":hot", hot); err != nil {
		row.Note = err.Error()
		return row
	}
	if err := fillRedis(addr, prefix+":cold", cold); err != nil {
		row.Note = err.Error()
		return row
	}
	insts, err := openInstances(c, addr, tierInstances)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer closeAll(insts)
	hotKeys, coldKeys := keyList(prefix+":hot", hot), keyList(prefix+":cold", cold)
	load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) { return tierValue(key), 0, nil }
	ctx := context.Background()
	for _, in := range insts {
		for _, k := range hotKeys {
			if _, err := in.read(ctx, nil, k, load); err != nil {
				row.Note = err.Error()
				return row
			}
		}
	}
	d := cfg.duration * 3
	var ops, local atomic.Int64
	var lat latencies
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for _, in := range insts {
		var coldNext atomic.Int64
		for g := range tierGoroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dst := make([]byte, 0, 256)
				var mine []time.Duration
				var n, l int64
				for i := g; ; i++ {
					if i&63 == 0 && time.Now().After(stop) {
						break
					}
					k := hotKeys[(i*7919)%hot]
					if coldEvery > 0 && i%coldEvery == 0 {
						k = coldKeys[int(coldNext.Add(1))%cold]
					} else {
						l++
					}
					began := time.Now()
					if _, err := in.read(ctx, dst[:0], k, load); err != nil {
						panic(fmt.Sprintf("%s: %v", c.name, err))
					}
					if i&7 == 0 {
						mine = append(mine, time.Since(began))
					}
					n++
				}
				ops.Add(n)
				local.Add(l)
				lat.add(mine...)
			}()
		}
	}
	wg.Wait()
	row.Mops = float64(ops.Load()) / d.Seconds() / 1e6
	row.P50, row.P99 = lat.p50p99()
	if c.name != "go-redis, no local cache" {
		row.LocalShare = float64(local.Load()) / float64(ops.Load())
	}
	return row
}

type tierNoticeRow struct {
	Rounds           int
	Notices          int
	AfterCall        [3]time.Duration // p50, p99, max: notice arrival after Invalidate was called
	AfterReturn      [3]time.Duration // the same after it returned, 0 when before
	NoticedBeforeRet float64          // share of notices in before Invalidate returned
}

// tierNotices measures how soon a delete-on-write reaches the other
// instances' local tiers: instance 0 invalidates a key instances 1 and 2
// hold, and their notice hooks record the arrival.
func tierNotices(cfg config, addr string) *tierNoticeRow {
	rounds := 1000
	if cfg.smoke || cfg.quick {
		rounds = 50
	}
	arrived := make(chan time.Time, 2)
	var insts []*tier.Tier
	for i := range tierInstances {
		opt := rueidis.ClientOption{InitAddress: []string{addr}}
		if i > 0 {
			opt.OnInvalidations = func([]rueidis.RedisMessage) { arrived <- time.Now() }
		}
		t, err := tier.New(tier.Config{Redis: opt, Local: ringcache.Config{Capacity: 64 << 20}})
		if err != nil {
			return nil
		}
		defer t.Close()
		insts = append(insts, t)
	}
	ctx := context.Background()
	load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) { return tierValue(key), 0, nil }
	var afterCall, afterReturn []time.Duration
	before := 0
	for r := range rounds {
		key := []byte("notice:" + strconv.Itoa(r))
		for _, t := range insts[1:] {
			if _, err := t.GetOrLoad(ctx, nil, key, load); err != nil {
				return nil
			}
		}
		called := time.Now()
		if err := insts[0].Invalidate(ctx, key); err != nil {
			return nil
		}
		returned := time.Now()
		for range tierInstances - 1 {
			at := <-arrived
			afterCall = append(afterCall, at.Sub(called))
			if at.Before(returned) {
				before++
			}
			afterReturn = append(afterReturn, max(at.Sub(returned), 0))
		}
	}
	return &tierNoticeRow{Rounds: rounds, Notices: len(afterCall), AfterCall: spread(afterCall), AfterReturn: spread(afterReturn),
		NoticedBeforeRet: float64(before) / float64(len(afterCall))}
}

// spread is p50, p99 and max.
func spread(d []time.Duration) [3]time.Duration {
	slices.Sort(d)
	return [3]time.Duration{d[len(d)/2], d[len(d)*99/100], d[len(d)-1]}
}
