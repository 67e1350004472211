package ringcache

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/ringcache/ringcache/ttl"
)

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
// compression carry no frame.
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

func readFrame(b []byte) (frame, []byte) {
	kind, codec := readHead(b[0])
	f := frame{
		kind:  kind,
		codec: codec,
		fresh: ttl.ReadStamp(b[1:]),
		born:  ttl.ReadStamp(b[1+ttl.StampSize:]),
	}
	if b[0]&versionedBit != 0 && len(b) >= frameSize+versionSize {
		f.versioned, f.version = true, binary.LittleEndian.Uint64(b[frameSize:])
	}
	return f, b[f.size():]
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

// served is what a plain read finds in a stored value: its frame (the zero
// frame, a plain uncompressed value, for one stored without), its payload,
// and whether a plain read serves it at all: a tombstone or a value past
// its freshness (kept only for stale-if-error) it does not.
func (c *Cache) served(v []byte, framed bool, now int64) (frame, []byte, bool) {
	if !framed {
		return frame{}, v, true
	}
	f, payload := readFrame(v)
	return f, payload, f.servable(c.clock, now)
}

// servable reports whether a framed value answers plain reads at now,
// clock's reading (see ttl.Clock.Expired).
func (f frame) servable(clock *ttl.Clock, now int64) bool {
	return f.kind == kindValue && !clock.Expired(f.fresh, now)
}

// Codec names a compression algorithm for Config.Compression.
type Codec uint8

const (
	// NoCompression stores values as given.
	NoCompression Codec = iota
	// S2 is klauspost/compress's S2, a faster Snappy: cheap to encode and
	// decode, moderate savings.
	S2
	// Zstd is Zstandard at its default level: slower, larger savings.
	Zstd
)

// Compression configures transparent value compression.
type Compression struct {
	// Codec is the algorithm; NoCompression (the zero value) turns it off.
	Codec Codec
	// MinSize is the smallest value worth compressing; smaller values are
	// stored as they are, and their reads and writes stay free of
	// allocations. Zero means DefaultCompressionMinSize.
	MinSize int
}

// DefaultCompressionMinSize is Compression.MinSize when zero.
const DefaultCompressionMinSize = 512

// codecs holds the cache's encoders; zstd's are safe for concurrent use
// through EncodeAll and DecodeAll.
type codecs struct {
	cfg     Compression
	zenc    *zstd.Encoder
	zdec    *zstd.Decoder
	buffers sync.Pool // *[]byte scratch for framing and decompressing
}

func newCodecs(cfg Compression) (*codecs, error) {
	if cfg.MinSize == 0 {
		cfg.MinSize = DefaultCompressionMinSize
	}
	c := &codecs{cfg: cfg}
	c.buffers.New = func() any { b := make([]byte, 0, 4096); return &b }
	if cfg.Codec == Zstd {
		var err error
		if c.zenc, err = zstd.NewWriter(nil); err != nil {
			return nil, err
		}
		if c.zdec, err = zstd.NewReader(nil); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *codecs) close() {
	if c.zdec != nil {
		c.zdec.Close()
	}
}

// wants reports whether a value of n bytes should be tried compressed.
func (c *codecs) wants(n int) bool { return c.cfg.Codec != NoCompression && n >= c.cfg.MinSize }

// frame appends the framed form of value to dst: compressed when that
// saves space. It returns the bytes saved (0 when stored plain).
//
// The encoders see only a copy of value in dst: the compiler cannot tell
// that they keep nothing of their input, and passing them value itself
// would move every value a caller gives Set onto the heap, compressed or
// not. The copy is a memmove next to an encoder's work.
func (c *codecs) frame(dst, value []byte, f frame) ([]byte, int) {
	start := len(dst)
	body := start + frameSize
	f.codec = NoCompression
	if c.wants(len(value)) {
		dst = slices.Grow(dst, frameSize+len(value)+s2.MaxEncodedLen(len(value)))
	}
	dst = append(dst, make([]byte, frameSize)...)
	dst = append(dst, value...) // the plain form, and the encoders' input
	if c.wants(len(value)) {
		in := dst[body:]
		var enc []byte
		switch c.cfg.Codec {
		case S2:
			enc = s2.Encode(dst[len(dst):cap(dst)], in)
		case Zstd:
			enc = c.zenc.EncodeAll(in, dst[len(dst):len(dst)])
		}
		if len(enc) < len(in) {
			f.codec = c.cfg.Codec
			dst = dst[:body+copy(dst[body:], enc)]
			putFrame(dst[start:], f)
			return dst, len(value) - len(enc)
		}
	}
	putFrame(dst[start:], f)
	return dst, 0
}

// appendPayload appends a framed value's payload, decompressed, to dst.
// A compressed payload is decoded into a scratch buffer first and copied:
// the decoders keep nothing of dst, but the compiler cannot tell, and
// handing them dst would move every caller's buffer onto the heap.
func (c *codecs) appendPayload(dst []byte, f frame, payload []byte) ([]byte, error) {
	if f.codec == NoCompression {
		return append(dst, payload...), nil
	}
	bp := c.buffers.Get().(*[]byte)
	defer c.buffers.Put(bp)
	out, err := c.decode((*bp)[:0], f, payload)
	*bp = out
	if err != nil {
		return dst, err
	}
	return append(dst, out...), nil
}

// decode appends a compressed payload, decompressed, to scratch.
func (c *codecs) decode(scratch []byte, f frame, payload []byte) ([]byte, error) {
	switch f.codec {
	case S2:
		n, err := s2.DecodedLen(payload)
		if err != nil {
			return scratch, err
		}
		scratch = slices.Grow(scratch, n)
		out, err := s2.Decode(scratch[len(scratch):len(scratch)+n], payload)
		return scratch[:len(scratch)+len(out)], err
	case Zstd:
		if c.zdec == nil {
			return scratch, fmt.Errorf("ringcache: zstd value in a cache without zstd")
		}
		return c.zdec.DecodeAll(payload, scratch)
	}
	return scratch, fmt.Errorf("ringcache: unknown codec %d", f.codec)
}
