package arena

import (
	"fmt"
	"syscall"
)

const canRelease = true

// releaseMemory drops buf's pages: an anonymous private mapping reads as
// zeros afterwards.
func releaseMemory(buf []byte) error {
	if err := syscall.Madvise(buf, syscall.MADV_DONTNEED); err != nil {
		return fmt.Errorf("arena: madvise: %w", err)
	}
	return nil
}

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which the
// syscall package does not name.
const madvPopulateWrite = 23

// populateMemory faults buf's pages in for writing; older kernels refuse
// the advice, which is then ignored.
func populateMemory(buf []byte) { _ = syscall.Madvise(buf, madvPopulateWrite) }
