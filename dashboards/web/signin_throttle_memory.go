package web

import (
	"context"
	"time"
)

var _ AccountThrottle = (*MemoryLimiter)(nil)

// memThrottle is one sign-in bucket of a MemoryLimiter.
type memThrottle struct {
	n       int       // attempts counted since the last success
	next    time.Time // no check before
	expires time.Time // forgotten at
}

// SignInAttempt implements AccountThrottle; it never fails. Past MaxKeys
// live buckets a new one is refused (a minute's wait) rather than let
// through unthrottled, as Allow does.
func (m *MemoryLimiter) SignInAttempt(_ context.Context, bucket string, now time.Time, delay func(int) time.Duration, forget time.Duration) (bool, time.Duration, error) {
	k := memKey(bucket)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.throttle == nil {
		m.throttle = make(map[[16]byte]memThrottle)
	}
	b, found := m.throttle[k]
	if found && !now.Before(b.expires) {
		b, found = memThrottle{}, false
	}
	if !found {
		limit := m.maxKeys()
		if !now.Before(m.nextSweep) || len(m.throttle) >= limit {
			m.sweep(now)
		}
		if len(m.throttle) >= limit {
			return false, time.Minute, nil
		}
	}
	if now.Before(b.next) {
		return false, b.next.Sub(now), nil
	}
	b.n++
	b.next = time.Time{} // a free attempt sets no time (see sqlstore's)
	if d := delay(b.n); d > 0 {
		b.next = now.Add(d)
	}
	b.expires = now.Add(delay(b.n) + forget)
	m.throttle[k] = b
	return true, 0, nil
}

// SignInSucceeded implements AccountThrottle. When the map of known clients
// is full, the client is simply not remembered.
func (m *MemoryLimiter) SignInSucceeded(_ context.Context, bucket, known string, now time.Time, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.throttle, memKey(bucket))
	if m.known == nil {
		m.known = make(map[[16]byte]time.Time)
	}
	if len(m.known) >= m.maxKeys() {
		m.sweep(now)
	}
	if len(m.known) < m.maxKeys() {
		m.known[memKey(known)] = now.Add(ttl)
	}
	return nil
}

// SignInKnown implements AccountThrottle.
func (m *MemoryLimiter) SignInKnown(_ context.Context, known string, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	until, ok := m.known[memKey(known)]
	return ok && now.Before(until), nil
}

func (m *MemoryLimiter) maxKeys() int {
	if m.MaxKeys <= 0 {
		return DefaultMemoryLimiterKeys
	}
	return m.MaxKeys
}
