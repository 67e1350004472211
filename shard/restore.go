package shard

// Restore stores an entry read back from a snapshot as one that earned
// main's ring, if the shard holds no entry of key and main has room for
// it without evicting, and reports whether it did. It never evicts: a
// snapshot comes most recently used first, so what comes once the shard
// is full is worth less than what it holds, and an entry written since
// the load began (here, by anyone) wins over the snapshot's.
func (s *Shard) Restore(h uint64, key, value []byte, now, expiry int64, framed bool) bool {
	size := HeaderSize + len(key) + len(value)
	if len(key) > MaxKeyLen {
		return false
	}
	s.mu.Lock()
	defer s.unlock()
	if !s.open || size > s.maxRecord {
		return false
	}
	tag := uint32(h)
	if slot, _ := s.find(tag, key); slot >= 0 {
		return false
	}
	s.beginWrite() // a replan moves what readers without the lock read
	defer s.endWrite()
	if s.unbalanced() {
		s.rebalance()
	}
	if s.live >= s.maxLive || !s.rings[mainRing].Fits(size) {
		return false
	}
	*s.gen(h)++
	flags := uint8(0)
	if framed {
		flags = flagFramed
	}
	g := s.alloc(mainRing, size, now)
	b := s.bytes(g, size)
	writeHeader(b, entryHeader{keyLen: len(key), valLen: len(value), expiry: expiry, flags: flags})
	copy(b[HeaderSize:], key)
	copy(b[HeaderSize+len(key):], value)
	s.insert(tag, g)
	s.live++
	s.liveBytes += size
	s.stats.Sets++
	s.stats.Admissions++
	return true
}
