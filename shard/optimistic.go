package shard

import (
	"sync/atomic"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/ttl"
)

// Reads without the lock. Every change to bytes a reader may look at (a
// record, a slot, the index's place) happens inside a write section,
// which makes the shard's sequence odd at its start and even again at
// its end, so the sequence moves by two with each. Get reads the
// sequence, finds the key and reads the header, reads the sequence again,
// copies the value, and reads it a third time: when the three agree and
// are even, no write section overlapped the reads, so the copy is what
// the shard held at that moment. Otherwise it tries again, and after a
// few tries reads under the lock. Bytes read while a writer works may be
// anything: every offset and length taken from them is bounds-checked
// before use and probing stops after a full lap, so they cannot fault or
// loop, and the validation discards what they produced.
//
// This is sound only for memory outside the Go heap (the race detector
// does not watch it, and the Go memory model says nothing of racing
// plain reads there) that stays mapped while a reader may be inside: the
// root package unmaps its region only once its array of shards is
// unreachable, and every method here mentions its receiver after its
// last touch of the memory (Get's last sequence load), so no call is
// inside then; its Close merely drops the region's pages, after which
// they read as zeros.

// seen is what Get reads (the sequence, where the index lies, the
// memory) and the rest of what Init fixes. It shares no cache line with
// the lock, so readers keep it cached while other cores lock and unlock.
type seen struct {
	// seq is odd while a write section is open and moves by two with
	// each section.
	seq atomic.Uint64
	// slotsAt and slotsLen place the index among words; slotsLen is 0
	// while the shard is closed.
	slotsAt, slotsLen atomic.Int64
	// Set by Init before the shard is shared, fixed afterwards.
	mem          []byte   // all of the shard's memory: rings first, tail at the end
	words        []uint64 // mem as 8-byte words
	hasher       keyhash.Hasher
	maxRecord    int
	copiesFramed func(head byte) bool // Options.CopiesFramed
	frameHead    int                  // Options.FrameHead
	clock        *ttl.Clock           // Options.Clock
}

// readNotes are reads Get served of entries whose CLOCK count was not
// full, noted for the policy while the lock was taken. Writers, and
// readers that win TryLock, hand them to the policy. The notes are lossy
// by design: a reader never waits for them, and under contention some
// are overwritten or dropped (counted in Stats.DroppedReads).
type readNotes struct {
	n atomic.Uint64 // notes taken since the last drain, dropped ones included
	// retries counts Get's tries that a write overlapped (Stats.ReadRetries).
	retries atomic.Uint64
	hash    [noteSlots]atomic.Uint64
	slot    [noteSlots]atomic.Uint64 // the entry's slot value when read
}

const (
	noteSlots = 8
	// getTries is how often Get starts over when writers overlap it
	// before it reads under the lock.
	getTries = 4
)

// Outcome is what Get found.
type Outcome uint8

const (
	// Locked: writers kept overlapping the read, or what Get found needs
	// the lock (an expired entry to reclaim, a closed shard); the caller
	// reads under the lock with Read.
	Locked Outcome = iota
	// Hit: the value is appended. The caller counts the hit: Stats.Hits
	// counts only Read's.
	Hit
	// Miss: no entry for the key. Nothing is counted: a caller that
	// answers with it calls Missed, one that reads again with Read does
	// not.
	Miss
	// Framed: the value, framed by the caller's layer, is appended as the
	// entry held it, less its first Options.FrameHead bytes, which go to
	// Get's head; nothing is counted or told to the policy. A
	// caller that serves it calls Served with the Seen Get returned, and
	// one that does not reads again with Read.
	Framed
)

// MaxFrameHead is the most Options.FrameHead may be.
const MaxFrameHead = 16

// Seen is what Served needs of a framed value Get copied.
type Seen struct {
	h, slot uint64
	meta    uint8
}

// Served tells the policy of a read of a framed value Get returned, as Get
// does itself for a plain one. The caller counts the hit.
func (s *Shard) Served(seen Seen) {
	if seen.meta&evict.MetaBits != evict.MetaBits {
		s.noteRead(seen.h, seen.slot)
	}
}

// probeResult is how a probe over bytes that may be torn ended.
type probeResult uint8

const (
	found probeResult = iota
	absent
	torn // a full lap, or a place out of bounds: only torn bytes do that
)

// Get appends key's value to dst without taking the lock when it can;
// see Outcome. h is s.Hash(key) and now the clock reading. A framed
// value's first Options.FrameHead bytes go to head, not to dst: a dst
// with room for the value alone takes it without growing.
func (s *Shard) Get(dst []byte, h uint64, key []byte, now int64, head *[MaxFrameHead]byte) ([]byte, Outcome, Seen) {
	tag := uint32(h)
	for try := range getTries {
		if try > 0 {
			s.notes.retries.Add(1)
		}
		q := s.seq.Load()
		if q&1 != 0 {
			continue
		}
		g, res := s.probe(tag, key)
		if res != found {
			readFence()
			switch {
			case s.seq.Load() != q:
				continue
			case res == absent:
				return dst, Miss, Seen{}
			}
			return dst, Locked, Seen{} // a closed shard: torn without a writer
		}
		valLen, expiry, flags := readValue(s.mem[g : g+HeaderSize])
		start := g + HeaderSize + len(key)
		end := start + valLen
		readFence()
		switch {
		case s.seq.Load() != q:
			continue
		case end > len(s.mem) || flags&flagDead != 0 || s.clock.Expired(expiry, now):
			// The header was whole: this record needs the lock.
			return dst, Locked, Seen{}
		case flags&flagFramed != 0 && (end-start < s.frameHead || s.copiesFramed != nil && !s.copiesFramed(s.mem[start])):
			// The bytes may be torn: then the lock reads them again.
			return dst, Locked, Seen{}
		}
		if flags&flagFramed != 0 {
			start += copy(head[:s.frameHead], s.mem[start:])
		}
		out := append(dst, s.mem[start:end]...)
		readFence()
		if s.seq.Load() != q {
			continue
		}
		seen := Seen{h: h, slot: slotValue(tag, g), meta: flags}
		if flags&flagFramed != 0 {
			return out, Framed, seen
		}
		s.Served(seen)
		return out, Hit, Seen{}
	}
	s.notes.retries.Add(1)
	return dst, Locked, Seen{}
}

// probe finds key's record as the index stands, or seems to stand while
// writers change it.
func (s *Shard) probe(tag uint32, key []byte) (int, probeResult) {
	at, n := int(s.slotsAt.Load()), int(s.slotsLen.Load())
	if at < 0 || n <= 0 || at > len(s.words)-n {
		return 0, torn
	}
	slots, mem := s.words[at:at+n], s.mem
	i := int(uint64(tag) * uint64(n) >> 32)
	for range n {
		v := slots[i]
		if v == 0 {
			return 0, absent
		}
		if uint32(v>>32) == tag {
			g := slotOffset(v)
			if end := g + HeaderSize + len(key); g >= 0 && end <= len(mem) &&
				keyLenOf(mem[g:]) == len(key) && string(mem[g+HeaderSize:end]) == string(key) {
				return g, found
			}
		}
		if i++; i == n {
			i = 0
		}
	}
	return 0, torn
}

// beginWrite and endWrite bracket every change to bytes Get may read;
// the lock is held. A section inside another is not needed and not
// allowed: the caller of code that may run either way uses writeSection.
func (s *Shard) beginWrite() { s.seq.Add(1) }
func (s *Shard) endWrite()   { s.seq.Add(1) }

// lockWrite takes the lock and opens a write section, for a change of the
// shard; it reports false, with the lock released, when the shard is
// closed. unlockWrite closes the section and releases the lock.
func (s *Shard) lockWrite() bool {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return false
	}
	s.beginWrite()
	return true
}

func (s *Shard) unlockWrite() {
	s.endWrite()
	s.unlock()
}

// inWrite reports whether a write section is open.
func (s *Shard) inWrite() bool { return s.seq.Load()&1 != 0 }

// noteRead tells the policy of a read of the entry with hash h whose slot
// value was slot: at once if the lock is free, or through the notes.
func (s *Shard) noteRead(h, slot uint64) {
	if s.mu.TryLock() {
		s.drainNotes()
		s.applyRead(h, slot)
		s.mu.Unlock()
		return
	}
	if i := s.notes.n.Add(1) - 1; i < noteSlots {
		s.notes.hash[i].Store(h)
		s.notes.slot[i].Store(slot)
	}
}

// drainNotes hands the noted reads to the policy; the lock is held. A
// note being written while it runs is taken now or by the next drain,
// or lost.
func (s *Shard) drainNotes() {
	if s.notes.n.Load() == 0 {
		return
	}
	n := s.notes.n.Swap(0)
	for i := range min(n, noteSlots) {
		if slot := s.notes.slot[i].Swap(0); slot != 0 {
			s.applyRead(s.notes.hash[i].Load(), slot)
		}
	}
	if n > noteSlots {
		s.stats.DroppedReads += n - noteSlots
	}
}

// applyRead is what Read does for a hit, for one Get served: the entry's
// CLOCK count goes up if it is still where it was read, and the policy
// counts the read. The lock is held.
func (s *Shard) applyRead(h, slot uint64) {
	if !s.open {
		return
	}
	tag := uint32(slot >> 32)
	for i := s.home(tag); s.slots[i] != 0; i = s.next(i) {
		if s.slots[i] == slot {
			b := s.bytes(slotOffset(slot), HeaderSize)
			setMeta(b, s.policy.Hit(b[offFlags]))
			break
		}
	}
	s.policyRead(h, true)
}

// Missed counts a miss Get found, for a caller that answers with it, and
// tells the policy, as Read does for a miss.
func (s *Shard) Missed(h uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return
	}
	s.drainNotes()
	s.stats.Misses++
	s.policyRead(h, false)
}
