package shard

import (
	"encoding/binary"
	"sync"
)

// Cause says why an entry left a shard, for Options.OnRemove.
type Cause uint8

// The causes of a removal.
const (
	Evicted  Cause = iota + 1 // dropped to make room, or refused by the policy
	Expired                   // found past its expiry by a read, a write or reclaiming
	Deleted                   // removed by Delete
	Replaced                  // overwritten by a write of its key
	Cleared                   // dropped by Clear
)

// The listener runs with no lock held: a locked section copies each entry
// it removes into a buffer of its own, and unlock hands the buffer to the
// listener once the lock is released. Without a listener nothing is
// copied and unlock is the mutex's.

// removalBuffers hold the copies, reused across sections.
var removalBuffers = sync.Pool{New: func() any { return new([]byte) }}

// removalHead is a copy's head: cause (1 byte), framed (1), key length
// (2), value length (4).
const removalHead = 1 + 1 + 2 + 4

// removed copies the record at global offset g for the listener, if there
// is one. It is called before the record's bytes are released.
func (s *Shard) removed(g int, cause Cause) {
	if s.opts.OnRemove == nil {
		return
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if s.gone == nil {
		s.gone = removalBuffers.Get().(*[]byte)
	}
	var head [removalHead]byte
	head[0], head[1] = byte(cause), hd.flags&flagFramed
	binary.LittleEndian.PutUint16(head[2:], uint16(hd.keyLen))
	binary.LittleEndian.PutUint32(head[4:], uint32(hd.valLen))
	*s.gone = append(append(*s.gone, head[:]...), s.bytes(g+HeaderSize, hd.keyLen+hd.valLen)...)
}

// unlock releases the shard lock, then calls the listener for each entry
// the locked section removed, in order.
func (s *Shard) unlock() {
	gone := s.gone
	s.gone = nil
	s.mu.Unlock()
	if gone != nil {
		s.tell(gone)
	}
}

func (s *Shard) tell(gone *[]byte) {
	for b := *gone; len(b) > 0; {
		cause, framed := Cause(b[0]), b[1] != 0
		kl, vl := int(binary.LittleEndian.Uint16(b[2:])), int(binary.LittleEndian.Uint32(b[4:]))
		b = b[removalHead:]
		s.opts.OnRemove(b[:kl:kl], b[kl:kl+vl:kl+vl], framed, cause)
		b = b[kl+vl:]
	}
	*gone = (*gone)[:0]
	removalBuffers.Put(gone)
}
