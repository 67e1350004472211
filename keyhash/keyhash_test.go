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

func TestSeededHashIsOneFunctionAtEveryLength(t *testing.T) {
	h := New(0x1234)
	key := make([]byte, 3*seededInline)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	var seed [8]byte
	seed[0], seed[1] = 0x34, 0x12
	for n := range len(key) + 1 {
		want := xxhash.Sum64(append(seed[:], key[:n]...))
		require.Equal(t, want, h.Sum(key[:n]), "key of %d bytes: the stack-buffer and streaming paths must agree", n)
	}
}
