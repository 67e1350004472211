package ringcache

import (
	"encoding/binary"

	"github.com/ringcache/ringcache/ttl"
)

// The frame: the one codec of what the cache stores in front of a value.
//
// A framed value starts with frameSize bytes that the cache writes for
// values it compressed or loaded, and that readers never see:
//
//	byte 0     kind (bits 0-1) and codec (bits 2-3)
//	bytes 1-5  freshness stamp: when the value stops being served to
//	           plain reads (the engine keeps it up to StaleGrace longer)
//	bytes 6-10 birth stamp: when it was written, for RefreshAhead
//
// A value written by SetIfNewer (bit 4 of byte 0 set) has its version in
// the 8 bytes that follow. Plain values written by Set without
// compression carry no frame. Every read decodes what it finds with
// found, once.
const frameSize = 11

// versionSize is the size of a versioned frame's version.
const versionSize = 8

const versionedBit = 1 << 4

// headBits are the bits of a frame's first byte that mean something: the
// kind, the codec and versionedBit.
const headBits = 0x0f | versionedBit

type frameKind uint8

const (
	kindValue    frameKind = iota
	kindNegative           // a tombstone: the loader said the key does not exist
	kindManifest           // the head of a value stored in chunks (chunks.go)
	kindChunk              // one chunk of such a value
)

type frame struct {
	kind        frameKind
	codec       Codec
	fresh, born int64
	versioned   bool
	version     uint64 // when versioned
}

// size is the frame's length: frameSize, and the version's bytes.
func (f frame) size() int {
	if f.versioned {
		return frameSize + versionSize
	}
	return frameSize
}

func putFrame(b []byte, f frame) {
	b[0] = f.head()
	ttl.PutStamp(b[1:], f.fresh)
	ttl.PutStamp(b[1+ttl.StampSize:], f.born)
	if f.versioned {
		binary.LittleEndian.PutUint64(b[frameSize:], f.version)
	}
}

// head is the frame's first byte.
func (f frame) head() byte {
	b := byte(f.kind) | byte(f.codec)<<2
	if f.versioned {
		b |= versionedBit
	}
	return b
}

// decode splits a stored value into its frame and payload; a value stored
// without a frame has the zero frame: a plain, uncompressed value that
// never goes stale by itself.
func decode(v []byte, framed bool) (frame, []byte) {
	if !framed {
		return frame{}, v
	}
	kind, codec := readHead(v[0])
	f := frame{
		kind:  kind,
		codec: codec,
		fresh: ttl.ReadStamp(v[1:]),
		born:  ttl.ReadStamp(v[1+ttl.StampSize:]),
	}
	if v[0]&versionedBit != 0 && len(v) >= frameSize+versionSize {
		f.versioned, f.version = true, binary.LittleEndian.Uint64(v[frameSize:])
	}
	return f, v[f.size():]
}

// readHead decodes a frame's first byte.
func readHead(b byte) (frameKind, Codec) { return frameKind(b & 3), Codec(b >> 2 & 3) }

// copiesFramed is the shards' Options.CopiesFramed: a read without the
// lock serves a framed value from its copy only when it is an
// uncompressed value with no version, whose payload follows frameSize
// bytes (whether it is fresh is judged on the copy).
// Decoding from the copy would hand the decoder memory of the caller's
// dst, and the compiler would then move every caller's dst to the heap.
func copiesFramed(head byte) bool {
	kind, codec := readHead(head)
	return kind == kindValue && codec == NoCompression && head&versionedBit == 0
}

// due reports whether a value is in the last share of its life (never for
// one that does not expire).
func (f frame) due(share float64, now int64) bool {
	if share == 0 || f.fresh == ttl.Never {
		return false
	}
	return float64(f.fresh-now) <= share*float64(f.fresh-f.born)
}

// state is what a read finds in a stored value.
type state uint8

const (
	stateAbsent   state = iota // nothing to read: a chunk, an expired tombstone, a broken manifest
	stateLive                  // a value, or the head of a chunked one, that reads serve
	stateStale                 // the same past its freshness, kept for stale-if-error
	stateNegative              // a live tombstone: the loader said the key does not exist
)

// entry is a stored value as found, decoded: its frame, its payload
// (compressed or not), its state, and for the head of a chunked value its
// manifest.
type entry struct {
	f       frame
	payload []byte
	state   state
	m       manifest
}

// chunked reports whether the entry is the head of a value in chunks.
func (e *entry) chunked() bool { return e.f.kind == kindManifest }

// found decodes a stored value at now: the one place a read learns what a
// stored value is.
func (c *engine) found(v []byte, framed bool, now int64) entry {
	f, payload := decode(v, framed)
	e := entry{f: f, payload: payload, state: stateLive}
	switch f.kind {
	case kindNegative:
		e.state = stateNegative
	case kindManifest:
		var ok bool
		if e.m, ok = readManifest(payload); !ok {
			return entry{}
		}
	case kindChunk:
		return entry{}
	}
	if c.clock.Expired(f.fresh, now) {
		if e.state == stateNegative {
			return entry{}
		}
		e.state = stateStale
	}
	return e
}

// read reports whether a plain read returns something of a stored value:
// a live value, or the head of a live chunked one, which goes to big for
// the caller to finish after its shard lock (gathered, present).
func (c *engine) read(v []byte, framed bool, now int64, big *manifest) (entry, bool) {
	e := c.found(v, framed, now)
	if e.state != stateLive {
		return e, false
	}
	if e.chunked() {
		*big = e.m
	}
	return e, true
}

// withValue calls fn with the bytes a read serves of a value (or a
// chunk) with frame f: its payload, or, compressed, the payload decoded
// into scratch space for the call. It reports false, without calling fn,
// for a value that does not decode.
func (c *engine) withValue(f frame, payload []byte, fn func([]byte)) bool {
	if f.codec == NoCompression {
		fn(payload)
		return true
	}
	bp := c.borrow()
	defer c.giveBack(bp)
	out, err := c.codecs.decode((*bp)[:0], f, payload)
	*bp = out
	if err != nil {
		return false
	}
	fn(out)
	return true
}
