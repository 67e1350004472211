// Package ringprom exports a ringcache.Cache's and a tier.Tier's counters
// to Prometheus: a prometheus.Collector reads Stats at each scrape, so
// nothing is recorded twice and the cache pays nothing between scrapes.
//
// Metric names begin with ringcache_ (a tier's own with ringcache_tier_),
// counters end in _total and byte figures in _bytes; each carries a
// constant label cache with the name given, so that one registry can hold
// several caches. The loader's durations are the histogram
// ringcache_load_duration_seconds. The hit ratio is
//
//	rate(ringcache_hits_total[5m]) / (rate(ringcache_hits_total[5m]) + rate(ringcache_misses_total[5m]))
package ringprom
