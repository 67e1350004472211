package ringcache

import (
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Compression: the codecs a cache may compress values with.

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
	cfg  Compression
	zenc *zstd.Encoder
	zdec *zstd.Decoder
}

func newCodecs(cfg Compression) (*codecs, error) {
	if cfg.MinSize == 0 {
		cfg.MinSize = DefaultCompressionMinSize
	}
	c := &codecs{cfg: cfg}
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
