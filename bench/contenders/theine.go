package contenders

import (
	theine "github.com/Yiling-J/theine-go"
)

// theine: string keys; its capacity is in cost units (1 per entry, or
// bytes with a weight).
type theineAdapter struct {
	c     *theine.Cache[string, []byte]
	weigh bool
}

func newTheineCount(n int) (Cache, error) {
	c, err := theine.NewBuilder[string, []byte](int64(n)).Build()
	return theineAdapter{c: c}, err
}
func newTheineBytes(budget int64) (Cache, error) {
	c, err := theine.NewBuilder[string, []byte](budget).Build()
	return theineAdapter{c: c, weigh: true}, err
}
func (a theineAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, ok := a.c.Get(k.S)
	return found(dst, v, ok)
}
func (a theineAdapter) Set(k *Key, v []byte) {
	a.c.Set(k.S, v, weight(a.weigh, k, v))
}
func (a theineAdapter) Len() int { return a.c.Len() }
func (a theineAdapter) Close()   { a.c.Close() }

func (a theineAdapter) Settle() { a.c.Wait() }
