package evict

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// tuned is a tuner over its own memory and the policy it reads histories
// from, fed as a shard feeds them: the tuner sees a read before the
// policy counts it.
type tuned struct {
	t *Tuner
	p *Policy
}

func newTuned(tb testing.TB, entries, k, period int) tuned {
	tb.Helper()
	p := newLRUK(tb, k, entries)
	tn := NewTuner(make([]uint64, TunerWords(entries)), entries, k, period)
	return tuned{&tn, p}
}

// read feeds one read and checks the tuner's invariants after it.
func (x tuned) read(tb testing.TB, h uint64, hit bool) bool {
	tb.Helper()
	chose := x.t.Sample(h, x.p)
	x.p.Read(h, hit)
	require.NoError(tb, x.t.Check())
	return chose
}

func TestTunerStartsAtTheStartingSettings(t *testing.T) {
	for _, k := range []int{1, 2, 3, 8} {
		x := newTuned(t, 1000, k, 0)
		require.Equal(t, k, x.t.K(), "K %d", k)
		require.Equal(t, 2, x.t.Share())
		ks := map[int]bool{}
		for i := range x.t.n {
			ks[x.t.models[i].k] = true
			require.LessOrEqual(t, x.t.models[i].k, max(2*k, 2), "K %d: the choices stay within twice the start", k)
		}
		require.True(t, ks[1], "K %d: K = 1 is among the choices", k)
	}
	x := newTuned(t, 1000, 3, 0)
	for i := range tunerKs {
		require.Equal(t, i+1, x.t.models[i*len(tunerShares)].k, "from 3, K's choices are 1 to 6")
	}
}

// Keys read twice, three new keys apart, and never again: only a window
// of four keys holds a key until its second read, so the quarter window
// wins.
func TestTunerChoosesTheLargeWindowWhenKeysReturnSoon(t *testing.T) {
	x := newTuned(t, tunerEntries, 3, 50)
	chose := false
	for i := uint64(10); i < 2000; i++ {
		chose = x.read(t, i, false) || chose
		if i >= 13 {
			chose = x.read(t, i-3, false) || chose
		}
	}
	require.True(t, chose)
	require.Equal(t, 25, x.t.Share())
}

// Thirteen hot keys, each read between two one-hit wonders: main holds
// all of them beside a window of three keys, but not beside the quarter
// window's four.
func TestTunerKeepsASmallWindowForAHotSet(t *testing.T) {
	x := newTuned(t, tunerEntries, 3, 50)
	chose := false
	for i := uint64(0); i < 4000; i++ {
		chose = x.read(t, 1+i%13, false) || chose
		chose = x.read(t, 1000+i, false) || chose
	}
	require.True(t, chose)
	require.Less(t, x.t.Share(), 25)
	best := x.t.models[x.t.chosen].hits
	for i := range x.t.n {
		if x.t.models[i].share == 25 {
			require.Less(t, x.t.models[i].hits, best, "model %d", i)
		}
	}
}

// A model replaces the settings in force only with switchMargin more
// hits than their model; every choice ages all hits by tunerDecay.
func TestTunerSwitchesOnlyOnAClearLead(t *testing.T) {
	x := newTuned(t, 1000, 3, 1)
	start, rival := x.t.chosen, 0
	require.NotEqual(t, start, rival)
	x.t.models[start].hits, x.t.models[rival].hits = 100, 100*(1+switchMargin)
	x.t.choose()
	require.Equal(t, start, x.t.chosen, "a lead of exactly the margin is not enough")
	require.InDelta(t, 100*tunerDecay, x.t.models[start].hits, 1e-9)
	x.t.models[start].hits, x.t.models[rival].hits = 100, 100*(1+switchMargin)+1
	x.t.choose()
	require.Equal(t, rival, x.t.chosen)
	require.Equal(t, 1, x.t.K())
	require.Equal(t, StartShare, x.t.Share())
}

// The models keep 32-bit keys and read histories by them: the policy
// must know a key by those bits alone.
func TestThePolicyKnowsAKeyByTheLow32BitsOfItsHash(t *testing.T) {
	p := newLRUK(t, 2, 1000)
	h := uint64(0xabcdef01_23456789)
	for range 3 {
		p.Read(h, false)
	}
	require.Equal(t, 3, p.Reads(h))
	require.Equal(t, p.Reads(h), p.Reads(uint64(uint32(h))), "a model's 32-bit key must read the same history")
}

// A shard of 1,600 entries is modelled by models of 16 keys: one key in a
// hundred is simulated.
func TestTunerSimulatesOneKeyInRate(t *testing.T) {
	x := newTuned(t, 1600, 3, 1<<30)
	require.Equal(t, uint64(100), x.t.rate)
	require.Equal(t, 16, x.t.size)
	for i := range uint64(100_000) {
		x.t.Sample(i*0x9E3779B97F4A7C15, x.p)
	}
	require.InDelta(t, 1000, x.t.reads, 150, "sampled reads")
}

func TestTunerIsOffWithoutRoomForModels(t *testing.T) {
	tn := NewTuner(make([]uint64, 8), 1000, 3, 1)
	p := newLRUK(t, 3, 1000)
	for i := range uint64(1000) {
		require.False(t, tn.Sample(i, p), "an off tuner never chooses")
	}
	require.NoError(t, tn.Check())
	tiny := NewTuner(make([]uint64, TunerWords(3)), 3, 3, 1)
	require.False(t, tiny.Sample(1, p), "a shard of 3 entries is too small to model")
}

func TestTunerInvariantsHoldUnderRandomReads(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, entries := range []int{4, 16, 100, 5000} {
		x := newTuned(t, entries, 1+r.IntN(6), 1+r.IntN(20))
		for range 20_000 {
			x.read(t, r.Uint64N(uint64(3*entries)), r.IntN(2) == 0)
			require.GreaterOrEqual(t, x.t.K(), 1)
			require.LessOrEqual(t, x.t.K(), MaxK)
		}
	}
}

func TestTunerSampleAllocatesNothing(t *testing.T) {
	x := newTuned(t, 100, 3, 10)
	i := uint64(0)
	allocs := testing.AllocsPerRun(10_000, func() {
		i++
		x.t.Sample(i%300, x.p)
	})
	require.Zero(t, allocs)
}

func TestTunerMemory(t *testing.T) {
	require.Equal(t, 144, TunerWords(1000), "18 models of 16 four-byte keys: 1,152 bytes")
	require.Equal(t, 18, TunerWords(2), "a small shard's models hold its entries")
}
