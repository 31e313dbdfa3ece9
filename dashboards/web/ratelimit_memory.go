package web

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultMemoryLimiterKeys bounds a MemoryLimiter: ~100 bytes a key, so
// about 25 MiB at most.
const DefaultMemoryLimiterKeys = 1 << 18

// MemoryLimiter is the in-process RateLimiter: fixed windows aligned on the
// Unix epoch, one counter per key. It is right for a single API process
// (SQLite deployments); several replicas each keep their own counts.
//
// Memory is bounded: keys are kept as 16 bytes of their SHA-256 (no IPs or
// user ids in clear, and no long keys), expired windows are swept at most
// once a minute or when the map is full, and past MaxKeys live windows a
// request with a new key is refused rather than let through unlimited.
type MemoryLimiter struct {
	// MaxKeys (optional) defaults to DefaultMemoryLimiterKeys.
	MaxKeys int
	// Now (optional) defaults to time.Now; tests pin it.
	Now func() time.Time

	mu        sync.Mutex
	windows   map[[16]byte]memWindow
	throttle  map[[16]byte]memThrottle // sign-in buckets (AccountThrottle)
	known     map[[16]byte]time.Time   // known clients, until when
	nextSweep time.Time
}

type memWindow struct {
	end time.Time // the window is [end-window, end)
	n   int
}

// memSweepEvery is how often expired windows are dropped when not full.
const memSweepEvery = time.Minute

// NewMemoryLimiter returns a MemoryLimiter with the defaults.
func NewMemoryLimiter() *MemoryLimiter { return &MemoryLimiter{} }

// Allow implements RateLimiter; it never fails.
func (m *MemoryLimiter) Allow(_ context.Context, key string, max int, window time.Duration) (bool, time.Duration, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	end := t.Truncate(window).Add(window)
	k := memKey(key)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.windows == nil {
		m.windows = make(map[[16]byte]memWindow)
	}
	limit := m.MaxKeys
	if limit <= 0 {
		limit = DefaultMemoryLimiterKeys
	}
	w, found := m.windows[k]
	if found && !w.end.Equal(end) {
		w = memWindow{} // a new window: the old count no longer matters
	}
	if !found {
		if !t.Before(m.nextSweep) || len(m.windows) >= limit {
			m.sweep(t)
		}
		if len(m.windows) >= limit {
			// Only a flood of distinct keys gets here; letting it through
			// would drop every limit exactly when it matters.
			return false, end.Sub(t), nil
		}
	}
	w.end = end
	w.n++
	m.windows[k] = w
	if w.n > max {
		return false, end.Sub(t), nil
	}
	return true, 0, nil
}

// memKey is what the map holds for key: 16 bytes of its SHA-256.
func memKey(key string) [16]byte {
	h := sha256.Sum256([]byte(key))
	var k [16]byte
	copy(k[:], h[:])
	return k
}

// sweep drops the windows that have ended, and the sign-in buckets and known
// clients that have expired. Called with mu held.
func (m *MemoryLimiter) sweep(now time.Time) {
	for k, w := range m.windows {
		if !now.Before(w.end) {
			delete(m.windows, k)
		}
	}
	for k, b := range m.throttle {
		if !now.Before(b.expires) {
			delete(m.throttle, k)
		}
	}
	for k, until := range m.known {
		if !now.Before(until) {
			delete(m.known, k)
		}
	}
	m.nextSweep = now.Add(memSweepEvery)
}

// Len is the number of windows held (tests and metrics).
func (m *MemoryLimiter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.windows)
}
