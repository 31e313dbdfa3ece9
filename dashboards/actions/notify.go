package actions

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
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Status e-mails: a citizen who opted in is told when a proposal they wrote
// or support changes status. Once the change is committed, statusChanged
// queues the mails in the mail outbox (outbox.go), kind civic.MailStatus,
// one INSERT … SELECT: one row per person and change. The outbox worker
// sends them like every other mail (lease, retries with backoff, given up
// after the last attempt, smartdeal_api_mail_* metrics), so an SMTP relay
// that is down or slow neither fails nor slows the change; the text is
// written at send time (statusMessage), after checking that the person still
// wants it. Each mail carries a signed one-click unsubscribe link that works
// without signing in (dashboards/pages/moncompte.go).

// NotifyConfig tunes the status e-mails (koanf keys under notify). Their
// delivery is the mail outbox's (api.mail_poll, api.mail_retry…).
type NotifyConfig struct {
	// Secret signs the unsubscribe links (HMAC-SHA256), at least 32
	// characters (optional) defaults to a random key created in the
	// database on first use and shared by every replica on it.
	Secret string `koanf:"secret"`
}

// Validate checks the config; errors name the key.
func (c *NotifyConfig) Validate() error {
	if c.Secret != "" && len(c.Secret) < 32 {
		return errors.New("notify.secret: at least 32 characters (or empty: a key is kept in the database)")
	}
	return nil
}

// notifier holds the HMAC key of the unsubscribe links once known.
type notifier struct {
	mu  sync.Mutex
	key []byte
}

func newNotifier(cfg NotifyConfig) *notifier {
	n := &notifier{}
	if cfg.Secret != "" {
		n.key = []byte(cfg.Secret)
	}
	return n
}

// statusChanged queues the status mails of a committed change to status to
// (author and supporters who opted in, except the actor). It runs after the
// change and never fails it: an outbox that cannot be written is logged and
// counted (smartdeal_api_mail_queue_errors_total{kind="status"}). The insert
// is bounded by its own timeout and does not depend on the SMTP relay.
func (s *Service) StatusChanged(c *fiber.Ctx, proposalID string, to civic.Status, reason string) {
	cx, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), 3*time.Second)
	defer cancel()
	n, err := s.store.EnqueueStatusMails(cx, proposalID, to, strings.TrimSpace(reason), web.Caller(c).User.ID, s.now())
	if err != nil {
		s.outbox.queueErrors.WithLabelValues(string(civic.MailStatus)).Inc()
		s.log.Error("status mails not queued", "proposal", proposalID, "status", to, "err", err)
		return
	}
	if n > 0 {
		s.outbox.poke()
	}
}

// unsubscribeKey is the HMAC key of the unsubscribe links.
func (s *Service) unsubscribeKey(ctx context.Context) ([]byte, error) {
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
func (s *Service) UnsubscribeToken(ctx context.Context, userID string) (string, error) {
	key, err := s.unsubscribeKey(ctx)
	if err != nil {
		return "", err
	}
	return userID + "." + base64.RawURLEncoding.EncodeToString(unsubscribeMAC(key, userID)), nil
}

// unsubscribeUser returns the account a token names, or ENOTFOUND for a
// token that was not made with this deployment's key (compared in
// constant time).
func (s *Service) UnsubscribeUser(ctx context.Context, token string) (string, error) {
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

func (s *Service) UnsubscribeURL(ctx context.Context, userID string) (string, error) {
	tok, err := s.UnsubscribeToken(ctx, userID)
	if err != nil {
		return "", err
	}
	return s.PublicURL() + UnsubscribePath + "/" + tok, nil
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

// statusMessage writes, at send time, the French mail of the outbox mail m
// (kind civic.MailStatus): the proposal's title, its new status, the reason
// given with the change, the link to its page, why the person gets it, and
// the unsubscribe link (also in List-Unsubscribe). A mail that no longer
// applies (StatusMailFor: ENOTFOUND) or could never be sent is errDrop.
func (s *Service) statusMessage(ctx context.Context, m *civic.OutboxMail) (mail.Message, error) {
	news, ok := statusNews[m.Status]
	if !ok {
		return mail.Message{}, fmt.Errorf("%w: no status mail for status %q", errDrop, m.Status)
	}
	sm, err := s.store.StatusMailFor(ctx, m.UserID, m.ProposalID)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return mail.Message{}, errDrop
	}
	if err != nil {
		return mail.Message{}, err
	}
	unsub, err := s.UnsubscribeURL(ctx, m.UserID)
	if err != nil {
		return mail.Message{}, err
	}
	title := oneLine(sm.Title)
	whose, why := "La proposition « %s », que vous soutenez,", "des propositions que vous soutenez"
	if sm.Author {
		whose, why = "Votre proposition « %s »", "de vos propositions"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour %s,\n\n", oneLine(sm.Name))
	fmt.Fprintf(&b, whose+" a un nouveau statut : %s.\n%s\n", title, fr.Status(m.Status), news.Text)
	if m.Detail != "" {
		label := "Précision"
		if m.Status == civic.StatusRejected {
			label = "Motif de la décision"
		}
		fmt.Fprintf(&b, "\n%s : %s\n", label, m.Detail)
	}
	fmt.Fprintf(&b, "\nVoir la proposition : %s/idees/%s\n", s.PublicURL(), url.PathEscape(m.ProposalID))
	fmt.Fprintf(&b, "\n-- \nVous recevez cet e-mail parce que vous avez demandé, le %s, à être prévenu·e des changements de statut %s.\n",
		fr.Date(sm.Since), why)
	fmt.Fprintf(&b, "Pour ne plus recevoir ces e-mails, en un clic et sans vous connecter : %s\n", unsub)
	fmt.Fprintf(&b, "Vos préférences : %s/compte#notifications\n", s.PublicURL())
	msg := mail.Message{To: sm.Email, Subject: fmt.Sprintf(whose, clip(title, 80)) + " " + news.Subject, Text: b.String(), Unsubscribe: unsub}
	if err := msg.Validate(); err != nil { // the address or the text cannot be sent, ever
		s.log.Warn("status mail cannot be sent; dropped", "id", m.ID, "err", err)
		return mail.Message{}, errDrop
	}
	return msg, nil
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
