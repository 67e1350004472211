package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// readMixes are the read shares of the throughput runs, in percent.
var readMixes = []int{100, 90, 75, 50, 0}

type throughputRow struct {
	Contender string
	Workload  string // "reads=90%" or "insert-only, 10% fits"
	Mops      float64
	Note      string
}

// runThroughput measures parallel operations per second on a prefilled
// cache holding every key, one read mix after another, in two working
// sets: cfg.keys keys (1M: memory-bound) and 32k keys (CPU-bound, where
// the hottest keys' locks are what the cores contend for); then an
// insert-only run into a cache holding a tenth of the keys.
func runThroughput(cfg config, cs []contender, progress func(string)) []throughputRow {
	keys := makeKeys(cfg.keys, 16)
	stream := newZipf(cfg.keys, cfg.zipfS, 1).stream(cfg.streamLen)
	value := make([]byte, 128)
	goroutines := 4 * runtime.GOMAXPROCS(0)
	small := min(32<<10, cfg.keys/4)
	smallKeys := keys[:small]
	smallStream := newZipf(small, cfg.zipfS, 1).stream(cfg.streamLen)
	var rows []throughputRow
	for _, c := range cs {
		rows = append(rows, runReadMixes(cfg, c, keys, stream, value, goroutines, "", progress)...)
		rows = append(rows, runReadMixes(cfg, c, smallKeys, smallStream, value, goroutines, fmt.Sprintf("%dk keys, ", small>>10), progress)...)
	}
	for _, c := range cs {
		progress(fmt.Sprintf("throughput: %s, insert-only into a cache holding 10%% of keys", c.name))
		row := throughputRow{Contender: c.name, Workload: "insert-only, 10% fits"}
		cache, err := c.build(len(keys)/10, 16+128)
		if err != nil {
			row.Note = "n/a: " + err.Error()
			rows = append(rows, row)
			continue
		}
		row.Mops = hammer(cache, keys, stream, value, 0, goroutines, cfg.duration)
		rows = append(rows, row)
		cache.Close()
		runtime.GC()
	}
	return rows
}

// runReadMixes prefills a cache holding every key and runs each read mix on
// it; label prefixes the rows' workload names.
func runReadMixes(cfg config, c contender, keys []key, stream []uint32, value []byte, goroutines int, label string, progress func(string)) []throughputRow {
	progress(fmt.Sprintf("throughput: %s, prefilling %d keys", c.name, len(keys)))
	cache, err := buildHolding(c, len(keys), 16+128)
	if err != nil {
		return []throughputRow{{Contender: c.name, Workload: label + "all", Note: err.Error()}}
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
		progress(fmt.Sprintf("throughput: %s, %s%d%% reads", c.name, label, reads))
		ops := hammer(cache, keys, stream, value, reads, goroutines, cfg.duration)
		rows = append(rows, throughputRow{Contender: c.name, Workload: fmt.Sprintf("%sreads=%d%%", label, reads), Mops: ops, Note: note})
	}
	return rows
}

// buildHolding makes a cache with room for n entries of entrySize with
// margin: generic caches by count, byte caches with twice the payload.
func buildHolding(c contender, n, entrySize int) (cache, error) {
	if c.byCount != nil {
		return c.byCount(n + n/4)
	}
	return c.byBytes(max(int64(2*n*entrySize), c.minBytes))
}

// settle lets caches that apply writes asynchronously (ristretto, theine)
// drain their buffers.
func settle(c cache) {
	if w, ok := c.(interface{ wait() }); ok {
		w.wait()
	}
	time.Sleep(50 * time.Millisecond)
}

// hammer runs goroutines over the key stream for d, each from its own
// offset, reading with probability reads/100, and returns Mops/s.
func hammer(c cache, keys []key, stream []uint32, value []byte, reads, goroutines int, d time.Duration) float64 {
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
