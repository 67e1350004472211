// Command bench compares ringcache with its peers — freecache, fastcache,
// bigcache, ristretto, otter, theine and golang-lru — on the same
// workloads in one run, and writes Markdown tables and PNG charts.
//
//	cd bench && go run . [-workloads throughput,gc,memory,hitratio,stampede,tier] [-contenders ringcache,otter] [-smoke]
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
//     rueidis's own client-side cache (skipped without redis-server).
//
// Progress goes to stderr; results to -out (default ../docs/results).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

type config struct {
	workloads     map[string]bool
	contenders    []contender
	out           string
	traces        string
	traceLimit    int
	keys          int
	streamLen     int
	zipfS         float64
	duration      time.Duration
	rounds        int // throughput: alternated rounds, a cell reports their median
	gcEntries     []int
	gcRun         time.Duration
	budget        int64
	synthKeys     int
	synthRequests int
	smoke         bool
	settle        bool
	bounds        bool

	stampedeRounds, stampedeCallers int
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		workloads  = flag.String("workloads", "throughput,gc,memory,hitratio,stampede,tier,restart", "comma-separated workloads to run")
		names      = flag.String("contenders", "", "comma-separated contenders (default all): "+allNames())
		out        = flag.String("out", "out", "directory for results.md, results.json and charts (../docs/results to refresh the published ones); empty = stdout only")
		traces     = flag.String("traces", "traces", "directory of the ARC/LIRS gzip traces (the module's own, see traces/README.md); empty = synthetic streams only")
		traceLimit = flag.Int("trace-limit", 0, "replay at most this many requests of each trace (0 = all)")
		keys       = flag.Int("keys", 1_000_000, "throughput: distinct keys")
		zipfS      = flag.Float64("zipf", 0.99, "throughput: Zipf skew of the key stream")
		duration   = flag.Duration("duration", time.Second, "throughput: time per cell and round")
		rounds     = flag.Int("rounds", 3, "throughput: rounds, the contenders taking turns in a rotating order; each cell reports the median")
		gcEntries  = flag.String("gc-entries", "1000000,4000000,10000000", "gc: entry counts")
		gcRun      = flag.Duration("gcrun", 10*time.Second, "gc: length of the mixed run")
		budget     = flag.Int64("budget", 64<<20, "memory: byte budget")
		synthKeys  = flag.Int("synth-keys", 1_000_000, "hitratio: key space of the synthetic streams")
		synthReqs  = flag.Int("synth-requests", 1_000_000, "hitratio: requests per synthetic stream")
		smoke      = flag.Bool("smoke", false, "tiny sizes and durations, to check the suite runs (figures meaningless)")
		child      = flag.String("child", "", "internal: run one measurement in this process (gc or memory)")
		entries    = flag.Int("entries", 0, "internal: entries for -child=gc and -child=tiergc")
		tierClient = flag.String("tier-client", "", "internal: the client for -child=tiergc")
		entrySize  = flag.Int("entry-size", 144, "internal: key plus value bytes for -child=memory")
		redisAddr  = flag.String("redis", "", "internal: the Redis for -child=tiergc")
		restartOf  = flag.String("restart-cache", "", "internal: the cache for -child=restart (ringcache, fastcache, or none for the page-fault floor)")
		valueSize  = flag.Int("value-size", 0, "internal: the value size for -child=restart")
		replot     = flag.String("replot", "", "redraw the report and charts of a results.json into -out, running nothing")
		settleFlag = flag.Bool("settle", true, "hitratio: settle caches that evict in deferred maintenance after every write (false shows how far past their capacity they run)")
		bounds     = flag.Bool("bounds", true, "hitratio: add the reference policies to every cell: Belady's clairvoyant bound, perfect LFU, and A0 on the Zipf streams")
		rcK        = flag.Int("ringcache-k", 0, "ringcache's Config.K (0: its default)")
		rcHint     = flag.Bool("ringcache-size-hint", true, "tell ringcache the entry size (Config.AvgEntrySize) where a workload's entries all have one size")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	)
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg := config{
		workloads: map[string]bool{}, out: *out, traces: *traces, traceLimit: *traceLimit,
		keys: *keys, streamLen: 1 << 22, zipfS: *zipfS, duration: *duration, rounds: *rounds, gcRun: *gcRun,
		budget: *budget, synthKeys: *synthKeys, synthRequests: *synthReqs, smoke: *smoke,
		stampedeRounds: 20, stampedeCallers: 1000, settle: *settleFlag,
		bounds: *bounds,
	}
	for _, w := range strings.Split(*workloads, ",") {
		switch w = strings.TrimSpace(w); w {
		case "throughput", "gc", "memory", "hitratio", "stampede", "tier", "restart":
			cfg.workloads[w] = true
		case "":
		default:
			return fmt.Errorf("unknown workload %q", w)
		}
	}
	for _, s := range strings.Split(*gcEntries, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-gc-entries: %q is not a positive count", s)
		}
		cfg.gcEntries = append(cfg.gcEntries, n)
	}
	all := contendersWith(ringcacheOptions{k: *rcK, sizeHint: *rcHint})
	cfg.contenders = all
	if *names != "" {
		cfg.contenders = nil
		for _, n := range strings.Split(*names, ",") {
			c, ok := contenderNamed(all, strings.TrimSpace(n))
			if !ok {
				return fmt.Errorf("unknown contender %q; known: %s", n, allNames())
			}
			cfg.contenders = append(cfg.contenders, c)
		}
	}
	if cfg.smoke {
		cfg.keys, cfg.streamLen, cfg.duration, cfg.rounds = 20_000, 1<<16, 100*time.Millisecond, 1
		cfg.gcEntries, cfg.gcRun, cfg.budget = []int{20_000}, 200*time.Millisecond, 4<<20
		cfg.synthKeys, cfg.synthRequests, cfg.traceLimit = 20_000, 20_000, 20_000
		cfg.stampedeRounds, cfg.stampedeCallers = 2, 100
	}

	if *replot != "" {
		b, err := os.ReadFile(*replot)
		if err != nil {
			return err
		}
		var res results
		if err := json.Unmarshal(b, &res); err != nil {
			return fmt.Errorf("%s: %w", *replot, err)
		}
		return res.write(cfg.out)
	}

	switch *child {
	case "":
	case "gc":
		return json.NewEncoder(os.Stdout).Encode(childGC(cfg.contenders[0], *entries, cfg.gcRun))
	case "memory":
		return json.NewEncoder(os.Stdout).Encode(childMemory(cfg.contenders[0], cfg.budget, *entrySize))
	case "tiergc":
		return json.NewEncoder(os.Stdout).Encode(childTierGC(*tierClient, *redisAddr, *entries))
	case "restart":
		return json.NewEncoder(os.Stdout).Encode(childRestart(cfg, *restartOf, *valueSize))
	default:
		return fmt.Errorf("unknown -child %q", *child)
	}

	start := time.Now()
	progress := func(s string) {
		fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), s)
	}
	var res results
	res.Env = describeEnv(os.Args[1:])
	if cfg.workloads["throughput"] {
		res.Throughput = runThroughput(cfg, cfg.contenders, progress)
	}
	if cfg.workloads["gc"] {
		res.GC = runGC(cfg, cfg.contenders, progress)
	}
	if cfg.workloads["memory"] {
		res.Memory = runMemory(cfg, cfg.contenders, progress)
	}
	if cfg.workloads["hitratio"] {
		rows, err := runHitRatio(cfg, cfg.contenders, progress)
		if err != nil {
			return err
		}
		res.HitRatio = rows
	}
	if cfg.workloads["stampede"] {
		res.Stampede = runStampede(cfg, progress)
	}
	if cfg.workloads["tier"] {
		t := runTier(cfg, progress)
		res.Tier = &t
	}
	if cfg.workloads["restart"] {
		res.Restart = runRestart(cfg, progress)
	}
	res.Env.Elapsed = time.Since(start).Round(time.Second).String()
	progress("writing results")
	return res.write(cfg.out)
}

func allNames() string {
	var n []string
	for _, c := range contendersWith(defaultRingcache) {
		n = append(n, c.name)
	}
	return strings.Join(n, ",")
}
