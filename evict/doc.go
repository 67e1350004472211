// Package evict holds the policies that decide which entries a full shard
// gives up. They are pure logic over a few bits of per-entry metadata that
// the shard keeps in each entry's header: no I/O, no memory of their own per
// entry, no locks (the shard calls them under its own).
package evict
