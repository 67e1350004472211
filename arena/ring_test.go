package arena

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// ringModel drives a Ring and keeps, as the ring's owner must, the size and
// offset of every record in allocation order.
type ringModel struct {
	r     Ring
	sizes []int
	offs  []int
}

func (m *ringModel) check(t *testing.T) {
	t.Helper()
	i := 0
	err := m.r.Walk(func(off int) int {
		if i >= len(m.sizes) {
			return -1
		}
		return m.sizes[i]
	}, func(off, n int) {
		require.Equal(t, m.offs[i], off, "record %d offset", i)
		i++
	})
	require.NoError(t, err)
	require.Equal(t, len(m.sizes), i)
}

func (m *ringModel) reclaim() {
	m.r.Reclaim(m.sizes[0])
	m.sizes, m.offs = m.sizes[1:], m.offs[1:]
}

func (m *ringModel) put(t *testing.T, n int) int {
	for {
		if off, ok := m.r.Alloc(n); ok {
			require.LessOrEqual(t, off+n, m.r.Size(), "record straddles the end")
			m.sizes, m.offs = append(m.sizes, n), append(m.offs, off)
			return off
		}
		require.NotEmpty(t, m.sizes, "alloc of %d failed on an empty ring", n)
		m.reclaim()
	}
}

func TestRingAllocWrapsWithPadding(t *testing.T) {
	m := &ringModel{r: NewRing(make([]byte, 100))}
	require.Equal(t, 0, m.put(t, 40))
	require.Equal(t, 40, m.put(t, 40))
	m.check(t)
	// 20 bytes left at the end cannot take 30: they become padding and the
	// first record is reclaimed to make room at zero.
	require.Equal(t, 0, m.put(t, 30))
	require.Equal(t, 20, m.r.Padding())
	require.Equal(t, 40+20+30, m.r.used, "second record, padding, third record")
	m.check(t)
	// Reclaiming the record before the padding skips the padding too.
	m.reclaim()
	require.Equal(t, 0, m.r.Padding())
	require.Equal(t, 30, m.r.used)
	m.check(t)
}

func TestRingFullAndEmpty(t *testing.T) {
	m := &ringModel{r: NewRing(make([]byte, 64))}
	for range 4 {
		m.put(t, 16)
	}
	require.Equal(t, 64, m.r.used)
	_, ok := m.r.Alloc(1)
	require.False(t, ok, "a full ring must refuse")
	m.check(t)
	for len(m.sizes) > 0 {
		m.reclaim()
		m.check(t)
	}
	_, ok = m.r.Head()
	require.False(t, ok)
	off, ok := m.r.Alloc(64)
	require.True(t, ok, "an emptied ring must take a record of its full size")
	require.Equal(t, 0, off)
}

func TestRingRecycleKeepsBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"full ring, moves in place", []int{25, 25, 25, 25}},
		{"gap before head", []int{30, 30, 30}},
		{"tail segment too short, wraps", []int{10, 40, 45}},
		{"single record", []int{70}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &ringModel{r: NewRing(make([]byte, 100))}
			for i, n := range tc.sizes {
				off := m.put(t, n)
				for j := range n {
					m.r.buf[off+j] = byte(i + 1)
				}
			}
			n := m.sizes[0]
			dst := m.r.Recycle(n)
			m.sizes, m.offs = append(m.sizes[1:], n), append(m.offs[1:], dst)
			m.check(t)
			for j := range n {
				require.Equal(t, byte(1), m.r.buf[dst+j], "byte %d of the moved record", j)
			}
		})
	}
}

func TestRingRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 7, 64, 1000} {
		m := &ringModel{r: NewRing(make([]byte, size))}
		for range 5000 {
			switch op := rng.IntN(10); {
			case op < 6:
				m.put(t, 1+rng.IntN(size))
			case op < 8 && len(m.sizes) > 0:
				m.reclaim()
			case op < 9 && len(m.sizes) > 0:
				n := m.sizes[0]
				dst := m.r.Recycle(n)
				m.sizes, m.offs = append(m.sizes[1:], n), append(m.offs[1:], dst)
			default:
				m.r.Reset()
				m.sizes, m.offs = nil, nil
			}
			m.check(t)
		}
	}
}

func TestRegionMapsZeroedMemory(t *testing.T) {
	r, err := NewRegion(1 << 20)
	require.NoError(t, err)
	if runtime.GOOS == "linux" {
		require.True(t, r.mapped, "on Linux the region must live outside the Go heap")
	}
	b := r.Bytes()
	require.Len(t, b, 1<<20)
	require.Equal(t, byte(0), b[0])
	require.Equal(t, byte(0), b[len(b)-1])
	b[12345] = 7
	require.NoError(t, r.Free())
	require.Nil(t, r.Bytes())
	require.NoError(t, r.Free(), "a second Free is a no-op")

	empty, err := NewRegion(0)
	require.NoError(t, err)
	require.Empty(t, empty.Bytes())
}

func TestRingResizesKeepRecordsInPlace(t *testing.T) {
	mem := make([]byte, 2000)
	start, end := 500, 1500
	m := &ringModel{r: NewRing(mem[start:end])}
	rng := rand.New(rand.NewPCG(5, 6))
	moved := map[string]int{}
	for range 20_000 {
		n := 1 + rng.IntN(60)
		switch op := rng.IntN(12); {
		case op < 6:
			off := m.put(t, 1+rng.IntN(120))
			m.r.buf[off] = byte(start + off) // a mark tied to the record's address
		case op < 8 && len(m.sizes) > 0:
			m.reclaim()
		case op == 8 && end+n <= len(mem):
			m.r.GrowEnd(n)
			end += n
			moved["grow end"]++
		case op == 9:
			if m.r.ShrinkEnd(n) {
				end -= n
				moved["shrink end"]++
			}
		case op == 10 && start-n >= 0 && m.r.CanGrowStart():
			m.r.GrowStart(mem[start-n:end], n)
			start -= n
			for i := range m.offs {
				m.offs[i] += n
			}
			moved["grow start"]++
		case op == 11:
			if m.r.ShrinkStart(n) {
				start += n
				for i := range m.offs {
					m.offs[i] -= n
				}
				moved["shrink start"]++
			}
		}
		require.Equal(t, end-start, m.r.Size())
		m.check(t)
		for _, off := range m.offs {
			require.Equal(t, byte(start+off), m.r.buf[off], "a record moved in memory")
		}
	}
	for _, k := range []string{"grow end", "shrink end", "grow start", "shrink start"} {
		require.Positive(t, moved[k], "%s never happened", k)
	}
}

// Two rings side by side, as a shard keeps them, with the boundary moved
// both ways in every state: classically when the bytes in the way are
// free, and otherwise by the wrapped-ring forms (GrowStart with a filler,
// DropStart with AdoptEnd), which keep every record in place.
func TestAdjacentRingsTradeBytesInAnyState(t *testing.T) {
	mem := make([]byte, 3000)
	split := 300
	a := &ringModel{r: NewRing(mem[:split])}
	b := &ringModel{r: NewRing(mem[split:])}
	rng := rand.New(rand.NewPCG(7, 8))
	mark := func(m *ringModel, base, off int) { m.r.buf[off] = byte(base + off) }
	// wrapStart is the index in m's order of the first record of the
	// wrapped part: the records at or after the head come first.
	wrapStart := func(m *ringModel) int {
		head, _ := m.r.Head()
		i := 0
		for i < len(m.offs) && m.offs[i] >= head {
			i++
		}
		return i
	}
	insert := func(m *ringModel, i, off, n int) {
		m.sizes = append(m.sizes[:i], append([]int{n}, m.sizes[i:]...)...)
		m.offs = append(m.offs[:i], append([]int{off}, m.offs[i:]...)...)
	}
	done := map[string]int{}
	for range 40_000 {
		n := 12 + rng.IntN(40)
		switch op := rng.IntN(10); {
		case op < 3:
			mark(a, 0, a.put(t, 1+rng.IntN(40)))
		case op < 6:
			mark(b, split, b.put(t, 1+rng.IntN(80)))
		case op == 6 && len(a.sizes) > 0:
			a.reclaim()
		case op == 7 && len(b.sizes) > 0:
			b.reclaim()
		case op == 8 && b.r.Size()-n > 400: // a grows
			if b.r.ShrinkStart(n) {
				a.r.buf = mem[:split]
				a.r.GrowEnd(n)
				for i := range b.offs {
					b.offs[i] -= n
				}
				split += n
				done["classic grow"]++
				break
			}
			head, _ := b.r.Head()
			tail := b.r.tail
			if len(b.offs) == 0 || tail > head {
				break
			}
			// Adopt the wrapped part's oldest records covering n bytes.
			i, x := wrapStart(b), 0
			k := i
			for k < len(b.offs) && x < n {
				x += b.sizes[k]
				k++
			}
			at, gap := a.r.EndGap()
			if x < n || (gap > 0 && gap < 12) {
				break
			}
			// The adopted records follow the last one before a's end:
			// in a wrapped a, they are older than its wrapped part.
			into := wrapStart(a)
			if into < len(a.offs) {
				done["adopting grow into a wrapped ring"]++
			}
			require.True(t, b.r.DropStart(x))
			a.r.buf = mem[:split]
			a.r.AdoptEnd(x)
			if gap > 0 { // free or padding bytes before the old end: the owner's filler
				insert(a, into, at, gap)
				into++
				mem[at] = byte(at)
			}
			for j := i; j < k; j++ {
				insert(a, into, split+b.offs[j], b.sizes[j])
				into++
			}
			b.sizes = append(b.sizes[:i], b.sizes[k:]...)
			b.offs = append(b.offs[:i], b.offs[k:]...)
			for j := range b.offs {
				b.offs[j] -= x
			}
			split += x
			done["adopting grow"]++
		case op == 9 && split-n > 50: // a shrinks
			if !a.r.ShrinkEnd(n) {
				// Both wrapped: hand a's oldest records in its last n
				// bytes (and those reaching into them) to b in place.
				head, _ := a.r.Head()
				if len(a.offs) == 0 || a.r.tail > a.r.head || b.r.tail > b.r.head || len(b.offs) == 0 {
					break
				}
				padAt := a.r.Size() - a.r.Padding()
				i := 0
				for i < len(a.offs) && a.offs[i] >= head && a.offs[i]+a.sizes[i] <= split-n {
					i++
				}
				if i == len(a.offs) || a.offs[i] < head {
					break // every old record ends before the last n bytes
				}
				k := i
				for k < len(a.offs) && a.offs[k] >= head {
					k++
				}
				x, pad := a.offs[i], split-padAt
				if pad > 0 && pad < 12 {
					break // the owner folds it into the last record
				}
				if x <= 50 {
					break // a must keep room for its largest record
				}
				require.True(t, a.r.DropEnd(split-x))
				at := wrapStart(b)
				require.True(t, b.r.GrowStart(mem[x:], split-x), "b is wrapped")
				for j := range b.offs {
					b.offs[j] += split - x
				}
				moved := []int{}
				for j := i; j < k; j++ {
					moved = append(moved, a.offs[j]-x)
				}
				sizes := append([]int{}, a.sizes[i:k]...)
				if pad > 0 {
					moved, sizes = append(moved, padAt-x), append(sizes, pad)
					mem[padAt] = byte(padAt)
				}
				b.offs = append(b.offs[:at], append(moved, b.offs[at:]...)...)
				b.sizes = append(b.sizes[:at], append(sizes, b.sizes[at:]...)...)
				a.offs = append(a.offs[:i], a.offs[k:]...)
				a.sizes = append(a.sizes[:i], a.sizes[k:]...)
				split = x
				done["handing shrink"]++
				break
			}
			i := wrapStart(b)
			filled := b.r.GrowStart(mem[split-n:], n)
			for j := range b.offs {
				b.offs[j] += n
			}
			if filled {
				insert(b, i, 0, n)
				mem[split-n] = byte(split - n)
				done["shrink with filler"]++
			} else {
				done["classic shrink"]++
			}
			split -= n
		}
		require.Equal(t, len(mem), a.r.Size()+b.r.Size())
		a.check(t)
		b.check(t)
		for _, off := range a.offs {
			require.Equal(t, byte(off), mem[off], "a record of a moved in memory")
		}
		for _, off := range b.offs {
			require.Equal(t, byte(split+off), mem[split+off], "a record of b moved in memory")
		}
	}
	for _, k := range []string{"classic grow", "adopting grow", "adopting grow into a wrapped ring", "classic shrink", "shrink with filler", "handing shrink"} {
		require.Positive(t, done[k], "%s never happened", k)
	}
}

// Shrinking an unwrapped ring to end exactly at its tail left the tail at
// len(buf), outside the ring (found by FuzzShard once probation's end
// moved every few reads).
func TestRingShrinkEndToItsTail(t *testing.T) {
	m := &ringModel{r: NewRing(make([]byte, 100))}
	m.put(t, 30)
	m.put(t, 30)
	m.reclaim()
	require.True(t, m.r.ShrinkEnd(40), "the last 40 bytes are free")
	require.Equal(t, 60, m.r.Size())
	m.check(t)
	// The next record wraps to the start.
	require.Equal(t, 0, m.put(t, 20))
	m.check(t)
}

// A ring full to its end with its tail back at zero has free bytes only
// before its head: ShrinkStart gives those up.
func TestShrinkStartOfARingWrappedAtZero(t *testing.T) {
	r := NewRing(make([]byte, 100))
	for range 4 {
		_, ok := r.Alloc(25)
		require.True(t, ok)
	}
	require.Zero(t, r.Tail(), "full to the end, the tail wraps to zero")
	require.False(t, r.ShrinkStart(10), "the oldest record lies there")
	r.Reclaim(25)
	require.True(t, r.ShrinkStart(20))
	head, _ := r.Head()
	require.Equal(t, 5, head)
	require.Equal(t, 80, r.Size())
	require.NoError(t, r.Walk(func(int) int { return 25 }, func(int, int) {}))
	off, ok := r.Alloc(5)
	require.True(t, ok, "the bytes left before the head are free")
	require.Zero(t, off)
	_, ok = r.Alloc(1)
	require.False(t, ok, "and no more")
}

// Release drops the pages but keeps the addresses: they read as zeros,
// never fault, and Free unmaps them afterwards. A region that cannot be
// released so says ErrRelease and changes nothing.
func TestReleaseKeepsTheRegionReadable(t *testing.T) {
	r, err := NewRegion(1 << 20)
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Free()) }()
	if !r.Releasable() {
		require.ErrorIs(t, r.Release(), ErrRelease)
		return
	}
	b := r.Bytes()
	for i := range b {
		b[i] = 0xAB
	}
	require.NoError(t, r.Release())
	require.Len(t, r.Bytes(), 1<<20, "the addresses stay mapped")
	for i := 0; i < len(b); i += 4096 {
		require.Zero(t, b[i], "a released page reads as zero")
	}

	empty, err := NewRegion(0)
	require.NoError(t, err)
	require.ErrorIs(t, empty.Release(), ErrRelease)
}
