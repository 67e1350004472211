//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package arena

import (
	"fmt"
	"syscall"
)

func mapMemory(size int) ([]byte, bool, error) {
	buf, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %d bytes: %v", ErrMap, size, err)
	}
	return buf, true, nil
}

func unmapMemory(buf []byte) error {
	if err := syscall.Munmap(buf); err != nil {
		return fmt.Errorf("arena: munmap: %w", err)
	}
	return nil
}
