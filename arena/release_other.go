//go:build !linux

package arena

// The syscall package offers madvise on Linux only; elsewhere a region is
// released by Free alone.
const canRelease = false

func releaseMemory([]byte) error { return ErrRelease }

func populateMemory([]byte) {}
