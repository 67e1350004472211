package shard

// Restored is an entry read back from a snapshot, for RestoreAll: its
// key's hash, key, value, expiry stamp and whether the value is framed.
type Restored struct {
	H          uint64
	Key, Value []byte
	Expiry     int64
	Framed     bool
}

// RestoreAll stores entries read back from a snapshot, under one taking
// of the lock, each as an entry that earned main's ring if the shard
// holds no entry of its key and main has room for it without evicting;
// it returns how many it stored. It never evicts: a snapshot comes most
// recently used first, so what comes once the shard is full is worth
// less than what it holds, and an entry written since the load began
// (here, by anyone) wins over the snapshot's.
func (s *Shard) RestoreAll(now int64, es []Restored) int {
	if !s.lockWrite() { // a replan moves what readers without the lock read
		return 0
	}
	defer s.unlockWrite()
	stored := 0
	for i := range es {
		if s.restore(now, &es[i]) {
			stored++
		}
	}
	return stored
}

func (s *Shard) restore(now int64, e *Restored) bool {
	size := HeaderSize + len(e.Key) + len(e.Value)
	tag := uint32(e.H)
	if len(e.Key) > MaxKeyLen || size > s.maxRecord {
		return false
	}
	if slot, _ := s.find(tag, e.Key); slot >= 0 {
		return false
	}
	if s.unbalanced() {
		s.rebalance()
	}
	if s.live >= s.maxLive || !s.rings[mainRing].Fits(size) {
		return false
	}
	*s.gen(e.H)++
	flags := uint8(0)
	if e.Framed {
		flags = flagFramed
	}
	s.place(mainRing, tag, e.Key, e.Value, now, e.Expiry, flags)
	s.stats.Sets++
	s.stats.Admissions++
	return true
}
