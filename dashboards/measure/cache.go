package measure

import (
	"errors"
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

// claim looks keys up (distinct ones). Entries still fresh come back in
// hits; keys another caller is fetching come back in waits, whose done
// channel closes once it has; the others are this caller's to fetch (mine),
// and it must complete them before it waits for anything, so that callers
// waiting on each other's keys never wait forever.
func (c *rangeCache) claim(keys []string) (hits map[string]*SeriesData, waits map[string]*call, mine []string) {
	now := time.Now()
	hits, waits = map[string]*SeriesData{}, map[string]*call{}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range keys {
		if e, ok := c.entries[key]; ok && now.Before(e.expires) {
			hits[key] = e.data
			continue
		}
		if cl, ok := c.flight[key]; ok {
			waits[key] = cl
			continue
		}
		c.flight[key] = &call{done: make(chan struct{})}
		mine = append(mine, key)
	}
	return hits, waits, mine
}

// complete ends the fetch of the claimed keys: with err, or with each one's
// data, cached for the TTL.
func (c *rangeCache) complete(mine []string, data map[string]*SeriesData, err error) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, key := range mine {
		cl := c.flight[key]
		delete(c.flight, key)
		cl.data, cl.err = data[key], err
		if err == nil && cl.data == nil {
			cl.err = errors.New("range: no answer") // cannot happen: every key fetched has an answer
		}
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
			c.entries[key] = cacheEntry{data: cl.data, expires: now.Add(c.ttl)}
		}
		close(cl.done)
	}
}
