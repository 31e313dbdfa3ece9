package measure

import (
	"sync"
	"time"
)

// rangeCache keeps Range results for a short time and lets concurrent
// identical queries share one InfluxDB round trip. InfluxDB 1.8's Flux has no
// window-aggregate pushdown, so aggregateWindow over a week of minute data
// costs ~0.3 s per series there; a proposal page viewed by many citizens
// should not pay it on every view. (Range now fetches raw points and
// aggregates in Go, ~4× cheaper, but a cold page still costs ~55 ms.)
type rangeCache struct {
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[string]cacheEntry
	flight  map[string]*call
}

type cacheEntry struct {
	data    *SeriesData
	expires time.Time
}

type call struct {
	done chan struct{}
	data *SeriesData
	err  error
}

func newRangeCache(ttl time.Duration, max int) *rangeCache {
	return &rangeCache{ttl: ttl, max: max, entries: map[string]cacheEntry{}, flight: map[string]*call{}}
}

// get returns the cached result for key, or runs fn once for all concurrent
// callers of the same key and caches a successful result.
func (c *rangeCache) get(key string, fn func() (*SeriesData, error)) (*SeriesData, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.data, nil
	}
	if cl, ok := c.flight[key]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.data, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.flight[key] = cl
	c.mu.Unlock()

	cl.data, cl.err = fn()

	c.mu.Lock()
	delete(c.flight, key)
	if cl.err == nil {
		if len(c.entries) >= c.max {
			for k, e := range c.entries {
				if !now.Before(e.expires) {
					delete(c.entries, k)
				}
			}
			if len(c.entries) >= c.max {
				c.entries = map[string]cacheEntry{}
			}
		}
		c.entries[key] = cacheEntry{data: cl.data, expires: time.Now().Add(c.ttl)}
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.data, cl.err
}
