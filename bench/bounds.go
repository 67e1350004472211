package main

import "container/heap"

// The reference policies below are not caches: they see the whole request
// stream (Belady), know the odds of every key (A0) or keep unbounded exact
// history (perfect LFU).
// The hit-ratio table prints them beside the contenders to show how much
// any cache could still gain in a cell.

// beladyHitRatio returns the hit ratio in percent of Belady's clairvoyant
// policy (MIN) with bypass on requests at capacity entries: on a miss the
// requested key is admitted and then, if the cache is over capacity, the
// cached key (the new one included) whose next request lies furthest in
// the future is dropped. No cache that sees only the past does better,
// admission or not (Belady, "A study of replacement algorithms for a
// virtual-storage computer", IBM Systems Journal 5(2), 1966).
func beladyHitRatio(requests []uint64, capacity int) float64 {
	if len(requests) == 0 || capacity <= 0 {
		return 0
	}
	const never = int64(1) << 62
	next := make([]int64, len(requests))
	last := make(map[uint64]int64)
	for i := len(requests) - 1; i >= 0; i-- {
		if j, ok := last[requests[i]]; ok {
			next[i] = j
		} else {
			next[i] = never
		}
		last[requests[i]] = int64(i)
	}
	cached := make(map[uint64]int64, capacity+1)
	pq := &priorityQueue{}
	hits := 0
	for i, k := range requests {
		if _, ok := cached[k]; ok {
			hits++
		}
		// The queue pops the least priority first: the furthest next
		// request, negated.
		cached[k] = -next[i]
		pq.push(k, -next[i], cached)
		for len(cached) > capacity {
			pq.popLeast(cached)
		}
	}
	return 100 * float64(hits) / float64(len(requests))
}

// a0HitRatio returns the hit ratio in percent of a cache that knows the
// odds of every key in a stream of independent draws and holds the
// capacity likeliest keys (likeliest lists keys most likely first), each
// from its first request on, and any key while the cache is not yet full. Among policies that do not see the future,
// keeping the likeliest keys hits most often on such a stream: Aho,
// Denning and Ullman's A0 ("Principles of optimal page replacement",
// JACM 18(1), 1971). A cache has to learn the odds from the requests it
// sees, so it stays below this in expectation; perfect LFU is that
// learning done exactly.
func a0HitRatio(requests, likeliest []uint64, capacity int) float64 {
	if len(requests) == 0 || capacity <= 0 {
		return 0
	}
	likely := make(map[uint64]bool, capacity)
	for _, k := range likeliest[:min(capacity, len(likeliest))] {
		likely[k] = true
	}
	// Until capacity distinct keys have come, there is room for all.
	seen := make(map[uint64]bool)
	hits := 0
	for _, k := range requests {
		if seen[k] && (likely[k] || len(seen) <= capacity) {
			hits++
		}
		seen[k] = true
	}
	return 100 * float64(hits) / float64(len(requests))
}

// perfectLFUHitRatio returns the hit ratio in percent of an LFU cache with
// exact counts of every key's requests since the stream began, kept for
// cached and uncached keys alike in unbounded memory, never aged. A missed
// key is admitted while there is room, or in place of the least-counted
// cached key when its own count is higher (a tie keeps the incumbent), as
// TinyLFU admits. On a stream of independent draws (the Zipf streams) it
// approaches the best any policy can do without knowing the future, and
// TinyLFU's sketch is an approximation of its counts in a few bytes per
// entry (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
// Admission Policy", ACM ToS 13(4), 2017, where it is called PLFU).
func perfectLFUHitRatio(requests []uint64, capacity int) float64 {
	if len(requests) == 0 || capacity <= 0 {
		return 0
	}
	counts := make(map[uint64]int64)
	cached := make(map[uint64]int64, capacity+1)
	pq := &priorityQueue{}
	hits := 0
	for _, k := range requests {
		counts[k]++
		n := counts[k]
		if _, ok := cached[k]; ok {
			hits++
		} else if len(cached) == capacity {
			if n <= pq.least(cached) {
				continue
			}
			pq.popLeast(cached)
		}
		cached[k] = n
		pq.push(k, n, cached)
	}
	return 100 * float64(hits) / float64(len(requests))
}

// priorityQueue is a min-heap of (priority, key) pairs over a map from
// each cached key to its current priority. Updating a key pushes a new pair
// and leaves the old one stale; a pair is live while the map agrees with
// it, and stale pairs are dropped when they surface or when they outnumber
// live ones.
type priorityQueue struct{ pairs prioritized }

type keyPriority struct {
	priority int64
	key      uint64
}

type prioritized []keyPriority

func (p prioritized) Len() int           { return len(p) }
func (p prioritized) Less(i, j int) bool { return p[i].priority < p[j].priority }
func (p prioritized) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }
func (p *prioritized) Push(x any)        { *p = append(*p, x.(keyPriority)) }
func (p *prioritized) Pop() any {
	old := *p
	x := old[len(old)-1]
	*p = old[:len(old)-1]
	return x
}

func (q *priorityQueue) push(k uint64, priority int64, live map[uint64]int64) {
	heap.Push(&q.pairs, keyPriority{priority, k})
	if len(q.pairs) > 2*len(live)+64 {
		kept := q.pairs[:0]
		for _, p := range q.pairs {
			if q.isLive(p, live) {
				kept = append(kept, p)
			}
		}
		q.pairs = kept
		heap.Init(&q.pairs)
	}
}

func (q *priorityQueue) isLive(p keyPriority, live map[uint64]int64) bool {
	got, ok := live[p.key]
	return ok && got == p.priority
}

// least returns the lowest live priority; live must not be empty.
func (q *priorityQueue) least(live map[uint64]int64) int64 {
	for !q.isLive(q.pairs[0], live) {
		heap.Pop(&q.pairs)
	}
	return q.pairs[0].priority
}

// popLeast removes the live key with the lowest priority from the queue
// and from live; live must not be empty.
func (q *priorityQueue) popLeast(live map[uint64]int64) {
	q.least(live)
	delete(live, heap.Pop(&q.pairs).(keyPriority).key)
}
