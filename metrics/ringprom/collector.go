package ringprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/metrics/figures"
	"github.com/ringcache/ringcache/tier"
)

// CacheCollector is a prometheus.Collector of one cache's Stats.
type CacheCollector struct {
	c      *ringcache.Cache // nil for a tier's local cache, collected by its TierCollector
	cache  []*prometheus.Desc
	loadsH *prometheus.Desc
}

// NewCacheCollector returns a collector of c's Stats, labelled
// cache=name. Register it with a prometheus.Registerer.
func NewCacheCollector(name string, c *ringcache.Cache) *CacheCollector {
	cc := newCacheCollector(name)
	cc.c = c
	return cc
}

func newCacheCollector(name string) *CacheCollector {
	labels := prometheus.Labels{"cache": name}
	return &CacheCollector{
		cache: descs("ringcache", figures.Cache, labels),
		loadsH: prometheus.NewDesc("ringcache_load_duration_seconds",
			"How long loader calls took, background refreshes included.", nil, labels),
	}
}

func descs[S any](prefix string, fs []figures.Figure[S], labels prometheus.Labels) []*prometheus.Desc {
	out := make([]*prometheus.Desc, len(fs))
	for i, f := range fs {
		name := prefix + "_" + f.Name
		if f.Bytes {
			name += "_bytes"
		}
		if f.Kind == figures.Counter {
			name += "_total"
		}
		out[i] = prometheus.NewDesc(name, f.Help, nil, labels)
	}
	return out
}

// Describe sends the descriptors of every metric.
func (c *CacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.cache {
		ch <- d
	}
	ch <- c.loadsH
}

// Collect reads Stats once and sends every metric.
func (c *CacheCollector) Collect(ch chan<- prometheus.Metric) { c.collect(ch, c.c.Stats()) }

func (c *CacheCollector) collect(ch chan<- prometheus.Metric, s ringcache.Stats) {
	collect(ch, c.cache, figures.Cache, &s)
	buckets := make(map[float64]uint64, len(ringcache.LoadBuckets))
	var cum uint64 // Prometheus's buckets are cumulative
	for i, bound := range ringcache.LoadBuckets {
		cum += s.LoadTimes.Counts[i]
		buckets[bound.Seconds()] = cum
	}
	count := cum + s.LoadTimes.Counts[len(ringcache.LoadBuckets)]
	ch <- prometheus.MustNewConstHistogram(c.loadsH, count, s.LoadTimes.Sum.Seconds(), buckets)
}

func collect[S any](ch chan<- prometheus.Metric, ds []*prometheus.Desc, fs []figures.Figure[S], s *S) {
	for i, f := range fs {
		kind := prometheus.CounterValue
		if f.Kind == figures.Gauge {
			kind = prometheus.GaugeValue
		}
		ch <- prometheus.MustNewConstMetric(ds[i], kind, f.Value(s))
	}
}

// TierCollector is a prometheus.Collector of one tier's Stats: its own
// figures (ringcache_tier_...) and its local cache's (ringcache_...).
type TierCollector struct {
	t     *tier.Tier
	own   []*prometheus.Desc
	local *CacheCollector
}

// NewTierCollector returns a collector of t's Stats, labelled cache=name.
func NewTierCollector(name string, t *tier.Tier) *TierCollector {
	labels := prometheus.Labels{"cache": name}
	return &TierCollector{t: t, own: descs("ringcache_tier", figures.Tier, labels), local: newCacheCollector(name)}
}

// Describe sends the descriptors of every metric.
func (c *TierCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.own {
		ch <- d
	}
	c.local.Describe(ch)
}

// Collect reads Stats once and sends every metric.
func (c *TierCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.t.Stats()
	collect(ch, c.own, figures.Tier, &s)
	c.local.collect(ch, s.Local)
}
