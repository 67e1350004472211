// Command bench compares ringcache with its peers — freecache, fastcache,
// bigcache, ristretto, otter, theine and golang-lru — on the same
// workloads in one run, and writes Markdown tables and PNG charts.
//
//	cd bench && go run . [-workloads throughput,gc,memory,hitratio,stampede,tier,restart] [-contenders ringcache,otter] [-quick | -smoke]
//
// Workloads:
//   - throughput: Mops/s of parallel Get/Set mixes on a prefilled cache
//     (scrambled Zipf keys, 16-byte keys, 128-byte values, 4 x GOMAXPROCS
//     goroutines), over 1M keys and over 32k, plus insert-only into a
//     cache holding 10% of the keys;
//   - gc: heap objects, forced GC time, RSS and GC pauses during a mixed
//     run, with 1M, 4M and 10M entries, each in a fresh child process;
//   - memory: entries kept and RSS used for the same byte budget;
//   - hitratio: the traces in -traces and synthetic Zipf, scan and loop
//     streams at capacities given in entries (byte caches are calibrated to
//     hold that many entries, or reported n/a);
//   - stampede: loader calls and latency when a hot key expires under 1,000
//     concurrent callers, with GetOrLoad and with plain cache-aside;
//   - tier: the package tier in front of a redis-server of its own, three
//     instances on loopback, against rueidisaside and plain go-redis
//     GETs: reads at 90% local hits, invalidation delay, a stampede
//     across instances, and the GC cost of a million local copies against
//     rueidis's own client-side cache (skipped without redis-server);
//   - restart: a save and a load of a full 1 GiB cache, ringcache's and
//     fastcache's, each in a fresh child process.
//
// -quick runs every workload at reduced sizes (minutes), -smoke
// at toy sizes (to check the suite works). Progress goes to stderr;
// results to -out (default out/; ../docs/results refreshes the published
// ones, and -replot redraws them from results.json).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, m, err := parseFlags()
	if err != nil {
		return err
	}
	if m.cpuProfile != "" {
		f, err := os.Create(m.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch {
	case m.replot != "":
		return replot(cfg.out, m.replot, m.readme)
	case m.child != "":
		return runChild(cfg, m)
	}
	res, err := runWorkloads(cfg)
	if err != nil {
		return err
	}
	return res.write(cfg.out)
}

// replot redraws the report and charts of a results.json into out, and
// with a README its headline table, running nothing.
func replot(out, from, readme string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if readme != "" {
		if err := res.writeHeadline(readme); err != nil {
			return err
		}
	}
	return res.write(out)
}

// runChild runs one measurement that needs a process of its own and
// prints its row as JSON for the parent.
func runChild(cfg config, m modes) error {
	var row any
	switch m.child {
	case "gc":
		row = childGC(cfg.contenders[0], m.entries, cfg.gcRun)
	case "memory":
		row = childMemory(cfg.contenders[0], cfg.budget, m.entrySize)
	case "tiergc":
		row = childTierGC(m.tierClient, m.redisAddr, m.entries)
	case "restart":
		row = childRestart(cfg, m.restartOf, m.valueSize)
	default:
		return fmt.Errorf("unknown -child %q", m.child)
	}
	return json.NewEncoder(os.Stdout).Encode(row)
}

// runWorkloads runs the chosen workloads in turn, reporting progress on
// stderr; a hit-ratio trace it cannot read is an error.
func runWorkloads(cfg config) (results, error) {
	start := time.Now()
	progress := progressSince(start)
	var res results
	res.Env = describeEnv(os.Args[1:])
	w := cfg.workloads
	if w["throughput"] {
		res.Throughput = runThroughput(cfg, cfg.contenders, progress)
	}
	if w["gc"] {
		res.GC = runGC(cfg, cfg.contenders, progress)
	}
	if w["memory"] {
		res.Memory = runMemory(cfg, cfg.contenders, progress)
	}
	if w["hitratio"] {
		rows, err := runHitRatio(cfg, cfg.contenders, progress)
		if err != nil {
			return res, err
		}
		res.HitRatio = rows
	}
	if w["stampede"] {
		res.Stampede = runStampede(cfg, progress)
	}
	if w["tier"] {
		t := runTier(cfg, progress)
		res.Tier = &t
	}
	if w["restart"] {
		res.Restart = runRestart(cfg, progress)
	}
	res.Env.Elapsed = time.Since(start).Round(time.Second).String()
	progress("writing results")
	return res, nil
}

func progressSince(start time.Time) func(string) {
	return func(s string) { fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), s) }
}
