package actions

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/web"
)

// OutboxConfig tunes the mail worker. Zero values take the defaults.
type OutboxConfig struct {
	// Poll is how often the worker looks for due mail besides the wake-ups
	// of this process's own requests (optional) defaults to 5s: mail queued
	// by another replica, retries.
	Poll time.Duration
	// RetryBase is the wait after a first failed attempt, doubled after each
	// further one up to RetryMax (optional) defaults to 30s and 1h.
	RetryBase, RetryMax time.Duration
	// MaxAttempts before a mail is kept as failed (optional) defaults to 20,
	// about 14 hours with the default waits.
	MaxAttempts int
	// Lease is how long a worker holds the mails it took (optional)
	// defaults to 5 minutes; a worker that dies while sending leaves them to
	// another after that. It must exceed the SMTP timeout (mail.timeout).
	Lease time.Duration
}

func (o *OutboxConfig) Validate() error {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Poll, 5*time.Second)
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.Lease, 5*time.Minute)
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 20
	}
	switch {
	case o.Poll < 10*time.Millisecond:
		return errors.New("api.mail_poll: at least 10ms")
	case o.RetryBase < 10*time.Millisecond || o.RetryMax < o.RetryBase:
		return errors.New("api.mail_retry: at least 10ms, and api.mail_retry_max at least api.mail_retry")
	case o.MaxAttempts < 1:
		return errors.New("api.mail_attempts: at least 1")
	case o.Lease < time.Second:
		return errors.New("api.mail_lease: at least 1s")
	}
	return nil
}

// Outbox sends the mail queued in the database (mail_outbox): requests only
// insert a row, so an SMTP relay that is down or slow never fails nor holds
// a sign-up; the worker sends with retries and backoff. Rows hold no link:
// the token of a verification or reset link is created when the mail is
// sent and only its hash is stored. Several replicas may each run a worker:
// a mail is claimed by one conditional UPDATE before it is sent.
type Outbox struct {
	s       *Service
	wake    chan struct{}
	running atomic.Bool

	sent, failures, abandoned, dropped, queueErrors *prometheus.CounterVec
	pending                                         prometheus.Gauge
}

func newOutbox(s *Service, reg prometheus.Registerer) (*Outbox, error) {
	o := &Outbox{s: s, wake: make(chan struct{}, 1),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_mail_sent_total", Help: "Mails sent by the outbox, by kind."}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_mail_failures_total",
			Help: "Failed mail delivery attempts (each is retried with backoff), by kind."}, []string{"kind"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_mail_abandoned_total",
			Help: "Mails given up after the last attempt (kept as failed in mail_outbox), by kind."}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_mail_dropped_total",
			Help: "Queued mails not sent because they no longer apply (reset for an address without account, address already verified…), by kind."}, []string{"kind"}),
		queueErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_mail_queue_errors_total",
			Help: "Mails that could not be queued after the change that causes them was committed (status e-mails), by kind."}, []string{"kind"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "smartdeal_api_mail_outbox_pending", Help: "Mails waiting in the outbox (failed ones excluded)."}),
	}
	// Status mails are queued outside any request's answer: their queue
	// errors show at 0 from the start, so an alert sees the series.
	o.queueErrors.WithLabelValues(string(civic.MailStatus))
	for _, c := range []prometheus.Collector{o.sent, o.failures, o.abandoned, o.dropped, o.queueErrors, o.pending} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Outbox returns the mail worker.
func (s *Service) Outbox() *Outbox { return s.outbox }

// queue stores a mail for the worker and wakes it.
func (o *Outbox) queue(ctx context.Context, m *civic.OutboxMail) error {
	m.Created = o.s.now().UTC()
	m.Next = m.Created
	if err := o.s.store.EnqueueMail(ctx, m); err != nil {
		return err
	}
	o.poke()
	return nil
}

// poke wakes the worker: mail was queued by this process.
func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default: // a round is already due
	}
}

// outboxBatch is how many mails one claim takes.
const outboxBatch = 20

// Run sends due mail until ctx ends, then returns nil (a mail being sent
// when ctx ends is retried after its lease). It also deletes expired links
// and long-failed mails once an hour. Run it once per process.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.running.CompareAndSwap(false, true) {
		return errors.New("outbox: Run called twice")
	}
	defer o.running.Store(false)
	tick := time.NewTicker(o.s.cfg.Accounts.Outbox.Poll)
	defer tick.Stop()
	var nextSweep time.Time
	for {
		o.drain(ctx)
		if now := o.s.now(); !now.Before(nextSweep) && ctx.Err() == nil {
			o.sweep(ctx, now)
			nextSweep = now.Add(time.Hour)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-o.wake:
		}
	}
}

// sweeper is the store's cleanup of old links and failed mails
// (sqlstore.Store implements it); a store without it keeps them.
type sweeper interface {
	SweepAccounts(ctx context.Context, olderThan time.Time) (int64, error)
}

func (o *Outbox) sweep(ctx context.Context, now time.Time) {
	sw, ok := o.s.store.(sweeper)
	if !ok {
		return
	}
	// Links a week past their expiry and mails failed a week ago go: long
	// enough to tell "expired" from "unknown" and for an operator to look.
	if _, err := sw.SweepAccounts(ctx, now.Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
		o.s.log.Warn("account links sweep failed", "err", err)
	}
}

// drain sends every due mail, batch after batch.
func (o *Outbox) drain(ctx context.Context) {
	cfg := o.s.cfg.Accounts.Outbox
	for ctx.Err() == nil {
		ms, err := o.s.store.ClaimMail(ctx, o.s.now(), cfg.Lease, outboxBatch)
		if err != nil {
			if ctx.Err() == nil {
				o.s.log.Warn("outbox: cannot read due mail", "err", err)
			}
			break
		}
		for _, m := range ms {
			if ctx.Err() != nil {
				return
			}
			o.deliver(ctx, m)
		}
		if len(ms) < outboxBatch {
			break
		}
	}
	if ctx.Err() == nil {
		if n, err := o.s.store.PendingMail(ctx); err == nil {
			o.pending.Set(float64(n))
		}
	}
}

// errDrop marks a mail that no longer applies: removed without sending.
var errDrop = errors.New("mail no longer applies")

// deliver makes one attempt at a claimed mail and records the outcome.
func (o *Outbox) deliver(ctx context.Context, m *civic.OutboxMail) {
	cfg := o.s.cfg.Accounts.Outbox
	kind := string(m.Kind)
	err := o.send(ctx, m)
	// The outcome is recorded even when ctx just ended.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var ferr error
	switch {
	case err == nil:
		o.sent.WithLabelValues(kind).Inc()
		ferr = o.s.store.FinishMail(fctx, m.ID, nil, time.Time{}, false)
	case errors.Is(err, errDrop):
		o.dropped.WithLabelValues(kind).Inc()
		ferr = o.s.store.FinishMail(fctx, m.ID, nil, time.Time{}, false)
	case ctx.Err() != nil:
		return // shutting down: the lease ends and the mail is tried again
	default:
		o.failures.WithLabelValues(kind).Inc()
		giveUp := m.Attempts >= cfg.MaxAttempts
		next := o.s.now().Add(backoff(cfg, m.Attempts))
		if giveUp {
			o.abandoned.WithLabelValues(kind).Inc()
			o.s.log.Error("mail abandoned after the last attempt", "kind", kind, "id", m.ID, "attempts", m.Attempts, "err", err)
		} else {
			o.s.log.Warn("mail not sent; will retry", "kind", kind, "id", m.ID, "attempt", m.Attempts, "retry_at", next, "err", err)
		}
		ferr = o.s.store.FinishMail(fctx, m.ID, err, next, giveUp)
	}
	if ferr != nil {
		o.s.log.Warn("outbox: outcome not recorded (the mail may be sent again)", "id", m.ID, "err", ferr)
	}
}

// backoff is the wait after the attempt-th failure: RetryBase doubled per
// attempt, at most RetryMax.
func backoff(cfg OutboxConfig, attempt int) time.Duration {
	d := cfg.RetryBase
	for i := 1; i < attempt && d < cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, cfg.RetryMax)
}

// send writes and sends one mail; links get their token now.
func (o *Outbox) send(ctx context.Context, m *civic.OutboxMail) error {
	s := o.s
	if m.Kind == civic.MailStatus { // its own checks and text (notify.go)
		msg, err := s.statusMessage(ctx, m)
		if err != nil {
			return err
		}
		return s.mail.Send(ctx, msg)
	}
	if m.Kind == civic.MailRealization { // the status mails' consent, its own text (realization.go)
		msg, err := s.realizationMessage(ctx, m)
		if err != nil {
			return err
		}
		return s.mail.Send(ctx, msg)
	}
	if m.Kind == civic.MailModeration { // its own text (moderation.go)
		msg, err := s.moderationMessage(ctx, m)
		if err != nil {
			return err
		}
		return s.mail.Send(ctx, msg)
	}
	var u *civic.User
	var err error
	switch m.Kind {
	case civic.MailReset:
		u, err = s.store.UserByEmail(ctx, m.Recipient)
	default:
		u, err = s.store.UserByID(ctx, m.UserID)
	}
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return errDrop // no account (reset), or the account was erased
	}
	if err != nil {
		return fmt.Errorf("load account: %w", err)
	}
	msg := mail.Message{To: m.Recipient}
	switch m.Kind {
	case civic.MailVerify:
		if u.Email != m.Recipient || u.EmailVerified != nil {
			return errDrop
		}
		link, err := o.link(ctx, u, civic.TokenVerify, m.Recipient, s.cfg.Accounts.VerifyTTL, VerifyPath)
		if err != nil {
			return err
		}
		msg.Subject = "Confirmez votre adresse e-mail — SMART Deal"
		msg.Text = "Bonjour " + u.Name + ",\n\n" +
			"Votre compte citoyen sur la plateforme participative SMART Deal du Département est créé.\n" +
			"Pour confirmer votre adresse e-mail, et pouvoir soutenir, proposer et commenter, ouvrez ce lien puis cliquez sur « Confirmer mon adresse » :\n\n" +
			link + "\n\n" +
			"Ce lien est valable " + fr.Validity(s.cfg.Accounts.VerifyTTL) + " et ne sert qu'une fois. Une fois expiré, demandez-en un nouveau depuis la page « Sécurité du compte ».\n" +
			"Si vous n'avez pas créé ce compte, ignorez ce message : sans confirmation, il ne peut ni soutenir, ni proposer, ni commenter.\n"
	case civic.MailEmailChange:
		link, err := o.link(ctx, u, civic.TokenEmailChange, m.Recipient, s.cfg.Accounts.VerifyTTL, VerifyPath)
		if err != nil {
			return err
		}
		msg.Subject = "Confirmez votre nouvelle adresse e-mail — SMART Deal"
		msg.Text = "Bonjour " + u.Name + ",\n\n" +
			"Vous avez demandé que cette adresse devienne celle de votre compte SMART Deal.\n" +
			"Pour confirmer, ouvrez ce lien puis cliquez sur « Confirmer ma nouvelle adresse » :\n\n" +
			link + "\n\n" +
			"Ce lien est valable " + fr.Validity(s.cfg.Accounts.VerifyTTL) + " et ne sert qu'une fois. Tant qu'il n'est pas suivi, l'ancienne adresse reste celle du compte.\n" +
			"Si vous n'avez rien demandé, ignorez ce message.\n"
	case civic.MailEmailChangeNote:
		msg.Subject = "Changement d'adresse e-mail demandé — SMART Deal"
		msg.Text = "Bonjour " + u.Name + ",\n\n" +
			"Le " + fr.Time(m.Created) + ", une demande a été faite pour remplacer l'adresse de votre compte SMART Deal par " + maskEmail(m.Detail) + ".\n" +
			"Le changement n'aura lieu que si le lien envoyé à la nouvelle adresse est suivi.\n\n" +
			"Si vous n'êtes pas à l'origine de cette demande, changez votre mot de passe et fermez vos sessions :\n\n" +
			s.PublicURL() + SecurityPath + "\n\n" +
			"ou, si vous ne pouvez plus vous connecter, choisissez un nouveau mot de passe :\n\n" +
			s.PublicURL() + ForgotPath + "\n"
	case civic.MailReset:
		link, err := o.link(ctx, u, civic.TokenReset, u.Email, s.cfg.Accounts.ResetTTL, ResetPath)
		if err != nil {
			return err
		}
		msg.Subject = "Choisissez un nouveau mot de passe — SMART Deal"
		msg.Text = "Bonjour " + u.Name + ",\n\n" +
			"Une demande de nouveau mot de passe a été faite pour votre compte SMART Deal.\n" +
			"Pour choisir un nouveau mot de passe, ouvrez ce lien :\n\n" +
			link + "\n\n" +
			"Ce lien est valable " + fr.Validity(s.cfg.Accounts.ResetTTL) + " et ne sert qu'une fois. Le nouveau mot de passe ferme toutes vos sessions ouvertes.\n" +
			"Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas.\n"
	case civic.MailPasswordChanged:
		msg.Subject = "Votre mot de passe a été changé — SMART Deal"
		msg.Text = "Bonjour " + u.Name + ",\n\n" +
			"Le mot de passe de votre compte SMART Deal a été changé le " + fr.Time(m.Created) + ".\n" +
			"Si ce n'est pas vous, choisissez-en un nouveau tout de suite :\n\n" +
			s.PublicURL() + ForgotPath + "\n"
	default:
		return fmt.Errorf("%w: unknown kind %q", errDrop, m.Kind)
	}
	msg.Text += "\n— SMART Deal, plateforme participative du Département\n"
	return s.mail.Send(ctx, msg)
}

// link creates a single-use token for u and returns the page URL carrying it.
func (o *Outbox) link(ctx context.Context, u *civic.User, purpose civic.TokenPurpose, email string, ttl time.Duration, path string) (string, error) {
	tok := web.RandomToken()
	now := o.s.now().UTC()
	if err := o.s.store.CreateToken(ctx, &civic.AccountToken{TokenHash: web.HashToken(tok), UserID: u.ID, Purpose: purpose,
		Email: email, Created: now, Expires: now.Add(ttl)}); err != nil {
		return "", err
	}
	return o.s.PublicURL() + path + "?" + TokenField + "=" + url.QueryEscape(tok), nil
}

// maskEmail shows enough of an address for its owner to recognise it:
// "nouvelle@exemple.fr" → "n…@exemple.fr".
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	r := []rune(local)
	return string(r[0]) + "…@" + domain
}
