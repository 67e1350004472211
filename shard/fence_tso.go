//go:build amd64 || 386 || s390x

package shard

// readFence orders the plain reads before it ahead of the atomic read of
// the sequence after it. These processors never reorder one read with a
// later one, so nothing is needed.
func readFence() {}
