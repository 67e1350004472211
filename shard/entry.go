package shard

import "encoding/binary"

// HeaderSize is the size of an entry header in the ring.
const HeaderSize = 12

const (
	// MaxKeyLen is the longest key a shard stores.
	MaxKeyLen = 1<<16 - 1
	// MaxValueLen is the longest value a header can describe.
	MaxValueLen = 1<<24 - 1
	maxSlack    = 1<<8 - 1

	flagDead   uint8 = 0x80
	flagFramed uint8 = 0x40
)

// entryHeader is the decoded form of the 12 header bytes.
type entryHeader struct {
	keyLen int
	valLen int
	slack  int
	expiry int64
	flags  uint8
}

func (h *entryHeader) size() int { return HeaderSize + h.keyLen + h.valLen + h.slack }

func readHeader(b []byte) entryHeader {
	_ = b[HeaderSize-1]
	return entryHeader{
		keyLen: int(binary.LittleEndian.Uint16(b)),
		valLen: int(b[2]) | int(b[3])<<8 | int(b[4])<<16,
		slack:  int(b[5]),
		expiry: int64(binary.LittleEndian.Uint32(b[6:])) | int64(b[10])<<32,
		flags:  b[11],
	}
}

func writeHeader(b []byte, h entryHeader) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint16(b, uint16(h.keyLen))
	b[2], b[3], b[4] = byte(h.valLen), byte(h.valLen>>8), byte(h.valLen>>16)
	b[5] = byte(h.slack)
	binary.LittleEndian.PutUint32(b[6:], uint32(h.expiry))
	b[10] = byte(h.expiry >> 32)
	b[11] = h.flags
}

// recordSize reads just enough of the header at b to know the entry's size.
func recordSize(b []byte) int {
	return HeaderSize + int(binary.LittleEndian.Uint16(b)) + (int(b[2]) | int(b[3])<<8 | int(b[4])<<16) + int(b[5])
}
