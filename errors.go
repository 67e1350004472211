package ringcache

import (
	"errors"

	"github.com/ringcache/ringcache/shard"
)

// Errors returned by the cache. Test for them with errors.Is: some are
// wrapped with details.
var (
	// ErrClosed is returned by writes to a cache after Close, and by a
	// second Close.
	ErrClosed = shard.ErrClosed
	// ErrKeyTooLarge is returned for keys longer than Cache.MaxKeySize
	// (at most MaxKeyLen).
	ErrKeyTooLarge = shard.ErrKeyTooLarge
	// ErrEntryTooLarge is returned when a key and value together exceed
	// Cache.MaxEntrySize.
	ErrEntryTooLarge = shard.ErrEntryTooLarge
	// ErrInvalidTTL is returned for negative TTLs.
	ErrInvalidTTL = errors.New("ringcache: invalid TTL")
	// ErrInvalidCapacity is returned by New when Config.Capacity is outside
	// [MinCapacity, MaxCapacity] or the memory cannot be mapped.
	ErrInvalidCapacity = errors.New("ringcache: invalid capacity")
	// ErrInvalidConfig is returned by New for any other unusable Config
	// field; the message names it.
	ErrInvalidConfig = errors.New("ringcache: invalid config")
	// ErrNotFound is what a LoadFunc returns for a key that does not
	// exist, and what GetOrLoad returns for such keys (see there).
	ErrNotFound = errors.New("ringcache: not found")
	// ErrNilLoader is returned by GetOrLoad for a nil LoadFunc.
	ErrNilLoader = errors.New("ringcache: nil loader")
)
