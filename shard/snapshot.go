package shard

import (
	"encoding/binary"
	"slices"
)

// AppendLive appends to dst a copy of every live entry that has not
// expired by now, and returns it: for iteration, which must run the
// caller's code with no lock held, so it copies a shard at a time. Each
// entry is encoded as a LiveEntry reads it. It counts nothing as a read
// and changes no policy state; expired entries are left for their reads
// or reclaiming to drop.
func (s *Shard) AppendLive(dst []byte, now int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return dst
	}
	// The live records' bytes bound their encoding (a shorter head, no
	// slack): one growth at most, before the loop.
	dst = slices.Grow(dst, s.liveBytes)
	for _, v := range s.slots {
		if v == 0 {
			continue
		}
		g := slotOffset(v)
		hd := readHeader(s.bytes(g, HeaderSize))
		if s.clock.Expired(hd.expiry, now) {
			continue
		}
		rec := s.bytes(g, HeaderSize+hd.keyLen+hd.valLen)
		var head [liveHead]byte
		binary.LittleEndian.PutUint16(head[0:], uint16(hd.keyLen))
		binary.LittleEndian.PutUint32(head[2:], uint32(hd.valLen))
		head[6] = hd.flags & flagFramed
		dst = append(dst, head[:]...)
		dst = append(dst, rec[HeaderSize:]...)
	}
	return dst
}

// liveHead is the size of an entry's head in AppendLive's encoding: the
// key's length (2 bytes), the value's (4) and whether it is framed (1).
const liveHead = 2 + 4 + 1

// LiveEntry decodes the first entry of b, an AppendLive encoding, and
// returns it and the rest of b. The slices alias b.
func LiveEntry(b []byte) (key, value []byte, framed bool, rest []byte) {
	kl := int(binary.LittleEndian.Uint16(b))
	vl := int(binary.LittleEndian.Uint32(b[2:]))
	framed = b[6] != 0
	b = b[liveHead:]
	return b[:kl:kl], b[kl : kl+vl : kl+vl], framed, b[kl+vl:]
}
