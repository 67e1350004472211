package main

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/redis/rueidis/rueidisaside"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier"
)

// A tierClient is one instance of a service reading through a cache layer
// in front of Redis and a database. read returns the key's value, loading
// it with load when neither tier holds it; invalidate is the layer's
// delete on write, called after the database changed.
type tierClient interface {
	read(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error)
	invalidate(ctx context.Context, key []byte) error
	close()
}

// tierContender builds instances of one layer against the Redis at addr.
type tierContender struct {
	name string
	open func(addr string) (tierClient, error)
}

// The layers compared: ringcache's tier; rueidisaside, rueidis's
// cache-aside with client-side caching (its local copies on the Go heap);
// and plain GETs through go-redis with no local cache, loading on a miss
// and SETting the result (cache-aside by hand).
var tierContenders = []tierContender{
	{"ringcache tier", openTier},
	{"rueidisaside", openAside},
	{"go-redis, no local cache", openGoRedis},
}

const tierLocalTTL = 10 * time.Minute

type tierInstance struct{ t *tier.Tier }

func openTier(addr string) (tierClient, error) {
	t, err := tier.New(tier.Config{
		Redis:    rueidis.ClientOption{InitAddress: []string{addr}},
		Local:    ringcache.Config{Capacity: 256 << 20},
		LocalTTL: tierLocalTTL,
	})
	return tierInstance{t}, err
}

func (c tierInstance) read(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error) {
	return c.t.GetOrLoad(ctx, dst, key, load)
}

func (c tierInstance) invalidate(ctx context.Context, key []byte) error {
	return c.t.Invalidate(ctx, key)
}

func (c tierInstance) close() { _ = c.t.Close() }

type asideInstance struct{ c rueidisaside.CacheAsideClient }

func openAside(addr string) (tierClient, error) {
	c, err := rueidisaside.NewClient(rueidisaside.ClientOption{
		ClientOption: rueidis.ClientOption{InitAddress: []string{addr}, CacheSizeEachConn: 256 << 20},
	})
	return asideInstance{c}, err
}

func (c asideInstance) read(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error) {
	v, err := c.c.Get(ctx, tierLocalTTL, string(key), func(ctx context.Context, k string) (string, error) {
		v, _, err := load(ctx, []byte(k))
		return string(v), err
	})
	return append(dst, v...), err
}

func (c asideInstance) invalidate(ctx context.Context, key []byte) error {
	return c.c.Del(ctx, string(key))
}

func (c asideInstance) close() { c.c.Close() }

type goRedisInstance struct{ c *redis.Client }

func openGoRedis(addr string) (tierClient, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	return goRedisInstance{c}, c.Ping(context.Background()).Err()
}

func (c goRedisInstance) read(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error) {
	k := string(key)
	v, err := c.c.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		var d time.Duration
		if v, d, err = load(ctx, key); err == nil {
			err = c.c.Set(ctx, k, v, d).Err()
		}
	}
	return append(dst, v...), err
}

func (c goRedisInstance) invalidate(ctx context.Context, key []byte) error {
	return c.c.Del(ctx, string(key)).Err()
}

func (c goRedisInstance) close() { _ = c.c.Close() }

// openInstances opens n instances of c, closing them all if one fails.
func openInstances(c tierContender, addr string, n int) ([]tierClient, error) {
	var out []tierClient
	for range n {
		inst, err := c.open(addr)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

func closeAll(insts []tierClient) {
	for _, in := range insts {
		in.close()
	}
}
