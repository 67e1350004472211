package ringotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/metrics/figures"
	"github.com/ringcache/ringcache/tier"
)

// RegisterCache creates c's instruments with meter, observed with the
// attribute cache=name. Unregister the returned registration to stop
// observing c (before closing it, say).
func RegisterCache(meter metric.Meter, name string, c *ringcache.Cache) (metric.Registration, error) {
	cache, err := newCacheInstruments(meter)
	if err != nil {
		return nil, err
	}
	return register(meter, name, func(o metric.Observer, attrs metric.ObserveOption) {
		s := c.Stats()
		cache.observe(o, &s, attrs)
	}, cache.observables())
}

// RegisterTier creates t's instruments with meter, its own and its local
// cache's, observed with the attribute cache=name.
func RegisterTier(meter metric.Meter, name string, t *tier.Tier) (metric.Registration, error) {
	own, err := instruments(meter, "ringcache.tier.", figures.Tier)
	if err != nil {
		return nil, err
	}
	local, err := newCacheInstruments(meter)
	if err != nil {
		return nil, err
	}
	return register(meter, name, func(o metric.Observer, attrs metric.ObserveOption) {
		s := t.Stats()
		observe(o, own, figures.Tier, &s, attrs)
		local.observe(o, &s.Local, attrs)
	}, append(observables(own), local.observables()...))
}

// register calls observe at each collection of meter's instruments obs,
// with the attribute cache=name.
func register(meter metric.Meter, name string, observe func(metric.Observer, metric.ObserveOption), obs []metric.Observable) (metric.Registration, error) {
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String("cache", name)))
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		observe(o, attrs)
		return nil
	}, obs...)
}

// cacheInstruments are a cache's figures and its loads' total time.
type cacheInstruments struct {
	figures  []instrument
	loadTime metric.Float64ObservableCounter
}

func newCacheInstruments(meter metric.Meter) (cacheInstruments, error) {
	figs, err := instruments(meter, "ringcache.", figures.Cache)
	if err != nil {
		return cacheInstruments{}, err
	}
	loadTime, err := meter.Float64ObservableCounter("ringcache.load.time", metric.WithUnit("s"),
		metric.WithDescription("Seconds loader calls took, summed; background refreshes included."))
	return cacheInstruments{figs, loadTime}, err
}

func (ci cacheInstruments) observe(o metric.Observer, s *ringcache.Stats, attrs metric.ObserveOption) {
	observe(o, ci.figures, figures.Cache, s, attrs)
	o.ObserveFloat64(ci.loadTime, s.LoadTimes.Sum.Seconds(), attrs)
}

func (ci cacheInstruments) observables() []metric.Observable {
	return append(observables(ci.figures), ci.loadTime)
}

// instrument is a figure's counter or gauge.
type instrument struct {
	counter metric.Float64ObservableCounter
	gauge   metric.Float64ObservableGauge
}

func instruments[S any](meter metric.Meter, prefix string, fs []figures.Figure[S]) ([]instrument, error) {
	out := make([]instrument, len(fs))
	for i, f := range fs {
		unit := "{count}"
		if f.Bytes {
			unit = "By"
		}
		var err error
		switch f.Kind {
		case figures.Counter:
			out[i].counter, err = meter.Float64ObservableCounter(prefix+f.Name, metric.WithUnit(unit), metric.WithDescription(f.Help))
		case figures.Gauge:
			out[i].gauge, err = meter.Float64ObservableGauge(prefix+f.Name, metric.WithUnit(unit), metric.WithDescription(f.Help))
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func observables(is []instrument) []metric.Observable {
	out := make([]metric.Observable, 0, len(is))
	for _, in := range is {
		if in.counter != nil {
			out = append(out, in.counter)
		} else {
			out = append(out, in.gauge)
		}
	}
	return out
}

func observe[S any](o metric.Observer, is []instrument, fs []figures.Figure[S], s *S, attrs metric.ObserveOption) {
	for i, f := range fs {
		if is[i].counter != nil {
			o.ObserveFloat64(is[i].counter, f.Value(s), attrs)
		} else {
			o.ObserveFloat64(is[i].gauge, f.Value(s), attrs)
		}
	}
}
