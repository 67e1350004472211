package shard

import (
	"encoding/binary"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/ttl"
)

// The entry header codec: the one place that knows where each field of a
// record's 12-byte header lies (see the package doc for the layout).

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

// Header layout: the offset of each field in the 12 bytes.
const (
	offKeyLen = 0  // 2 bytes
	offValLen = 2  // 3 bytes
	offSlack  = 5  // 1 byte
	offExpiry = 6  // ttl.StampSize bytes
	offFlags  = 11 // 1 byte: flagDead, flagFramed and the policy's evict.MetaBits
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

// lengths decodes the header's three lengths, all a record's size needs.
func lengths(b []byte) (keyLen, valLen, slack int) {
	return keyLenOf(b), int(b[offValLen]) | int(b[offValLen+1])<<8 | int(b[offValLen+2])<<16, int(b[offSlack])
}

// keyLenOf decodes only the key length, as a probe comparing keys needs.
func keyLenOf(b []byte) int { return int(binary.LittleEndian.Uint16(b[offKeyLen:])) }

func readHeader(b []byte) entryHeader {
	k, v, sl := lengths(b)
	return entryHeader{keyLen: k, valLen: v, slack: sl, expiry: ttl.ReadStamp(b[offExpiry:]), flags: b[offFlags]}
}

func writeHeader(b []byte, h entryHeader) {
	writeFields(b, h.keyLen, h.valLen, h.slack, h.expiry, h.flags)
}

// writeFields writes a header from its fields, as two stores: the same
// words readValue loads.
func writeFields(b []byte, keyLen, valLen, slack int, expiry int64, flags uint8) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint64(b, uint64(keyLen)&(1<<16-1)|uint64(valLen)&(1<<24-1)<<(8*offValLen)|
		uint64(slack)&(1<<8-1)<<(8*offSlack)|uint64(expiry)<<(8*offExpiry))
	binary.LittleEndian.PutUint32(b[8:], uint32(expiry>>16)&(1<<24-1)|uint32(flags)<<24)
}

// readValue decodes what a read of a record needs beyond the key, which
// it has compared already: the value's length, the expiry stamp and the
// flags, from two loads (a header decoded field by field into a struct
// and copied cost a stalled store forwarding on every lock-free read).
func readValue(b []byte) (valLen int, expiry int64, flags uint8) {
	_ = b[HeaderSize-1]
	lo := binary.LittleEndian.Uint64(b)     // key length, value length, slack, expiry's low 2 bytes
	hi := binary.LittleEndian.Uint32(b[8:]) // expiry's high 3 bytes, flags
	return int(lo >> (8 * offValLen) & (1<<24 - 1)), int64(lo>>(8*offExpiry)) | int64(hi&(1<<24-1))<<16, uint8(hi >> 24)
}

// recordSize reads just enough of the header at b to know the entry's size.
func recordSize(b []byte) int {
	k, v, sl := lengths(b)
	return HeaderSize + k + v + sl
}

// setMeta replaces the policy's bits in the flags of the header at b.
func setMeta(b []byte, meta uint8) {
	b[offFlags] = b[offFlags]&^evict.MetaBits | meta&evict.MetaBits
}

// markDead sets the dead flag in the header at b.
func markDead(b []byte) { b[offFlags] |= flagDead }

// isDead reports whether the header at b is marked dead.
func isDead(b []byte) bool { return b[offFlags]&flagDead != 0 }
