package api

import (
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// RateLimiter counts requests per key in fixed windows. Allow records one
// request for key and reports whether it is within max for the current
// window; when it is not, retryAfter is the time until the window ends.
//
// The API holds one RateLimiter for all its limits: MemoryLimiter for a
// single process (SQLite), sqlstore's SQL limiter when several replicas share
// a PostgreSQL database, so that N replicas do not give N times the budget.
// Keys are "<limit>:<ip>" or "<limit>:u:<user id>"; implementations must not
// keep them in clear (they are personal data): both shipped ones hash them.
type RateLimiter interface {
	Allow(ctx context.Context, key string, max int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// rateTimeout bounds one limiter call: a slow shared store must not hold
// requests longer than the database they are about to use would.
const rateTimeout = 2 * time.Second

// failOpen says, per limit, what a request gets when the limiter itself
// fails (shared store unreachable). Votes pass: the vote needs the same
// database, so an outage stops it anyway, and refusing would only turn a
// partial failure into an outage. Sign-in and sign-up are refused with 503:
// they are what brute force and account spam aim at, and each costs an
// argon2id hash (19 MiB, tens of ms) that unlimited requests would burn.
var failOpen = map[string]bool{"vote": true, "contribution": true, "signin": false, "signup": false}

// limiter returns the rate-limit middleware of a route-table limit kind, or
// nil when the route has none or the limit is disabled (negative).
func (s *Server) limiter(kind string) fiber.Handler {
	var limit int
	switch kind {
	case "signup":
		limit = s.cfg.SignUpLimit
	case "signin":
		limit = s.cfg.SignInLimit
	case "vote":
		limit = s.cfg.VoteLimit
	case "contribution":
		limit = s.cfg.ContributionLimit
	default: // "", "upload"
		return nil
	}
	if limit < 0 {
		return nil
	}
	window := s.cfg.RateWindow
	var lastWarn atomic.Int64 // unix seconds of the last fail-open/closed warning
	return func(c *fiber.Ctx) error {
		key := kind + ":" + s.clientIP(c)
		if kind == "vote" || kind == "contribution" {
			// Per account (the routes are signed-in only; the guard ran
			// first), so citizens behind one NAT do not share a budget. POST
			// and DELETE of a vote share it: withdrawing and re-voting is no
			// way around it. Proposals and comments share theirs: both fill
			// the moderation queue.
			if p := caller(c); p != nil {
				key = kind + ":u:" + p.user.ID
			}
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), rateTimeout)
		ok, retry, err := s.rate.Allow(ctx, key, limit, window)
		cancel()
		if err != nil {
			s.metrics.rateErrors.WithLabelValues(kind).Inc()
			open := failOpen[kind]
			// One warning per 10 s is enough to page someone; the metric counts them all.
			if now := time.Now().Unix(); now-lastWarn.Load() >= 10 {
				lastWarn.Store(now)
				s.log.Warn("rate limiter unavailable", "limit", kind, "fail_open", open, "err", err)
			}
			if open {
				return c.Next()
			}
			return civic.Errorf(civic.EUNAVAILABLE, "cannot check the %s rate limit right now; retry later", kind)
		}
		if !ok {
			s.metrics.rateLimited.WithLabelValues(kind).Inc()
			secs := retryAfterSeconds(retry)
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
			return &civic.Error{Code: civic.ETOOMANY,
				Message: "too many " + kind + " requests; retry in " + strconv.Itoa(secs) + "s",
				Extra:   map[string]any{"retry_after": secs}}
		}
		return c.Next()
	}
}

// retryAfterSeconds rounds up to whole seconds (Retry-After has no
// fraction), at least 1: "0" would invite an immediate retry storm.
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}
