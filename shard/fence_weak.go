//go:build !(amd64 || 386 || s390x)

package shard

import "sync/atomic"

// readFence orders the plain reads before it ahead of the atomic read of
// the sequence after it. On processors that may reorder reads (arm64,
// ppc64, riscv64 and others) an atomic read only keeps later reads
// behind it; an atomic read-modify-write is ordered with both, and on a
// local variable it costs no shared cache line.
func readFence() {
	var x uint32
	atomic.AddUint32(&x, 0)
}
