package main

import (
	"errors"
	"fmt"
	"image/color"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The charts of a report: one PNG of grouped bars per table.

func (r *results) charts(dir string) error {
	ms := func(d float64) float64 { return d / 1e6 }
	var errs []error
	if len(r.Throughput) > 0 {
		rows := slices.DeleteFunc(slices.Clone(r.Throughput), func(t throughputRow) bool { return t.Workload == "all" })
		errs = append(errs, barChart(rows, "Throughput", "Mops/s",
			func(t throughputRow) (string, string) { return t.Workload, t.Contender },
			func(t throughputRow) float64 { return t.Mops }, filepath.Join(dir, "throughput.png")))
	}
	if len(r.GC) > 0 {
		errs = append(errs, barChart(r.GC, "Forced GC with N entries (lower is better)", "milliseconds",
			func(g gcResult) (string, string) { return fmt.Sprint(g.Entries), g.Contender },
			func(g gcResult) float64 { return ms(float64(g.GCWall)) }, filepath.Join(dir, "gc.png")))
	}
	if len(r.Memory) > 0 {
		errs = append(errs, barChart(r.Memory, "RSS per retained entry, 16 B keys (lower is better)", "bytes",
			func(m memResult) (string, string) { return fmt.Sprintf("%d B entries", m.EntrySize), m.Contender },
			func(m memResult) float64 {
				if m.Retained == 0 {
					return 0
				}
				return float64(m.RSSGrowth) / float64(m.Retained)
			}, filepath.Join(dir, "memory.png")))
	}
	if len(r.HitRatio) > 0 {
		rows := slices.DeleteFunc(slices.Clone(r.HitRatio), func(h hitRow) bool { return h.Bound })
		errs = append(errs, barChart(rows, "Hit ratio (n/a cells left empty)", "percent",
			func(h hitRow) (string, string) { return fmt.Sprintf("%s@%d", h.Stream, h.Capacity), h.Contender },
			func(h hitRow) float64 { return h.HitRatio }, filepath.Join(dir, "hitratio.png")))
	}
	if t := r.Tier; t != nil && len(t.Reads) > 0 {
		errs = append(errs, barChart(t.Reads, "Reads through a cache layer in front of Redis, three instances", "Mops/s",
			func(r tierReadRow) (string, string) { return r.Mix, r.Layer },
			func(r tierReadRow) float64 { return r.Mops }, filepath.Join(dir, "tier-reads.png")))
	}
	if t := r.Tier; t != nil && len(t.GC) > 0 {
		errs = append(errs, barChart(t.GC, "Forced GC with local copies held (lower is better)", "milliseconds",
			func(g tierGCRow) (string, string) { return fmt.Sprintf("%d local copies", g.Entries), g.Client },
			func(g tierGCRow) float64 { return ms(float64(g.GCWall)) }, filepath.Join(dir, "tier-gc.png")))
	}
	return errors.Join(errs...)
}

// barChart draws rows as grouped bars: a group per category, a bar per
// contender, each in the order the rows first name it; a missing bar is
// left empty.
func barChart[T any](rows []T, title, ylabel string, key func(T) (category, contender string), value func(T) float64, file string) error {
	categories := names(rows, func(r T) string { c, _ := key(r); return c })
	contenders := names(rows, func(r T) string { _, c := key(r); return c })
	return groupedBars(title, ylabel, categories, contenders, func(category, contender string) float64 {
		for _, row := range rows {
			if cat, c := key(row); cat == category && c == contender {
				return value(row)
			}
		}
		return 0
	}, file)
}

var palette = []color.Color{
	color.RGBA{0xd6, 0x27, 0x28, 255}, // ringcache stands out in red
	color.RGBA{0x1f, 0x77, 0xb4, 255},
	color.RGBA{0xff, 0x7f, 0x0e, 255},
	color.RGBA{0x2c, 0xa0, 0x2c, 255},
	color.RGBA{0x94, 0x67, 0xbd, 255},
	color.RGBA{0x8c, 0x56, 0x4b, 255},
	color.RGBA{0xe3, 0x77, 0xc2, 255},
	color.RGBA{0x7f, 0x7f, 0x7f, 255},
}

// groupedBars draws one bar per contender in each category.
func groupedBars(title, ylabel string, categories, contenders []string, value func(cat, contender string) float64, file string) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	width := vg.Points(float64(min(14, 90/max(len(contenders), 1))))
	top := 0.0
	for i, c := range contenders {
		vals := make(plotter.Values, len(categories))
		for j, cat := range categories {
			vals[j] = max(value(cat, c), 0)
			top = max(top, vals[j])
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = palette[i%len(palette)]
		bars.Offset = width * vg.Length(float64(i)-float64(len(contenders)-1)/2)
		p.Add(bars)
		p.Legend.Add(c, bars)
	}
	p.NominalX(categories...)
	// Headroom above the tallest bar keeps the legend off the bars.
	p.Y.Min, p.Y.Max = 0, top*1.45
	w := vg.Length(max(6, float64(len(categories))*float64(len(contenders))*0.2+2)) * vg.Inch
	return p.Save(w, 5*vg.Inch, file)
}
