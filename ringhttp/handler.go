// Package ringhttp serves values of a ringcache over HTTP as they are
// stored, for read-heavy APIs that cache rendered JSON or pages as bytes:
// a strong ETag derived from the bytes, 304 Not Modified for a matching
// If-None-Match, and a load through GetOrLoad on a miss.
package ringhttp

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/ringcache/ringcache"
)

// Source is what a Handler serves from: a *ringcache.Cache, or a cache
// layered over one, such as the tier package's *tier.Tier.
type Source interface {
	GetOrLoad(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error)
}

// Handler serves the value cached under a key taken from each request.
// Only GET and HEAD are served (405 otherwise). The zero value is not
// usable: Cache and Load are required.
type Handler struct {
	// Cache holds the values: a *ringcache.Cache or any other Source.
	Cache Source
	// Load loads a missing value (see ringcache.GetOrLoad): ErrNotFound
	// answers 404, a deadline (its own, such as a query timeout, or the
	// request's) 504, any other error 502.
	Load ringcache.LoadFunc
	// Key appends the cache key for r to dst and returns it; nil means the
	// request's URL path.
	Key func(dst []byte, r *http.Request) []byte
	// ContentType is sent with every value; empty means none is set and
	// net/http sniffs it.
	ContentType string
	// OnError, when set, is told of each request that got no value for a
	// reason other than ErrNotFound or a key too long: a load that failed
	// (502) or timed out (504), and a client that left before the value
	// was ready (nothing is written then). It runs on the request's
	// goroutine before the response is written, for logging and metrics.
	OnError func(r *http.Request, err error)
}

// etagLen is a strong ETag: a quoted 64-bit hash of the bytes, in hex.
const etagLen = 2 + 16

// maxPooledValue bounds the value buffers kept for reuse, so that one
// large value does not stay in memory with the pool.
const maxPooledValue = 1 << 20

// buffers hold a request's key and value, so that a hit served from a
// warm pool allocates nothing of its own.
var buffers = sync.Pool{New: func() any { return &scratch{} }}

type scratch struct{ key, value []byte }

// ServeHTTP answers r with the value under its key: 200 with the bytes, or
// 304 when If-None-Match names the value's ETag. A key longer than the
// cache's MaxKeySize answers 414; a loader's ErrNotFound, 404; a deadline
// that fired before the value was ready, the loader's or the request's,
// 504; any other failure to produce the value, 502. A request whose
// client left (its context cancelled, not timed out) gets nothing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b := buffers.Get().(*scratch)
	defer buffers.Put(b)
	if h.Key != nil {
		b.key = h.Key(b.key[:0], r)
	} else {
		b.key = append(b.key[:0], r.URL.Path...)
	}
	v, err := h.Cache.GetOrLoad(r.Context(), b.value[:0], b.key, h.Load)
	if cap(v) <= maxPooledValue {
		b.value = v[:0]
	}
	switch {
	case errors.Is(err, ringcache.ErrNotFound):
		http.Error(w, "not found", http.StatusNotFound)
		return
	case errors.Is(err, ringcache.ErrKeyTooLarge):
		http.Error(w, "key too long", http.StatusRequestURITooLong)
		return
	case err != nil && !errors.Is(err, ringcache.ErrEntryTooLarge):
		h.fail(w, r, err)
		return
	}
	var tag [etagLen]byte
	etag(tag[:], v)
	hdr := w.Header()
	if inm := r.Header["If-None-Match"]; matches(inm, tag[:]) {
		if len(inm) == 1 && inm[0] == string(tag[:]) {
			// The request's own header value is this ETag: send it
			// back without building a new one.
			hdr["Etag"] = inm
		} else {
			hdr["Etag"] = []string{string(tag[:])}
		}
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr["Etag"] = []string{string(tag[:])}
	if h.ContentType != "" {
		hdr["Content-Type"] = []string{h.ContentType}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(v))}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(v)
}

// fail answers a request whose value could not be had.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.OnError != nil {
		h.OnError(r, err)
	}
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client left (or the server is shutting the connection
		// down): nobody reads an answer.
	case errors.Is(err, context.DeadlineExceeded):
		http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
	default:
		http.Error(w, "upstream failed", http.StatusBadGateway)
	}
}

// etag writes the strong ETag of v into dst, which is etagLen long.
func etag(dst, v []byte) {
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], xxhash.Sum64(v))
	dst[0], dst[etagLen-1] = '"', '"'
	hex.Encode(dst[1:etagLen-1], sum[:])
}

// matches reports whether an If-None-Match header names tag, in any of its
// comma-separated entity tags, weak (W/) or strong, or is "*": RFC 9110
// compares If-None-Match weakly.
func matches(inm []string, tag []byte) bool {
	for _, field := range inm {
		for len(field) > 0 {
			var t string
			t, field = nextTag(field)
			if t == "*" || t == string(tag) || (len(t) > 2 && t[:2] == "W/" && t[2:] == string(tag)) {
				return true
			}
		}
	}
	return false
}

// nextTag splits the first entity tag off a comma-separated list.
func nextTag(s string) (tag, rest string) {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == ',') {
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] != ',' {
		end++
	}
	tag, rest = s[:end], s[end:]
	for len(tag) > 0 && (tag[len(tag)-1] == ' ' || tag[len(tag)-1] == '\t') {
		tag = tag[:len(tag)-1]
	}
	return tag, rest
}
