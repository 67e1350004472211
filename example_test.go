package ringcache_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ringcache/ringcache"
)

func Example() {
	c, err := ringcache.New(ringcache.Config{
		Capacity:   64 << 20, // 64 MiB, index and metadata included
		DefaultTTL: 10 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	if err := c.Set([]byte("user:42"), []byte(`{"name":"alice"}`)); err != nil {
		panic(err)
	}
	// Reuse one buffer across reads: Get appends to it and does not allocate
	// once it is large enough.
	buf := make([]byte, 0, 1024)
	if v, ok := c.Get(buf[:0], []byte("user:42")); ok {
		fmt.Println(string(v))
	}
	// Output: {"name":"alice"}
}

func ExampleCache_GetFunc() {
	c, _ := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	defer c.Close()
	_ = c.Set([]byte("greeting"), []byte("hello, world"))

	// The value is shown in place, without a copy; it must not be kept
	// after the callback returns.
	var n int
	c.GetFunc([]byte("greeting"), func(v []byte) { n = len(v) })
	fmt.Println(n)
	// Output: 12
}

func ExampleCache_SetWithTTL() {
	c, _ := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	defer c.Close()
	_ = c.SetWithTTL([]byte("session"), []byte("token"), time.Hour)
	d, ok := c.TTL([]byte("session"))
	fmt.Println(ok, d > 59*time.Minute)
	// Output: true true
}

// userStore stands in for a database table.
type userStore struct{ rows map[string]string }

// load is a database-shaped loader: ErrNotFound for missing rows, and a
// TTL per row.
func (s *userStore) load(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	row, ok := s.rows[string(key)]
	if !ok {
		return nil, 0, ringcache.ErrNotFound
	}
	return []byte(row), 5 * time.Minute, nil
}

// The cache-aside pattern: GetOrLoad serves hits from the cache and sends
// misses to the loader, one load per key however many callers miss at
// once. Missing rows are remembered for NegativeTTL, so lookups of ids that
// do not exist stop reaching the database.
func ExampleCache_GetOrLoad() {
	db := &userStore{rows: map[string]string{"user:1": `{"name":"alice"}`}}
	c, _ := ringcache.New(ringcache.Config{
		Capacity:    64 << 20,
		NegativeTTL: 30 * time.Second, // remember "no such user"
		StaleGrace:  time.Minute,      // serve the last value if the database fails
		TTLJitter:   0.1,              // spread expiries ±10%
	})
	defer c.Close()

	ctx := context.Background()
	buf := make([]byte, 0, 1024)
	v, err := c.GetOrLoad(ctx, buf[:0], []byte("user:1"), db.load)
	fmt.Println(string(v), err)

	_, err = c.GetOrLoad(ctx, buf[:0], []byte("user:2"), db.load)
	fmt.Println(errors.Is(err, ringcache.ErrNotFound))
	// Output:
	// {"name":"alice"} <nil>
	// true
}

func ExampleCache_All() {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for _, name := range []string{"alice", "bob", "carol"} {
		_ = c.Set([]byte("user:"+name), []byte(name))
	}
	// The order is the shards', not the keys'. The body may call the
	// cache: it runs with no lock held.
	n := 0
	for key, value := range c.All() {
		if string(key) == "user:"+string(value) {
			n++
		}
	}
	fmt.Println(n, "entries")
	// Output: 3 entries
}

func ExampleConfig_onRemove() {
	c, err := ringcache.New(ringcache.Config{
		Capacity: 1 << 20,
		OnRemove: func(key, value []byte, cause ringcache.RemovalCause) {
			fmt.Printf("%s=%s %s\n", key, value, cause)
		},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	_ = c.Set([]byte("color"), []byte("red"))
	_ = c.Set([]byte("color"), []byte("blue"))
	c.Delete([]byte("color"))
	// Output:
	// color=red replaced
	// color=blue deleted
}

func ExampleCache_SetIfNewer() {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	// Changes of a row arrive out of order: version 3, then 2.
	for _, change := range []struct {
		version uint64
		value   string
	}{{3, "alice@new.example"}, {2, "alice@old.example"}} {
		stored, _ := c.SetIfNewer([]byte("user:42:email"), []byte(change.value), change.version, 0)
		fmt.Println(change.version, stored)
	}
	v, _ := c.Get(nil, []byte("user:42:email"))
	version, _ := c.Version([]byte("user:42:email"))
	fmt.Println(string(v), version)
	// Output:
	// 3 true
	// 2 false
	// alice@new.example 3
}

func ExampleCache_SaveFile() {
	dir, err := os.MkdirTemp("", "ringcache-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "cache.snap")

	before, _ := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	_ = before.SetWithTTL([]byte("session:1"), []byte("alice"), time.Hour)
	if err := before.SaveFile(path); err != nil { // at shutdown
		panic(err)
	}
	_ = before.Close()

	after, _ := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	defer after.Close()
	if err := after.LoadFile(path); err != nil { // at start; a missing file is os.ErrNotExist
		panic(err)
	}
	v, _ := after.Get(nil, []byte("session:1"))
	left, _ := after.TTL([]byte("session:1"))
	fmt.Println(string(v), left > 59*time.Minute)
	// Output: alice true
}
