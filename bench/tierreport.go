package main

import (
	"fmt"
	"strings"
	"time"
)

func (t *tierResults) markdown(b *strings.Builder) {
	b.WriteString("## Tier: ringcache in front of Redis\n\n")
	if t.Note != "" {
		fmt.Fprintf(b, "%s\n\n", t.Note)
		return
	}
	fmt.Fprintf(b, "Three instances of a service on loopback share one redis-server; each layer is the cache layer of all three.\n\n")
	if len(t.Reads) > 0 {
		b.WriteString("### Reads\n\n![tier reads](tier-reads.png)\n\n")
		fmt.Fprintf(b, "Reads of %d hot keys every instance has read and, in the first mix, one read in ten of a key the instance has not read yet, which every layer fetches from Redis (90%% local hits). %d goroutines per instance, 128-byte values; latency sampled every 8th read.\n\n", t.HotKeys, tierGoroutines)
		b.WriteString("| mix | layer | Mops/s | p50 | p99 | reads answered locally |\n|---|---|---|---|---|---|\n")
		for _, r := range t.Reads {
			if r.Note != "" {
				fmt.Fprintf(b, "| %s | %s | %s | | | |\n", r.Mix, r.Layer, r.Note)
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %.2f | %v | %v | %.0f%% |\n", r.Mix, r.Layer, r.Mops, latency(r.P50), latency(r.P99), 100*r.LocalShare)
		}
		b.WriteString("\n")
	}
	if n := t.Notices; n != nil {
		b.WriteString("### Delete-on-write reaching the other instances\n\n")
		fmt.Fprintf(b, "Instance 1 calls `Invalidate` on a key instances 2 and 3 hold; their notice hooks record when Redis's invalidation arrives (%d rounds, %d notices). %.0f%% arrived before `Invalidate` returned.\n\n",
			n.Rounds, n.Notices, 100*n.NoticedBeforeRet)
		b.WriteString("| notice arrival | p50 | p99 | max |\n|---|---|---|---|\n")
		fmt.Fprintf(b, "| after `Invalidate` was called | %v | %v | %v |\n", n.AfterCall[0].Round(time.Microsecond), n.AfterCall[1].Round(time.Microsecond), n.AfterCall[2].Round(time.Microsecond))
		fmt.Fprintf(b, "| after it returned (0 if before) | %v | %v | %v |\n\n", n.AfterReturn[0].Round(time.Microsecond), n.AfterReturn[1].Round(time.Microsecond), n.AfterReturn[2].Round(time.Microsecond))
	}
	if len(t.Stampede) > 0 {
		b.WriteString("### Stampede across instances\n\n")
		fmt.Fprintf(b, "Each round a key no tier holds is asked for by %d callers in each of the three instances at once; the database takes 2 ms through a pool of 8 connections.\n\n", t.Callers)
		b.WriteString("| layer | rounds × callers | database loads | p50 | p99 | errors |\n|---|---|---|---|---|---|\n")
		for _, r := range t.Stampede {
			if r.Note != "" {
				fmt.Fprintf(b, "| %s | %s | | | | |\n", r.Layer, r.Note)
				continue
			}
			fmt.Fprintf(b, "| %s | %d × %d | %d | %v | %v | %d |\n", r.Layer, r.Rounds, r.Callers, r.LoaderCalls, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Errors)
		}
		b.WriteString("\n")
	}
	if len(t.Paused) > 0 {
		b.WriteString("### Redis paused during updates\n\n")
		fmt.Fprintf(b, "Three instances read %d versioned rows (%d goroutines each, reads bounded at %v); instance 1 updates %d rows a second in the database and then invalidates them through the layer. redis-server is stopped with SIGSTOP for a while and continued. A stale read is one that began more than %v after the database held a newer version (a notice takes well under a millisecond here); its lag is how long after. Each update is a request of its own, so one whose invalidation waits on the silent Redis does not hold up the next.\n\n",
			pauseRows, pauseReaders, pauseReadTimeout, pauseWritesPerS, pauseStaleAfter)
		b.WriteString("| layer | reads | read errors | writes | write errors | stale reads before the resume | stale after it | max lag | rows still stale at the end |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range t.Paused {
			if r.Note != "" {
				fmt.Fprintf(b, "| %s | %s | | | | | | | |\n", r.Layer, r.Note)
				continue
			}
			fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d | %v | %d |\n", r.Layer, r.Reads, r.ReadErrors, r.Writes, r.WriteErrors,
				r.StaleBefore, r.StaleAfter, r.MaxLag.Round(time.Millisecond), r.StaleAtEnd)
		}
		b.WriteString("\n")
	}
	if len(t.GC) > 0 {
		b.WriteString("### Local copies and the garbage collector\n\n![tier gc](tier-gc.png)\n\n")
		b.WriteString("One client in a fresh process reads every key once so that it holds a local copy, then forces a GC (median of five).\n\n")
		b.WriteString("| client | keys read | held locally | heap objects | heap MB | forced GC | RSS MB |\n|---|---|---|---|---|---|---|\n")
		for _, r := range t.GC {
			if r.Note != "" {
				fmt.Fprintf(b, "| %s | %s | | | | | |\n", r.Client, r.Note)
				continue
			}
			fmt.Fprintf(b, "| %s | %d | %d | %d | %.0f | %v | %.0f |\n", r.Client, r.Entries, r.Cached, r.HeapObjects, r.HeapMB, r.GCWall.Round(time.Microsecond), r.RSSMB)
		}
		b.WriteString("\n")
	}
}

// latency rounds a duration to three significant figures or so.
func latency(d time.Duration) time.Duration {
	switch {
	case d < 10*time.Microsecond:
		return d.Round(10 * time.Nanosecond)
	case d < 10*time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}
