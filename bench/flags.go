package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ringcache/ringcache/bench/contenders"
)

type config struct {
	workloads     map[string]bool
	contenders    []contenders.Contender
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
	quick         bool
	settle        bool
	bounds        bool
	hitReplays    int // hit ratio: caches per cell of a contender whose figures vary from cache to cache

	stampedeRounds, stampedeCallers int
}

// modes are the flags that say what a run does besides the workloads.
type modes struct {
	replot, readme, child, cpuProfile string
	entries, entrySize, valueSize     int
	tierClient, redisAddr, restartOf  string
}

// parseFlags reads the command line into the workloads' config and the
// run's modes.
func parseFlags() (config, modes, error) {
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
		quick      = flag.Bool("quick", false, "every workload at reduced sizes, in minutes: the full run's shapes, figures to look at, not to publish")
		child      = flag.String("child", "", "internal: run one measurement in this process (gc or memory)")
		entries    = flag.Int("entries", 0, "internal: entries for -child=gc and -child=tiergc")
		tierClient = flag.String("tier-client", "", "internal: the client for -child=tiergc")
		entrySize  = flag.Int("entry-size", 144, "internal: key plus value bytes for -child=memory")
		redisAddr  = flag.String("redis", "", "internal: the Redis for -child=tiergc")
		restartOf  = flag.String("restart-cache", "", "internal: the cache for -child=restart (ringcache, fastcache, or none for the page-fault floor)")
		valueSize  = flag.Int("value-size", 0, "internal: the value size for -child=restart")
		replot     = flag.String("replot", "", "redraw the report and charts of a results.json into -out, running nothing")
		readme     = flag.String("readme", "", "with -replot: rewrite the headline table of this README between its markers")
		settleFlag = flag.Bool("settle", true, "hitratio: settle caches that evict in deferred maintenance after every write (false shows how far past their capacity they run)")
		bounds     = flag.Bool("bounds", true, "hitratio: add the reference policies to every cell: Belady's clairvoyant bound, perfect LFU, and A0 on the Zipf streams")
		hitReplays = flag.Int("hit-replays", 5, "hitratio: replays, each in a new cache, averaged per cell for contenders whose hit ratio varies from cache to cache (otter, theine, ristretto)")
		rcK        = flag.Int("ringcache-k", 0, "ringcache's Config.K (0: its default)")
		rcHint     = flag.Bool("ringcache-size-hint", true, "tell ringcache the entry size (Config.AvgEntrySize) where a workload's entries all have one size")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	)
	flag.Parse()
	m := modes{replot: *replot, readme: *readme, child: *child, cpuProfile: *cpuProfile,
		entries: *entries, entrySize: *entrySize, valueSize: *valueSize,
		tierClient: *tierClient, redisAddr: *redisAddr, restartOf: *restartOf}
	cfg := config{
		workloads: map[string]bool{}, out: *out, traces: *traces, traceLimit: *traceLimit,
		keys: *keys, streamLen: 1 << 22, zipfS: *zipfS, duration: *duration, rounds: *rounds, gcRun: *gcRun,
		budget: *budget, synthKeys: *synthKeys, synthRequests: *synthReqs, smoke: *smoke, quick: *quick && !*smoke,
		stampedeRounds: 20, stampedeCallers: 1000, settle: *settleFlag,
		bounds: *bounds, hitReplays: max(*hitReplays, 1),
	}
	for _, w := range strings.Split(*workloads, ",") {
		switch w = strings.TrimSpace(w); w {
		case "throughput", "gc", "memory", "hitratio", "stampede", "tier", "restart":
			cfg.workloads[w] = true
		case "":
		default:
			return config{}, m, fmt.Errorf("unknown workload %q", w)
		}
	}
	for _, s := range strings.Split(*gcEntries, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return config{}, m, fmt.Errorf("-gc-entries: %q is not a positive count", s)
		}
		cfg.gcEntries = append(cfg.gcEntries, n)
	}
	all := contenders.All(contenders.RingcacheOptions{K: *rcK, SizeHint: *rcHint})
	cfg.contenders = all
	if *names != "" {
		cfg.contenders = nil
		for _, n := range strings.Split(*names, ",") {
			c, ok := contenders.Named(all, strings.TrimSpace(n))
			if !ok {
				return config{}, m, fmt.Errorf("unknown contender %q; known: %s", n, allNames())
			}
			cfg.contenders = append(cfg.contenders, c)
		}
	}
	if cfg.quick {
		cfg.keys, cfg.duration, cfg.rounds = 200_000, 150*time.Millisecond, 1
		cfg.gcEntries, cfg.gcRun, cfg.budget = []int{500_000}, time.Second, 32<<20
		cfg.synthKeys, cfg.synthRequests, cfg.traceLimit = 200_000, 200_000, 200_000
		cfg.stampedeRounds, cfg.hitReplays = 5, min(cfg.hitReplays, 2)
	}
	if cfg.smoke {
		cfg.keys, cfg.streamLen, cfg.duration, cfg.rounds = 20_000, 1<<16, 100*time.Millisecond, 1
		cfg.gcEntries, cfg.gcRun, cfg.budget = []int{20_000}, 200*time.Millisecond, 4<<20
		cfg.synthKeys, cfg.synthRequests, cfg.traceLimit = 20_000, 20_000, 20_000
		cfg.stampedeRounds, cfg.stampedeCallers, cfg.hitReplays = 2, 100, 1
	}

	return cfg, m, nil
}

func allNames() string {
	var n []string
	for _, c := range contenders.All(contenders.DefaultRingcache) {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}
