// Package mail sends the platform's e-mail (account verification, password
// reset, status notifications) over SMTP with wneessen/go-mail, or writes it
// to the log when no SMTP server is configured (the all-in-one's default).
//
// Consumers declare the one-method interface they need (Send); this package
// only provides the two senders and their configuration.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text mail to one recipient. French text is UTF-8;
// go-mail encodes the headers and the body (quoted-printable) for transport.
type Message struct {
	To      string
	Subject string
	Text    string
	// Unsubscribe, when set, is a URL written as List-Unsubscribe (RFC 2369)
	// with List-Unsubscribe-Post: One-Click (RFC 8058), for opt-in mail.
	Unsubscribe string
}

// Validate refuses a message that cannot be sent: no recipient, a recipient
// that is not one address, or an empty subject or body.
func (m Message) Validate() error {
	if strings.ContainsAny(m.To, "\r\n,;") || !strings.Contains(m.To, "@") {
		return fmt.Errorf("mail: recipient %q is not one address", m.To)
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return errors.New("mail: subject empty or on several lines")
	}
	if strings.TrimSpace(m.Text) == "" {
		return errors.New("mail: empty body")
	}
	return nil
}

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // STARTTLS required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, port 465)
	TLSNone     = "none"     // plain SMTP: only for a relay on a trusted network or loopback
)

// Config is the SMTP relay. An empty Host means "no SMTP": mail is logged.
type Config struct {
	// Host of the SMTP relay (optional) defaults to none: mail is written to the log.
	Host string `koanf:"host"`
	// Port (optional) defaults to 587 for starttls, 465 for tls, 25 for none.
	Port int `koanf:"port"`
	// TLS is starttls, tls or none (optional) defaults to starttls.
	TLS string `koanf:"tls"`
	// InsecureSkipVerify skips the server certificate check (optional) defaults
	// to false; for a test relay with a self-signed certificate only.
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
	// Username and Password authenticate to the relay (optional); with a
	// username the best mechanism the server offers is used (PLAIN only over TLS).
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// From is the sender address (optional) defaults to
	// "SMART Deal <no-reply@smartdeal.localhost>".
	From string `koanf:"from"`
	// Timeout of one delivery (optional) defaults to 15s.
	Timeout time.Duration `koanf:"timeout"`
}

// Validate fills the defaults and checks the config; errors name the key
// under the given prefix (e.g. "mail").
func (c *Config) Validate(prefix string) error {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return fmt.Errorf("%s.tls: want starttls, tls or none, not %q", prefix, c.TLS)
	}
	if c.Port == 0 {
		c.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[c.TLS]
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("%s.port: want 1–65535", prefix)
	}
	if c.From == "" {
		c.From = "SMART Deal <no-reply@smartdeal.localhost>"
	}
	probe := gomail.NewMsg()
	if err := probe.From(c.From); err != nil {
		return fmt.Errorf("%s.from: %w", prefix, err)
	}
	if c.Timeout == 0 {
		c.Timeout = 15 * time.Second
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%s.timeout: must be positive", prefix)
	}
	if c.Password != "" && c.Username == "" {
		return fmt.Errorf("%s.password: set with %s.username", prefix, prefix)
	}
	return nil
}

// New returns the sender the config asks for: SMTP when Host is set, else
// the log sender.
func New(c Config, log *slog.Logger) (Sender, error) {
	if err := c.Validate("mail"); err != nil {
		return nil, err
	}
	if c.Host == "" {
		return &LogSender{Log: log}, nil
	}
	return NewSMTP(c)
}

// Sender delivers one message. Both senders of this package implement it.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*LogSender)(nil)
)

// SMTP delivers through an SMTP relay, one connection per message (the
// platform's mail volume is a few messages a minute).
type SMTP struct {
	cfg  Config
	opts []gomail.Option
}

// NewSMTP checks the config and prepares the client options.
func NewSMTP(c Config) (*SMTP, error) {
	if err := c.Validate("mail"); err != nil {
		return nil, err
	}
	if c.Host == "" {
		return nil, errors.New("mail.host: required for SMTP")
	}
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(c.Timeout)}
	tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // opt-in, documented
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tc))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tc))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password))
	}
	return &SMTP{cfg: c, opts: opts}, nil
}

// Send delivers m, or returns why not (wrapped: connection, TLS, auth, or the
// server's refusal of the recipient).
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(s.cfg.From, m)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send to %s via %s: %w", redact(m.To), net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)), err)
	}
	return nil
}

func build(from string, m Message) (*gomail.Msg, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetGenHeader(gomail.HeaderContentLang, "fr")
	if m.Unsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}

// redact keeps the domain of an address for logs and errors: mail addresses
// are personal data.
func redact(addr string) string {
	if _, domain, ok := strings.Cut(addr, "@"); ok {
		return "…@" + domain
	}
	return "…"
}

// LogSender writes each message to the log instead of sending it: the
// all-in-one has no SMTP relay, and a developer can follow a verification
// link from the log. Never use it in production (it logs the address).
type LogSender struct {
	Log *slog.Logger
}

// Send logs m at WARN (so it shows with the default level).
func (l *LogSender) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "mail not sent (no SMTP relay configured; mail.host)", "to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
