package arena

import "errors"

// ErrMap reports that the operating system refused to map a region.
var ErrMap = errors.New("arena: cannot map memory")

// Region is a block of memory allocated once and released by Free.
// Bytes stays valid until Free; using it afterwards is a fault the
// caller must exclude by its own synchronization.
type Region struct {
	buf    []byte
	mapped bool
}

// NewRegion allocates size bytes of zeroed memory. On Linux, macOS and the
// BSDs the memory is an anonymous private mapping outside the Go heap; pages
// are committed by the OS only when first written. Elsewhere it is a byte
// slice. A size of zero or less returns an empty region.
func NewRegion(size int) (*Region, error) {
	if size <= 0 {
		return &Region{}, nil
	}
	buf, mapped, err := mapMemory(size)
	if err != nil {
		return nil, err
	}
	return &Region{buf: buf, mapped: mapped}, nil
}

// Bytes returns the whole region; nil after Free.
func (r *Region) Bytes() []byte { return r.buf }

// Free returns the memory to the operating system. It is safe to call more
// than once.
func (r *Region) Free() error {
	buf := r.buf
	r.buf = nil
	if buf == nil || !r.mapped {
		return nil
	}
	return unmapMemory(buf)
}
