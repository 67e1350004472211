package contenders

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// golang-lru: the thread-safe LRU, bounded by count only.
type lruAdapter struct{ c *lru.Cache[string, []byte] }

func newLRU(n int) (Cache, error) {
	c, err := lru.New[string, []byte](n)
	return lruAdapter{c}, err
}
func (a lruAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, ok := a.c.Get(k.S)
	return found(dst, v, ok)
}
func (a lruAdapter) Set(k *Key, v []byte) { a.c.Add(k.S, v) }
func (a lruAdapter) Len() int             { return a.c.Len() }
func (a lruAdapter) Close()               {}
