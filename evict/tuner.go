package evict

import "fmt"

// Tuner chooses LRU-K's K and the probation window's share of a shard by
// miniature simulation (Waldspurger et al., "Cache Modeling and
// Optimization using Miniature Simulations", USENIX ATC 2017): it runs a
// small model of the shard for each pair of K and window it may choose,
// all on the same sample of the keys read, and every period it sets the
// pair whose model hit most. Because the models see the same requests, a
// workload's phases do not read as the effect of a setting, which is
// what misled a hill climber comparing one period with the next
// (docs/experiments/remaining-gap.md); and a short trace gets a choice
// within a few thousand reads.
//
// A model holds tunerEntries keys (fewer in a small shard) of the keys
// whose sampling hash falls in the first 1/rate of its range, rate being
// the shard's entries over the model's: it is the shard scaled down. It
// is the shard's policy at that scale, by entries: a FIFO window, and a
// CLOCK main with 2-bit counts, which a candidate leaving the window
// enters while it has room, and otherwise with K recent reads and more
// than main's victim, both read from the shard's own history and sketch.
// Its keys are the low 32 bits of the key hashes, which is what the
// policy counts by (Policy.Read).
//
// A Tuner lives in memory its owner provides (TunerWords) and is not safe
// for concurrent use: a shard calls it under its lock.
type Tuner struct {
	keys   []uint64 // the models' keys, two to a word, m a model
	models [tunerModels]model
	n      int    // models in use; 0 turns the tuner off
	m      int    // keys a model has room for
	size   int    // keys a model holds: the shard's entries over rate
	rate   uint64 // one key in rate is simulated
	period int    // simulated reads between choices
	reads  int    // simulated reads since the last choice
	chosen int    // the model whose settings are in force
}

// model is one pair of settings and the state of its scaled-down shard:
// its window is keys [0, win) of its share of Tuner.keys, a ring whose
// oldest key is at winHead; its main is keys [win, size), a ring whose
// hand is at hand.
type model struct {
	k, share        int // K, and the window in percent of the shard
	win             int // window keys
	winLen, winHead int
	mainLen, hand   int
	counts          uint64 // main's 2-bit CLOCK counts, key i at bits 2i
	hits            float64
}

// MaxK is the most reads a key's history can show (its sketch counters
// saturate at 15, and the Bloom history adds one): a larger K would shut
// main to every candidate.
const MaxK = 16

const (
	// tunerEntries is the most keys a model holds. Models of 16 keys
	// chose as well as full-size ones on the suite's traces (and better on
	// the Zipf streams, which they leave alone more); at 8 they lost the
	// recency-driven traces (docs/experiments/remaining-gap.md).
	tunerEntries = 16
	// minModelEntries is the fewest keys a model can tell settings
	// apart with; a shard too small to give each model that many
	// keeps its starting settings.
	minModelEntries = 4
	// The choices: six values of K about the starting one (1 to 6 from
	// the default 3) and three windows.
	tunerKs     = 6
	tunerModels = tunerKs * len(tunerShares)
	// startModel is the model of the starting settings: the third K of
	// the six is the starting one, and the first window 2%.
	startModel   = 2 * len(tunerShares)
	tunerDecay   = 0.8
	switchMargin = 0.05
	samplePeriod = 5000 // reads of the shard between choices
	minPeriod    = 200  // simulated reads between choices, at least
)

// StartShare is the window a shard starts with, in percent of its ring
// bytes and of its index: near the 1% W-TinyLFU's authors recommend, and
// three records at least in a small shard (docs/admission.md).
const StartShare = 2

// tunerShares are the windows a model may have, in percent of the shard:
// 2% suits frequency-driven workloads, a quarter recency-driven ones, and
// 8% those between.
var tunerShares = [...]int{StartShare, 8, 25}

// TunerWords returns the memory a Tuner asks for a shard of entries keys,
// in 64-bit words: tunerModels models of up to tunerEntries 4-byte keys.
func TunerWords(entries int) int {
	return (tunerModels*min(max(entries, 1), tunerEntries) + 1) / 2
}

// NewTuner returns a tuner over words for a shard of entries keys that
// starts at K = k (at least 1) and the 2% window. period > 0 sets the
// simulated reads between choices; 0 picks one choice per samplePeriod
// reads of the shard. With too little memory for models of
// minModelEntries keys it is off: Sample never chooses.
func NewTuner(words []uint64, entries, k, period int) Tuner {
	entries, k = max(entries, 1), max(k, 1)
	t := Tuner{keys: words, m: min(entries, tunerEntries, 2*len(words)/tunerModels)}
	if t.m < minModelEntries {
		return Tuner{}
	}
	t.n, t.chosen = tunerModels, startModel
	t.rate = uint64((entries + t.m - 1) / t.m)
	t.size = entries / int(t.rate)
	t.period = period
	if period <= 0 {
		t.period = max(samplePeriod/int(t.rate), minPeriod)
	}
	for i := range tunerKs {
		// Six values over [1, 2k], the third k: 1 to 6 from 3. At 1
		// any candidate read since it left the history may duel.
		kv := min(max((k*(i+1)+1)/3, 1), MaxK)
		if i == 0 {
			kv = 1
		}
		for j, share := range tunerShares {
			md := &t.models[i*len(tunerShares)+j]
			md.k, md.share = kv, share
			md.win = max(t.size*share/100, 1)
			if t.rate == 1 {
				// Unscaled, as the shard's own window keeps three
				// records at least.
				md.win = max(md.win, min(3, t.size/2))
			}
		}
	}
	return t
}

// K returns the K in force: the starting one until a choice. It is 0
// for a tuner that is off, which never chooses.
func (t *Tuner) K() int { return t.models[t.chosen].k }

// Share returns the window in force, in percent of the shard: StartShare
// until a choice, 0 for a tuner that is off.
func (t *Tuner) Share() int { return t.models[t.chosen].share }

// Sample feeds a read of the key with hash h to the models, if the key
// is in the sample, before p counts it, and reports whether a choice was
// made: K and Share may then have changed.
func (t *Tuner) Sample(h uint64, p *Policy) bool {
	key := uint32(h)
	// The sampling hash is a multiplicative one of the key, unrelated to
	// the sketch's mix, so that the sampled keys do not share counters.
	if t.n == 0 || uint64(key*0x9E3779B9)*t.rate>>32 != 0 {
		return false
	}
	for i := range t.n {
		t.access(i, key, p)
	}
	if t.reads++; t.reads < t.period {
		return false
	}
	t.reads = 0
	t.choose()
	return true
}

// choose puts in force the settings of the model with the most hits,
// and ages every model's hits.
func (t *Tuner) choose() {
	best := 0
	for i := range t.n {
		if t.models[i].hits > t.models[best].hits {
			best = i
		}
	}
	// Switching moves the boundary between the rings, and on models of
	// a few keys a handful of hits is noise: the settings in force stay
	// until a model beats them by switchMargin.
	if t.models[best].hits > t.models[t.chosen].hits*(1+switchMargin) {
		t.chosen = best
	}
	for i := range t.n {
		t.models[i].hits *= tunerDecay
	}
}

func (t *Tuner) key(i int) uint32 { return uint32(t.keys[i/2] >> (32 * (i % 2))) }

func (t *Tuner) setKey(i int, key uint32) {
	w, sh := &t.keys[i/2], 32*(i%2)
	*w = *w&^(0xffffffff<<sh) | uint64(key)<<sh
}

// access runs a read of key through model i.
func (t *Tuner) access(i int, key uint32, p *Policy) {
	md, base := &t.models[i], i*t.m
	for j := range md.winLen {
		if t.key(base+j) == key {
			md.hits++
			return
		}
	}
	main := base + md.win
	for j := range md.mainLen {
		if t.key(main+j) == key {
			md.hits++
			if c := md.counts >> (2 * j) & 3; c < 3 {
				md.counts += 1 << (2 * j)
			}
			return
		}
	}
	if md.winLen < md.win {
		t.setKey(base+md.winLen, key)
		md.winLen++
		return
	}
	candidate := t.key(base + md.winHead)
	t.setKey(base+md.winHead, key)
	md.winHead = (md.winHead + 1) % md.win
	t.settle(md, main, candidate, p)
}

// settle decides where model md's window candidate goes, as the shard
// settles probation's oldest entry; main is where md's main starts.
func (t *Tuner) settle(md *model, main int, candidate uint32, p *Policy) {
	if md.mainLen < t.size-md.win {
		t.setKey(main+md.mainLen, candidate) // its count is zero (Check)
		md.mainLen++
		return
	}
	reads := p.Reads(uint64(candidate))
	if reads < md.k {
		return
	}
	for {
		if c := md.counts >> (2 * md.hand) & 3; c > 0 {
			md.counts -= 1 << (2 * md.hand)
			md.hand = (md.hand + 1) % md.mainLen
			continue
		}
		if reads > p.Reads(uint64(t.key(main+md.hand))) {
			t.setKey(main+md.hand, candidate)
			md.hand = (md.hand + 1) % md.mainLen
		}
		return
	}
}

// Check verifies the tuner's invariants: every model's rings within its
// keys, its counts only on main's keys, its settings within bounds, and
// the settings in force a model's.
func (t *Tuner) Check() error {
	if t.n == 0 {
		return nil
	}
	if t.chosen < 0 || t.chosen >= t.n || t.size < t.m/2 || t.size > t.m || t.m < minModelEntries || t.n*t.m > 2*len(t.keys) {
		return fmt.Errorf("evict: tuner of %d models of %d keys in %d over %d words, model %d in force", t.n, t.size, t.m, len(t.keys), t.chosen)
	}
	for i := range t.n {
		md := &t.models[i]
		switch {
		case md.k < 1 || md.k > MaxK:
			return fmt.Errorf("evict: model %d has K %d", i, md.k)
		case md.win < 1 || md.win >= t.size:
			return fmt.Errorf("evict: model %d has a window of %d of %d keys", i, md.win, t.size)
		case md.winLen > md.win || md.winHead >= md.win || (md.winLen < md.win && md.winHead != 0):
			return fmt.Errorf("evict: model %d's window holds %d of %d, oldest at %d", i, md.winLen, md.win, md.winHead)
		case md.mainLen > t.size-md.win || (md.mainLen > 0 && md.hand >= md.mainLen) || (md.mainLen == 0 && md.hand != 0):
			return fmt.Errorf("evict: model %d's main holds %d of %d, hand at %d", i, md.mainLen, t.size-md.win, md.hand)
		case md.counts>>(2*md.mainLen) != 0:
			return fmt.Errorf("evict: model %d counts reads of keys past its main's %d", i, md.mainLen)
		}
	}
	return nil
}
