package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ringcache/ringcache/bench/contenders"
)

// replayValueLen is the value size of every replayed request; with 8-byte
// keys each entry is 40 bytes of payload.
const replayValueLen = 32

type hitRow struct {
	Contender string
	Stream    string
	Capacity  int     // entries
	HitRatio  float64 // percent; negative when n/a
	// MaxHeld is the most entries the cache reported holding during the
	// replay (sampled), or 0 where the cache does not count them.
	MaxHeld int `json:",omitempty"`
	// Replays is how many caches the cell's HitRatio is the mean of
	// (absent: one), and Spread their highest ratio less their lowest.
	Replays int     `json:",omitempty"`
	Spread  float64 `json:",omitempty"`
	Note    string
	// Bound marks a reference policy (bounds.go), not a cache.
	Bound bool `json:",omitempty"`
}

// Names of the reference policies' rows.
const (
	beladyName     = "Belady"
	a0Name         = "A0"
	perfectLFUName = "perfect LFU"
)

// hitStream is one request sequence and the capacities to replay it at.
type hitStream struct {
	name       string
	requests   []uint64
	capacities []int
	// likeliest lists, for streams of independent draws, the keys from
	// most to least likely (for A0); nil for traces and the loop.
	likeliest []uint64
}

// traceCells are the traces, in the order the table lists them, and the
// capacities each is replayed at: from about 100 entries, where a cache
// holds a small part of its working set, up to a part near the working
// set.
var traceCells = []struct {
	file       string
	capacities []int
}{
	{"oltp.arc.gz", []int{250, 1000, 2000}},
	{"gli.lirs.gz", []int{250, 1000, 2000}},
	{"loop.lirs.gz", []int{500, 1000}},
	{"multi2.lirs.gz", []int{300, 1000}},
	{"sprite.lirs.gz", []int{100, 500, 1000}},
	{"2_pools.lirs.gz", []int{100, 500, 2000}},
	{"cpp.lirs.gz", []int{100, 300, 600}},
	{"cs.lirs.gz", []int{100, 400, 800}},
	{"multi1.lirs.gz", []int{100, 500, 1500}},
	{"multi3.lirs.gz", []int{100, 1000, 3000}},
	{"ps.lirs.gz", []int{100, 400, 1500}},
	{"zigzag.lirs.gz", []int{100, 500, 1800}},
	{"web07.lirs.gz", []int{100, 400, 2000}},
	{"web12.lirs.gz", []int{100, 400, 2000}},
}

// hitStreams loads the traces in cfg.traces and builds the synthetic
// streams: Zipf at three skews, Zipf polluted by one-pass scans, and a
// loop, each at 0.5% and 5% of its key space (the loop at 50% and 90%).
func hitStreams(cfg config) ([]hitStream, error) {
	var out []hitStream
	if cfg.traces != "" {
		for _, tc := range traceCells {
			// A trace that is not there is an error: a table that
			// silently lost rows reads like a complete one.
			reqs, err := readTrace(filepath.Join(cfg.traces, tc.file), cfg.traceLimit)
			if err != nil {
				return nil, err
			}
			short, _, _ := strings.Cut(tc.file, ".")
			out = append(out, hitStream{name: short, requests: reqs, capacities: tc.capacities})
		}
	}
	n, m := cfg.synthKeys, cfg.synthRequests
	caps := []int{n / 200, n / 20}
	for _, s := range []float64{0.7, 0.9, 1.1} {
		z := newZipf(n, s, 11)
		reqs := make([]uint64, m)
		for i := range reqs {
			reqs[i] = uint64(z.next())
		}
		out = append(out, hitStream{name: fmt.Sprintf("zipf-%.1f", s), requests: reqs, capacities: caps, likeliest: z.byLikelihood()})
	}
	// Zipf 0.9 traffic in blocks of 0.4 x keys requests, each followed by a
	// scan of 0.1 x keys keys never seen before: a fifth of the traffic is
	// one-hit wonders arriving in long runs.
	z := newZipf(n, 0.9, 12)
	reqs := make([]uint64, 0, m)
	scan := uint64(1 << 40)
	for len(reqs) < m {
		for range 4 * n / 10 {
			reqs = append(reqs, uint64(z.next()))
		}
		for range n / 10 {
			reqs = append(reqs, scan)
			scan++
		}
	}
	out = append(out, hitStream{name: "zipf-0.9+scans", requests: reqs[:m], capacities: caps, likeliest: z.byLikelihood()})
	loopLen := n / 10
	loop := make([]uint64, m)
	for i := range loop {
		loop[i] = uint64(i % loopLen)
	}
	out = append(out, hitStream{name: "loop", requests: loop, capacities: []int{loopLen / 2, loopLen * 9 / 10}})
	return out, nil
}

// runHitRatio replays every stream at every capacity through every
// contender: a read, and on a miss a write, per request.
func runHitRatio(cfg config, cs []contenders.Contender, progress func(string)) ([]hitRow, error) {
	streams, err := hitStreams(cfg)
	if err != nil {
		return nil, err
	}
	var rows []hitRow
	value := make([]byte, replayValueLen)
	for _, st := range streams {
		for _, capacity := range st.capacities {
			if cfg.bounds {
				progress(fmt.Sprintf("hit ratio: %s at %d entries, reference policies", st.name, capacity))
				rows = append(rows,
					hitRow{Contender: beladyName, Stream: st.name, Capacity: capacity, HitRatio: beladyHitRatio(st.requests, capacity), Bound: true},
					hitRow{Contender: perfectLFUName, Stream: st.name, Capacity: capacity, HitRatio: perfectLFUHitRatio(st.requests, capacity), Bound: true})
				if st.likeliest != nil {
					rows = append(rows, hitRow{Contender: a0Name, Stream: st.name, Capacity: capacity, HitRatio: a0HitRatio(st.requests, st.likeliest, capacity), Bound: true})
				}
			}
			for _, c := range cs {
				progress(fmt.Sprintf("hit ratio: %s at %d entries, %s", st.name, capacity, c.Name))
				row := hitRow{Contender: c.Name, Stream: st.name, Capacity: capacity}
				replays := 1
				if c.Varies {
					replays = cfg.hitReplays
				}
				ratios := make([]float64, 0, replays)
				for range replays {
					cache, err := build(c, capacity, 8+replayValueLen)
					if err != nil {
						row.Note = "n/a: " + err.Error()
						break
					}
					ratio, held := replay(cache, st.requests, value, cfg.settle)
					cache.Close()
					ratios = append(ratios, ratio)
					row.MaxHeld = max(row.MaxHeld, held)
				}
				row.summarize(ratios)
				if row.MaxHeld > capacity+capacity/20 {
					row.Note = fmt.Sprintf("held up to %d entries", row.MaxHeld)
				}
				rows = append(rows, row)
			}
			runtime.GC()
		}
	}
	return rows, nil
}

// summarize sets the row's HitRatio to the mean of ratios, one per
// cache replayed, with their count and spread when there are several;
// with none (the cache could not be built) it is -1, n/a.
func (h *hitRow) summarize(ratios []float64) {
	if len(ratios) == 0 {
		h.HitRatio = -1
		return
	}
	sum, lo, hi := 0.0, ratios[0], ratios[0]
	for _, r := range ratios {
		sum, lo, hi = sum+r, min(lo, r), max(hi, r)
	}
	h.HitRatio = sum / float64(len(ratios))
	if len(ratios) > 1 {
		h.Replays, h.Spread = len(ratios), hi-lo
	}
}

// replay returns the hit ratio in percent and the most entries c held.
// Caches that apply writes later (otter and theine run their eviction as
// deferred maintenance, ristretto buffers sets) are settled after every
// write, as Caffeine's simulator runs its caches with a same-thread
// executor: unsettled, otter sized for 100 entries held up to 579 on the
// sprite trace, and its hit ratio was that of a cache five times larger.
// With settle false they run as an application would drive them from one
// goroutine.
func replay(c contenders.Cache, requests []uint64, value []byte, settle bool) (float64, int) {
	hits, held := 0, 0
	w, deferred := c.(contenders.Settler)
	deferred = deferred && settle
	dst := make([]byte, 0, 64)
	for i, id := range requests {
		k := keyOf(id)
		var ok bool
		if dst, ok = c.Get(dst[:0], &k); ok {
			hits++
		} else {
			c.Set(&k, value)
			if deferred {
				w.Settle()
			}
		}
		if i%64 == 0 {
			held = max(held, c.Len())
		}
	}
	return 100 * float64(hits) / float64(len(requests)), max(held, c.Len())
}

// build makes c hold about n entries of entrySize bytes (key plus value):
// generic caches by count; byte caches get the budget that calibration
// found, or contenders.ErrTooSmall.
func build(c contenders.Contender, n, entrySize int) (contenders.Cache, error) {
	if c.ByCount != nil {
		return c.ByCount(n)
	}
	budget, err := calibrate(c, n, entrySize)
	if err != nil {
		return nil, err
	}
	return c.BytesFor(entrySize)(budget)
}

// calibrate finds the smallest byte budget at which c holds at least n
// entries of entrySize bytes, by filling trial caches with distinct keys.
// It fails with contenders.ErrTooSmall when even c's smallest cache holds more than
// 5% over n: a hit ratio measured there would flatter c.
func calibrate(c contenders.Contender, n, entrySize int) (int64, error) {
	value := make([]byte, entrySize-8)
	build := c.BytesFor(entrySize)
	held := func(budget int64) (int, error) {
		cache, err := build(budget)
		if err != nil {
			return 0, err
		}
		defer cache.Close()
		for i := range 4 * n {
			k := keyOf(uint64(i))
			cache.Set(&k, value)
		}
		return cache.Len(), nil
	}
	lo := c.MinBytes
	got, err := held(lo)
	if err != nil {
		return 0, err
	}
	if got >= n {
		if got > n+n/20 {
			return 0, fmt.Errorf("%w: its smallest size holds %d entries", contenders.ErrTooSmall, got)
		}
		return lo, nil
	}
	hi := lo
	for got < n {
		lo, hi = hi, hi*2
		if got, err = held(hi); err != nil {
			return 0, err
		}
	}
	for hi-lo > max(hi/200, 64) {
		mid := lo + (hi-lo)/2
		if got, err = held(mid); err != nil {
			return 0, err
		}
		if got >= n {
			hi = mid
		} else {
			lo = mid
		}
	}
	if got, _ = held(hi); got > n+n/20 {
		return 0, fmt.Errorf("%w: its sizes step from under %d entries to %d", contenders.ErrTooSmall, n, got)
	}
	return hi, nil
}
