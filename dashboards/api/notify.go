package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
)

// Status e-mails: a citizen who opted in is told when a proposal they wrote
// or support changes status. The status change queues the mails in the
// store's outbox once it is committed (statusChanged, one INSERT … SELECT:
// one row per person and change); RunNotifications delivers them in the
// background, retrying with backoff, so an SMTP relay that is down or slow
// neither fails nor slows the change. Each mail carries a signed one-click
// unsubscribe link that works without signing in (pages_moncompte.go).

// NotifyConfig tunes the status e-mails (koanf keys under notify).
type NotifyConfig struct {
	// Secret signs the unsubscribe links (HMAC-SHA256), at least 32
	// characters (optional) defaults to a random key created in the
	// database on first use and shared by every replica on it.
	Secret string `koanf:"secret"`
	// Retry is the wait before retrying a failed delivery, doubled at each
	// further failure up to 6 h (optional) defaults to 1m.
	Retry time.Duration `koanf:"retry"`
	// Attempts is how many deliveries of one mail are tried before it is
	// given up (optional) defaults to 8 (about two hours at the default Retry).
	Attempts int `koanf:"attempts"`
	// Poll is how often the outbox is read for retries and for mails queued
	// by other replicas (optional) defaults to 30s; a change made by this
	// replica is sent at once.
	Poll time.Duration `koanf:"poll"`
}

// Validate fills the defaults and checks the config; errors name the key.
func (c *NotifyConfig) Validate() error {
	if c.Secret != "" && len(c.Secret) < 32 {
		return errors.New("notify.secret: at least 32 characters (or empty: a key is kept in the database)")
	}
	if c.Retry == 0 {
		c.Retry = time.Minute
	}
	if c.Attempts == 0 {
		c.Attempts = 8
	}
	if c.Poll == 0 {
		c.Poll = 30 * time.Second
	}
	if c.Retry < 0 || c.Poll < 0 || c.Attempts < 1 || c.Attempts > 100 {
		return errors.New("notify: retry and poll must be positive, attempts between 1 and 100")
	}
	return nil
}

const (
	// notifyBatch mails are leased at a time; notifyLease must cover their
	// delivery (10 × the 15 s default mail.timeout, with margin): a lease
	// that runs out makes a mail due again on another replica.
	notifyBatch = 10
	notifyLease = 10 * time.Minute
	maxBackoff  = 6 * time.Hour
)

// notifier is the Server's status-mail state.
type notifier struct {
	cfg      NotifyConfig
	wake     chan struct{} // a change queued mails: deliver now
	running  atomic.Bool
	mails    *prometheus.CounterVec
	lastWarn atomic.Int64 // unix seconds of the last delivery warning

	mu  sync.Mutex
	key []byte // HMAC key of the unsubscribe links, once known
}

func newNotifier(cfg NotifyConfig, reg prometheus.Registerer) (*notifier, error) {
	n := &notifier{cfg: cfg, wake: make(chan struct{}, 1),
		mails: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "smartdeal_api_status_mails_total",
			Help: "Status e-mails by result: queued, sent, failed (a delivery attempt failed; retried), abandoned (given up after the last attempt), queue_error (the outbox could not be written)."},
			[]string{"result"})}
	for _, r := range []string{"queued", "sent", "failed", "abandoned", "queue_error"} {
		n.mails.WithLabelValues(r) // shown at 0 from the start, so alerts see the series
	}
	if err := reg.Register(n.mails); err != nil {
		return nil, err
	}
	if cfg.Secret != "" {
		n.key = []byte(cfg.Secret)
	}
	return n, nil
}

func (n *notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default: // a delivery round is already due
	}
}

// statusChanged queues the status mails of a committed change to status to
// (author and supporters who opted in, except the actor). It runs after the
// change and never fails it: an outbox that cannot be written is logged and
// counted (queue_error). The insert is bounded by its own timeout and does
// not depend on the SMTP relay.
func (s *Server) statusChanged(c *fiber.Ctx, proposalID string, to civic.Status, reason string) {
	cx, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), 3*time.Second)
	defer cancel()
	n, err := s.store.EnqueueStatusMails(cx, proposalID, to, strings.TrimSpace(reason), caller(c).user.ID, s.now())
	if err != nil {
		s.notify.mails.WithLabelValues("queue_error").Inc()
		s.log.Error("status mails not queued", "proposal", proposalID, "status", to, "err", err)
		return
	}
	if n > 0 {
		s.notify.mails.WithLabelValues("queued").Add(float64(n))
		s.notify.poke()
	}
}

// RunNotifications delivers the queued status mails until ctx ends: at once
// when this replica queued some, and every NotifyConfig.Poll for retries
// and mails queued elsewhere. It returns nil after ctx ends (a delivery in
// progress is given the mail timeout to finish). apid runs it beside the
// HTTP server; without it, mails wait in the outbox.
func (s *Server) RunNotifications(ctx context.Context) error {
	if !s.notify.running.CompareAndSwap(false, true) {
		return errors.New("api: RunNotifications is already running")
	}
	defer s.notify.running.Store(false)
	t := time.NewTicker(s.notify.cfg.Poll)
	defer t.Stop()
	for {
		s.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.notify.wake:
		}
	}
}

// deliverDue sends every mail that is due, a batch at a time. When ctx
// ends, the mail being sent gets its mail timeout to finish; the rest of
// the batch stays leased and is due again once the lease runs out.
func (s *Server) deliverDue(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := s.store.ClaimStatusMails(ctx, s.now(), notifyLease, notifyBatch)
		for _, m := range batch { // those leased before an error, too
			if ctx.Err() != nil {
				return
			}
			s.deliver(context.WithoutCancel(ctx), m)
		}
		if err != nil {
			s.warnDelivery("status mail outbox unreadable", err)
			return
		}
		if len(batch) == 0 {
			return
		}
	}
}

// deliver sends one mail and records the outcome: removed when sent, else
// one more attempt and a retry after a backoff, given up after the last.
func (s *Server) deliver(ctx context.Context, m *civic.StatusMail) {
	msg, err := s.statusMessage(ctx, m)
	if err == nil {
		err = msg.Validate()
		if err != nil { // the address or the text cannot be sent, ever
			m.Attempts = s.notify.cfg.Attempts
		}
	}
	if err == nil {
		err = s.mail.Send(ctx, msg)
	}
	if err == nil {
		s.notify.mails.WithLabelValues("sent").Inc()
		if err := s.store.StatusMailSent(ctx, m); err != nil {
			s.warnDelivery("status mail sent but not removed from the outbox (it may be sent again)", err)
		}
		return
	}
	s.notify.mails.WithLabelValues("failed").Inc()
	attempts := m.Attempts + 1
	giveUp := attempts >= s.notify.cfg.Attempts
	backoff := s.notify.cfg.Retry
	for i := 1; i < attempts && backoff < maxBackoff; i++ {
		backoff *= 2
	}
	backoff = min(backoff, maxBackoff)
	if giveUp {
		s.notify.mails.WithLabelValues("abandoned").Inc()
		s.log.Error("status mail given up", "proposal", m.ProposalID, "status", m.To, "attempts", attempts, "err", err)
	} else {
		s.warnDelivery("status mail not delivered; will retry", err, "attempts", attempts, "retry_in", backoff)
	}
	if ferr := s.store.StatusMailFailed(ctx, m, s.now().Add(backoff), giveUp); ferr != nil {
		s.warnDelivery("status mail outbox not updated", ferr)
	}
}

// warnDelivery logs at most one warning a minute (a relay that is down
// fails every mail); the metric counts them all.
func (s *Server) warnDelivery(msg string, err error, attrs ...any) {
	now := time.Now().Unix()
	if last := s.notify.lastWarn.Load(); now-last < 60 || !s.notify.lastWarn.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn(msg, append([]any{"err", err}, attrs...)...)
}

// unsubscribeKey is the HMAC key of the unsubscribe links.
func (s *Server) unsubscribeKey(ctx context.Context) ([]byte, error) {
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	if s.notify.key != nil {
		return s.notify.key, nil
	}
	key, err := s.store.UnsubscribeSecret(ctx)
	if err != nil {
		return nil, err
	}
	s.notify.key = key
	return key, nil
}

func unsubscribeMAC(key []byte, userID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("smartdeal unsubscribe v1\x00" + userID))
	return m.Sum(nil)
}

// unsubscribeToken is userID's unsubscribe token: "<user id>.<HMAC>". It
// never expires (a link in an old mail must keep working, RFC 8058) and
// names its account, so it unsubscribes that account only; without the key
// it cannot be made.
func (s *Server) unsubscribeToken(ctx context.Context, userID string) (string, error) {
	key, err := s.unsubscribeKey(ctx)
	if err != nil {
		return "", err
	}
	return userID + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(key, userID)), nil
}

// unsubscribeUser returns the account a token names, or ENOTFOUND for a
// token that was not made with this deployment's key (compared in
// constant time).
func (s *Server) unsubscribeUser(ctx context.Context, token string) (string, error) {
	bad := civic.Errorf(civic.ENOTFOUND, "unknown unsubscribe link")
	i := strings.LastIndexByte(token, '.')
	if i <= 0 || len(token) > 200 {
		return "", bad
	}
	userID := token[:i]
	mac, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return "", bad
	}
	key, err := s.unsubscribeKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal(mac, unsubscribeMAC(key, userID)) {
		return "", bad
	}
	return userID, nil
}

func (s *Server) unsubscribeURL(ctx context.Context, userID string) (string, error) {
	tok, err := s.unsubscribeToken(ctx, userID)
	if err != nil {
		return "", err
	}
	return s.PublicURL() + unsubscribePath + "/" + tok, nil
}

// statusNews is what a mail says of each status, after "… est" / "… n'est pas".
var statusNews = map[civic.Status]struct{ Subject, Text string }{
	civic.StatusPublished: {"est publiée",
		"Elle a passé la modération : elle est visible de tous et peut recevoir des soutiens et des commentaires."},
	civic.StatusShortlisted: {"est présélectionnée",
		"Elle fait partie des propositions les plus soutenues de l'appel : le comité d'experts va l'étudier."},
	civic.StatusUnderReview: {"est en cours d'expertise",
		"Le comité d'experts l'étudie : impact, faisabilité et coût."},
	civic.StatusSelected: {"est retenue",
		"Le comité l'a retenue pour réalisation, dans le budget de l'appel."},
	civic.StatusRejected: {"n'est pas retenue",
		"Elle ne sera pas réalisée dans le cadre de cet appel."},
	civic.StatusInProgress: {"est en cours de réalisation",
		"Les travaux ou la mise en place ont commencé."},
	civic.StatusRealized: {"est réalisée",
		"Elle est maintenant réalisée. Merci de votre participation !"},
}

// statusMessage writes the French mail of m: the proposal's title, its new
// status, the reason given with a rejection, the link to its page, why the
// person gets it, and the unsubscribe link (also in List-Unsubscribe).
func (s *Server) statusMessage(ctx context.Context, m *civic.StatusMail) (mail.Message, error) {
	news, ok := statusNews[m.To]
	if !ok {
		return mail.Message{}, fmt.Errorf("no status mail for status %q", m.To)
	}
	unsub, err := s.unsubscribeURL(ctx, m.UserID)
	if err != nil {
		return mail.Message{}, err
	}
	title := oneLine(m.Title)
	whose, why := "La proposition « %s », que vous soutenez,", "des propositions que vous soutenez"
	if m.Author {
		whose, why = "Votre proposition « %s »", "de vos propositions"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour %s,\n\n", oneLine(m.Name))
	fmt.Fprintf(&b, whose+" a un nouveau statut : %s.\n%s\n", title, statusFR[m.To], news.Text)
	if m.Reason != "" {
		label := "Précision"
		if m.To == civic.StatusRejected {
			label = "Motif de la décision"
		}
		fmt.Fprintf(&b, "\n%s : %s\n", label, m.Reason)
	}
	fmt.Fprintf(&b, "\nVoir la proposition : %s/idees/%s\n", s.PublicURL(), url.PathEscape(m.ProposalID))
	fmt.Fprintf(&b, "\n-- \nVous recevez cet e-mail parce que vous avez demandé, le %s, à être prévenu·e des changements de statut %s.\n",
		frDate(m.Since), why)
	fmt.Fprintf(&b, "Pour ne plus recevoir ces e-mails, en un clic et sans vous connecter : %s\n", unsub)
	fmt.Fprintf(&b, "Vos préférences : %s/compte#notifications\n", s.PublicURL())
	return mail.Message{To: m.Email, Subject: fmt.Sprintf(whose, clip(title, 80)) + " " + news.Subject, Text: b.String(), Unsubscribe: unsub}, nil
}

// oneLine turns line breaks and other control characters into spaces and
// collapses runs of spaces (a title may hold line breaks; a subject may not).
func oneLine(v string) string {
	return strings.Join(strings.FieldsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// clip shortens v to at most n characters, with an ellipsis.
func clip(v string, n int) string {
	if utf8.RuneCountInString(v) <= n {
		return v
	}
	return strings.TrimSpace(string([]rune(v)[:n-1])) + "…"
}
