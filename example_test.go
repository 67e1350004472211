package ringcache_test

import (
	"fmt"
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
