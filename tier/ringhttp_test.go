package tier

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/ringhttp"
)

// A ringhttp.Handler serves a Tier's values as it serves a Cache's: loaded
// once across the tiers, with an ETag and 304 for a matching one.
func TestRinghttpServesATier(t *testing.T) {
	b := standaloneBackend(t)
	tr := newTier(t, testConfig(b))
	src := newSource()
	srv := httptest.NewServer(&ringhttp.Handler{Cache: tr, Load: src.load})
	t.Cleanup(srv.Close)
	key := string(newKeys("http", 1)[0])

	get := func(etag string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/"+key, nil)
		require.NoError(t, err)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}
	resp, body := get("")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, string(encodeVersion([]byte("/"+key), 0)), body)
	resp, body = get(resp.Header.Get("ETag"))
	require.Equal(t, http.StatusNotModified, resp.StatusCode)
	require.Empty(t, body)
	require.EqualValues(t, 1, src.loads.Load())
	_, inRedis := redisGet(t, b, []byte("/"+key))
	require.True(t, inRedis, "the value went through Redis")
}
