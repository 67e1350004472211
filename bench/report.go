package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

type env struct {
	Date    string
	CPU     string
	Cores   int
	Go      string
	OS      string
	Command string
	Elapsed string
}

type results struct {
	Env        env
	Throughput []throughputRow `json:",omitempty"`
	GC         []gcResult      `json:",omitempty"`
	Memory     []memResult     `json:",omitempty"`
	HitRatio   []hitRow        `json:",omitempty"`
	Stampede   []stampedeRow   `json:",omitempty"`
	Tier       *tierResults    `json:",omitempty"`
	Restart    []restartRow    `json:",omitempty"`
}

func describeEnv(args []string) env {
	cpu := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return env{
		Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), CPU: cpu, Cores: runtime.NumCPU(),
		Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Command: strings.TrimSpace("go run . " + strings.Join(args, " ")),
	}
}

// write prints the Markdown report to stdout and, with a directory, saves
// it as results.md beside results.json and the charts.
func (r *results) write(dir string) error {
	md := r.markdown()
	fmt.Print(md)
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), js, 0o644); err != nil {
		return err
	}
	if err := r.charts(dir); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644)
}

// names returns the contenders in the order they were run.
func names[T any](rows []T, name func(T) string) []string {
	var out []string
	for _, r := range rows {
		if n := name(r); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// bestPeer returns the best value among contenders other than ringcache.
func bestPeer(vals map[string]float64, higherBetter bool) (float64, bool) {
	n, ok := bestName(vals, higherBetter)
	return vals[n], ok
}

func (r *results) markdown() string {
	var b strings.Builder
	e := r.Env
	fmt.Fprintf(&b, "# ringcache and its peers\n\n")
	fmt.Fprintf(&b, "%s · %s, %d cores · %s %s · `%s` (from bench/) · took %s\n\n", e.Date, e.CPU, e.Cores, e.Go, e.OS, e.Command, e.Elapsed)
	fmt.Fprintf(&b, "Ratios are to the best peer in the same row: above 1 (or a positive difference) means ringcache leads. The machine is a shared VM: compare within this run, not across runs.\n\n")
	if len(r.Throughput) > 0 {
		r.throughputTable(&b)
	}
	if len(r.GC) > 0 {
		r.gcTable(&b)
	}
	if len(r.Memory) > 0 {
		r.memoryTable(&b)
	}
	if len(r.HitRatio) > 0 {
		r.hitTable(&b)
	}
	if len(r.Stampede) > 0 {
		b.WriteString(stampedeTable(r.Stampede))
	}
	if len(r.Restart) > 0 {
		restartMarkdown(r.Restart, &b)
	}
	if r.Tier != nil {
		r.Tier.markdown(&b)
	}
	return b.String()
}

func (r *results) throughputTable(b *strings.Builder) {
	cs := names(r.Throughput, func(t throughputRow) string { return t.Contender })
	ws := names(r.Throughput, func(t throughputRow) string { return t.Workload })
	fmt.Fprintf(b, "## Throughput (Mops/s, higher is better)\n\n![throughput](throughput.png)\n\n")
	if n := r.Throughput[0].Rounds; n > 1 {
		fmt.Fprintf(b, "Each cell is the median of %d rounds; in each round every contender ran every cell, in an order that rotated from round to round.\n\n", n)
	}
	fmt.Fprintf(b, "| workload | %s | ringcache ÷ best peer |\n|---|%s---|\n", strings.Join(cs, " | "), strings.Repeat("---|", len(cs)))
	var notes []string
	for _, w := range ws {
		vals := map[string]float64{}
		fmt.Fprintf(b, "| %s |", w)
		for _, c := range cs {
			cell := "–"
			for _, t := range r.Throughput {
				if t.Contender == c && (t.Workload == w || t.Workload == "all") {
					if t.Mops > 0 {
						cell = fmt.Sprintf("%.2f", t.Mops)
						vals[c] = t.Mops
					} else {
						cell = "n/a"
					}
					if t.Note != "" && !slices.Contains(notes, c+": "+t.Note) {
						notes = append(notes, c+": "+t.Note)
					}
				}
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		fmt.Fprintf(b, " %s |\n", ratio(vals, true))
	}
	writeNotes(b, notes)
}

func ratio(vals map[string]float64, higherBetter bool) string {
	best, ok := bestPeer(vals, higherBetter)
	rc, have := vals["ringcache"]
	if !ok || !have || best == 0 || rc == 0 {
		return "–"
	}
	if higherBetter {
		return fmt.Sprintf("%.2fx", rc/best)
	}
	return fmt.Sprintf("%.2fx", best/rc)
}

// replaysNote says which caches' cells are means of several replays, and
// how far apart the replays of the widest cell were; "" if none are.
func replaysNote(rows []hitRow) string {
	var averaged []string
	var widest hitRow
	for _, h := range rows {
		if h.Replays < 2 {
			continue
		}
		if !slices.Contains(averaged, h.Contender) {
			averaged = append(averaged, h.Contender)
		}
		if h.Spread > widest.Spread {
			widest = h
		}
	}
	if len(averaged) == 0 {
		return ""
	}
	return fmt.Sprintf(" The hit ratios of %s on the same requests differ from one cache to the next (they seed their hashes anew in each cache, and ristretto samples its victims at random): each of their cells is the mean of %d caches (results.json has each cell's spread; the widest, %s at %s @ %d, spans %.2f points).",
		strings.Join(averaged, ", "), widest.Replays, widest.Contender, widest.Stream, widest.Capacity, widest.Spread)
}

// rowNotes lists the rows' notes, in order; note returns "" for a row
// without one.
func rowNotes[T any](rows []T, note func(T) string) []string {
	var notes []string
	for _, r := range rows {
		if n := note(r); n != "" {
			notes = append(notes, n)
		}
	}
	return notes
}

// labelled is a note named by label, or "" when there is none.
func labelled(label, note string) string {
	if note == "" {
		return ""
	}
	return label + ": " + note
}

func writeNotes(b *strings.Builder, notes []string) {
	for _, n := range notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}

func (r *results) gcTable(b *strings.Builder) {
	fmt.Fprintf(b, "## GC cost and memory with many entries\n\n![forced GC](gc.png)\n\n")
	fmt.Fprintf(b, "Each cell is a fresh process: fill with 16-byte keys and 128-byte values (generic caches get their own value slice per entry), five forced GCs (median wall time), then a 90%%-read mixed run.\n\n")
	fmt.Fprintf(b, "| entries | contender | held | heap objects | forced GC | RSS growth per entry | GC pauses in run | GC CPU share in run | run Mops/s |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, g := range r.GC {
		if g.Held == 0 {
			fmt.Fprintf(b, "| %d | %s | n/a | | | | | | |\n", g.Entries, g.Contender)
			continue
		}
		fmt.Fprintf(b, "| %d | %s | %d | %d | %v | %.1f B | %v (%d GCs) | %.1f%% | %.2f |\n",
			g.Entries, g.Contender, g.Held, g.HeapObjects, g.GCWall.Round(time.Microsecond),
			float64(g.RSSGrowth)/float64(g.Held), g.RunPause.Round(time.Microsecond), g.RunGCs, 100*g.RunGCShare, g.RunMops)
	}
	writeNotes(b, rowNotes(r.GC, func(g gcResult) string { return labelled(fmt.Sprintf("%s at %d", g.Contender, g.Entries), g.Note) }))
}

func (r *results) memoryTable(b *strings.Builder) {
	fmt.Fprintf(b, "## Entries kept for the same byte budget\n\n![memory](memory.png)\n\n")
	fmt.Fprintf(b, "Each contender is configured for the budget (generic caches weigh each entry as len(key)+len(value), the usual choice; ringcache gets no size hint) and fed twice the budget of distinct 16-byte keys with 128-, 8- or 1,008-byte values; retained counts keys still readable, payload kept is their key and value bytes over the budget. RSS per retained entry is the honest figure: weights do not count a generic cache's own overhead.\n\n")
	fmt.Fprintf(b, "| entry | contender | budget | retained | payload kept | RSS growth | RSS per retained entry |\n|---|---|---|---|---|---|---|\n")
	for _, m := range r.Memory {
		per := "n/a"
		if m.Retained > 0 {
			per = fmt.Sprintf("%.1f B", float64(m.RSSGrowth)/float64(m.Retained))
		}
		kept := 100 * float64(m.Retained) * float64(m.EntrySize) / float64(max(m.Budget, 1))
		fmt.Fprintf(b, "| %d B | %s | %d MiB | %d | %.1f%% | %.1f MiB | %s |\n", m.EntrySize, m.Contender, m.Budget>>20, m.Retained, kept, float64(m.RSSGrowth)/(1<<20), per)
	}
	writeNotes(b, rowNotes(r.Memory, func(m memResult) string { return labelled(m.Contender, m.Note) }))
}

func (r *results) hitTable(b *strings.Builder) {
	cs := r.hitCaches()
	// The reference policies, strongest first.
	var bs []string
	for _, n := range []string{beladyName, a0Name, perfectLFUName} {
		if slices.ContainsFunc(r.HitRatio, func(h hitRow) bool { return h.Bound && h.Contender == n }) {
			bs = append(bs, n)
		}
	}
	fmt.Fprintf(b, "## Hit ratio (%%, higher is better)\n\n![hit ratio](hitratio.png)\n\n")
	fmt.Fprintf(b, "Each request is a Get, and on a miss a Set of a %d-byte value under its 8-byte key. Capacities are in entries; byte caches are calibrated to hold that many, or n/a where they cannot be made that small. ringcache is told the entry size (Config.AvgEntrySize, as its docs advise); with its default hint of 128 bytes its figures differ (docs/admission.md). Caches that evict in deferred maintenance are settled after every write.", replayValueLen)
	b.WriteString(replaysNote(r.HitRatio))
	if len(bs) > 0 {
		fmt.Fprintf(b, " The last columns are reference policies, not caches (bench/bounds.go): %s sees the future and bounds every cache; %s, on the Zipf streams, knows every key's odds and keeps the likeliest, the best a cache can do without seeing the future; %s counts every request of every key exactly, in unbounded memory: learning the odds from the past as well as it can be done.", beladyName, a0Name, perfectLFUName)
	}
	fmt.Fprintf(b, "\n\n| stream @ entries | %s | ringcache − best peer | ringcache − best W-TinyLFU |", strings.Join(cs, " | "))
	for _, n := range bs {
		fmt.Fprintf(b, " %s |", n)
	}
	fmt.Fprintf(b, "\n|---|%s---|---|%s\n", strings.Repeat("---|", len(cs)), strings.Repeat("---|", len(bs)))
	cells := hitCells(r.HitRatio)
	sums := map[string]float64{}
	counted := map[string]int{}
	var leads [2]float64 // the two difference columns, summed
	var led [2]int
	var notes []string
	for _, k := range cells {
		vals := map[string]float64{}
		fmt.Fprintf(b, "| %s @ %d |", k.stream, k.cap)
		for _, c := range cs {
			cell := "–"
			if h, ok := k.row(r.HitRatio, c); ok {
				if h.HitRatio < 0 {
					cell = "n/a"
				} else {
					cell = fmt.Sprintf("%.2f", h.HitRatio)
					vals[c] = h.HitRatio
					sums[c] += h.HitRatio
					counted[c]++
					if h.Note != "" {
						notes = append(notes, fmt.Sprintf("%s at %s @ %d: %s", c, k.stream, k.cap, h.Note))
					}
				}
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		for i, among := range [][]string{nil, wTinyLFU} {
			if d, ok := lead(vals, among); ok {
				fmt.Fprintf(b, " %+.2f |", d)
				leads[i] += d
				led[i]++
			} else {
				fmt.Fprintf(b, " – |")
			}
		}
		for _, n := range bs {
			if h, ok := k.row(r.HitRatio, n); ok {
				fmt.Fprintf(b, " %.2f |", h.HitRatio)
			} else {
				fmt.Fprintf(b, " – |")
			}
		}
		fmt.Fprintf(b, "\n")
	}
	fmt.Fprintf(b, "| **mean of cells it ran** |")
	for _, c := range cs {
		if counted[c] > 0 {
			fmt.Fprintf(b, " %.2f (%d) |", sums[c]/float64(counted[c]), counted[c])
		} else {
			fmt.Fprintf(b, " – |")
		}
	}
	for i := range leads {
		if led[i] > 0 {
			fmt.Fprintf(b, " %+.2f (%d) |", leads[i]/float64(led[i]), led[i])
		} else {
			fmt.Fprintf(b, " – |")
		}
	}
	fmt.Fprintf(b, "%s\n", strings.Repeat(" |", len(bs)))
	writeNotes(b, notes)
	r.fifoHeadroom(b, cells, bs)
}

// fifoHeadroom prints, for every cell where a FIFO byte cache could be
// sized, how far ringcache, the best cache and each reference policy lie
// above it: a lead of 10 points there was the project's goal.
func (r *results) fifoHeadroom(b *strings.Builder, cells []hitCell, bounds []string) {
	var lines []string
	for _, fifo := range []string{"freecache", "bigcache"} {
		for _, k := range cells {
			base, ok := k.row(r.HitRatio, fifo)
			if !ok || base.HitRatio < 0 {
				continue
			}
			rc, ok := k.row(r.HitRatio, "ringcache")
			if !ok || rc.HitRatio < 0 {
				continue
			}
			best := rc.HitRatio
			for _, h := range r.HitRatio {
				if !h.Bound && h.Stream == k.stream && h.Capacity == k.cap {
					best = max(best, h.HitRatio)
				}
			}
			line := fmt.Sprintf("| %s | %s @ %d | %+.2f | %+.2f |", fifo, k.stream, k.cap, rc.HitRatio-base.HitRatio, best-base.HitRatio)
			for _, n := range bounds {
				if h, ok := k.row(r.HitRatio, n); ok {
					line += fmt.Sprintf(" %+.2f |", h.HitRatio-base.HitRatio)
				} else {
					line += " – |"
				}
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "Points above the FIFO byte caches, where they can be sized that small:\n\n| FIFO cache | cell | ringcache | best cache |")
	for _, n := range bounds {
		fmt.Fprintf(b, " %s |", n)
	}
	fmt.Fprintf(b, "\n|---|---|---|---|%s\n%s\n\n", strings.Repeat("---|", len(bounds)), strings.Join(lines, "\n"))
}

// hitCaches names the caches of the hit-ratio rows, reference policies
// left out, in the order they ran.
func (r *results) hitCaches() []string {
	return names(slices.DeleteFunc(slices.Clone(r.HitRatio), func(h hitRow) bool { return h.Bound }), func(h hitRow) string { return h.Contender })
}

// hitCell is one stream at one capacity: a row of the hit-ratio table.
type hitCell struct {
	stream string
	cap    int
}

// hitCells returns the cells of rows in the order they were run.
func hitCells(rows []hitRow) []hitCell {
	var cells []hitCell
	for _, h := range rows {
		if k := (hitCell{h.Stream, h.Capacity}); !slices.Contains(cells, k) {
			cells = append(cells, k)
		}
	}
	return cells
}

// row returns the named contender's or reference policy's row in cell k.
func (k hitCell) row(rows []hitRow, name string) (hitRow, bool) {
	for _, h := range rows {
		if h.Contender == name && h.Stream == k.stream && h.Capacity == k.cap {
			return h, true
		}
	}
	return hitRow{}, false
}

// wTinyLFU names the W-TinyLFU caches, the peers ringcache's admission
// is held against cell by cell.
var wTinyLFU = []string{"otter", "theine"}

// hits returns the hit ratios measured in cell k, by contender, leaving
// out those that could not run there.
func (k hitCell) hits(rows []hitRow) map[string]float64 {
	vals := map[string]float64{}
	for _, h := range rows {
		if h.Stream == k.stream && h.Capacity == k.cap && h.HitRatio >= 0 {
			vals[h.Contender] = h.HitRatio
		}
	}
	return vals
}

// lead is ringcache's hit ratio less the best of the others in vals (of
// among only, when among is not nil); false when either is missing.
func lead(vals map[string]float64, among []string) (float64, bool) {
	rc, ok := vals["ringcache"]
	if !ok {
		return 0, false
	}
	best, found := 0.0, false
	for n, v := range vals {
		if n == "ringcache" || (among != nil && !slices.Contains(among, n)) {
			continue
		}
		if !found || v > best {
			best, found = v, true
		}
	}
	return rc - best, found
}
