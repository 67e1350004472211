package main

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier"
)

// tierGCRow is what holding a million local copies costs the Go runtime:
// ringcache's tier keeps them outside the heap, rueidis's own client-side
// cache keeps each as heap objects.
type tierGCRow struct {
	Client      string
	Entries     int
	Cached      int    // local copies held at the end
	HeapObjects uint64 // live heap objects after a GC
	HeapMB      float64
	GCWall      time.Duration // one forced GC, median of three
	RSSMB       float64
	Note        string `json:",omitempty"`
}

var tierGCClients = []string{"ringcache tier", "rueidis client-side cache"}

func runTierGC(cfg config, addr string, progress func(string)) []tierGCRow {
	n := 1_000_000
	if cfg.smoke || cfg.quick {
		n = 20_000
	}
	progress(fmt.Sprintf("tier: filling Redis with %d keys for the GC rows", n))
	if err := fillRedis(addr, "gc", n); err != nil {
		return []tierGCRow{{Note: err.Error()}}
	}
	var rows []tierGCRow
	for i, name := range tierGCClients {
		progress("tier: GC cost of local copies in " + name)
		var r tierGCRow
		if err := inChild(&r, "-child=tiergc", "-tier-client="+strconv.Itoa(i), "-entries="+strconv.Itoa(n), "-redis="+addr); err != nil {
			r = tierGCRow{Client: name, Entries: n, Note: err.Error()}
		}
		rows = append(rows, r)
	}
	return rows
}

// childTierGC reads keys gc:0 .. gc:n-1 through one client so that each
// is held locally, then measures the heap and a forced GC.
func childTierGC(client, addr string, n int) tierGCRow {
	i, _ := strconv.Atoi(client)
	row := tierGCRow{Client: tierGCClients[i], Entries: n}
	keys := keyList("gc", n)
	ctx := context.Background()
	var count func() int
	var closeFn func()
	switch i {
	case 0:
		t, err := tier.New(tier.Config{
			Redis:    rueidis.ClientOption{InitAddress: []string{addr}},
			Local:    ringcache.Config{Capacity: int64(n) * 400},
			LocalTTL: tierLocalTTL,
		})
		if err != nil {
			row.Note = err.Error()
			return row
		}
		closeFn = func() { _ = t.Close() }
		load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) { return tierValue(key), 0, nil }
		parallel(keys, func(k []byte) { _, _ = t.GetOrLoad(ctx, nil, k, load) })
		count = func() int { return int(t.Stats().Local.Entries) }
	default:
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, CacheSizeEachConn: n * 600})
		if err != nil {
			row.Note = err.Error()
			return row
		}
		closeFn = c.Close
		parallel(keys, func(k []byte) { _ = c.DoCache(ctx, c.B().Get().Key(string(k)).Cache(), tierLocalTTL).Error() })
		count = func() int {
			held := 0
			for _, k := range keys {
				if r := c.DoCache(ctx, c.B().Get().Key(string(k)).Cache(), tierLocalTTL); r.IsCacheHit() {
					held++
				}
			}
			return held
		}
	}
	defer closeFn()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	row.HeapObjects, row.HeapMB = ms.HeapObjects, float64(ms.HeapAlloc)/(1<<20)
	row.GCWall = forcedGC()
	row.RSSMB = float64(rss()) / (1 << 20)
	row.Cached = count()
	return row
}

// parallel calls fn for every key from 32 goroutines, so that the client
// pipelines the round trips.
func parallel(keys [][]byte, fn func([]byte)) {
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(keys); i += 32 {
				fn(keys[i])
			}
		}()
	}
	wg.Wait()
}
