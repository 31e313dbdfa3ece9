package web

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// The per-account sign-in throttle. The per-address limit (SignInLimit)
// does not stop a guesser with many addresses, so every e-mail address also
// has a budget: SignInAccountFree attempts, then each further one waits a
// delay that doubles from SignInAccountDelay up to SignInAccountMaxDelay
// (1 s, 2 s, 4 s … 15 min by default: about a hundred guesses a day at most,
// however many addresses). A refused attempt checks no password and changes
// nothing, so hammering does not lengthen the wait.
//
// It must not become a way to lock the owner out:
//
//   - a client address (IPv4, IPv6 /64) from which the account signed in
//     within KnownClientTTL is known: its attempts count in a bucket of their
//     own (account + address), so the owner signing in from their usual
//     address is never held up by someone guessing elsewhere;
//   - everywhere else, the wait is capped and announced (Retry-After): the
//     right password after the wait gets in, and clears the account's
//     failures; failures are forgotten after signInForget without any.
//
// Nothing tells whether an account exists: the bucket is the e-mail address
// as typed (lower-cased), for unknown addresses alike, and a refusal is the
// same 429 for both. The state lives in the RateLimiter when it implements
// AccountThrottle (MemoryLimiter, and sqlstore's limiter, which shares it
// across replicas); it fails closed (503) like the sign-in limit.

// AccountThrottle keeps the state of the per-account sign-in throttle. Keys
// hold e-mail addresses and client addresses: implementations must not keep
// them in clear (both shipped ones hash them).
type AccountThrottle interface {
	// SignInAttempt reserves one password check for bucket at now, or
	// refuses it with the wait until the next is allowed. An allowed attempt
	// counts as failed until SignInSucceeded clears the bucket, so
	// concurrent guesses cannot share one slot. delay(n) is the wait imposed
	// after n counted attempts; a bucket is forgotten forget after that
	// wait ends.
	SignInAttempt(ctx context.Context, bucket string, now time.Time, delay func(n int) time.Duration, forget time.Duration) (allowed bool, wait time.Duration, err error)
	// SignInSucceeded clears bucket and remembers known until now+ttl.
	SignInSucceeded(ctx context.Context, bucket, known string, now time.Time, ttl time.Duration) error
	// SignInKnown reports whether known is remembered at now.
	SignInKnown(ctx context.Context, known string, now time.Time) (bool, error)
}

// KnownClientTTL is how long a client address stays known to an account
// after a sign-in from it.
const KnownClientTTL = 30 * 24 * time.Hour

// signInForget is how long an account's failures are kept after the last.
const signInForget = 24 * time.Hour

// signInDelay is the wait after n counted attempts of one bucket.
func (k *Kit) signInDelay(n int) time.Duration {
	d := n - k.cfg.SignInAccountFree
	if d < 0 {
		return 0
	}
	if d > 40 {
		return k.cfg.SignInAccountMaxDelay
	}
	return min(k.cfg.SignInAccountDelay<<d, k.cfg.SignInAccountMaxDelay)
}

var throttleWarn atomic.Int64 // unix seconds of the last "throttle unavailable" warning

// throttleSignIn applies the per-account throttle to a sign-in with email
// and returns what to call once the password proved right.
func (k *Kit) ThrottleSignIn(c *fiber.Ctx, email string) (succeeded func(), err error) {
	if k.cfg.SignInAccountFree < 0 {
		return func() {}, nil
	}
	account := "signin-account:" + strings.ToLower(strings.TrimSpace(email))
	known := "signin-known:" + account + "|" + k.ClientKey(c)
	now := k.now()
	cx, cancel := context.WithTimeout(c.UserContext(), rateTimeout)
	defer cancel()
	fail := func(err error) error {
		k.metrics.rateErrors.WithLabelValues("signin_account").Inc()
		if t := time.Now().Unix(); t-throttleWarn.Load() >= 10 {
			throttleWarn.Store(t)
			k.log.Warn("sign-in throttle unavailable", "fail_open", false, "err", err)
		}
		return civic.Errorf(civic.EUNAVAILABLE, "cannot check the sign-in rate limit right now; retry later")
	}
	isKnown, err := k.throttle.SignInKnown(cx, known, now)
	if err != nil {
		return nil, fail(err)
	}
	bucket := account
	if isKnown {
		bucket = "signin-account:" + strings.TrimPrefix(known, "signin-known:")
	}
	ok, wait, err := k.throttle.SignInAttempt(cx, bucket, now, k.signInDelay, signInForget)
	if err != nil {
		return nil, fail(err)
	}
	if !ok {
		k.metrics.rateLimited.WithLabelValues("signin_account").Inc()
		secs := RetryAfterSeconds(wait)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return nil, &civic.Error{Code: civic.ETOOMANY,
			Message: "too many failed sign-ins for this e-mail address; retry in " + strconv.Itoa(secs) + "s",
			Extra:   map[string]any{"retry_after": secs}}
	}
	return func() {
		cx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), rateTimeout)
		defer cancel()
		if err := k.throttle.SignInSucceeded(cx, bucket, known, now, KnownClientTTL); err != nil {
			k.log.Warn("sign-in throttle: cannot record a sign-in", "err", err)
		}
	}, nil
}
