package arena

import "fmt"

// Ring allocates variable-length records in FIFO order over a fixed byte
// slice. The zero value is an empty ring of size zero; use NewRing.
//
// Records are identified by their offset. The owner must reclaim records in
// the order they were allocated, passing each one's size, because the ring
// stores no per-record bookkeeping.
//
// Ring is not safe for concurrent use.
type Ring struct {
	buf  []byte
	head int // offset of the oldest record
	tail int // offset where the next record goes
	used int // bytes between head and tail, padding included
	// padAt is where the padding run before the end begins, or len(buf)
	// when there is none. Padding exists only while the tail has wrapped
	// and the head has not.
	padAt int
}

// NewRing returns an empty ring over buf. The ring owns buf from then on.
func NewRing(buf []byte) Ring {
	return Ring{buf: buf, padAt: len(buf)}
}

// Size returns the ring's capacity in bytes.
func (r *Ring) Size() int { return len(r.buf) }

// Padding returns the bytes currently lost to the padding run.
func (r *Ring) Padding() int { return len(r.buf) - r.padAt }

// Head returns the offset of the oldest record, or false when the ring is
// empty.
func (r *Ring) Head() (int, bool) {
	return r.head, r.used > 0
}

// Tail returns the offset where the next record goes.
func (r *Ring) Tail() int { return r.tail }

// Bytes returns the n bytes at off. The slice aliases the ring.
func (r *Ring) Bytes(off, n int) []byte { return r.buf[off : off+n : off+n] }

// Alloc takes n contiguous bytes at the tail without reclaiming anything and
// returns their offset. When the bytes before the end are too few it turns
// them into padding and wraps, since they could not hold this record anyway.
// It returns false when the free space at the tail is too small: the owner
// must reclaim the head and try again. n must be positive and at most Size.
func (r *Ring) Alloc(n int) (int, bool) {
	if r.used == 0 {
		// Starting over at zero keeps an emptied ring from padding early.
		r.head, r.tail, r.padAt = 0, 0, len(r.buf)
	}
	if r.tail > r.head || r.used == 0 {
		// Free space is [tail, end) and [0, head).
		if len(r.buf)-r.tail >= n {
			return r.take(n), true
		}
		r.padAt = r.tail
		r.used += len(r.buf) - r.tail
		r.tail = 0
	}
	// Free space is [tail, head).
	if r.head-r.tail >= n {
		return r.take(n), true
	}
	return 0, false
}

// Fits reports whether Alloc(n) would succeed now, without changing the
// ring.
func (r *Ring) Fits(n int) bool {
	switch {
	case r.used == 0:
		return n <= len(r.buf)
	case r.tail > r.head:
		return len(r.buf)-r.tail >= n || r.head >= n
	default:
		return r.head-r.tail >= n
	}
}

func (r *Ring) take(n int) int {
	off := r.tail
	r.tail += n
	r.used += n
	if r.tail == len(r.buf) {
		r.tail = 0
	}
	return off
}

// Reclaim releases the oldest record, whose size is n. Its bytes stay
// readable until the space is allocated again.
func (r *Ring) Reclaim(n int) {
	r.head += n
	r.used -= n
	if r.head == r.padAt {
		r.used -= len(r.buf) - r.padAt
		r.padAt = len(r.buf)
		r.head = 0
	} else if r.head == len(r.buf) {
		r.head = 0
	}
}

// Recycle moves the oldest record, of size n, to the tail and returns its
// new offset. It never fails: the space the record leaves at the head is
// always enough to take it again, after at most one wrap.
func (r *Ring) Recycle(n int) int {
	src := r.head
	r.Reclaim(n)
	dst, ok := r.Alloc(n)
	if !ok {
		panic("arena: Recycle found no room for the record it freed")
	}
	if dst != src {
		copy(r.buf[dst:dst+n], r.buf[src:src+n])
	}
	return dst
}

// Reset empties the ring.
func (r *Ring) Reset() {
	r.head, r.tail, r.used, r.padAt = 0, 0, 0, len(r.buf)
}

// Walk calls fn with the offset of every record from head to tail, in
// allocation order. size reports a record's length from its bytes. Walk is
// for invariant checks: it returns an error when the records do not tile the
// used space exactly.
func (r *Ring) Walk(size func(off int) int, fn func(off, n int)) error {
	if err := r.checkBounds(); err != nil {
		return err
	}
	off, remaining := r.head, r.used
	for remaining > 0 {
		if off == r.padAt {
			remaining -= len(r.buf) - r.padAt
			off = 0
			continue
		}
		n := size(off)
		if n <= 0 || off+n > len(r.buf) || n > remaining {
			return fmt.Errorf("arena: record at %d has size %d with %d bytes left to walk", off, n, remaining)
		}
		fn(off, n)
		off += n
		remaining -= n
		if off == len(r.buf) {
			off = 0
		}
	}
	if off != r.tail {
		return fmt.Errorf("arena: walk ended at %d, tail is %d", off, r.tail)
	}
	return nil
}

func (r *Ring) checkBounds() error {
	size := len(r.buf)
	switch {
	case r.used < 0 || r.used > size:
		return fmt.Errorf("arena: used %d outside [0, %d]", r.used, size)
	case r.head < 0 || r.head >= max(size, 1) || r.tail < 0 || r.tail >= max(size, 1):
		return fmt.Errorf("arena: head %d or tail %d outside ring of %d", r.head, r.tail, size)
	case r.padAt < 0 || r.padAt > size:
		return fmt.Errorf("arena: padding start %d outside ring of %d", r.padAt, size)
	case r.padAt < size && !(r.tail <= r.head && r.head < r.padAt):
		return fmt.Errorf("arena: padding at %d while head %d and tail %d are not wrapped", r.padAt, r.head, r.tail)
	}
	span := r.tail - r.head
	if span < 0 || (span == 0 && r.used > 0) {
		span += size
	}
	if span != r.used {
		return fmt.Errorf("arena: head %d to tail %d spans %d bytes, used says %d", r.head, r.tail, span, r.used)
	}
	return nil
}

// GrowEnd lengthens the ring by n bytes at its end; buf must have the
// capacity. It always succeeds: on a wrapped ring the new bytes join the
// padding run, free once the head passes it.
func (r *Ring) GrowEnd(n int) {
	old := len(r.buf)
	r.buf = r.buf[:old+n]
	switch {
	case r.used == 0:
		r.head, r.tail, r.padAt = 0, 0, len(r.buf)
	case r.tail > r.head:
		r.padAt = len(r.buf)
	default:
		r.padAt = min(r.padAt, old)
		r.used += n
	}
}

// ShrinkEnd shortens the ring by n bytes at its end if no record lies in
// them, and reports whether it did.
func (r *Ring) ShrinkEnd(n int) bool {
	m := len(r.buf) - n
	switch {
	case n <= 0 || m < 1:
		return false
	case r.used == 0:
		r.buf = r.buf[:m]
		r.head, r.tail, r.padAt = 0, 0, m
	case r.tail > r.head:
		if r.tail > m {
			return false
		}
		r.buf = r.buf[:m]
		r.padAt = m
		if r.tail == m {
			r.tail = 0 // the newest record now ends at the end
		}
	default:
		if r.padAt > m {
			return false
		}
		r.used -= n
		r.buf = r.buf[:m]
	}
	return true
}

// CanGrowStart reports whether GrowStart would succeed: the ring must not
// be wrapped, so that bytes before its start join the free space before
// its head.
func (r *Ring) CanGrowStart() bool { return r.used == 0 || r.tail > r.head }

// GrowStart moves the ring's start n bytes back: buf is the ring's memory
// with n more bytes in front. Records keep their place in memory; their
// offsets in the ring grow by n. In an empty or unwrapped ring the new
// bytes are free. A wrapped ring's new bytes come right after the wrap,
// before its newest records, and join its used bytes: GrowStart then
// returns true, and the caller must fill them with records the owner
// reclaims like any other (dead fillers).
func (r *Ring) GrowStart(buf []byte, n int) (filled bool) {
	wrapped := r.tail <= r.head
	r.buf = buf
	if r.used == 0 {
		r.head, r.tail, r.padAt = 0, 0, len(buf)
		return false
	}
	r.head += n
	r.tail += n
	if !wrapped {
		r.padAt = len(buf)
		return false
	}
	r.padAt += n
	r.used += n
	return true
}

// DropStart moves a wrapped ring's start n bytes forward and takes the
// records in them out of the ring, to be adopted by another: they are the
// oldest records of the wrapped part, and n must end on a record boundary.
// It reports false and changes nothing when the ring is not wrapped or n
// goes past the tail.
func (r *Ring) DropStart(n int) bool {
	if n <= 0 || r.used == 0 || r.tail > r.head || n > r.tail {
		return false
	}
	r.buf = r.buf[n:]
	r.head -= n
	r.tail -= n
	r.padAt -= n
	r.used -= n
	return true
}

// DropEnd shortens a wrapped ring by n bytes at its end and takes the
// records in them, with the padding after them, out of the ring, to be
// adopted by another: they are its oldest records, and len(buf)-n must be
// the offset of one of them. It reports false and changes nothing when the
// ring is not wrapped or len(buf)-n lies before the head.
func (r *Ring) DropEnd(n int) bool {
	m := len(r.buf) - n
	if n <= 0 || m < 1 || r.used == 0 || r.tail > r.head || m < r.head {
		return false
	}
	r.buf = r.buf[:m]
	r.used -= n
	r.padAt = m
	if r.head == m {
		r.head = 0 // every record of the old part went: the newest remain
	}
	if r.tail == m {
		r.tail = 0 // the ring was full: its newest record ends at the end
	}
	return true
}

// EndGap reports the run of free or padding bytes between the last record
// before the ring's end and the end, which AdoptEnd joins to the used
// bytes: its offset and length.
func (r *Ring) EndGap() (at, n int) {
	switch {
	case r.used == 0:
		return 0, 0
	case r.tail > r.head:
		return r.tail, len(r.buf) - r.tail
	}
	return r.padAt, len(r.buf) - r.padAt
}

// AdoptEnd lengthens the ring by n bytes at its end that hold records it
// takes in place; buf must have the capacity. They come right after the
// last record before the old end: the newest when the ring is unwrapped,
// and otherwise older than the records the tail has wrapped to the
// start. The gap EndGap reported joins the used bytes: the caller fills
// it with dead fillers.
func (r *Ring) AdoptEnd(n int) {
	old := len(r.buf)
	r.buf = r.buf[:old+n]
	switch {
	case r.used == 0:
		r.head, r.tail, r.used = old, 0, n
	case r.tail > r.head || r.tail == 0:
		// Everything from the head to the new end is now used, and the
		// next record goes at the start.
		r.used = len(r.buf) - r.head
		r.tail = 0
	default:
		// Wrapped: the padding was counted as used already.
		r.used += n
	}
	r.padAt = len(r.buf)
}

// ShrinkStart moves the ring's start n bytes forward if no record lies in
// them, and reports whether it did. Records keep their place in memory;
// their offsets in the ring shrink by n.
func (r *Ring) ShrinkStart(n int) bool {
	switch {
	case n <= 0 || n >= len(r.buf):
		return false
	case r.used == 0:
		r.buf = r.buf[n:]
		r.head, r.tail, r.padAt = 0, 0, len(r.buf)
	case r.tail == 0 && r.head >= n:
		// Wrapped with nothing before the tail: the bytes before the head
		// are free.
		r.buf = r.buf[n:]
		r.head -= n
		r.padAt -= n
	case r.tail <= r.head || r.head < n:
		return false
	default:
		r.buf = r.buf[n:]
		r.head -= n
		r.tail -= n
		r.padAt = len(r.buf)
	}
	return true
}
