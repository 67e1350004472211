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
	require.Equal(t, 40+20+30, m.r.Used(), "second record, padding, third record")
	m.check(t)
	// Reclaiming the record before the padding skips the padding too.
	m.reclaim()
	require.Equal(t, 0, m.r.Padding())
	require.Equal(t, 30, m.r.Used())
	m.check(t)
}

func TestRingFullAndEmpty(t *testing.T) {
	m := &ringModel{r: NewRing(make([]byte, 64))}
	for range 4 {
		m.put(t, 16)
	}
	require.Equal(t, 64, m.r.Used())
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
		require.True(t, r.Mapped(), "on Linux the region must live outside the Go heap")
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
