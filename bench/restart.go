package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/fastcache"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/arena"
)

// restartRow is one cache's save and load of the same full cache, to and
// from a file in /dev/shm (or the temporary directory where there is none).
type restartRow struct {
	Cache       string
	Capacity    int64
	ValueSize   int
	Entries     int // written before saving
	FileBytes   int64
	Save, Load  time.Duration
	Loaded      int           // readable after loading
	GetP99      time.Duration `json:",omitempty"` // p99 of Get while the save runs, ringcache only
	GetP99Quiet time.Duration `json:",omitempty"` // the same reads with no save running
	Note        string        `json:",omitempty"`
}

// runRestart fills a cache to its capacity and measures a save and a load
// of it, ringcache's and fastcache's, with two value sizes. Each row runs
// in a fresh child process: fastcache reuses the chunks a cache it freed
// held, and a load into memory another row faulted in would not pay what
// a restarted service pays.
func runRestart(cfg config, progress func(string)) []restartRow {
	child := func(cache string, size int) restartRow {
		var r restartRow
		args := []string{"-child=restart", "-restart-cache=" + cache, "-value-size=" + strconv.Itoa(size)}
		switch {
		case cfg.smoke:
			args = append(args, "-smoke")
		case cfg.quick:
			args = append(args, "-quick")
		}
		if err := inChild(&r, args...); err != nil {
			r = restartRow{Cache: cache, ValueSize: size, Note: err.Error()}
		}
		return r
	}
	progress("restart: faulting in fresh memory")
	rows := []restartRow{child("none", 0)}
	for _, size := range []int{1024, 100} {
		for _, cache := range []string{"ringcache", "fastcache"} {
			progress(fmt.Sprintf("restart: %s, %d-byte values", cache, size))
			rows = append(rows, child(cache, size))
		}
	}
	return rows
}

// childRestart is one row of runRestart, in this process.
func childRestart(cfg config, cache string, size int) restartRow {
	capacity := int64(1 << 30)
	switch {
	case cfg.smoke:
		capacity = 32 << 20
	case cfg.quick:
		capacity = 256 << 20
	}
	dir := "/dev/shm"
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		dir = os.TempDir()
	}
	switch cache {
	case "ringcache":
		return ringcacheRestart(dir, capacity, size)
	case "fastcache":
		return fastcacheRestart(dir, capacity, size)
	}
	return restartRow{Cache: "fresh memory, populated and touched once per page on every core (no cache)", Capacity: capacity, Load: touchCost(capacity)}
}

// restartValue fills v with bytes of entry i that no compressor shrinks.
func restartValue(v []byte, i int) []byte {
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	for j := 0; j+8 <= len(v); j += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(v[j:], x)
	}
	return v
}

// touchCost is how long faulting in n bytes of fresh memory takes, the
// fastest way a loader can: the pages populated in one call
// (arena.Region.Populate), then written once each, on every core. Every
// load into a new cache pays it, whatever its format.
func touchCost(n int64) time.Duration {
	began := time.Now()
	r, err := arena.NewRegion(int(n))
	if err != nil {
		return 0
	}
	defer r.Free()
	r.Populate()
	b := r.Bytes()
	parts := runtime.GOMAXPROCS(0)
	step := (len(b)/parts + 4095) &^ 4095
	var wg sync.WaitGroup
	for from := 0; from < len(b); from += step {
		wg.Add(1)
		go func(part []byte) {
			defer wg.Done()
			for i := 0; i < len(part); i += 4096 {
				part[i] = 1
			}
		}(b[from:min(from+step, len(b))])
	}
	wg.Wait()
	return time.Since(began)
}

func restartKey(dst []byte, i int) []byte {
	return binary.LittleEndian.AppendUint64(append(dst[:0], "restart:"...), uint64(i)*0x9E3779B97F4A7C15)
}

func ringcacheRestart(dir string, capacity int64, size int) restartRow {
	row := restartRow{Cache: "ringcache", Capacity: capacity, ValueSize: size}
	newCache := func() (*ringcache.Cache, error) {
		return ringcache.New(ringcache.Config{Capacity: capacity, AvgEntrySize: 16 + size})
	}
	c, err := newCache()
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer c.Close()
	value := make([]byte, size)
	var key []byte
	for row.Entries = 0; int64(row.Entries)*int64(size+16) < capacity*11/10; row.Entries++ {
		key = restartKey(key, row.Entries)
		_ = c.Set(key, restartValue(value, row.Entries))
	}
	path := filepath.Join(dir, "ringcache-restart.snap")
	defer os.Remove(path)

	// Reads of what the cache holds, timed one in eight, with and
	// without a save running.
	reads := func(stop *atomic.Bool) time.Duration {
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		for g := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 0, size)
				var k []byte
				var mine []time.Duration
				for i := g; !stop.Load(); i += 2 {
					k = restartKey(k, i%row.Entries)
					began := time.Now()
					c.Get(buf[:0], k)
					if i&7 == 0 {
						mine = append(mine, time.Since(began))
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		if len(lat) == 0 {
			return 0
		}
		return lat[len(lat)*99/100]
	}
	began := time.Now()
	if err := c.SaveFile(path); err != nil {
		row.Note = err.Error()
		return row
	}
	row.Save = time.Since(began)

	var stop atomic.Bool
	quiet := make(chan time.Duration)
	go func() { quiet <- reads(&stop) }()
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	row.GetP99Quiet = <-quiet
	stop.Store(false)
	during := make(chan time.Duration)
	go func() { during <- reads(&stop) }()
	err = c.SaveFile(path)
	stop.Store(true)
	row.GetP99 = <-during
	if err != nil {
		row.Note = err.Error()
		return row
	}
	if st, err := os.Stat(path); err == nil {
		row.FileBytes = st.Size()
	}
	d, err := newCache()
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer d.Close()
	began = time.Now()
	err = d.LoadFile(path)
	row.Load = time.Since(began)
	if err != nil {
		row.Note = err.Error()
	}
	row.Loaded = d.Len()
	return row
}

func fastcacheRestart(dir string, capacity int64, size int) restartRow {
	row := restartRow{Cache: "fastcache", Capacity: capacity, ValueSize: size}
	c := fastcache.New(int(capacity))
	defer c.Reset()
	value := make([]byte, size)
	var key []byte
	for row.Entries = 0; int64(row.Entries)*int64(size+16) < capacity*11/10; row.Entries++ {
		key = restartKey(key, row.Entries)
		c.Set(key, restartValue(value, row.Entries))
	}
	path := filepath.Join(dir, "fastcache-restart")
	defer os.RemoveAll(path)
	began := time.Now()
	err := c.SaveToFile(path)
	row.Save = time.Since(began)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	if entries, err := os.ReadDir(path); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil {
				row.FileBytes += info.Size()
			}
		}
	}
	began = time.Now()
	d, err := fastcache.LoadFromFile(path)
	row.Load = time.Since(began)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer d.Reset()
	var s fastcache.Stats
	d.UpdateStats(&s)
	row.Loaded = int(s.EntriesCount)
	return row
}

func restartMarkdown(rows []restartRow, b *strings.Builder) {
	b.WriteString("## Warm restart: save and load a full cache\n\n")
	b.WriteString("Each row runs in a fresh process. Each cache is filled with 10% more entries than its capacity holds (16-byte keys, values no compressor shrinks), saved to a file in /dev/shm and loaded into a new cache of the same size. The first row is what faulting in that much fresh memory costs on this machine at best (populated in one call, then written once per page, on every core), which every load into a new cache and every write of a new file pays. ringcache is saved a second time while two goroutines read; their Get p99 (one read in eight timed) is beside the same reads with no save running.\n\n")
	b.WriteString("| cache | capacity | value | entries written | file MB | save | load | entries after loading | Get p99 during the save | without |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(b, "| %s | %d MiB | %d B | %s | | | | | | |\n", r.Cache, r.Capacity>>20, r.ValueSize, r.Note)
			continue
		}
		p99, quiet := "", ""
		if r.GetP99 > 0 {
			p99, quiet = latency(r.GetP99).String(), latency(r.GetP99Quiet).String()
		}
		fmt.Fprintf(b, "| %s | %d MiB | %d B | %d | %.0f | %v | %v | %d | %s | %s |\n", r.Cache, r.Capacity>>20, r.ValueSize, r.Entries,
			float64(r.FileBytes)/1e6, r.Save.Round(time.Millisecond), r.Load.Round(time.Millisecond), r.Loaded, p99, quiet)
	}
	b.WriteString("\n")
}
