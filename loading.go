package ringcache

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/bloom"
	"github.com/ringcache/ringcache/singleflight"
	"github.com/ringcache/ringcache/ttl"
)

// The loading layer's state and settings; GetOrLoad itself is in
// loader.go. The layer is built on the engine and the engine knows
// nothing of it.

// LoadFunc loads the value of key from the system of record for
// GetOrLoad. It returns the value and how long to cache it (0 means
// Config.DefaultTTL; negative is an error), ErrNotFound (possibly wrapped)
// when the key does not exist, or any other error when the load failed.
// ctx is cancelled when every caller waiting for this load has given up,
// or, for a background refresh, after Config.RefreshTimeout or at Close.
// The key slice is the loader's to keep.
type LoadFunc func(ctx context.Context, key []byte) (value []byte, ttl time.Duration, err error)

// loading is the state of GetOrLoad: the single-flight group, negative
// and error settings, the guard and the background refreshers. (How long
// a stale value is kept is the engine's: it writes the frames.)
type loading struct {
	flight         singleflight.Group[flightKey, []byte]
	guard          atomic.Pointer[bloom.Filter]
	negativeTTL    time.Duration
	errorTTL       time.Duration
	refreshAhead   float64
	refreshTimeout time.Duration
	adaptive       ttl.Adaptive
	refreshSlots   chan struct{}
	background     context.Context
	stop           context.CancelFunc
	errs           errorCache
	stats          loadStats
}

type loadStats struct {
	loads, discarded, loadErrors, shared, negativeHits, guardRejections atomic.Uint64
	staleServed, refreshes, refreshErrors                               atomic.Uint64
	times                                                               loadClock
}

// flightKey names a load: the key, and its write generation when the load
// began. A write moves the generation, so callers that come after it start
// a load of their own instead of joining one that may have read the
// source before the write.
type flightKey struct {
	key string
	gen uint32
}

func (l *loading) init(cfg *Config) {
	l.negativeTTL, l.errorTTL = cfg.NegativeTTL, cfg.ErrorTTL
	l.refreshAhead, l.adaptive = cfg.RefreshAhead, ttl.Adaptive(cfg.AdaptiveTTL)
	l.refreshTimeout = cfg.RefreshTimeout
	if l.refreshTimeout == 0 {
		l.refreshTimeout = DefaultRefreshTimeout
	}
	workers := cfg.RefreshWorkers
	if workers == 0 {
		workers = DefaultRefreshWorkers
	}
	l.refreshSlots = make(chan struct{}, workers)
	l.background, l.stop = context.WithCancel(context.Background())
	l.guard.Store(cfg.Guard)
}

func (l *loading) close() { l.stop() }
