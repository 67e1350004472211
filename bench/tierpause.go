package main

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/tier/redistest"
)

// tierPauseRow is one layer through a paused Redis: three instances read
// versioned rows while one of them updates rows in the database and then
// invalidates them through the layer ("update the row, then delete the
// key"), before, during and after a SIGSTOP of redis-server.
type tierPauseRow struct {
	Layer       string
	Reads       int64
	ReadErrors  int64 // reads that returned an error (or hit the 1 s deadline)
	Writes      int
	WriteErrors int // invalidations that returned an error
	// Stale reads: the database held a newer version when they began, for
	// longer than pauseStaleAfter (a notice's trip in steady state is far
	// shorter), split by whether they began before the resume.
	StaleBefore, StaleAfter int64
	MaxLag                  time.Duration // the stalest read: how long after the newer version was written
	StaleAtEnd              int           // rows still stale in some instance when the run ends
	Note                    string        `json:",omitempty"`
}

// The paused round's shape: the service's update rate, and how long each
// phase lasts.
const (
	pauseRows        = 1000
	pauseWritesPerS  = 50
	pauseReaders     = 8 // per instance
	pauseReadTimeout = time.Second
	pauseStaleAfter  = 100 * time.Millisecond
)

func pausePhases(cfg config) (steady, paused, after time.Duration) {
	if cfg.smoke || cfg.quick {
		return 300 * time.Millisecond, time.Second, time.Second
	}
	return 2 * time.Second, 3 * time.Second, 5 * time.Second
}

// versionedDB is the database: each row's version, bumped by updates,
// and when each version was written.
type versionedDB struct {
	mu       sync.Mutex
	versions map[string]int
	written  map[string][]time.Time // by version-1
}

// update writes a new version of key.
func (db *versionedDB) update(key []byte) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.versions[string(key)]++
	db.written[string(key)] = append(db.written[string(key)], time.Now())
}

func (db *versionedDB) load(_ context.Context, key []byte) ([]byte, time.Duration, error) {
	db.mu.Lock()
	v := db.versions[string(key)]
	db.mu.Unlock()
	return []byte(string(key) + "@" + strconv.Itoa(v)), 0, nil
}

// lagOf says whether a read of value that began at began was stale (the
// database held a newer version when it began), and by how much: how long
// before it the next version was written.
func (db *versionedDB) lagOf(value []byte, began time.Time) (time.Duration, bool) {
	key, ver, ok := strings.Cut(string(value), "@")
	v, err := strconv.Atoi(ver)
	if !ok || err != nil {
		return 0, false
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if w := db.written[key]; v < len(w) && w[v].Before(began) {
		return began.Sub(w[v]), true
	}
	return 0, false
}

// runTierPause runs the paused round for each layer that has a local
// tier, each against a redis-server of its own.
func runTierPause(cfg config, progress func(string)) []tierPauseRow {
	var rows []tierPauseRow
	for _, c := range tierContenders {
		if c.name == "go-redis, no local cache" {
			continue
		}
		progress("tier: Redis paused during updates, through " + c.name)
		rows = append(rows, tierPause(cfg, c))
	}
	return rows
}

func tierPause(cfg config, c tierContender) tierPauseRow {
	row := tierPauseRow{Layer: c.name}
	dir, err := os.MkdirTemp("", "bench-redis-pause-")
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer os.RemoveAll(dir)
	server, err := redistest.NewServer(dir)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer server.Stop()
	insts, err := openInstances(c, server.Addr, tierInstances)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer closeAll(insts)
	db := &versionedDB{versions: map[string]int{}, written: map[string][]time.Time{}}
	keys := keyList("row", pauseRows)
	ctx := context.Background()
	for _, in := range insts {
		for _, k := range keys {
			if _, err := in.read(ctx, nil, k, db.load); err != nil {
				row.Note = err.Error()
				return row
			}
		}
	}

	steady, paused, after := pausePhases(cfg)
	var resumed atomic.Int64 // unix ns, 0 before the resume
	var stop atomic.Bool
	var reads, readErrs, staleBefore, staleAfter atomic.Int64
	var lagMu sync.Mutex
	var wg sync.WaitGroup
	for i, in := range insts {
		for g := range pauseReaders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(g)))
				dst := make([]byte, 0, 64)
				for !stop.Load() {
					k := keys[rng.IntN(len(keys))]
					began := time.Now()
					rctx, cancel := context.WithTimeout(ctx, pauseReadTimeout)
					v, err := in.read(rctx, dst[:0], k, db.load)
					cancel()
					reads.Add(1)
					if err != nil {
						readErrs.Add(1)
						continue
					}
					lag, stale := db.lagOf(v, began)
					if !stale || lag <= pauseStaleAfter {
						continue
					}
					lagMu.Lock()
					row.MaxLag = max(row.MaxLag, lag)
					lagMu.Unlock()
					if r := resumed.Load(); r != 0 && began.UnixNano() >= r {
						staleAfter.Add(1)
					} else {
						staleBefore.Add(1)
					}
				}
			}()
		}
	}

	// Each update is a request of its own: one whose invalidation waits
	// on a silent Redis does not hold up the next.
	rng := rand.New(rand.NewPCG(1, 2))
	var writes sync.WaitGroup
	var writeMu sync.Mutex
	write := func(k []byte) {
		defer writes.Done()
		db.update(k)
		wctx, cancel := context.WithTimeout(ctx, pauseReadTimeout)
		err := insts[0].invalidate(wctx, k)
		cancel()
		writeMu.Lock()
		row.Writes++
		if err != nil {
			row.WriteErrors++
		}
		writeMu.Unlock()
	}
	writeFor := func(d time.Duration) {
		tick := time.NewTicker(time.Second / pauseWritesPerS)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			writes.Add(1)
			go write(keys[rng.IntN(len(keys))])
		}
	}
	writeFor(steady)
	if err := server.Pause(); err != nil {
		row.Note = err.Error()
	}
	writeFor(paused)
	if err := server.Resume(); err != nil {
		row.Note = err.Error()
	}
	resumed.Store(time.Now().UnixNano())
	writeFor(after)
	writes.Wait()
	stop.Store(true)
	wg.Wait()

	for _, k := range keys {
		for _, in := range insts {
			v, err := in.read(ctx, nil, k, db.load)
			if _, stale := db.lagOf(v, time.Now()); err == nil && stale {
				row.StaleAtEnd++
				break
			}
		}
	}
	row.Reads, row.ReadErrors = reads.Load(), readErrs.Load()
	row.StaleBefore, row.StaleAfter = staleBefore.Load(), staleAfter.Load()
	return row
}
