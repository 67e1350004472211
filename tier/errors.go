package tier

import (
	"errors"
)

// Errors returned by a Tier. Test for them with errors.Is: most are
// wrapped with details. Where the local tier's errors apply, a Tier
// returns the root package's: ringcache.ErrNotFound (which a LoadFunc
// returns for a key that does not exist, and GetOrLoad for such keys),
// ringcache.ErrClosed (after Close, and from a second Close),
// ringcache.ErrKeyTooLarge (keys longer than the local tier's
// MaxKeySize), ringcache.ErrInvalidTTL (negative TTLs) and
// ringcache.ErrNilLoader (GetOrLoad with a nil LoadFunc).
var (
	// ErrInvalidConfig is returned by New for an unusable Config; the
	// message names the field.
	ErrInvalidConfig = errors.New("tier: invalid config")
	// ErrReservedValue is returned by Set, and by GetOrLoad for a loaded
	// value, when the value begins with ReservedPrefix, which marks the
	// tier's own placeholders in Redis.
	ErrReservedValue = errors.New("tier: value begins with the reserved prefix")
	// ErrUnavailable wraps the failure when Redis could not be reached,
	// the lease lapsed or the circuit breaker is open. A Set that returns
	// it may not have stored its value; its key is queued for deletion in
	// Redis all the same (see Set).
	ErrUnavailable = errors.New("tier: redis unavailable")
	// ErrAuth is returned by New when Redis refuses the credentials in
	// Config.Redis (WRONGPASS, NOAUTH, NOPERM): unlike an unreachable
	// Redis, waiting does not help.
	ErrAuth = errors.New("tier: redis refused the credentials")
	// ErrNotCached is returned by Get when neither tier holds a value for
	// the key.
	ErrNotCached = errors.New("tier: not cached")
	// ErrNoKeys is returned by Invalidate called without keys.
	ErrNoKeys = errors.New("tier: no keys")
)
