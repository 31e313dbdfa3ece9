package web

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
// Keys are "<limit>:<client>" (an IPv4 address or an IPv6 /64),
// "<limit>:<network>", "<limit>:u:<user id>" or "<limit>:all";
// implementations must not keep them in clear (they are personal data): both
// shipped ones hash them.
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
// Public reads are counted in memory, which does not fail.
var failOpen = map[string]bool{"vote": true, "contribution": true, "signin": false, "signup": false, "read": true}

// rateRule is one counter a request of a limit kind is counted in: max per
// window, per key (the client's address, its network, its account, or one
// key for everybody).
type rateRule struct {
	name    string // key prefix and metric label: "signup", "signup_network"…
	max     int
	window  time.Duration
	key     func(c *fiber.Ctx) string
	message string // "too many … requests"
}

// rules are the counters of a route-table limit kind; none when the route
// has no limit or its limits are disabled (negative).
func (k *Kit) rules(kind string) []rateRule {
	client := k.ClientKey
	perAccount := func(c *fiber.Ctx) string {
		// Per account (the routes are signed-in only; the guard ran first),
		// so citizens behind one NAT do not share a budget. POST and DELETE
		// of a vote share it: withdrawing and re-voting is no way around
		// it. Proposals and comments share theirs: both fill the moderation
		// queue.
		if p := Caller(c); p != nil {
			return "u:" + p.User.ID
		}
		return k.ClientKey(c)
	}
	w := k.cfg.RateWindow
	var rs []rateRule
	switch kind {
	case "signup":
		rs = []rateRule{
			{"signup", k.cfg.SignUpLimit, w, client, "too many sign-ups from your address"},
			{"signup_network", k.cfg.SignUpNetworkLimit, k.cfg.SignUpWindow, k.NetworkKey, "too many sign-ups from your network"},
			{"signup_total", k.cfg.SignUpTotalLimit, k.cfg.SignUpWindow, func(*fiber.Ctx) string { return "all" }, "too many sign-ups right now"},
		}
	case "signin":
		rs = []rateRule{{"signin", k.cfg.SignInLimit, w, client, "too many signin requests"}}
	case "vote":
		rs = []rateRule{{"vote", k.cfg.VoteLimit, w, perAccount, "too many vote requests"}}
	case "contribution":
		rs = []rateRule{{"contribution", k.cfg.ContributionLimit, w, perAccount, "too many contribution requests"}}
	case "read":
		rs = []rateRule{{"read", k.cfg.PublicReadLimit, w, client, "too many requests from your address"}}
	}
	out := rs[:0]
	for _, r := range rs {
		if r.max >= 0 {
			out = append(out, r)
		}
	}
	return out
}

// limiter returns the rate-limit middleware of a route-table limit kind, or
// nil when the route has none or its limits are disabled. The counters are
// checked in order and the first one over its max refuses the request.
// Public reads are counted by a MemoryLimiter of the process whatever the
// rate store: one upsert per page view would make every read a database
// write.
func (k *Kit) limiter(kind string) fiber.Handler {
	rules := k.rules(kind)
	if len(rules) == 0 {
		return nil
	}
	store := k.rate
	if kind == "read" {
		store = k.readRate
	}
	var lastWarn atomic.Int64 // unix seconds of the last fail-open/closed warning
	return func(c *fiber.Ctx) error {
		for _, r := range rules {
			ctx, cancel := context.WithTimeout(c.UserContext(), rateTimeout)
			ok, retry, err := store.Allow(ctx, r.name+":"+r.key(c), r.max, r.window)
			cancel()
			if err != nil {
				k.metrics.rateErrors.WithLabelValues(kind).Inc()
				open := failOpen[kind]
				// One warning per 10 s is enough to page someone; the metric counts them all.
				if now := time.Now().Unix(); now-lastWarn.Load() >= 10 {
					lastWarn.Store(now)
					k.log.Warn("rate limiter unavailable", "limit", kind, "fail_open", open, "err", err)
				}
				if open {
					return c.Next()
				}
				return civic.Errorf(civic.EUNAVAILABLE, "cannot check the %s rate limit right now; retry later", kind)
			}
			if !ok {
				k.metrics.rateLimited.WithLabelValues(r.name).Inc()
				secs := RetryAfterSeconds(retry)
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
				return &civic.Error{Code: civic.ETOOMANY,
					Message: r.message + "; retry in " + strconv.Itoa(secs) + "s",
					Extra:   map[string]any{"retry_after": secs}}
			}
		}
		return c.Next()
	}
}

// retryAfterSeconds rounds up to whole seconds (Retry-After has no
// fraction), at least 1: "0" would invite an immediate retry storm.
func RetryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	return max(s, 1)
}

// Quota counts one request against a limit of its own window (mails per
// account or address, password checks per account). Like sign-in, it fails
// closed when the limiter is down.
func (k *Kit) Quota(c *fiber.Ctx, kind, key string, limit int, window time.Duration) error {
	if limit < 0 {
		return nil
	}
	cx, cancel := context.WithTimeout(c.UserContext(), rateTimeout)
	ok, retry, err := k.rate.Allow(cx, kind+":"+key, limit, window)
	cancel()
	if err != nil {
		k.metrics.rateErrors.WithLabelValues(kind).Inc()
		k.log.Warn("rate limiter unavailable", "limit", kind, "fail_open", false, "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "cannot check the %s rate limit right now; retry later", kind)
	}
	if !ok {
		k.metrics.rateLimited.WithLabelValues(kind).Inc()
		secs := RetryAfterSeconds(retry)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return &civic.Error{Code: civic.ETOOMANY, Message: "too many " + kind + " requests; retry in " + strconv.Itoa(secs) + "s",
			Extra: map[string]any{"retry_after": secs}}
	}
	return nil
}
