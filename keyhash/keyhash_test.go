package keyhash

import (
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
)

func TestSeededHashesAreReproducibleAndKeyed(t *testing.T) {
	a, b, other := New(42), New(42), New(43)
	key := []byte("user:42")
	require.Equal(t, a.Sum(key), b.Sum(key), "the same seed must give the same hash")
	require.NotEqual(t, a.Sum(key), other.Sum(key), "another seed must give another hash")
	require.NotEqual(t, xxhash.Sum64(key), a.Sum(key), "a seeded hash must not be the unkeyed one")
}

func TestRandomHashersDiffer(t *testing.T) {
	a, b := New(0), New(0)
	same := 0
	for i := range 64 {
		k := []byte{byte(i), 'k'}
		require.Equal(t, a.Sum(k), a.Sum(k))
		if a.Sum(k) == b.Sum(k) {
			same++
		}
	}
	require.Zero(t, same, "two random hashers agreed on a key")
}

func TestSumDoesNotAllocate(t *testing.T) {
	key := []byte("a key of some thirty-odd bytes long")
	for _, h := range []Hasher{New(0), New(7)} {
		require.Zero(t, testing.AllocsPerRun(100, func() { _ = h.Sum(key) }))
	}
}
