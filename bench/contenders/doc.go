// Package contenders holds the caches the suite compares, each behind
// Cache, one file an adapter (ringcache.go, otter.go, ...): how each is
// built for a count of entries or a byte budget, and how its reads and
// writes are called.
package contenders
