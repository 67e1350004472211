// Package bloom is a blocked Bloom filter: each key's bits all fall in one
// 64-byte block (a cache line), so a lookup or an insert touches one cache
// line however many hash functions it uses. Bits are set and read with
// atomic operations, so a Filter is safe for concurrent use without a lock
// and never allocates after New.
//
// A Bloom filter answers "maybe present" or "certainly absent": Has never
// returns false for a key that was added (until Reset), and returns true for
// a key that was not with a probability that New sizes to the caller's
// target. Blocking costs a little accuracy for the speed; Filter.FalsePositiveRate
// reports the expected rate of this layout, blocks included.
//
// [Rotating] keeps two generations to answer "seen recently": keys are
// added to the current generation, looked up in both, and when the current
// one has taken its share the older one is cleared and becomes current.
//
// It is an engine part of ringcache: a Filter is what Config.Guard takes,
// and the rotating form is the admission policy's history; the API
// follows the root package, not a stable API of its own.
package bloom
