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
