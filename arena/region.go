package arena

import "errors"

// ErrMap reports that the operating system refused to map a region.
var ErrMap = errors.New("arena: cannot map memory")

// ErrRelease reports that a region cannot be released without unmapping
// it (see Region.Release).
var ErrRelease = errors.New("arena: region cannot be released in place")

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

// Releasable reports whether Release works on this region: it does for a
// mapping on Linux.
func (r *Region) Releasable() bool { return r.mapped && canRelease }

// Release gives the region's pages back to the operating system but keeps
// its addresses mapped: from then on they read as zeros, so code that may
// still be reading (without synchronization) cannot fault. Free unmaps
// them later. Writing after Release takes pages again. It returns
// ErrRelease when the region is not Releasable.
func (r *Region) Release() error {
	if !r.Releasable() || r.buf == nil {
		return ErrRelease
	}
	return releaseMemory(r.buf)
}

// Populate asks the operating system to back the region's pages with
// memory now, in one call, rather than one page fault at a time as they
// are first written. It leaves the contents as they are, so it is safe on
// a region in use. Where faults are costly it pays: on a 2-core VM,
// populating and then writing every page of fresh memory cost about half
// of writing it unpopulated (BenchmarkFreshMemory). It is a hint: where it
// is not supported (before Linux 5.14, other systems, a region on the
// heap) it does nothing, and the pages come as they are written.
func (r *Region) Populate() {
	if r.mapped && r.buf != nil {
		populateMemory(r.buf)
	}
}

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
