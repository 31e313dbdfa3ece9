package api

import (
	"strconv"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// liveSlots caps the open live streams, in total and per client (its IPv4
// address or IPv6 /64). Each stream holds a goroutine, a 64-event buffer and
// a connection for as long as the client keeps it, so without a cap a few
// thousand anonymous requests hold the process. The caps are per process:
// the streams are this process's resource.
type liveSlots struct {
	mu    sync.Mutex
	total int
	per   map[string]int
}

// takeLiveSlot reserves a stream for the caller and returns the function
// that frees it (safe to call more than once), or the refusal: 429 when the
// client has LiveMaxPerClient streams open, 503 when the process has
// LiveMaxStreams; both with Retry-After, about when a departed client's slot
// is noticed free (one keep-alive).
func (s *Server) takeLiveSlot(c *fiber.Ctx) (func(), error) {
	key := s.clientKey(c)
	l := &s.liveSlots
	l.mu.Lock()
	var refusal *civic.Error
	kind := ""
	switch {
	case s.cfg.LiveMaxPerClient > 0 && l.per[key] >= s.cfg.LiveMaxPerClient:
		kind = "live"
		refusal = &civic.Error{Code: civic.ETOOMANY, Message: "too many live streams open from your address (at most " + strconv.Itoa(s.cfg.LiveMaxPerClient) + "); close one"}
	case s.cfg.LiveMaxStreams > 0 && l.total >= s.cfg.LiveMaxStreams:
		kind = "live_total"
		refusal = &civic.Error{Code: civic.EUNAVAILABLE, Message: "the live feed is full; retry later"}
	default:
		if l.per == nil {
			l.per = map[string]int{}
		}
		l.per[key]++
		l.total++
	}
	l.mu.Unlock()
	if refusal != nil {
		s.metrics.rateLimited.WithLabelValues(kind).Inc()
		secs := retryAfterSeconds(s.cfg.LiveKeepAlive)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		refusal.Extra = map[string]any{"retry_after": secs}
		return nil, refusal
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.per[key]--; l.per[key] <= 0 {
				delete(l.per, key)
			}
		})
	}, nil
}
