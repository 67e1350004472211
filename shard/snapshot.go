package shard

import (
	"encoding/binary"
	"slices"
)

// AppendLive appends to dst a copy of every live entry that has not
// expired by now, most recently written or spared first (main's ring
// from its tail, then probation's), and returns it: for iteration and
// saving, which run with no lock held, so they copy a shard at a time.
// Each entry is encoded as LiveEntry reads it. It counts nothing as a
// read and changes no policy state. offs is scratch space, returned for
// reuse.
func (s *Shard) AppendLive(dst []byte, offs []int, now int64) ([]byte, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return dst, offs
	}
	// The live records' bytes bound their encoding (a head of 15 bytes
	// for a header of 12 and slack): one growth at most, before the loop.
	dst = slices.Grow(dst, s.liveBytes+3*s.live)
	offs = slices.Grow(offs[:0], s.live)
	for _, r := range []int{mainRing, probation} {
		ring, base := &s.rings[r], s.base(r)
		offs = offs[:0]
		_ = ring.Walk(func(off int) int { return recordSize(ring.Bytes(off, HeaderSize)) }, func(off, _ int) {
			if !isDead(ring.Bytes(off, HeaderSize)) {
				offs = append(offs, base+off)
			}
		})
		for i := len(offs) - 1; i >= 0; i-- {
			g := offs[i]
			hd := readHeader(s.bytes(g, HeaderSize))
			if s.clock.Expired(hd.expiry, now) {
				continue
			}
			var head [liveHead]byte
			binary.LittleEndian.PutUint16(head[0:], uint16(hd.keyLen))
			binary.LittleEndian.PutUint32(head[2:], uint32(hd.valLen))
			head[6] = hd.flags & flagFramed
			binary.LittleEndian.PutUint64(head[7:], uint64(hd.expiry))
			dst = append(dst, head[:]...)
			dst = append(dst, s.bytes(g+HeaderSize, hd.keyLen+hd.valLen)...)
		}
	}
	return dst, offs
}

// liveHead is the size of an entry's head in AppendLive's encoding: the
// key's length (2 bytes), the value's (4), whether it is framed (1) and
// its expiry stamp (8).
const liveHead = 2 + 4 + 1 + 8

// LiveEntry decodes the first entry of b, an AppendLive encoding, and
// returns it and the rest of b. The slices alias b.
func LiveEntry(b []byte) (key, value []byte, framed bool, expiry int64, rest []byte) {
	kl := int(binary.LittleEndian.Uint16(b))
	vl := int(binary.LittleEndian.Uint32(b[2:]))
	framed = b[6] != 0
	expiry = int64(binary.LittleEndian.Uint64(b[7:]))
	b = b[liveHead:]
	return b[:kl:kl], b[kl : kl+vl : kl+vl], framed, expiry, b[kl+vl:]
}
