package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache"
)

type stampedeRow struct {
	Mode        string
	Rounds      int
	Callers     int
	LoaderCalls int64
	P50, P99    time.Duration
}

// runStampede measures what a hot key's expiry costs the database: each
// round, the key is gone and every caller asks for it at once; the loader
// takes dbLatency through a pool of dbConns connections, as a database
// client would. With GetOrLoad one load serves the round; with plain
// cache-aside (Get, and on a miss load and Set) every caller that misses
// loads, and they queue for the pool.
func runStampede(cfg config, progress func(string)) []stampedeRow {
	const (
		dbLatency = 2 * time.Millisecond
		dbConns   = 8
	)
	pool := make(chan struct{}, dbConns)
	var rows []stampedeRow
	for _, mode := range []string{"GetOrLoad", "cache-aside without the layer"} {
		progress("stampede: " + mode)
		c, err := ringcache.New(ringcache.Config{Capacity: 16 << 20})
		if err != nil {
			panic(err)
		}
		var calls atomic.Int64
		load := func(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
			calls.Add(1)
			pool <- struct{}{}
			time.Sleep(dbLatency)
			<-pool
			return []byte("row"), time.Minute, nil
		}
		key := []byte("hot-key")
		var lat latencies
		for range cfg.stampedeRounds {
			c.Delete(key)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range cfg.stampedeCallers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					began := time.Now()
					if mode == "GetOrLoad" {
						_, _ = c.GetOrLoad(context.Background(), nil, key, load)
					} else if _, ok := c.Get(nil, key); !ok {
						v, d, _ := load(context.Background(), key)
						_ = c.SetWithTTL(key, v, d)
					}
					lat.add(time.Since(began))
				}()
			}
			close(start)
			wg.Wait()
		}
		_ = c.Close()
		p50, p99 := lat.p50p99()
		rows = append(rows, stampedeRow{
			Mode: mode, Rounds: cfg.stampedeRounds, Callers: cfg.stampedeCallers, LoaderCalls: calls.Load(),
			P50: p50, P99: p99,
		})
	}
	return rows
}

func stampedeTable(rows []stampedeRow) string {
	s := "## Stampede: a hot key expires under load\n\n" +
		"Each round the key is gone and every caller asks for it at once; the loader takes 2 ms through a pool of 8 connections, like a database client.\n\n" +
		"| mode | rounds × callers | loader calls | p50 latency | p99 latency |\n|---|---|---|---|---|\n"
	for _, r := range rows {
		s += fmt.Sprintf("| %s | %d × %d | %d | %v | %v |\n", r.Mode, r.Rounds, r.Callers, r.LoaderCalls,
			r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond))
	}
	return s + "\n"
}
