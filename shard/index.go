package shard

import "fmt"

// The index: open addressing with linear probing over 8-byte slots, each
// a 32-bit hash tag and a ring offset plus one (0 is empty).

const (
	slotSize = 8
	// The index holds at most loadNum/loadDen live slots: linear probing
	// stays short (about 3 probes for a hit, 13 for a miss at the limit).
	loadNum, loadDen = 4, 5
	// minSlots keeps tiny shards able to hold a handful of entries.
	minSlots = 8
)

func slotValue(tag uint32, g int) uint64 { return uint64(tag)<<32 | uint64(g+1) }

func slotOffset(v uint64) int { return int(uint32(v)) - 1 }

func (s *Shard) home(tag uint32) int { return int(uint64(tag) * uint64(len(s.slots)) >> 32) }

func (s *Shard) next(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// find returns the slot and global offset of key's entry, or slot -1.
func (s *Shard) find(tag uint32, key []byte) (int, int) {
	for i := s.home(tag); ; i = s.next(i) {
		v := s.slots[i]
		if v == 0 {
			return -1, 0
		}
		if uint32(v>>32) != tag {
			continue
		}
		g := slotOffset(v)
		hd := s.bytes(g, HeaderSize)
		if keyLenOf(hd) == len(key) && string(s.bytes(g+HeaderSize, len(key))) == string(key) {
			return i, g
		}
	}
}

// slotAt returns the slot pointing at the live entry at global offset g,
// whose key hashes to tag. The invariants guarantee it exists.
func (s *Shard) slotAt(tag uint32, g int) int {
	want := slotValue(tag, g)
	i := s.home(tag)
	for n := 0; s.slots[i] != want; n++ {
		if n > len(s.slots) {
			panic(fmt.Sprintf("slotAt: no slot for tag %x at %d", tag, g))
		}
		i = s.next(i)
	}
	return i
}

func (s *Shard) insert(tag uint32, g int) {
	i := s.home(tag)
	for s.slots[i] != 0 {
		i = s.next(i)
	}
	s.slots[i] = slotValue(tag, g)
}

// removeSlot empties slot i and shifts back the slots after it that would
// otherwise become unreachable from their home.
func (s *Shard) removeSlot(i int) {
	for j := s.next(i); s.slots[j] != 0; j = s.next(j) {
		h := s.home(uint32(s.slots[j] >> 32))
		// Move j back to i unless its home lies cyclically in (i, j].
		if (i < j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
}
