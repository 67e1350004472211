package ringcache

import "github.com/ringcache/ringcache/shard"

// Removal listeners: the causes, and what a listener is shown.

// RemovalCause says why an entry left the cache, for Config.OnRemove.
type RemovalCause uint8

// The causes of a removal.
const (
	// Evicted: dropped to make room, or refused by the admission policy.
	Evicted = RemovalCause(shard.Evicted)
	// Expired: its TTL had passed when the cache found it.
	Expired = RemovalCause(shard.Expired)
	// Deleted: removed by Delete.
	Deleted = RemovalCause(shard.Deleted)
	// Replaced: overwritten by a write of its key.
	Replaced = RemovalCause(shard.Replaced)
	// Cleared: dropped by Clear.
	Cleared = RemovalCause(shard.Cleared)
)

// String returns the cause's name: "evicted", "expired", and so on.
func (c RemovalCause) String() string {
	switch c {
	case Evicted:
		return "evicted"
	case Expired:
		return "expired"
	case Deleted:
		return "deleted"
	case Replaced:
		return "replaced"
	case Cleared:
		return "cleared"
	}
	return "unknown"
}

// removed is the shards' Options.OnRemove: it shows the listener what a
// read would have returned of the entry, and nothing of the cache's own
// entries (tombstones, chunks).
func (c *engine) removed(key, v []byte, framed bool, cause shard.Cause) {
	f, payload := decode(v, framed)
	switch f.kind {
	case kindValue:
		c.withValue(f, payload, func(b []byte) { c.onRemove(key, b, RemovalCause(cause)) })
	case kindManifest:
		m, ok := readManifest(payload)
		if !ok {
			return
		}
		// The chunks are other entries, still there unless evicted: the
		// listener gets the whole value, or nil.
		out, ok := c.gather(nil, c.hasher.Sum(key), m, c.clock.Now())
		if !ok {
			out = nil
		}
		c.onRemove(key, out, RemovalCause(cause))
	}
}
