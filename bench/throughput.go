package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/bench/contenders"
)

// readMixes are the read shares of the throughput runs, in percent.
var readMixes = []int{100, 90, 75, 50, 0}

type throughputRow struct {
	Contender string
	Workload  string  // "reads=90%" or "insert-only, 10% fits"
	Mops      float64 // the median of Rounds rounds
	Rounds    int
	Note      string
}

// runThroughput measures parallel operations per second on a prefilled
// cache holding every key, one read mix after another, in two working
// sets: cfg.keys keys (1M: memory-bound) and 32k keys (CPU-bound, where
// the hottest keys' locks are what the cores contend for); then an
// insert-only run into a cache holding a tenth of the keys.
//
// The machine's speed drifts over a run (a shared VM), so the contenders
// take turns: cfg.rounds rounds, each running every contender through
// every cell in an order that rotates from round to round, and a cell
// reports the median of its rounds.
func runThroughput(cfg config, cs []contenders.Contender, progress func(string)) []throughputRow {
	keys := makeKeys(cfg.keys, 16)
	stream := newZipf(cfg.keys, cfg.zipfS, 1).stream(cfg.streamLen)
	value := make([]byte, 128)
	goroutines := 4 * runtime.GOMAXPROCS(0)
	small := min(32<<10, cfg.keys/4)
	smallKeys := keys[:small]
	smallStream := newZipf(small, cfg.zipfS, 1).stream(cfg.streamLen)
	samples := map[[2]string][]throughputRow{}
	var order [][2]string // cells in the order of the table
	add := func(rows []throughputRow) {
		for _, r := range rows {
			cell := [2]string{r.Contender, r.Workload}
			if _, seen := samples[cell]; !seen {
				order = append(order, cell)
			}
			samples[cell] = append(samples[cell], r)
		}
	}
	rounds := max(cfg.rounds, 1)
	for round := range rounds {
		for i := range cs {
			c := cs[(i+round)%len(cs)]
			tag := fmt.Sprintf("round %d/%d, %s", round+1, rounds, c.Name)
			add(runReadMixes(cfg, c, keys, stream, value, goroutines, "", tag, progress))
			add(runReadMixes(cfg, c, smallKeys, smallStream, value, goroutines, fmt.Sprintf("%dk keys, ", small>>10), tag, progress))
			add([]throughputRow{insertOnly(cfg, c, keys, stream, value, goroutines, tag, progress)})
		}
	}
	// Contender by contender, in the order given; workloads as met.
	slices.SortStableFunc(order, func(a, b [2]string) int {
		return slices.IndexFunc(cs, func(c contenders.Contender) bool { return c.Name == a[0] }) -
			slices.IndexFunc(cs, func(c contenders.Contender) bool { return c.Name == b[0] })
	})
	var rows []throughputRow
	for _, cell := range order {
		rows = append(rows, median(samples[cell]))
	}
	return rows
}

// median returns the row of the median rate among a cell's rounds (the
// lower middle one of an even count), keeping its note.
func median(rs []throughputRow) throughputRow {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b throughputRow) int { return cmp.Compare(a.Mops, b.Mops) })
	m := rs[(len(rs)-1)/2]
	m.Rounds = len(rs)
	return m
}

// insertOnly runs the insert-only cell: a cache holding a tenth of the
// keys, written the whole time.
func insertOnly(cfg config, c contenders.Contender, keys []contenders.Key, stream []uint32, value []byte, goroutines int, tag string, progress func(string)) throughputRow {
	progress(fmt.Sprintf("throughput: %s, insert-only into a cache holding 10%% of keys", tag))
	row := throughputRow{Contender: c.Name, Workload: "insert-only, 10% fits"}
	cache, err := build(c, len(keys)/10, 16+128)
	if err != nil {
		row.Note = "n/a: " + err.Error()
		return row
	}
	row.Mops = hammer(cache, keys, stream, value, 0, goroutines, cfg.duration)
	cache.Close()
	runtime.GC()
	return row
}

// runReadMixes prefills a cache holding every key and runs each read mix on
// it; label prefixes the rows' workload names, tag the progress lines.
func runReadMixes(cfg config, c contenders.Contender, keys []contenders.Key, stream []uint32, value []byte, goroutines int, label, tag string, progress func(string)) []throughputRow {
	progress(fmt.Sprintf("throughput: %s, prefilling %d keys", tag, len(keys)))
	cache, err := buildHolding(c, len(keys), 16+128)
	if err != nil {
		return []throughputRow{{Contender: c.Name, Workload: label + "all", Note: err.Error()}}
	}
	defer func() {
		cache.Close()
		runtime.GC()
	}()
	for i := range keys {
		cache.Set(&keys[i], value)
	}
	settle(cache)
	held := 0
	dst := make([]byte, 0, 256)
	for i := range keys {
		if _, ok := cache.Get(dst[:0], &keys[i]); ok {
			held++
		}
	}
	note := ""
	if held < len(keys)*99/100 {
		note = fmt.Sprintf("held only %.1f%% of keys after prefill", 100*float64(held)/float64(len(keys)))
	}
	var rows []throughputRow
	for _, reads := range readMixes {
		progress(fmt.Sprintf("throughput: %s, %s%d%% reads", tag, label, reads))
		ops := hammer(cache, keys, stream, value, reads, goroutines, cfg.duration)
		rows = append(rows, throughputRow{Contender: c.Name, Workload: fmt.Sprintf("%sreads=%d%%", label, reads), Mops: ops, Note: note})
	}
	return rows
}

// buildHolding makes a cache with room for n entries of entrySize with
// margin: generic caches by count, byte caches with twice the payload.
func buildHolding(c contenders.Contender, n, entrySize int) (contenders.Cache, error) {
	if c.ByCount != nil {
		return c.ByCount(n + n/4)
	}
	return c.ByBytes(max(int64(2*n*entrySize), c.MinBytes))
}

// settle lets caches that apply writes asynchronously (ristretto, theine)
// drain their buffers.
func settle(c contenders.Cache) {
	if w, ok := c.(contenders.Settler); ok {
		w.Settle()
	}
	time.Sleep(50 * time.Millisecond)
}

// hammer runs goroutines over the key stream for d, each from its own
// offset, reading with probability reads/100, and returns Mops/s.
func hammer(c contenders.Cache, keys []contenders.Key, stream []uint32, value []byte, reads, goroutines int, d time.Duration) float64 {
	// isRead is a shuffled table so reads and writes interleave evenly.
	var isRead [128]bool
	for i := range isRead {
		isRead[i] = i*100 < reads*len(isRead)
	}
	rand.New(rand.NewPCG(uint64(reads), 3)).Shuffle(len(isRead), func(i, j int) { isRead[i], isRead[j] = isRead[j], isRead[i] })

	var stop atomic.Bool
	var total atomic.Int64
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]byte, 0, 256)
			pos := g * len(stream) / goroutines
			n := int64(0)
			ready.Done()
			<-start
			for !stop.Load() {
				for range 256 {
					k := &keys[stream[pos]]
					if isRead[pos&127] {
						dst, _ = c.Get(dst[:0], k)
					} else {
						c.Set(k, value)
					}
					if pos++; pos == len(stream) {
						pos = 0
					}
				}
				n += 256
			}
			total.Add(n)
		}()
	}
	ready.Wait()
	began := time.Now()
	close(start)
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(total.Load()) / time.Since(began).Seconds() / 1e6
}
