package shard

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
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
	// A single entry may take at most a quarter of the main ring, so that
	// one large write cannot wipe out the shard.
	maxRecordShare = 4
	// probationShare sets the probation ring under LRU-K: 1/probationShare
	// of the ring bytes, and of the entries. W-TinyLFU's authors found a
	// window of about 1% best for most workloads; 2% measured a little
	// better on recency-heavy traces at no cost on the others
	// (docs/admission.md). Entries larger than half the probation ring go
	// straight to main.
	probationShare = 50
	// Under LRU-K the climber moves probation's size in steps of
	// 1/resizeSteps of the ring bytes, between minProbShare and
	// maxProbShare of them.
	resizeSteps                = 64
	minProbShare, maxProbShare = 100, 2
	// lrukBytesPerEntry is the policy memory LRU-K takes per expected entry
	// (sketch and history), for the split between index and ring.
	lrukBytesPerEntry = 7 // 4 sketch + 2.6 history, rounded up
)

// Ring indexes: new entries wait in probation under LRU-K; main holds the
// rest (and everything under FIFO, where probation is empty).
const (
	probation = 0
	mainRing  = 1
)

// MinSize is the least memory Init accepts for one shard.
const MinSize = 1024

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
	// ClimbPeriod is the number of reads between the hill climber's
	// decisions on probation's size; zero or less means ten times the
	// entries the shard can index. Small values are for tests and fuzzing: they keep
	// the boundary between the rings moving.
	ClimbPeriod int
}

// Stats are a shard's counters. Counters only grow; Entries and BytesUsed
// describe the present.
type Stats struct {
	Hits, Misses, Sets, Deletes, Overwrites, Evictions, Expirations uint64
	// Admissions counts new keys stored; Promotions, entries moved from
	// probation to main; Rejections, probation entries dropped because
	// main's victim was worth more or they had not earned main (these are
	// counted in Evictions too).
	Admissions, Promotions, Rejections uint64
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
	s.Entries += o.Entries
	s.BytesUsed += o.BytesUsed
}

// Shard is one partition of the cache. Its methods are safe for concurrent
// use. The zero value is closed; call Init.
type Shard struct {
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
	maxRecord         int
	policy            *evict.Policy
	stats             Stats
	// ringMem is the memory of both rings; probation takes its first
	// split() bytes and main the rest. Under LRU-K the climber sets a
	// target size for probation, and resize moves the boundary toward it
	// whenever both rings allow.
	ringMem    []byte
	climber    evict.WindowClimber
	targetProb int
	resizeStep int
	// shrinkWaits counts writes since probation last shrank while a
	// shrink was due.
	shrinkWaits int
	hasher      keyhash.Hasher
}

// genStripes is the number of write generations per shard: enough that
// writes of other keys rarely discard a load (a stripe is 1/2,048 of a
// 256-shard cache), few enough to sit in the lock's cache line.
const genStripes = 8

func (s *Shard) gen(h uint64) *uint32 { return &s.gens[h>>32%genStripes] }

// Hash returns the shard's hash of key.
func (s *Shard) Hash(key []byte) uint64 { return s.hasher.Sum(key) }

// Layout says how Init divides a shard's memory.
type Layout struct {
	Slots, SketchWords, HistoryWords, HistoryHashes int
	Probation, Main                                 int // ring bytes
	Entries                                         int // expected at AvgPayload
}

// PlanLayout returns how Init divides size bytes for o: enough index slots
// for rings full of AvgPayload entries at the maximum load, the policy's
// memory for that many entries, and the rest for the rings.
func PlanLayout(size int, o Options) Layout {
	perEntry := HeaderSize + max(o.AvgPayload, 1) + slotSize*loadDen/loadNum
	if o.Policy == evict.LRUK {
		perEntry += lrukBytesPerEntry
	}
	var l Layout
	l.Entries = size / perEntry
	l.Slots = max(l.Entries*loadDen/loadNum, minSlots)
	if o.Policy == evict.LRUK {
		l.SketchWords, l.HistoryWords, l.HistoryHashes = evict.LRUKMemory(l.Entries)
		// The sketch's floor is for shards of some size; in tiny ones it
		// may take an eighth of the memory at most.
		l.SketchWords = min(l.SketchWords, max(size/64, 8))
	}
	ring := int(min(int64(size-slotSize*(l.Slots+l.SketchWords+l.HistoryWords)), maxRingSize))
	if o.Policy == evict.LRUK {
		l.Probation = ring / probationShare
	}
	l.Main = ring - l.Probation
	return l
}

// Init makes s an empty shard over mem, which it uses whole for its index,
// policy memory and rings (see PlanLayout). mem must be 8-byte aligned and
// zeroed; the shard never allocates after Init. Init returns ErrTooSmall
// when mem is shorter than MinSize.
func (s *Shard) Init(mem []byte, o Options) error {
	if len(mem) < MinSize {
		return ErrTooSmall
	}
	l := PlanLayout(len(mem), o)
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), len(mem)/slotSize)
	take := func(n int) []uint64 {
		w := words[:n:n]
		words = words[n:]
		return w
	}
	slots := take(l.Slots)
	policy := evict.NewFIFO()
	if o.Policy == evict.LRUK {
		var err error
		sketch := take(l.SketchWords)
		if policy, err = evict.NewLRUK(o.K, l.Entries, sketch, take(l.HistoryWords), l.HistoryHashes); err != nil {
			return err
		}
	}
	rings := mem[len(mem)-len(words)*slotSize:]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slots = slots
	total := l.Probation + l.Main
	s.ringMem = rings[:total:total]
	s.rings[probation] = arena.NewRing(s.ringMem[:l.Probation])
	s.rings[mainRing] = arena.NewRing(s.ringMem[l.Probation:])
	s.maxLive = l.Slots * loadNum / loadDen
	s.targetProb = l.Probation
	s.resizeStep = max(total/resizeSteps, 1)
	period := o.ClimbPeriod
	if period <= 0 {
		period = 10 * s.maxLive
	}
	s.climber = evict.NewWindowClimber(period, total)
	s.sizeProbation()
	s.maxRecord = min(l.Main/maxRecordShare, HeaderSize+MaxValueLen)
	s.policy = policy
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open = false
	s.slots = nil
	s.rings = [2]arena.Ring{}
	s.policy = nil
	s.live, s.liveBytes = 0, 0
}

// sizeProbation sets probation's entry limit in proportion to its bytes.
func (s *Shard) sizeProbation() { s.maxProb = s.probEntries(s.split()) }

// probEntries is probation's share of the index when it has size bytes.
func (s *Shard) probEntries(size int) int {
	return max(s.maxLive*size/max(len(s.ringMem), 1), 1)
}

// resize moves the boundary between probation and main one step toward
// the climber's target, if the rings are in states that allow it.
//
// Probation grows into main's start. When main is not wrapped its oldest
// entries lie there: those in the way are reclaimed as eviction would
// (the CLOCK spares hot ones; if that wraps main, growth waits). When it
// is wrapped, the entries there are the oldest of its wrapped part, and
// probation adopts them in place as its newest (Caffeine, growing its
// window, likewise moves main's oldest entries into it): they face
// admission again when probation settles them, and hot ones come back.
//
// Probation shrinks at its end, and main takes the bytes at its start
// (behind a dead filler record when main is wrapped), or, when both are
// wrapped, the oldest records in them too (handOverEnd).
func (s *Shard) resize(now int64) {
	cur := s.split()
	m, p := &s.rings[mainRing], &s.rings[probation]
	switch {
	case s.targetProb > cur:
		step := min(s.targetProb-cur, s.resizeStep)
		if !m.CanGrowStart() {
			if !s.adoptMainStart(step) {
				return
			}
			break
		}
		for m.CanGrowStart() {
			off, ok := m.Head()
			if !ok || off >= step {
				break
			}
			s.reclaimMain(now, 0, false)
		}
		if m.ShrinkStart(step) {
			p.GrowEnd(step)
		}
	case s.targetProb < cur:
		// A filler needs a header's room; the target need not be exact.
		step := min(cur-s.targetProb, s.resizeStep)
		if step < HeaderSize {
			return
		}
		// freed: probation gave up the bytes empty, and main takes them
		// as free space (or, wrapped, behind a filler).
		freed := p.ShrinkEnd(step)
		if !freed && !s.handOverEnd(step) {
			// Records lie in the bytes to give up and main cannot take
			// them. In a wrapped probation they are its oldest: once the
			// head reaches into those bytes (only records in the way
			// remain before the end), settle them, as a smaller window
			// would have. Settling more would empty the window each time
			// it shrinks (OLTP lost 1 to 2 points that way), so wait for
			// that, but no longer than a probation's worth of writes.
			// While the newest records sit there, wait.
			off, ok := p.Head()
			if !ok || p.CanGrowStart() {
				return
			}
			headEnd := off + recordSize(p.Bytes(off, HeaderSize))
			if s.shrinkWaits++; headEnd <= cur-step && s.shrinkWaits <= s.maxProb {
				return
			}
			for !p.CanGrowStart() {
				s.reclaimHead(probation, now)
			}
			if freed = p.ShrinkEnd(step); !freed {
				return
			}
		}
		if freed && m.GrowStart(s.ringMem[cur-step:], step) {
			s.writeFillers(s.ringMem[cur-step : cur])
		}
		s.shrinkWaits = 0
	default:
		return
	}
	s.sizeProbation()
	// A shrunk probation may hold more entries than its new share: settle
	// the oldest, as a smaller window would have.
	for s.probLive > s.maxProb {
		s.reclaimHead(probation, now)
	}
}

// adoptMainStart moves the boundary at least step bytes into a wrapped
// main, whose records there become probation's newest, in place. It
// reports false, changing nothing, when main's wrapped part is shorter
// than step, when probation cannot take records at its end now, or when
// the entries there would overfill probation's share of the index.
func (s *Shard) adoptMainStart(step int) bool {
	m, p := &s.rings[mainRing], &s.rings[probation]
	at, gap, ok := p.EndGap()
	if !ok || (gap > 0 && gap < HeaderSize) {
		return false
	}
	// Adopt no more entries than probation's share of the index allows at
	// its new size: settling the excess at once would empty the window
	// where the index, not the bytes, bounds the shard.
	n, adopted := 0, 0
	for n < step && n < m.Tail() {
		hd := readHeader(m.Bytes(n, HeaderSize))
		live := 0
		if hd.flags&flagDead == 0 {
			live = 1
		}
		if s.probLive+adopted+live > s.probEntries(s.split()+n+hd.size()) {
			break
		}
		adopted += live
		n += hd.size()
	}
	if n < step {
		return false
	}
	m.DropStart(n)
	p.AdoptEnd(n)
	s.writeFillers(s.ringMem[at : at+gap])
	s.probLive += adopted
	return true
}

// handOverEnd shrinks a wrapped probation by at least step bytes while
// main is wrapped too, handing main the records in the bytes it gives up,
// in place: probation's oldest, where main's head reaches them right after
// its current lap, so they face its CLOCK soon, read ones are spared and
// the rest go. Caffeine likewise moves its window's oldest entries into
// main's probation segment when the window shrinks. Settling them instead
// rejected most at once, and main could use their bytes only after its
// next lap (behind a filler), so the shard held fewer entries than it
// could (TestProbationShrinkKeepsTheShardFull). handOverEnd reports false,
// changing nothing, when the rings are not both wrapped, when the records
// to hand over would take probation under its floor, or when the padding
// at probation's end cannot be covered.
func (s *Shard) handOverEnd(step int) bool {
	m, p := &s.rings[mainRing], &s.rings[probation]
	head, ok := p.Head()
	if !ok || p.CanGrowStart() || m.CanGrowStart() {
		return false
	}
	cur, padAt := s.split(), p.Size()-p.Padding()
	// The records from x on reach into the last step bytes.
	x := head
	for x < padAt {
		n := recordSize(p.Bytes(x, HeaderSize))
		if x+n > cur-step {
			break
		}
		x += n
	}
	if x == padAt || x < len(s.ringMem)/minProbShare {
		// Only padding lies there (ShrinkEnd failed on the rest), or the
		// records reaching into the bytes would take probation under its
		// floor.
		return false
	}
	live, last := 0, x
	for off := x; off < padAt; {
		hd := readHeader(p.Bytes(off, HeaderSize))
		if hd.flags&flagDead == 0 {
			live++
		}
		last, off = off, off+hd.size()
	}
	// Padding too short for a filler goes to the last record as slack.
	pad := cur - padAt
	lastHd := readHeader(p.Bytes(last, HeaderSize))
	fold := pad > 0 && pad < HeaderSize
	if fold && lastHd.slack+pad > maxSlack {
		return false
	}
	if !p.DropEnd(cur - x) {
		return false
	}
	m.GrowStart(s.ringMem[x:], cur-x)
	switch {
	case fold:
		lastHd.slack += pad
		writeHeader(s.ringMem[last:last+HeaderSize], lastHd)
		if lastHd.flags&flagDead == 0 {
			s.liveBytes += pad
		}
	case pad > 0:
		s.writeFillers(s.ringMem[padAt:cur])
	}
	s.probLive -= live
	s.stats.Promotions += uint64(live)
	return true
}

// writeFillers covers b, which a ring counts as used, with dead records
// no larger than any record Set accepts. b is empty or at least a header
// long.
func (s *Shard) writeFillers(b []byte) {
	for len(b) > 0 {
		n := min(len(b), s.maxRecord)
		if rest := len(b) - n; rest > 0 && rest < HeaderSize {
			n -= HeaderSize - rest
		}
		writeHeader(b[:HeaderSize], entryHeader{valLen: n - HeaderSize, flags: flagDead})
		b = b[n:]
	}
}

// climb feeds a read to the window climber and moves the target.
func (s *Shard) climb(hit bool) {
	if s.policy.Kind() != evict.LRUK {
		return
	}
	if d := s.climber.Sample(hit); d != 0 {
		lo, hi := len(s.ringMem)/minProbShare, len(s.ringMem)/maxProbShare
		s.targetProb = min(max(s.targetProb+d, lo), hi)
	}
}

// split is where main's offsets start in the offsets slots store:
// probation's records are at [0, split), main's at split and above.
func (s *Shard) split() int { return s.rings[probation].Size() }

// bytes returns n bytes of the record at global offset g.
func (s *Shard) bytes(g, n int) []byte {
	if g < s.split() {
		return s.rings[probation].Bytes(g, n)
	}
	return s.rings[mainRing].Bytes(g-s.split(), n)
}

func (s *Shard) ringOf(g int) int {
	if g < s.split() {
		return probation
	}
	return mainRing
}

func (s *Shard) base(r int) int {
	if r == probation {
		return 0
	}
	return s.split()
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
	if len(key) > MaxKeyLen {
		return false, ErrKeyTooLarge
	}
	size := HeaderSize + len(key) + len(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch g := s.gen(h); {
	case !s.open:
		return false, ErrClosed
	case size > s.maxRecord:
		return false, ErrEntryTooLarge
	case !fill:
		*g++
	case *g != gen:
		return false, nil
	}
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
		hd := readHeader(s.bytes(g, HeaderSize))
		if ttl.Expired(hd.expiry, now) {
			s.stats.Expirations++
		} else {
			s.stats.Overwrites++
		}
		if room := hd.valLen + hd.slack; len(value) <= room && room-len(value) <= maxSlack {
			hd.valLen, hd.slack, hd.expiry = len(value), room-len(value), expiry
			hd.flags = hd.flags&^flagFramed | flags
			b := s.bytes(g, hd.size())
			writeHeader(b, hd)
			copy(b[HeaderSize+hd.keyLen:], value)
			return true, nil
		}
		if s.ringOf(g) == mainRing {
			r = mainRing // an entry that earned main keeps it
		}
		s.kill(slot, g, hd.size())
	} else {
		s.stats.Admissions++
	}
	for s.live >= s.maxLive || (r == probation && s.probLive >= s.maxProb) {
		if _, ok := s.rings[probation].Head(); ok {
			s.reclaimHead(probation, now)
		} else {
			s.reclaimHead(mainRing, now)
		}
	}
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
	return true, nil
}

// Read is a counted read: it finds key's live entry and calls fn with its
// value under the shard lock; fn reports whether it served the value (a
// framed value may hold something that is no answer to a plain read, such
// as a tombstone). A served read counts as a hit and tells the policy; a
// missing key or an unserved value counts as a miss. The slice is valid
// only inside fn, and fn must not call back into the shard. Read reports
// whether fn served, and the key's write generation as it stood: a load
// that follows a miss passes it to Fill.
func (s *Shard) Read(h uint64, key []byte, now int64, fn func(value []byte, framed bool) bool) (bool, uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return false, 0
	}
	gen := *s.gen(h)
	g, hd, ok := s.lookup(h, key, now)
	if ok {
		b := s.bytes(g, hd.size())
		start := HeaderSize + hd.keyLen
		if ok = fn(b[start:start+hd.valLen], hd.flags&flagFramed != 0); ok {
			b[11] = b[11]&^evict.MetaBits | s.policy.Hit(hd.flags)&evict.MetaBits
		}
	}
	s.climb(ok)
	switch {
	case !ok:
		s.stats.Misses++
		s.policy.Read(h, false)
	case hd.flags&evict.MetaBits == evict.MetaBits:
		// Read three times since the ring last passed it: the entry is
		// as safe as the CLOCK can make it, and more counts in the sketch
		// would only cost a cache line on the hottest path.
		s.stats.Hits++
	default:
		s.stats.Hits++
		s.policy.Read(h, true)
	}
	return ok, gen
}

// Peek is Read without counting or telling the policy; fn also gets the
// entry's expiry stamp.
func (s *Shard) Peek(h uint64, key []byte, now int64, fn func(value []byte, framed bool, expiry int64) bool) bool {
	served := false
	s.mu.Lock()
	defer s.mu.Unlock()
	s.update(h, key, now, func(v []byte, framed bool, expiry int64) (int64, bool) {
		served = fn(v, framed, expiry)
		return expiry, false
	})
	return served
}

// Update calls fn with key's live entry, whose value bytes fn may change in
// place, and sets the expiry stamp fn returns when fn reports true. It
// reports whether fn did. It moves the key's write generation whether or
// not there was an entry: a load in flight must not undo it.
func (s *Shard) Update(h uint64, key []byte, now int64, fn func(value []byte, framed bool, expiry int64) (int64, bool)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open {
		*s.gen(h)++
	}
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

// Reads returns the policy's estimate of the key's recent reads (0 under
// FIFO).
func (s *Shard) Reads(h uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return 0
	}
	return s.policy.Reads(h)
}

// Delete removes key's entry, moves the key's write generation, and
// reports whether a live entry was there. live, when not nil, is shown the
// value of an unexpired entry and says whether it counts as live (a framed
// value may be a tombstone); only live entries count in Stats.Deletes.
func (s *Shard) Delete(h uint64, key []byte, now int64, live func(value []byte, framed bool) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return false
	}
	*s.gen(h)++
	slot, g := s.find(uint32(h), key)
	if slot < 0 {
		return false
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if ttl.Expired(hd.expiry, now) {
		s.kill(slot, g, hd.size())
		s.stats.Expirations++
		return false
	}
	start := g + HeaderSize + hd.keyLen
	wasLive := live == nil || live(s.bytes(start, hd.valLen), hd.flags&flagFramed != 0)
	s.kill(slot, g, hd.size())
	if wasLive {
		s.stats.Deletes++
	}
	return wasLive
}

// lookup finds key's entry; one found expired is reclaimed on the spot and
// reported as absent.
func (s *Shard) lookup(h uint64, key []byte, now int64) (int, entryHeader, bool) {
	if !s.open {
		return 0, entryHeader{}, false
	}
	slot, g := s.find(uint32(h), key)
	if slot < 0 {
		return 0, entryHeader{}, false
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if ttl.Expired(hd.expiry, now) {
		s.kill(slot, g, hd.size())
		s.stats.Expirations++
		return 0, entryHeader{}, false
	}
	return g, hd, true
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

// Clear drops every entry and the policy's history. Counters are kept.
func (s *Shard) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return
	}
	for i := range s.gens {
		s.gens[i]++
	}
	s.rings[probation].Reset()
	s.rings[mainRing].Reset()
	clear(s.slots)
	s.sizeProbation()
	s.policy.Reset()
	s.live, s.liveBytes, s.probLive = 0, 0, 0
}

// alloc takes size bytes at the tail of ring r, reclaiming its oldest
// entries until they fit, and returns the global offset.
func (s *Shard) alloc(r, size int, now int64) int {
	for {
		if off, ok := s.rings[r].Alloc(size); ok {
			return s.base(r) + off
		}
		s.reclaimHead(r, now)
	}
}

// reclaimHead deals with the entry at the head of ring r: dead and expired
// entries go; a probation entry is promoted or rejected (settle); a main
// entry goes unless the policy spares it for another lap.
func (s *Shard) reclaimHead(r int, now int64) {
	if r == mainRing {
		s.reclaimMain(now, 0, false)
		return
	}
	ring := &s.rings[probation]
	off, _ := ring.Head()
	hd := readHeader(ring.Bytes(off, HeaderSize))
	size := hd.size()
	if hd.flags&flagDead != 0 {
		ring.Reclaim(size)
		return
	}
	h := s.hasher.Sum(ring.Bytes(off+HeaderSize, hd.keyLen))
	if ttl.Expired(hd.expiry, now) {
		s.stats.Expirations++
		s.drop(probation, s.slotAt(uint32(h), off), size)
		return
	}
	s.settle(off, h, size, now)
}

// reclaimMain deals with the entry at main's head as reclaimHead says.
// With a challenger (the hash of a probation candidate), a live entry about
// to be evicted is evicted only if the policy admits the challenger over
// it; otherwise reclaimMain leaves it and reports the refusal.
func (s *Shard) reclaimMain(now int64, challenger uint64, challenged bool) (refused bool) {
	ring := &s.rings[mainRing]
	off, _ := ring.Head()
	g := s.split() + off
	hd := readHeader(ring.Bytes(off, HeaderSize))
	size := hd.size()
	if hd.flags&flagDead != 0 {
		ring.Reclaim(size)
		return false
	}
	h := s.hasher.Sum(ring.Bytes(off+HeaderSize, hd.keyLen))
	slot := s.slotAt(uint32(h), g)
	switch keep, meta := s.policy.Spare(hd.flags); {
	case ttl.Expired(hd.expiry, now):
		s.stats.Expirations++
	case keep:
		ring.Bytes(off, HeaderSize)[11] = hd.flags&^evict.MetaBits | meta&evict.MetaBits
		s.slots[slot] = slotValue(uint32(h), s.split()+ring.Recycle(size))
		return false
	case challenged && !s.policy.Admit(challenger, h):
		return true
	default:
		s.stats.Evictions++
	}
	s.drop(mainRing, slot, size)
	return false
}

// settle decides the fate of the probation head, at offset g: it moves to
// main while main has room; otherwise it needs its K-th recent read and
// more recent reads than main's victim, or it is rejected.
func (s *Shard) settle(g int, h uint64, size int, now int64) {
	m := &s.rings[mainRing]
	room := func() bool { return s.live < s.maxLive && m.Fits(size) }
	if !room() && !s.policy.Eligible(h) {
		s.reject(g, h, size)
		return
	}
	for !room() {
		if _, ok := m.Head(); !ok {
			break // main is empty: the index is full of probation entries
		}
		if s.reclaimMain(now, h, true) {
			s.reject(g, h, size)
			return
		}
	}
	off := s.alloc(mainRing, size, now)
	copy(s.bytes(off, size), s.rings[probation].Bytes(g, size))
	s.rings[probation].Reclaim(size)
	s.probLive--
	s.slots[s.slotAt(uint32(h), g)] = slotValue(uint32(h), off)
	s.stats.Promotions++
}

func (s *Shard) reject(g int, h uint64, size int) {
	s.stats.Rejections++
	s.stats.Evictions++
	s.drop(probation, s.slotAt(uint32(h), g), size)
}

// drop removes the live entry at the head of ring r, whose slot is given.
func (s *Shard) drop(r, slot, size int) {
	s.removeSlot(slot)
	s.rings[r].Reclaim(size)
	s.forget(r, size)
}

// kill marks the entry at global offset g dead and drops its slot; its
// ring reclaims the bytes when the head reaches it.
func (s *Shard) kill(slot, g, size int) {
	s.bytes(g, HeaderSize)[11] |= flagDead
	s.removeSlot(slot)
	s.forget(s.ringOf(g), size)
}

// forget takes a live entry of ring r out of the counts.
func (s *Shard) forget(r, size int) {
	s.live--
	s.liveBytes -= size
	if r == probation {
		s.probLive--
	}
}

func slotValue(tag uint32, g int) uint64 { return uint64(tag)<<32 | uint64(g+1) }

func slotOffset(v uint64) int { return int(uint32(v)) - 1 }

func (s *Shard) home(tag uint32) int { return int(uint64(tag) * uint64(len(s.slots)) >> 32) }

func (s *Shard) next(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// find returns the slot and global offset of key's entry, or slot -1.
func (s *Shard) find(tag uint32, key []byte) (int, int) {
	for i := s.home(tag); ; i = s.next(i) {
		v := s.slots[i]
		if v == 0 {
			return -1, 0
		}
		if uint32(v>>32) != tag {
			continue
		}
		g := slotOffset(v)
		hd := s.bytes(g, HeaderSize)
		if int(hd[0])|int(hd[1])<<8 == len(key) && string(s.bytes(g+HeaderSize, len(key))) == string(key) {
			return i, g
		}
	}
}

// slotAt returns the slot pointing at the live entry at global offset g,
// whose key hashes to tag. The invariants guarantee it exists.
func (s *Shard) slotAt(tag uint32, g int) int {
	want := slotValue(tag, g)
	i := s.home(tag)
	for n := 0; s.slots[i] != want; n++ {
		if n > len(s.slots) {
			panic(fmt.Sprintf("slotAt: no slot for tag %x at %d", tag, g))
		}
		i = s.next(i)
	}
	return i
}

func (s *Shard) insert(tag uint32, g int) {
	i := s.home(tag)
	for s.slots[i] != 0 {
		i = s.next(i)
	}
	s.slots[i] = slotValue(tag, g)
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
