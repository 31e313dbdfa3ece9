package limits

import "time"

// SetRateClock pins the limiter's clock (sweep tests cannot wait a minute).
func SetRateClock(r *RateLimiter, now func() time.Time) { r.now = now }
