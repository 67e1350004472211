package ringcache_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// fill writes entries of every kind a snapshot carries, and returns what
// a read returns of each.
func fillForSnapshot(t *testing.T, c *ringcache.Cache) map[string]string {
	t.Helper()
	want := map[string]string{}
	for i := range 2000 {
		k, v := "k"+strconv.Itoa(i), "value "+strconv.Itoa(i)
		require.NoError(t, c.Set([]byte(k), []byte(v)))
		want[k] = v
	}
	compressible := string(bytes.Repeat([]byte("compress me "), 40))
	require.NoError(t, c.Set([]byte("compressed"), []byte(compressible)))
	want["compressed"] = compressible
	big := string(bytes.Repeat([]byte("<tr><td>row</td></tr>\n"), 300<<10/22))
	require.NoError(t, c.Set([]byte("big"), []byte(big)))
	want["big"] = big
	ok, err := c.SetIfNewer([]byte("versioned"), []byte("v9"), 9, 0)
	require.NoError(t, err)
	require.True(t, ok)
	want["versioned"] = "v9"
	_, err = c.GetOrLoad(context.Background(), nil, []byte("loaded"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		return []byte("from the loader"), time.Hour, nil
	})
	require.NoError(t, err)
	want["loaded"] = "from the loader"
	_, err = c.GetOrLoad(context.Background(), nil, []byte("missing"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, ringcache.ErrNotFound
	})
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	require.NoError(t, c.SetWithTTL([]byte("hour"), []byte("an hour"), time.Hour))
	want["hour"] = "an hour"
	return want
}

func snapshotConfig() ringcache.Config {
	return ringcache.Config{Capacity: 8 << 20, NegativeTTL: time.Hour,
		Compression: ringcache.Compression{Codec: ringcache.S2, MinSize: 256}}
}

// A saved cache loads into a new one with every entry a read returned,
// byte for byte, with its version and what was left of its life.
func TestSnapshotRoundTrip(t *testing.T) {
	src := newCache(t, snapshotConfig())
	want := fillForSnapshot(t, src)
	path := filepath.Join(t.TempDir(), "cache.snap")
	require.NoError(t, src.SaveFile(path))

	for name, cfg := range map[string]ringcache.Config{
		"same":         snapshotConfig(),
		"other shards": {Capacity: 8 << 20, Shards: 8, Compression: ringcache.Compression{Codec: ringcache.S2}},
		"twice as big": {Capacity: 16 << 20},
	} {
		t.Run(name, func(t *testing.T) {
			dst := newCache(t, cfg)
			require.NoError(t, dst.LoadFile(path))
			sameEntries(t, want, collect(t, dst))
			v, ok := dst.Version([]byte("versioned"))
			require.True(t, ok)
			require.EqualValues(t, 9, v)
			left, ok := dst.TTL([]byte("hour"))
			require.True(t, ok)
			require.LessOrEqual(t, left, time.Hour)
			require.Greater(t, left, 59*time.Minute)
			_, ok = dst.TTL([]byte("k1"))
			require.True(t, ok)
			require.False(t, dst.Has([]byte("missing")), "tombstones are not saved")
			require.NoError(t, dst.Check())
		})
	}
}

// An entry whose life ended while the snapshot waited is not loaded.
func TestSnapshotSkipsWhatExpiredMeanwhile(t *testing.T) {
	src := newCache(t, ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, src.SetWithTTL([]byte("brief"), []byte("x"), 20*time.Millisecond))
	require.NoError(t, src.Set([]byte("lasting"), []byte("y")))
	var buf bytes.Buffer
	_, err := src.WriteTo(&buf)
	require.NoError(t, err)
	for src.Has([]byte("brief")) {
		time.Sleep(5 * time.Millisecond) // until it expired here too
	}
	dst := newCache(t, ringcache.Config{Capacity: 1 << 20})
	_, err = dst.ReadFrom(&buf)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"lasting": "y"}, collect(t, dst))
}

// A smaller cache keeps what fits, most recently written first.
func TestSnapshotIntoASmallerCache(t *testing.T) {
	src := newCache(t, ringcache.Config{Capacity: 4 << 20, Shards: 1})
	for i := range 30_000 {
		require.NoError(t, src.Set([]byte("k"+strconv.Itoa(i)), bytes.Repeat([]byte{byte(i)}, 64)))
	}
	var buf bytes.Buffer
	_, err := src.WriteTo(&buf)
	require.NoError(t, err)
	dst := newCache(t, ringcache.Config{Capacity: 1 << 20, Shards: 1})
	_, err = dst.ReadFrom(&buf)
	require.NoError(t, err)
	saved, got := collect(t, src), collect(t, dst)
	require.NotEmpty(t, got)
	require.Less(t, len(got), len(saved))
	mean := func(m map[string]string) float64 {
		sum := 0
		for k, v := range m {
			i, err := strconv.Atoi(k[1:])
			require.NoError(t, err)
			require.Equal(t, string(bytes.Repeat([]byte{byte(i)}, 64)), v)
			sum += i
		}
		return float64(sum) / float64(len(m))
	}
	require.Greater(t, mean(got), mean(saved), "the most recently written are kept")
	require.NoError(t, dst.Check())
}

// Loading never evicts or overwrites what the cache holds: an entry
// written before (or during) the load wins over the snapshot's.
func TestSnapshotLoadKeepsWhatTheCacheHolds(t *testing.T) {
	src := newCache(t, ringcache.Config{Capacity: 1 << 20})
	for i := range 100 {
		require.NoError(t, src.Set([]byte("k"+strconv.Itoa(i)), []byte("old")))
	}
	var buf bytes.Buffer
	_, err := src.WriteTo(&buf)
	require.NoError(t, err)
	dst := newCache(t, ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, dst.Set([]byte("k7"), []byte("newer")))
	require.NoError(t, dst.Set([]byte("mine"), []byte("kept")))
	_, err = dst.ReadFrom(&buf)
	require.NoError(t, err)
	got := collect(t, dst)
	require.Equal(t, "newer", got["k7"])
	require.Equal(t, "kept", got["mine"])
	require.Equal(t, "old", got["k8"])
	require.Len(t, got, 101)
}

// Bad input is ErrCorrupt, never a panic or a wrong value.
func TestSnapshotRejectsBadInput(t *testing.T) {
	src := newCache(t, snapshotConfig())
	want := fillForSnapshot(t, src)
	var buf bytes.Buffer
	_, err := src.WriteTo(&buf)
	require.NoError(t, err)
	good := buf.Bytes()

	check := func(name string, b []byte) {
		dst := newCache(t, snapshotConfig())
		_, err := dst.ReadFrom(bytes.NewReader(b))
		require.ErrorIs(t, err, ringcache.ErrCorrupt, name)
		for k, v := range collect(t, dst) {
			require.Equal(t, want[k], v, "%s: %q loaded with a wrong value", name, k)
		}
		require.NoError(t, dst.Check())
	}
	check("empty", nil)
	check("not a snapshot", []byte("PNG\x00 this is something else entirely"))
	future := bytes.Clone(good)
	future[8] = 2
	check("a newer format", future)
	for _, cut := range []int{10, 30, len(good) / 2, len(good) - 1} {
		check("truncated at "+strconv.Itoa(cut), good[:cut])
	}
	for _, at := range []int{25, len(good) / 3, len(good) / 2, len(good) - 20} {
		flipped := bytes.Clone(good)
		flipped[at] ^= 0x40
		check("byte "+strconv.Itoa(at)+" flipped", flipped)
	}
	closed := newCache(t, snapshotConfig())
	require.NoError(t, closed.Close())
	_, err = closed.ReadFrom(bytes.NewReader(good))
	require.ErrorIs(t, err, ringcache.ErrClosed)
}

func TestSaveFileReplacesWhole(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, c.Set([]byte("a"), []byte("1")))
	path := filepath.Join(t.TempDir(), "snap")
	require.NoError(t, c.SaveFile(path))
	require.NoError(t, c.Set([]byte("b"), []byte("2")))
	require.NoError(t, c.SaveFile(path))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
	d := newCache(t, ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, d.LoadFile(path))
	require.Equal(t, map[string]string{"a": "1", "b": "2"}, collect(t, d))
	require.True(t, errors.Is(d.LoadFile(filepath.Join(t.TempDir(), "none")), os.ErrNotExist))
}

// sameEntries compares two key-value maps, naming the first keys that
// differ rather than printing both.
func sameEntries(t *testing.T, want, got map[string]string) {
	t.Helper()
	bad := 0
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			if bad++; bad <= 5 {
				t.Errorf("%q: got %d bytes (present %v), want %d", k, len(g), ok, len(v))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			if bad++; bad <= 5 {
				t.Errorf("%q loaded, not saved", k)
			}
		}
	}
	require.Zero(t, bad, "entries that differ")
}
