package ttl

import (
	"encoding/binary"
	"time"
)

// MaxStamp is the largest expiry stamp an entry header can hold: 40 bits of
// milliseconds, about 34.8 years after the clock's epoch. Later expiries
// are clamped to it.
const MaxStamp = 1<<40 - 1

// Never is the stamp of an entry without expiry.
const Never = 0

// StampSize is the bytes a stamp takes in an entry header or a frame.
const StampSize = 5

// PutStamp writes the stamp s into b[:StampSize], little-endian: the one
// encoding of stamps, for entry headers and frames alike.
func PutStamp(b []byte, s int64) {
	_ = b[StampSize-1]
	binary.LittleEndian.PutUint32(b, uint32(s))
	b[4] = byte(s >> 32)
}

// ReadStamp reads a stamp PutStamp wrote.
func ReadStamp(b []byte) int64 {
	return int64(b[4])<<32 | int64(binary.LittleEndian.Uint32(b))
}

// Stamp returns the expiry stamp for an entry written at now with the given
// TTL: Never for ttl == 0, otherwise now plus the TTL rounded up to a whole
// millisecond (so a positive TTL never means "already expired"), clamped to
// MaxStamp. The caller rejects negative TTLs before calling.
func Stamp(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return Never
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	if ms > MaxStamp-now {
		return MaxStamp
	}
	return now + ms
}

// Expired reports whether an entry with the stamp is past its expiry at now.
func Expired(stamp, now int64) bool { return stamp != Never && stamp <= now }

// Remaining returns the time left before the stamp expires, and zero for
// Never or a stamp already past.
func Remaining(stamp, now int64) time.Duration {
	if stamp == Never || stamp <= now {
		return 0
	}
	return time.Duration(stamp-now) * time.Millisecond
}

// Add returns the stamp d after stamp, for stretching an expiry by a grace
// period: Never stays Never, and the result is clamped to MaxStamp.
func Add(stamp int64, d time.Duration) int64 {
	if stamp == Never || d <= 0 {
		return stamp
	}
	return Stamp(stamp, d)
}
