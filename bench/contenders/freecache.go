package contenders

import (
	"github.com/coocood/freecache"
)

// freecache: GetWithBuf is its non-allocating read (it copies into buf).
type freecacheAdapter struct{ c *freecache.Cache }

func newFreecache(budget int64) (Cache, error) {
	if budget < 512<<10 {
		return nil, ErrTooSmall // NewCache silently raises smaller sizes to 512 KiB
	}
	return freecacheAdapter{freecache.NewCache(int(budget))}, nil
}
func (a freecacheAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, err := a.c.GetWithBuf(k.B, dst[len(dst):cap(dst)])
	if err != nil {
		return dst, false
	}
	if len(v) <= cap(dst)-len(dst) {
		return dst[:len(dst)+len(v)], true // copied into dst's spare room
	}
	return append(dst, v...), true
}
func (a freecacheAdapter) Set(k *Key, v []byte) { _ = a.c.Set(k.B, v, 0) }
func (a freecacheAdapter) Len() int             { return int(a.c.EntryCount()) }
func (a freecacheAdapter) Close()               {}
