//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package arena

import "fmt"

func mapMemory(size int) (buf []byte, mapped bool, err error) {
	defer func() {
		// make panics on a length the runtime can never satisfy; report
		// that as the documented error instead.
		if r := recover(); r != nil {
			buf, mapped, err = nil, false, fmt.Errorf("%w: %d bytes: %v", ErrMap, size, r)
		}
	}()
	return make([]byte, size), false, nil
}

func unmapMemory([]byte) error { return nil }
