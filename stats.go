package ringcache

import "github.com/ringcache/ringcache/shard"

// The cache's counters: Stats sums its shards' and the loading layer's.

// Stats are a cache's counters, summed over its shards. Counters only
// grow (Clear keeps them); Entries, BytesUsed and Capacity describe the
// present.
type Stats struct {
	Hits        uint64 // reads that returned a value
	Misses      uint64 // reads that did not
	Sets        uint64 // successful writes
	Deletes     uint64 // Deletes that removed a live entry
	Overwrites  uint64 // writes that replaced a live entry
	Evictions   uint64 // live entries dropped to make room, Rejections included
	Expirations uint64 // entries dropped because their TTL had passed
	Admissions  uint64 // new keys stored
	Promotions  uint64 // LRUK: entries moved from probation to main
	Rejections  uint64 // LRUK: probation entries dropped for main's victim or short of K reads
	Replans     uint64 // times a shard moved the boundary between its index and its rings
	// DroppedReads counts hits the eviction policy never heard of: Get
	// notes reads for it without waiting while a shard is locked, and
	// drops what a shard's few notes cannot hold.
	DroppedReads uint64
	// ReadRetries counts lock-free reads started over because a write to
	// their shard overlapped them (see Get).
	ReadRetries uint64
	Entries     uint64 // entries held, as Len (tombstones and stale values included)
	BytesUsed   uint64 // bytes those entries take: header, key, value, index slot
	Capacity    uint64 // Config.Capacity

	// The loading layer (GetOrLoad) and compression.
	Loads           uint64 // loader calls, background refreshes included
	LoadsDiscarded  uint64 // loads not stored because the key was written during them
	LoadErrors      uint64 // loader calls that failed (ErrNotFound is not a failure)
	SharedLoads     uint64 // GetOrLoad calls answered by another caller's load
	NegativeHits    uint64 // GetOrLoad calls answered by a tombstone
	GuardRejections uint64 // GetOrLoad calls the Bloom guard answered
	StaleServed     uint64 // stale values served because a reload failed
	Refreshes       uint64 // background refreshes run
	RefreshErrors   uint64 // background refreshes whose load failed
	BytesSaved      uint64 // bytes compression saved, summed over writes
	LoadTimes       LoadTimes
}

// Stats returns the cache's counters. It locks each shard in turn, briefly;
// the figures of different shards may be a moment apart.
func (c *Cache) Stats() Stats {
	var sum shard.Stats
	for i := range c.shards {
		sum.Add(c.shards[i].Stats())
	}
	ls := &c.loading.stats
	return Stats{
		Hits: sum.Hits + c.hits.sum(), Misses: sum.Misses, Sets: sum.Sets, Deletes: sum.Deletes,
		Overwrites: sum.Overwrites, Evictions: sum.Evictions, Expirations: sum.Expirations,
		Admissions: sum.Admissions, Promotions: sum.Promotions, Rejections: sum.Rejections, Replans: sum.Replans, DroppedReads: sum.DroppedReads, ReadRetries: sum.ReadRetries,
		Entries: sum.Entries, BytesUsed: sum.BytesUsed, Capacity: uint64(c.capacity),
		Loads: ls.loads.Load(), LoadsDiscarded: ls.discarded.Load(), LoadErrors: ls.loadErrors.Load(), SharedLoads: ls.shared.Load(),
		NegativeHits: ls.negativeHits.Load(), GuardRejections: ls.guardRejections.Load(),
		StaleServed: ls.staleServed.Load(), Refreshes: ls.refreshes.Load(),
		RefreshErrors: ls.refreshErrors.Load(), BytesSaved: c.saved.Load(),
		LoadTimes: ls.times.read(),
	}
}
