package main

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// stampedeCallers is the callers per instance.
func stampedeCallers(cfg config) int {
	if cfg.smoke || cfg.quick {
		return 100
	}
	return 1000
}

type tierStampedeRow struct {
	Layer       string
	Rounds      int
	Callers     int // in all instances
	LoaderCalls int64
	P50, P99    time.Duration
	Errors      int64
	Note        string `json:",omitempty"`
}

// tierStampede is the stampede workload across instances: each round a
// key no tier holds is asked for by every caller of every instance at
// once, and the database (2 ms through 8 connections) counts its loads.
func tierStampede(cfg config, c tierContender, addr string) tierStampedeRow {
	const (
		dbLatency = 2 * time.Millisecond
		dbConns   = 8
	)
	rounds, callers := 10, stampedeCallers(cfg)
	if cfg.smoke || cfg.quick {
		rounds = 2
	}
	row := tierStampedeRow{Layer: c.name, Rounds: rounds, Callers: tierInstances * callers}
	insts, err := openInstances(c, addr, tierInstances)
	if err != nil {
		row.Note = err.Error()
		return row
	}
	defer closeAll(insts)
	pool := make(chan struct{}, dbConns)
	var calls, failures atomic.Int64
	load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) {
		calls.Add(1)
		pool <- struct{}{}
		time.Sleep(dbLatency)
		<-pool
		return tierValue(key), time.Minute, nil
	}
	prefix := "stampede-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	var lat latencies
	for r := range rounds {
		key := []byte(prefix + strconv.Itoa(r))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, in := range insts {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					began := time.Now()
					if _, err := in.read(ctx, nil, key, load); err != nil {
						failures.Add(1)
					}
					lat.add(time.Since(began))
				}()
			}
		}
		close(start)
		wg.Wait()
	}
	row.LoaderCalls, row.Errors = calls.Load(), failures.Load()
	row.P50, row.P99 = lat.p50p99()
	return row
}
