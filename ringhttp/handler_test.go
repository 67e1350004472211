package ringhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// origin is a loader over a map of paths, counting its calls.
type origin struct {
	rows  map[string]string
	fail  error
	calls atomic.Int32
}

func (o *origin) load(_ context.Context, key []byte) ([]byte, time.Duration, error) {
	o.calls.Add(1)
	if o.fail != nil {
		return nil, 0, o.fail
	}
	v, ok := o.rows[string(key)]
	if !ok {
		return nil, 0, ringcache.ErrNotFound
	}
	return []byte(v), time.Minute, nil
}

func serve(t *testing.T, h *Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newHandler(t *testing.T) (*Handler, *origin) {
	t.Helper()
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	o := &origin{rows: map[string]string{"/users/1": `{"name":"alice"}`}}
	return &Handler{Cache: c, Load: o.load, ContentType: "application/json"}, o
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestServesTheBytesAndAnswersConditionalRequests(t *testing.T) {
	h, o := newHandler(t)
	srv := serve(t, h)

	resp, body := get(t, srv.URL+"/users/1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, `{"name":"alice"}`, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	tag := resp.Header.Get("ETag")
	require.Len(t, tag, etagLen)
	require.True(t, strings.HasPrefix(tag, `"`) && strings.HasSuffix(tag, `"`), "a strong ETag: %s", tag)
	require.Equal(t, int32(1), o.calls.Load())

	resp, body = get(t, srv.URL+"/users/1")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, `{"name":"alice"}`, body)
	require.Equal(t, tag, resp.Header.Get("ETag"), "the same bytes give the same ETag")
	require.Equal(t, int32(1), o.calls.Load(), "a hit does not load")

	for _, inm := range []string{tag, `"other", ` + tag, "W/" + tag, "*"} {
		resp, body = get(t, srv.URL+"/users/1", "If-None-Match", inm)
		require.Equal(t, http.StatusNotModified, resp.StatusCode, "If-None-Match: %s", inm)
		require.Empty(t, body)
		require.Equal(t, tag, resp.Header.Get("ETag"), "If-None-Match: %s", inm)
	}

	resp, body = get(t, srv.URL+"/users/1", "If-None-Match", `"0000000000000000"`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "a stale ETag gets the bytes")
	require.Equal(t, `{"name":"alice"}`, body)

	require.NoError(t, h.Cache.(*ringcache.Cache).Set([]byte("/users/1"), []byte(`{"name":"alice","v":2}`)))
	resp, body = get(t, srv.URL+"/users/1", "If-None-Match", tag)
	require.Equal(t, http.StatusOK, resp.StatusCode, "new bytes, new ETag")
	require.Equal(t, `{"name":"alice","v":2}`, body)
	require.NotEqual(t, tag, resp.Header.Get("ETag"))
}

func TestErrorsAndMethods(t *testing.T) {
	h, o := newHandler(t)
	srv := serve(t, h)

	resp, _ := get(t, srv.URL+"/users/404")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	o.fail = errors.New("database down")
	resp, _ = get(t, srv.URL+"/users/2")
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	o.fail = nil

	post, err := http.Post(srv.URL+"/users/1", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	post.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
	require.Equal(t, "GET, HEAD", post.Header.Get("Allow"))

	head, err := http.Head(srv.URL + "/users/1")
	require.NoError(t, err)
	body, _ := io.ReadAll(head.Body)
	head.Body.Close()
	require.Equal(t, http.StatusOK, head.StatusCode)
	require.Empty(t, body)
	require.Equal(t, int64(len(`{"name":"alice"}`)), head.ContentLength)

	long := &Handler{Cache: h.Cache, Load: o.load, Key: func(dst []byte, _ *http.Request) []byte {
		return append(dst, strings.Repeat("k", ringcache.MaxKeyLen+1)...)
	}}
	resp, _ = get(t, serve(t, long).URL+"/x")
	require.Equal(t, http.StatusRequestURITooLong, resp.StatusCode)
}

// discard is a ResponseWriter that keeps nothing, so that a benchmark or
// an allocation count sees the handler's own cost and not a recorder's.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(b), nil
}
func (d *discard) WriteHeader(status int) { d.status = status }

// notModified returns a request that matches the cached value's ETag, and
// a writer for it.
func notModified(t testing.TB, h *Handler) (*http.Request, *discard) {
	w := &discard{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/users/1", nil)
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.status)
	r.Header.Set("If-None-Match", w.h.Get("ETag"))
	return r, w
}

func TestNotModifiedAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	h, _ := newHandler(t)
	r, w := notModified(t, h)
	allocs := testing.AllocsPerRun(1000, func() {
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, r)
	})
	require.Equal(t, http.StatusNotModified, w.status)
	require.Zero(t, allocs)
}

func BenchmarkNotModified(b *testing.B) {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	require.NoError(b, err)
	defer c.Close()
	o := &origin{rows: map[string]string{"/users/1": strings.Repeat(`{"name":"alice"},`, 60)}}
	h := &Handler{Cache: c, Load: o.load}
	r, w := notModified(b, h)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

// recorder is a ResponseWriter that remembers whether anything was
// written at all.
type recorder struct {
	httptest.ResponseRecorder
	wrote bool
}

func (r *recorder) WriteHeader(code int)        { r.wrote = true; r.ResponseRecorder.WriteHeader(code) }
func (r *recorder) Write(b []byte) (int, error) { r.wrote = true; return r.ResponseRecorder.Write(b) }

// Each way a value cannot be had answers as a client expects, and the
// error hook hears of each.
func TestFailuresMapToTheirStatus(t *testing.T) {
	h, _ := newHandler(t)
	var heard []error
	h.OnError = func(_ *http.Request, err error) { heard = append(heard, err) }
	blocked := func(ctx context.Context, _ []byte) ([]byte, time.Duration, error) {
		<-ctx.Done()
		return nil, 0, ctx.Err()
	}
	queryTimeout := fmt.Errorf("query: %w", context.DeadlineExceeded)
	cases := []struct {
		name string
		load ringcache.LoadFunc
		ctx  func() (context.Context, context.CancelFunc)
		want int // 0: nothing written
	}{
		{"the loader's own timeout", func(context.Context, []byte) ([]byte, time.Duration, error) {
			return nil, 0, queryTimeout
		}, nil, http.StatusGatewayTimeout},
		{"the request's deadline, the client still there", blocked, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Millisecond)
		}, http.StatusGatewayTimeout},
		{"a failed load", func(context.Context, []byte) ([]byte, time.Duration, error) {
			return nil, 0, errors.New("connection refused")
		}, nil, http.StatusBadGateway},
		{"a client that left", blocked, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			heard = nil
			h.Load = tc.load
			req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/fail/%d", i), nil)
			if tc.ctx != nil {
				ctx, cancel := tc.ctx()
				defer cancel()
				req = req.WithContext(ctx)
			}
			rec := &recorder{ResponseRecorder: *httptest.NewRecorder()}
			h.ServeHTTP(rec, req)
			if tc.want == 0 {
				require.False(t, rec.wrote, "nothing is written for a client that left")
			} else {
				require.Equal(t, tc.want, rec.Code)
			}
			require.Len(t, heard, 1)
		})
	}
}

func TestALoaderTimeoutIsAGatewayTimeoutOverTheWire(t *testing.T) {
	h, _ := newHandler(t)
	h.Load = func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, fmt.Errorf("query: %w", context.DeadlineExceeded)
	}
	resp, body := get(t, serve(t, h).URL+"/slow")
	require.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	require.Equal(t, "upstream timed out\n", body)
}
