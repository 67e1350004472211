// Package ringotel exports a ringcache.Cache's and a tier.Tier's counters
// as OpenTelemetry metrics: observable instruments whose one callback
// reads Stats at each collection, so the cache pays nothing in between.
//
// Instrument names begin with ringcache. (a tier's own with
// ringcache.tier.), byte figures have the unit By, and each observation
// carries the attribute cache with the name given. OpenTelemetry has no
// asynchronous histogram, so the loader's durations are exported as
// ringcache.load.time, the seconds all loads took (a counter; divided by
// ringcache.loads it is the mean); the Prometheus exporter (ringprom)
// has the histogram.
package ringotel
