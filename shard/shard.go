package shard

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/ttl"
)

// Errors a shard returns. The root package re-exports them, so errors.Is
// works against either name.
var (
	ErrClosed        = errors.New("ringcache: cache is closed")
	ErrKeyTooLarge   = errors.New("ringcache: key too large")
	ErrEntryTooLarge = errors.New("ringcache: entry too large")
	ErrTooSmall      = errors.New("ringcache: shard memory too small")
)

const (
	slotSize = 8
	// The index holds at most loadNum/loadDen live slots: linear probing
	// stays short (about 3 probes for a hit, 13 for a miss at the limit).
	loadNum, loadDen = 4, 5
	// minSlots keeps tiny shards able to hold a handful of entries.
	minSlots = 8
	// maxRingSize keeps ring offsets plus one within the 32 bits of a slot.
	maxRingSize = 1<<32 - 2
	// A single entry may take at most a quarter of the ring, so that one
	// large write cannot wipe out the shard.
	maxRecordShare = 4
)

// MinSize is the least memory Init accepts for one shard.
const MinSize = 1024

// Stats are a shard's counters. Counters only grow; Entries and BytesUsed
// describe the present.
type Stats struct {
	Hits, Misses, Sets, Deletes, Overwrites, Evictions, Expirations uint64
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
	s.Entries += o.Entries
	s.BytesUsed += o.BytesUsed
}

// Shard is one partition of the cache. Its methods are safe for concurrent
// use. The zero value is closed; call Init.
type Shard struct {
	mu        sync.Mutex
	open      bool
	ring      arena.Ring
	slots     []uint64
	maxLive   int
	live      int
	liveBytes int // ring bytes of live entries
	maxRecord int
	policy    evict.Policy
	stats     Stats
}

// Layout returns how Init splits size bytes for entries whose key and value
// together average avgPayload bytes: the index gets enough slots for a full
// ring of such entries at the maximum load, the ring the rest.
func Layout(size, avgPayload int) (ringSize, slots int) {
	perEntry := HeaderSize + max(avgPayload, 1)
	// ring + slots*slotSize = size, slots*loadNum/loadDen = ring/perEntry.
	slots = size * loadDen / (perEntry*loadNum + slotSize*loadDen)
	slots = max(slots, minSlots)
	ringSize = min(size-slots*slotSize, maxRingSize)
	return ringSize, slots
}

// Init makes s an empty shard over mem, which it uses whole for its index
// and ring (see Layout), with the given eviction policy. mem must be
// 8-byte aligned and zeroed; the shard never allocates after Init. Init
// returns ErrTooSmall when mem is shorter than MinSize.
func (s *Shard) Init(mem []byte, avgPayload int, policy evict.Policy) error {
	if len(mem) < MinSize {
		return ErrTooSmall
	}
	ringSize, slots := Layout(len(mem), avgPayload)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slots = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), slots)
	s.ring = arena.NewRing(mem[slots*slotSize : slots*slotSize+ringSize])
	s.maxLive = slots * loadNum / loadDen
	s.maxRecord = min(ringSize/maxRecordShare, HeaderSize+MaxValueLen)
	s.policy = policy
	s.live, s.liveBytes = 0, 0
	s.stats = Stats{}
	s.open = true
	return nil
}

// MaxPayload returns the largest key length plus value length a Set accepts.
func (s *Shard) MaxPayload() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxRecord - HeaderSize
}

// Close marks the shard closed and lets go of its memory; every later call
// fails or misses. The caller frees the memory after Close returns.
func (s *Shard) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = false
	s.slots = nil
	s.ring = arena.Ring{}
	s.live, s.liveBytes = 0, 0
}

// Set stores value under key with the expiry stamp, replacing any earlier
// value. h is Hash(key); now is the clock reading, used to reclaim expired
// entries on the way. It fails only with ErrClosed, ErrKeyTooLarge or
// ErrEntryTooLarge, and then changes nothing.
func (s *Shard) Set(h uint64, key, value []byte, now, expiry int64) error {
	if len(key) > MaxKeyLen {
		return ErrKeyTooLarge
	}
	size := HeaderSize + len(key) + len(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return ErrClosed
	}
	if size > s.maxRecord {
		return ErrEntryTooLarge
	}
	s.stats.Sets++
	tag := uint32(h)
	if slot, off := s.find(tag, key); slot >= 0 {
		hd := readHeader(s.ring.Bytes(off, HeaderSize))
		if ttl.Expired(hd.expiry, now) {
			s.stats.Expirations++
		} else {
			s.stats.Overwrites++
		}
		if room := hd.valLen + hd.slack; len(value) <= room && room-len(value) <= maxSlack {
			hd.valLen, hd.slack, hd.expiry = len(value), room-len(value), expiry
			b := s.ring.Bytes(off, hd.size())
			writeHeader(b, hd)
			copy(b[HeaderSize+hd.keyLen:], value)
			return nil
		}
		s.kill(slot, off, hd.size())
	}
	for s.live >= s.maxLive {
		s.reclaimOldest(now)
	}
	off := s.alloc(size, now)
	b := s.ring.Bytes(off, size)
	writeHeader(b, entryHeader{keyLen: len(key), valLen: len(value), expiry: expiry})
	copy(b[HeaderSize:], key)
	copy(b[HeaderSize+len(key):], value)
	s.insert(tag, off)
	s.live++
	s.liveBytes += size
	return nil
}

// Get appends the value stored under key to dst. A miss, an expired entry
// and a closed shard all return dst unchanged and false.
func (s *Shard) Get(dst []byte, h uint64, key []byte, now int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.hit(h, key, now)
	if !ok {
		return dst, false
	}
	return append(dst, b...), true
}

// View calls fn with the value stored under key, under the shard lock, and
// reports whether it did. The slice is valid only inside fn, and fn must
// not call back into the cache.
func (s *Shard) View(h uint64, key []byte, now int64, fn func([]byte)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.hit(h, key, now)
	if ok {
		fn(b)
	}
	return ok
}

// hit finds a live entry, records the read and returns its value bytes.
func (s *Shard) hit(h uint64, key []byte, now int64) ([]byte, bool) {
	off, hd, ok := s.lookup(h, key, now)
	if !ok {
		s.stats.Misses++
		return nil, false
	}
	s.stats.Hits++
	b := s.ring.Bytes(off, hd.size())
	b[11] = b[11]&^evict.MetaBits | s.policy.Hit(hd.flags&evict.MetaBits)&evict.MetaBits
	start := HeaderSize + hd.keyLen
	return b[start : start+hd.valLen], true
}

// Has reports whether key holds a live entry, without counting a hit or a
// miss and without telling the eviction policy.
func (s *Shard) Has(h uint64, key []byte, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, ok := s.lookup(h, key, now)
	return ok
}

// Expiry returns the expiry stamp of key's live entry.
func (s *Shard) Expiry(h uint64, key []byte, now int64) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, hd, ok := s.lookup(h, key, now)
	return hd.expiry, ok
}

// Touch sets a new expiry stamp on key's live entry and reports whether
// there was one.
func (s *Shard) Touch(h uint64, key []byte, now, expiry int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	off, hd, ok := s.lookup(h, key, now)
	if ok {
		hd.expiry = expiry
		writeHeader(s.ring.Bytes(off, HeaderSize), hd)
	}
	return ok
}

// Delete removes key's entry and reports whether a live one was there.
func (s *Shard) Delete(h uint64, key []byte, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return false
	}
	slot, off := s.find(uint32(h), key)
	if slot < 0 {
		return false
	}
	hd := readHeader(s.ring.Bytes(off, HeaderSize))
	s.kill(slot, off, hd.size())
	if ttl.Expired(hd.expiry, now) {
		s.stats.Expirations++
		return false
	}
	s.stats.Deletes++
	return true
}

// lookup finds key's entry; one found expired is reclaimed on the spot and
// reported as absent.
func (s *Shard) lookup(h uint64, key []byte, now int64) (int, entryHeader, bool) {
	if !s.open {
		return 0, entryHeader{}, false
	}
	slot, off := s.find(uint32(h), key)
	if slot < 0 {
		return 0, entryHeader{}, false
	}
	hd := readHeader(s.ring.Bytes(off, HeaderSize))
	if ttl.Expired(hd.expiry, now) {
		s.kill(slot, off, hd.size())
		s.stats.Expirations++
		return 0, entryHeader{}, false
	}
	return off, hd, true
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
	st.Entries = uint64(s.live)
	st.BytesUsed = uint64(s.liveBytes + s.live*slotSize)
	return st
}

// Clear drops every entry. Counters are kept.
func (s *Shard) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return
	}
	s.ring.Reset()
	clear(s.slots)
	s.live, s.liveBytes = 0, 0
}

// alloc takes size bytes at the ring's tail, reclaiming the oldest entries
// until they fit.
func (s *Shard) alloc(size int, now int64) int {
	for {
		if off, ok := s.ring.Alloc(size); ok {
			return off
		}
		s.reclaimOldest(now)
	}
}

// reclaimOldest frees or recycles the entry at the ring's head: dead ones
// go, expired ones go, live ones go unless the policy grants another lap.
func (s *Shard) reclaimOldest(now int64) {
	off, _ := s.ring.Head()
	hd := readHeader(s.ring.Bytes(off, HeaderSize))
	size := hd.size()
	if hd.flags&flagDead != 0 {
		s.ring.Reclaim(size)
		return
	}
	key := s.ring.Bytes(off+HeaderSize, hd.keyLen)
	tag := uint32(Hash(key))
	slot := s.slotAt(tag, off)
	if ttl.Expired(hd.expiry, now) {
		s.stats.Expirations++
	} else if keep, meta := s.policy.Reclaim(hd.flags & evict.MetaBits); keep {
		s.ring.Bytes(off, HeaderSize)[11] = hd.flags&^evict.MetaBits | meta&evict.MetaBits
		s.slots[slot] = slotValue(tag, s.ring.Recycle(size))
		return
	} else {
		s.stats.Evictions++
	}
	s.removeSlot(slot)
	s.ring.Reclaim(size)
	s.live--
	s.liveBytes -= size
}

// kill marks the entry at off dead and drops its slot; the ring reclaims
// its bytes when the head reaches it.
func (s *Shard) kill(slot, off, size int) {
	s.ring.Bytes(off, HeaderSize)[11] |= flagDead
	s.removeSlot(slot)
	s.live--
	s.liveBytes -= size
}

func slotValue(tag uint32, off int) uint64 { return uint64(tag)<<32 | uint64(off+1) }

func slotOffset(v uint64) int { return int(uint32(v)) - 1 }

func (s *Shard) home(tag uint32) int { return int(uint64(tag) * uint64(len(s.slots)) >> 32) }

func (s *Shard) next(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// find returns the slot and ring offset of key's entry, or slot -1.
func (s *Shard) find(tag uint32, key []byte) (int, int) {
	for i := s.home(tag); ; i = s.next(i) {
		v := s.slots[i]
		if v == 0 {
			return -1, 0
		}
		if uint32(v>>32) != tag {
			continue
		}
		off := slotOffset(v)
		hd := s.ring.Bytes(off, HeaderSize)
		if int(hd[0])|int(hd[1])<<8 == len(key) && string(s.ring.Bytes(off+HeaderSize, len(key))) == string(key) {
			return i, off
		}
	}
}

// slotAt returns the slot pointing at the live entry at off, whose key
// hashes to tag. The invariants guarantee it exists.
func (s *Shard) slotAt(tag uint32, off int) int {
	want := slotValue(tag, off)
	i := s.home(tag)
	for s.slots[i] != want {
		i = s.next(i)
	}
	return i
}

func (s *Shard) insert(tag uint32, off int) {
	i := s.home(tag)
	for s.slots[i] != 0 {
		i = s.next(i)
	}
	s.slots[i] = slotValue(tag, off)
}

// removeSlot empties slot i and shifts back the slots after it that would
// otherwise become unreachable from their home.
func (s *Shard) removeSlot(i int) {
	for j := s.next(i); s.slots[j] != 0; j = s.next(j) {
		h := s.home(uint32(s.slots[j] >> 32))
		// Move j back to i unless its home lies cyclically in (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
}
