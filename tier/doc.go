// Package tier puts a ringcache in front of Redis in front of a loader
// (the database), and keeps every instance of a service that shares the
// Redis consistent.
//
// Each instance holds local copies in a ringcache: a hit costs no round
// trip and no allocation. A local miss reads Redis with client-side
// tracking (RESP3 CLIENT TRACKING, through github.com/redis/rueidis), so
// Redis notifies the instance when the key changes, by anyone; the notice
// drops the local copy. A miss in Redis takes a lock there, so that one
// instance loads the key while the others wait for the notice that its
// value is stored. [Tier.Invalidate] (delete on write) and [Tier.Set]
// (write through) change Redis and notify every other instance.
//
// The guarantees, measured in the tests against a real redis-server and a
// real three-master cluster:
//
//   - after Invalidate or Set returns, other instances drop their copy as
//     soon as Redis's notice arrives (docs/tier.md gives the figures);
//   - a load that began before a write stores its result in neither tier
//     (writes win, as in ringcache.Cache.GetOrLoad, across instances);
//   - concurrent misses of one key across instances run the loader once;
//     a lock whose holder died expires after Config.LockTTL;
//   - ringcache.ErrNotFound from the loader is remembered in Redis for every
//     instance (Config.NegativeTTL);
//   - local copies are served only within Config.Lease of a heartbeat
//     every node answered: a Redis that goes silent without closing its
//     connections stops them within the lease, and the local tier is
//     cleared;
//   - while Redis is down or silent, reads go to the loader (values kept
//     locally for Config.UntrackedTTL only) without waiting on it, and
//     writes are queued: each is delivered when Redis answers, before the
//     key is read there again (Invalidate returns nil for a queued key);
//   - New works while Redis is down and connects when it can.
//
// The design, and how it compares with rueidisaside, is in docs/tier.md.
package tier
