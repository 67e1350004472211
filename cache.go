package ringcache

// The face of the package: a Cache is its engine and its loading layer.

// Cache is a sharded byte cache with a fixed memory budget. Create one with
// New; all methods are safe for concurrent use.
type Cache struct {
	engine          // the reads and writes (engine.go, reads.go, writes.go)
	loading loading // GetOrLoad's state, built on the engine (loader.go)
}

// New returns a cache holding at most cfg.Capacity bytes. It maps all of
// the memory up front (pages are committed by the OS as they are first
// written) and fails with ErrInvalidCapacity, ErrInvalidConfig or
// ErrInvalidTTL for an unusable Config.
func New(cfg Config) (*Cache, error) {
	c := new(Cache)
	if err := c.engine.init(&cfg); err != nil {
		return nil, err
	}
	c.loading.init(&cfg)
	return c, nil
}

// Close releases the cache's memory and stops its background refreshes.
// Afterwards reads miss and writes return ErrClosed; a second Close
// returns ErrClosed.
func (c *Cache) Close() error {
	c.loading.close()
	return c.engine.close()
}
