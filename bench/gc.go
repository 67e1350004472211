package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ringcache/ringcache/bench/contenders"
)

// gcResult is what one child process measures for one contender holding
// a number of entries.
type gcResult struct {
	Contender   string
	Entries     int
	Held        int
	HeapObjects uint64 // beyond the harness's own keys and key stream
	HeapInuse   uint64
	GCWall      time.Duration // median forced GC
	RSSGrowth   int64         // bytes, from before New to after the fill
	RunPause    time.Duration // total stop-the-world pause during the mixed run
	RunGCs      uint32
	RunGCShare  float64 // GC share of all CPU time during the mixed run
	RunMops     float64
	Note        string
}

// memResult is what one child measures for a contender given a byte budget.
type memResult struct {
	Contender string
	EntrySize int // 16-byte key plus value
	Budget    int64
	Inserted  int
	Retained  int
	RSSGrowth int64
	Note      string
}

// childGC runs in its own process so that neither the heap nor the RSS of
// one contender colours another's figures: it fills entries 16-byte keys
// with 128-byte values, forces GCs, then runs a 90%-read mix for d.
func childGC(c contenders.Contender, entries int, d time.Duration) gcResult {
	res := gcResult{Contender: c.Name, Entries: entries}
	keys := keySpace{n: entries, generic: !c.ByteCache}
	stream := newZipf(entries, 0.99, 5).stream(1 << 20)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	harnessObjects := ms.HeapObjects // the stream and the runtime's own
	before := rss()
	cache, err := buildHolding(c, entries, 16+128)
	if err != nil {
		res.Note = err.Error()
		return res
	}
	fillOwnValues(cache, keys, 128)
	settle(cache)
	res.RSSGrowth = rss() - before
	res.Held = countHeld(cache, keys)

	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.HeapObjects, res.HeapInuse = ms.HeapObjects-harnessObjects, ms.HeapInuse
	res.GCWall = forcedGC()

	runtime.ReadMemStats(&ms)
	pause0, gcs0 := ms.PauseTotalNs, ms.NumGC
	gcCPU0, allCPU0 := cpuSeconds()
	res.RunMops = mixedRun(cache, keys, stream, d)
	runtime.ReadMemStats(&ms)
	gcCPU1, allCPU1 := cpuSeconds()
	res.RunPause = time.Duration(ms.PauseTotalNs - pause0)
	res.RunGCs = ms.NumGC - gcs0
	if allCPU1 > allCPU0 {
		res.RunGCShare = (gcCPU1 - gcCPU0) / (allCPU1 - allCPU0)
	}
	cache.Close()
	return res
}

// keySpace makes the i-th 16-byte key on demand, so that the harness keeps
// no heap object per key: GC figures are the cache's own. Keys to look up
// view a reused buffer; keys to store in a generic cache are real strings
// (the cache keeps them, as it would in a program).
type keySpace struct {
	n       int
	generic bool
}

// lookup makes k the i-th key, viewing buf. The caller keeps one k per
// goroutine: a key passed by pointer through the cache interface escapes,
// and one made per operation would be garbage the harness, not the cache,
// produces.
func (ks keySpace) lookup(k *contenders.Key, buf *[16]byte, i uint32) {
	binary.BigEndian.PutUint64(buf[:8], uint64(i))
	copy(buf[8:], "-key-pad")
	k.B, k.S = buf[:], unsafe.String(&buf[0], len(buf))
}

// store is lookup for a key a generic cache will keep: its string is its own.
func (ks keySpace) store(k *contenders.Key, buf *[16]byte, i uint32) {
	ks.lookup(k, buf, i)
	if ks.generic {
		k.S = string(k.B)
	}
}

// fillOwnValues writes every key with a value of valueSize bytes. Generic
// caches keep the slice they are given, so each entry gets its own value,
// as in a real program; byte caches copy, so one buffer serves.
func fillOwnValues(cache contenders.Cache, keys keySpace, valueSize int) {
	// Values of nonzero bytes, written in full: a fresh allocation that is
	// never written stays zero pages the OS has not backed, and a generic
	// cache holding such slices would show less RSS than its values take.
	shared := make([]byte, valueSize)
	for i := range shared {
		shared[i] = byte(i) | 1
	}
	var buf [16]byte
	var k contenders.Key
	for i := range keys.n {
		v := shared
		if keys.generic {
			v = bytes.Clone(shared)
		}
		keys.store(&k, &buf, uint32(i))
		cache.Set(&k, v)
	}
}

// mixedRun is 90% reads and 10% writes of fresh values from
// 4 x GOMAXPROCS goroutines over a Zipf stream, and returns Mops/s.
func mixedRun(cache contenders.Cache, keys keySpace, stream []uint32, d time.Duration) float64 {
	goroutines := 4 * runtime.GOMAXPROCS(0)
	var stop atomic.Bool
	var total atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]byte, 0, 256)
			shared := make([]byte, 128)
			var buf [16]byte
			var k contenders.Key
			pos, n := g*len(stream)/goroutines, int64(0)
			for !stop.Load() {
				for range 64 {
					if pos%10 == 0 {
						v := shared
						if keys.generic {
							v = make([]byte, 128)
						}
						keys.store(&k, &buf, stream[pos])
						cache.Set(&k, v)
					} else {
						keys.lookup(&k, &buf, stream[pos])
						dst, _ = cache.Get(dst[:0], &k)
					}
					pos = (pos + 1) % len(stream)
				}
				n += 64
			}
			total.Add(n)
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(total.Load()) / time.Since(start).Seconds() / 1e6
}

// childMemory gives c a byte budget, writes twice that much in distinct
// 16-byte keys with 128-byte values, and counts what it kept.
func childMemory(c contenders.Contender, budget int64, entrySize int) memResult {
	res := memResult{Contender: c.Name, Budget: budget, EntrySize: entrySize}
	keys := keySpace{n: int(2 * budget / int64(entrySize)), generic: !c.ByteCache}
	runtime.GC()
	before := rss()
	var cache contenders.Cache
	var err error
	if c.ByBytes != nil {
		cache, err = c.ByBytes(budget)
	} else {
		res.Note = fmt.Sprintf("bounded by count only: sized to budget / %d entries", entrySize)
		cache, err = c.ByCount(int(budget / int64(entrySize)))
	}
	if err != nil {
		res.Note = err.Error()
		return res
	}
	res.Inserted = keys.n
	fillOwnValues(cache, keys, entrySize-16)
	settle(cache)
	res.RSSGrowth = rss() - before
	res.Retained = countHeld(cache, keys)
	cache.Close()
	return res
}

// countHeld counts the keys a Get finds.
func countHeld(c contenders.Cache, keys keySpace) int {
	held := 0
	dst := make([]byte, 0, 256)
	var buf [16]byte
	var k contenders.Key
	for i := range keys.n {
		keys.lookup(&k, &buf, uint32(i))
		if _, ok := c.Get(dst[:0], &k); ok {
			held++
		}
	}
	return held
}

func cpuSeconds() (gc, all float64) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64(), s[1].Value.Float64()
}

// rss reads the resident set size from /proc; 0 where there is none.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// forcedGC is the wall time of one forced collection, the median of five.
func forcedGC() time.Duration {
	var walls []time.Duration
	for range 5 {
		start := time.Now()
		runtime.GC()
		walls = append(walls, time.Since(start))
	}
	slices.Sort(walls)
	return walls[len(walls)/2]
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d ...time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// p50p99 sorts what was collected and returns its median and 99th
// percentile.
func (l *latencies) p50p99() (time.Duration, time.Duration) {
	slices.Sort(l.d)
	return l.d[len(l.d)/2], l.d[len(l.d)*99/100]
}

// inChild runs this program again with args and decodes the JSON it
// prints into out.
func inChild(out any, args ...string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("child %v: %w", args, err)
	}
	return json.Unmarshal(b, out)
}

func runGC(cfg config, cs []contenders.Contender, progress func(string)) []gcResult {
	var rows []gcResult
	for _, n := range cfg.gcEntries {
		for _, c := range cs {
			progress(fmt.Sprintf("gc: %s with %d entries (%v mixed run)", c.Name, n, cfg.gcRun))
			var r gcResult
			if err := inChild(&r, "-child=gc", "-contenders="+c.Name, "-entries="+strconv.Itoa(n), "-gcrun="+cfg.gcRun.String()); err != nil {
				r = gcResult{Contender: c.Name, Entries: n, Note: err.Error()}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func runMemory(cfg config, cs []contenders.Contender, progress func(string)) []memResult {
	var rows []memResult
	for _, size := range memoryEntrySizes {
		for _, c := range cs {
			progress(fmt.Sprintf("memory: %s with a %d MiB budget, %d-byte entries", c.Name, cfg.budget>>20, size))
			var r memResult
			if err := inChild(&r, "-child=memory", "-contenders="+c.Name, "-budget="+strconv.FormatInt(cfg.budget, 10), "-entry-size="+strconv.Itoa(size)); err != nil {
				r = memResult{Contender: c.Name, Budget: cfg.budget, EntrySize: size, Note: err.Error()}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// memoryEntrySizes are the memory workload's entries: a 16-byte key with
// 128, 8 and 1,008 bytes of value.
var memoryEntrySizes = []int{144, 24, 1024}
