package shard

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/ttl"
)

// The Shard type and the writes the cache calls, each under the shard's
// lock and, where it changes bytes Get may read, in a write section.

// Errors a shard returns. The root package re-exports them, so errors.Is
// works against either name.
var (
	ErrClosed        = errors.New("ringcache: cache is closed")
	ErrKeyTooLarge   = errors.New("ringcache: key too large")
	ErrEntryTooLarge = errors.New("ringcache: entry too large")
	ErrTooSmall      = errors.New("ringcache: shard memory too small")
)

// Options configure a shard.
type Options struct {
	// Hasher is the keyed hash of the cache the shard belongs to: callers
	// pass its hashes of keys, and the shard rehashes stored keys with it.
	Hasher keyhash.Hasher
	// AvgPayload is the expected key plus value length, which splits the
	// memory between index slots and ring bytes.
	AvgPayload int
	// Policy chooses LRU-K admission or plain FIFO with second chance.
	Policy evict.Kind
	// K is LRU-K's number of recent reads that earns main.
	K int
	// TunePeriod is the number of reads the tuner's models see between
	// its choices of probation's size and K (evict.Tuner); zero or less
	// means one choice per 5,000 reads of the shard. Small values are for
	// tests and fuzzing: they keep the boundary between the rings moving.
	TunePeriod int
	// FrameHead is how many leading bytes of a framed value Get hands
	// back in Seen.Head rather than in dst (at most MaxFrameHead).
	FrameHead int
	// Clock, when set, judges expiries near its reading by the time read
	// afresh (ttl.Clock.Expired), so that reads never serve an entry
	// past its expiry in real time. Nil judges by the reading alone.
	Clock *ttl.Clock
	// CopiesFramed, when set, tells from the first byte of a framed value
	// whether Get copies it for the caller to judge (Framed); one it
	// refuses is left to the lock (Locked) before a byte is copied, so a
	// value the caller could not serve from a copy is not copied in vain.
	// Nil copies every framed value.
	CopiesFramed func(head byte) bool
	// OnRemove, when set, is called for each entry the shard removes,
	// with its key, its value as stored and why, after the lock is
	// released, on the goroutine whose call removed it (removals.go).
	// The slices are valid during the call only.
	OnRemove func(key, value []byte, framed bool, cause Cause)
}

// Shard is one partition of the cache. Its methods are safe for concurrent
// use. The zero value is closed; call Init.
type Shard struct {
	seen
	_ [128 - unsafe.Sizeof(seen{})%128]byte
	// notes are reads Get saw while the lock was taken (see optimistic.go);
	// they have a line of their own, since readers write them.
	notes readNotes
	_     [128 - unsafe.Sizeof(readNotes{})%128]byte

	mu   sync.Mutex
	open bool
	// gens are write generations, a stripe of keys each: every write of a
	// key moves its stripe's, Read reports it, and Fill stores a loaded
	// value only if it has not moved since the read before the load, so a
	// load never undoes a write. Guarded by mu, like everything else: a
	// plain increment under a lock already held costs less than an
	// atomic, and beside the lock it shares the line every write touches.
	gens      [genStripes]uint32
	rings     [2]arena.Ring
	slots     []uint64
	maxLive   int
	live      int
	liveBytes int // ring bytes of live entries
	// probLive counts live entries in probation, which may hold at most
	// maxProb of them as well as at most its ring's bytes: with entries
	// smaller than Options.AvgPayload the index, not the ring, bounds the
	// cache, and probation must stay a small part of it either way.
	probLive, maxProb int
	policy            *evict.Policy
	stats             Stats
	// ringMem is the memory of both rings; probation takes its first
	// split() bytes and main the rest. Under LRU-K the tuner sets a
	// target size for probation, and resize moves the boundary toward it
	// whenever both rings allow.
	ringMem    []byte
	tuner      evict.Tuner
	targetProb int
	resizeStep int
	// shrinkWaits counts writes since probation last shrank while a
	// shrink was due.
	shrinkWaits int
	tail        Layout
	opts        Options
	// minRing is the least the rings may shrink to as the index grows:
	// half their first size, so that maxRecord stays at most half of them.
	minRing int
	// gone holds copies of what the locked section removed, for
	// Options.OnRemove; nil when nothing was.
	gone *[]byte
}

// genStripes is the number of write generations per shard: enough that
// writes of other keys rarely discard a load (a stripe is 1/2,048 of a
// 256-shard cache), few enough to sit in the lock's cache line.
const genStripes = 8

func (s *Shard) gen(h uint64) *uint32 { return &s.gens[h>>32%genStripes] }

// Hash returns the shard's hash of key.
func (s *Shard) Hash(key []byte) uint64 { return s.hasher.Sum(key) }

// Init makes s an empty shard over mem, which it uses whole for its
// rings, policy memory and index (see PlanLayout). mem must be 8-byte
// aligned and zeroed. Init returns ErrTooSmall when mem is shorter than
// MinSize.
func (s *Shard) Init(mem []byte, o Options) error {
	if len(mem) < MinSize {
		return ErrTooSmall
	}
	l := PlanLayout(len(mem), o)
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.FrameHead < 0 || o.FrameHead > MaxFrameHead {
		return errors.New("shard: FrameHead out of range")
	}
	s.mem, s.opts, s.copiesFramed, s.clock, s.frameHead = mem, o, o.CopiesFramed, o.Clock, o.FrameHead
	s.words = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/slotSize)
	total := l.Probation + l.Main
	s.ringMem = mem[:total]
	s.rings[probation] = arena.NewRing(s.ringMem[:l.Probation])
	s.rings[mainRing] = arena.NewRing(s.ringMem[l.Probation:])
	if err := s.bindTail(l); err != nil {
		return err
	}
	s.targetProb = l.Probation
	s.maxRecord = min(l.Main/maxRecordShare, HeaderSize+MaxValueLen)
	s.minRing = total / 2
	s.hasher = o.Hasher
	s.live, s.liveBytes, s.probLive, s.shrinkWaits = 0, 0, 0, 0
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
	if !s.lockWrite() {
		return
	}
	defer s.unlockWrite()
	s.open = false
	s.slotsLen.Store(0)
	s.slots = nil
	s.rings = [2]arena.Ring{}
	s.policy = nil
	s.live, s.liveBytes = 0, 0
}

// Set stores value under key with the expiry stamp, replacing any earlier
// value, and moves the key's write generation. h is s.Hash(key); now is
// the clock reading, used to reclaim expired entries on the way. framed
// marks a value that carries a frame of the caller's (see Read). It fails
// only with ErrClosed, ErrKeyTooLarge or ErrEntryTooLarge, and then
// changes nothing.
func (s *Shard) Set(h uint64, key, value []byte, now, expiry int64, framed bool) error {
	_, err := s.store(h, key, value, now, expiry, framed, false, 0)
	return err
}

// SetIf is Set when cond, shown key's live entry under the lock (its value
// and whether it is framed; nil and false, with present false, when there
// is none or it expired), allows it; it reports whether it stored. A
// refused write changes nothing, not even the write generation.
func (s *Shard) SetIf(h uint64, key, value []byte, now, expiry int64, framed bool, cond func(old []byte, framed, present bool) bool) (bool, error) {
	return s.storeIf(h, key, value, now, expiry, framed, false, 0, cond)
}

// Fill is Set for a value loaded from elsewhere: it stores it only if the
// key's write generation is still gen, what Read reported before the load
// began, and reports whether it did. A write since then wins: its value,
// or its absence, stays. Fill does not move the generation.
func (s *Shard) Fill(h uint64, key, value []byte, now, expiry int64, framed bool, gen uint32) (bool, error) {
	return s.store(h, key, value, now, expiry, framed, true, gen)
}

// store is Set, or with fill, Fill. One body for both keeps a Set a
// single call below the cache.
func (s *Shard) store(h uint64, key, value []byte, now, expiry int64, framed, fill bool, gen uint32) (bool, error) {
	return s.storeIf(h, key, value, now, expiry, framed, fill, gen, nil)
}

func (s *Shard) storeIf(h uint64, key, value []byte, now, expiry int64, framed, fill bool, gen uint32, cond func(old []byte, framed, present bool) bool) (bool, error) {
	if len(key) > MaxKeyLen {
		return false, ErrKeyTooLarge
	}
	size := HeaderSize + len(key) + len(value)
	s.mu.Lock()
	defer s.unlock()
	switch g := s.gen(h); {
	case !s.open:
		return false, ErrClosed
	case size > s.maxRecord:
		return false, ErrEntryTooLarge
	case cond != nil && !s.allows(h, key, now, cond):
		return false, nil
	case !fill:
		*g++
	case *g != gen:
		return false, nil
	}
	s.beginWrite()
	defer s.endWrite()
	s.drainNotes()
	s.stats.Sets++
	s.resize(now)
	tag := uint32(h)
	flags := uint8(0)
	if framed {
		flags = flagFramed
	}
	// New keys wait in probation unless too large for it.
	r := mainRing
	if size <= s.rings[probation].Size()/2 {
		r = probation
	}
	if slot, g := s.find(tag, key); slot >= 0 {
		hb := s.bytes(g, HeaderSize)
		valLen, old, oldFlags := readValue(hb)
		slack := int(hb[offSlack])
		cause := Replaced
		if ttl.Expired(old, now) {
			s.stats.Expirations++
			cause = Expired
		} else {
			s.stats.Overwrites++
		}
		s.removed(g, cause)
		if room := valLen + slack; len(value) <= room && room-len(value) <= maxSlack {
			writeFields(hb, len(key), len(value), room-len(value), expiry, oldFlags&^flagFramed|flags)
			copy(s.bytes(g+HeaderSize+len(key), len(value)), value)
			return true, nil
		}
		if s.ringOf(g) == mainRing {
			r = mainRing // an entry that earned main keeps it
		}
		s.kill(slot, g, HeaderSize+len(key)+valLen+slack)
	} else {
		s.stats.Admissions++
	}
	if s.unbalanced() {
		s.rebalance()
	}
	for s.live >= s.maxLive || (r == probation && s.probLive >= s.maxProb) {
		if _, ok := s.rings[probation].Head(); ok {
			s.reclaimHead(probation, now)
		} else {
			s.reclaimHead(mainRing, now)
		}
	}
	s.place(r, tag, key, value, now, expiry, flags)
	return true, nil
}

// place writes a new entry at the tail of ring r and indexes it.
func (s *Shard) place(r int, tag uint32, key, value []byte, now, expiry int64, flags uint8) {
	size := HeaderSize + len(key) + len(value)
	g := s.alloc(r, size, now)
	if r == probation {
		s.probLive++
	}
	b := s.bytes(g, size)
	writeHeader(b, entryHeader{keyLen: len(key), valLen: len(value), expiry: expiry, flags: flags})
	copy(b[HeaderSize:], key)
	copy(b[HeaderSize+len(key):], value)
	s.insert(tag, g)
	s.live++
	s.liveBytes += size
}

// allows shows cond key's live entry, if any, and returns its answer.
func (s *Shard) allows(h uint64, key []byte, now int64, cond func(old []byte, framed, present bool) bool) bool {
	slot, g := s.find(uint32(h), key)
	if slot < 0 {
		return cond(nil, false, false)
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if s.clock.Expired(hd.expiry, now) {
		return cond(nil, false, false)
	}
	return cond(s.bytes(g+HeaderSize+hd.keyLen, hd.valLen), hd.flags&flagFramed != 0, true)
}

// Update calls fn with key's live entry, whose value bytes fn may change in
// place, and sets the expiry stamp fn returns when fn reports true. It
// reports whether fn did. It moves the key's write generation whether or
// not there was an entry: a load in flight must not undo it.
func (s *Shard) Update(h uint64, key []byte, now int64, fn func(value []byte, framed bool, expiry int64) (int64, bool)) bool {
	if !s.lockWrite() {
		return false
	}
	defer s.unlockWrite()
	*s.gen(h)++
	return s.update(h, key, now, fn)
}

func (s *Shard) update(h uint64, key []byte, now int64, fn func(value []byte, framed bool, expiry int64) (int64, bool)) bool {
	g, hd, ok := s.lookup(h, key, now)
	if !ok {
		return false
	}
	start := HeaderSize + hd.keyLen
	if hd.expiry, ok = fn(s.bytes(g+start, hd.valLen), hd.flags&flagFramed != 0, hd.expiry); ok {
		writeHeader(s.bytes(g, HeaderSize), hd)
	}
	return ok
}

// Delete removes key's entry, moves the key's write generation, and
// reports whether a live entry was there. live, when not nil, is shown the
// value of an unexpired entry and says whether it counts as live (a framed
// value may be a tombstone); only live entries count in Stats.Deletes.
func (s *Shard) Delete(h uint64, key []byte, now int64, live func(value []byte, framed bool) bool) bool {
	if !s.lockWrite() {
		return false
	}
	defer s.unlockWrite()
	*s.gen(h)++
	slot, g := s.find(uint32(h), key)
	if slot < 0 {
		return false
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if ttl.Expired(hd.expiry, now) {
		s.removed(g, Expired)
		s.kill(slot, g, hd.size())
		s.stats.Expirations++
		return false
	}
	start := g + HeaderSize + hd.keyLen
	wasLive := live == nil || live(s.bytes(start, hd.valLen), hd.flags&flagFramed != 0)
	s.removed(g, Deleted)
	s.kill(slot, g, hd.size())
	if wasLive {
		s.stats.Deletes++
	}
	return wasLive
}

// Clear drops every entry and the policy's history. Counters are kept.
func (s *Shard) Clear() {
	if !s.lockWrite() {
		return
	}
	defer s.unlockWrite()
	for i := range s.gens {
		s.gens[i]++
	}
	if s.opts.OnRemove != nil {
		for _, v := range s.slots {
			if v != 0 {
				s.removed(slotOffset(v), Cleared)
			}
		}
	}
	s.rings[probation].Reset()
	s.rings[mainRing].Reset()
	clear(s.slots)
	s.sizeProbation()
	s.policy.Reset()
	s.live, s.liveBytes, s.probLive = 0, 0, 0
}
