package shard

// A shard's counters: what Stats reports, and Len.

// Stats are a shard's counters. Counters only grow; Entries and BytesUsed
// describe the present.
type Stats struct {
	Hits, Misses, Sets, Deletes, Overwrites, Evictions, Expirations uint64
	// Admissions counts new keys stored; Promotions, entries moved from
	// probation to main; Rejections, probation entries dropped because
	// main's victim was worth more or they had not earned main (these are
	// counted in Evictions too).
	Admissions, Promotions, Rejections uint64
	// Replans counts moves of the boundary between the rings and the
	// index (see adapt.go).
	Replans uint64
	// DroppedReads counts hits Get served that the policy never saw: noted
	// while the shard was locked, past what its notes hold.
	DroppedReads uint64
	// ReadRetries counts Get's tries that a write overlapped: each was
	// started over, or, after the last, read under the lock.
	ReadRetries uint64
	// Entries counts indexed entries, including expired ones no operation
	// has reclaimed yet (they are never returned).
	Entries uint64
	// BytesUsed is what the indexed entries take: header, key, value,
	// slack and their index slot.
	BytesUsed uint64
}

// Add adds o's fields to s.
func (s *Stats) Add(o Stats) {
	s.Hits += o.Hits
	s.Misses += o.Misses
	s.Sets += o.Sets
	s.Deletes += o.Deletes
	s.Overwrites += o.Overwrites
	s.Evictions += o.Evictions
	s.Expirations += o.Expirations
	s.Admissions += o.Admissions
	s.Promotions += o.Promotions
	s.Rejections += o.Rejections
	s.Replans += o.Replans
	s.DroppedReads += o.DroppedReads
	s.ReadRetries += o.ReadRetries
	s.Entries += o.Entries
	s.BytesUsed += o.BytesUsed
}

// Len returns the number of indexed entries (see Stats.Entries).
func (s *Shard) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Stats returns a copy of the shard's counters.
func (s *Shard) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ReadRetries = s.notes.retries.Load()
	st.Entries = uint64(s.live)
	st.BytesUsed = uint64(s.liveBytes + s.live*slotSize)
	return st
}
