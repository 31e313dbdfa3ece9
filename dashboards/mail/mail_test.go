package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/internal/testenv"
)

func TestSendPlainToMailpit(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	s, err := mail.NewSMTP(mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, From: "SMART Deal <no-reply@cd06.test>"})
	if err != nil {
		t.Fatal(err)
	}
	to := "camille.plain." + civicID(t) + "@example.test"
	err = s.Send(context.Background(), mail.Message{To: to, Subject: "Vérifiez votre adresse électronique",
		Text: "Bonjour Camille,\n\nsuivez ce lien : https://smartdeal.test/verifier?jeton=abc\n\nÀ bientôt.", Unsubscribe: "https://smartdeal.test/desabonnement?jeton=xyz"})
	if err != nil {
		t.Fatal(err)
	}
	got := mp.WaitMail(t, to, "Vérifiez", 10*time.Second)
	if got.Subject != "Vérifiez votre adresse électronique" {
		t.Errorf("subject %q", got.Subject)
	}
	if !strings.Contains(got.Text, "suivez ce lien : https://smartdeal.test/verifier?jeton=abc") || !strings.Contains(got.Text, "À bientôt.") {
		t.Errorf("text %q", got.Text)
	}
	if h := got.Headers["List-Unsubscribe"]; len(h) != 1 || h[0] != "<https://smartdeal.test/desabonnement?jeton=xyz>" {
		t.Errorf("List-Unsubscribe %q", h)
	}
	if h := got.Headers["List-Unsubscribe-Post"]; len(h) != 1 || h[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", h)
	}
	if h := got.Headers["From"]; len(h) != 1 || !strings.Contains(h[0], "no-reply@cd06.test") {
		t.Errorf("From %q", h)
	}
}

// The département's relay requires STARTTLS and credentials: a real mailpit
// with a certificate, STARTTLS required and an auth file.
func TestSendStartTLSWithCredentials(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	auth := filepath.Join(dir, "auth")
	if err := os.WriteFile(auth, []byte("relay-user:s3cret-relay-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mp := testenv.StartMailpit(t, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls", "--smtp-auth-file", auth)
	base := mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSStartTLS, InsecureSkipVerify: true,
		Username: "relay-user", Password: "s3cret-relay-pass", Timeout: 5 * time.Second}
	send := func(c mail.Config, to string) error {
		s, err := mail.NewSMTP(c)
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(context.Background(), mail.Message{To: to, Subject: "Essai TLS", Text: "corps"})
	}
	if err := send(base, "tls-ok@example.test"); err != nil {
		t.Fatalf("STARTTLS with credentials: %v", err)
	}
	mp.WaitMail(t, "tls-ok@example.test", "Essai TLS", 10*time.Second)

	wrong := base
	wrong.Password = "not-the-password"
	if err := send(wrong, "tls-wrong@example.test"); err == nil {
		t.Error("wrong password: sent")
	}
	plain := base
	plain.TLS, plain.Username, plain.Password = mail.TLSNone, "", ""
	if err := send(plain, "tls-plain@example.test"); err == nil {
		t.Error("no STARTTLS against a relay that requires it: sent")
	}
	verify := base
	verify.InsecureSkipVerify = false
	if err := send(verify, "tls-verify@example.test"); err == nil {
		t.Error("self-signed certificate accepted without InsecureSkipVerify")
	}
	for _, to := range []string{"tls-wrong@example.test", "tls-plain@example.test", "tls-verify@example.test"} {
		if n := len(mp.Messages(t, to)); n != 0 {
			t.Errorf("%s: %d messages arrived", to, n)
		}
	}
}

func TestSendRelayDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := mail.NewSMTP(mail.Config{Host: "127.0.0.1", Port: port, TLS: mail.TLSNone, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: "down@example.test", Subject: "x", Text: "y"})
	if err == nil {
		t.Fatal("sent through a closed port")
	}
	if strings.Contains(err.Error(), "down@example.test") {
		t.Errorf("error names the address (personal data): %v", err)
	}
}

func TestMessageValidate(t *testing.T) {
	for name, m := range map[string]mail.Message{
		"no recipient":        {Subject: "s", Text: "t"},
		"two recipients":      {To: "a@x.test, b@x.test", Subject: "s", Text: "t"},
		"header injection to": {To: "a@x.test\r\nBcc: victim@x.test", Subject: "s", Text: "t"},
		"header injection su": {To: "a@x.test", Subject: "s\r\nBcc: victim@x.test", Text: "t"},
		"empty body":          {To: "a@x.test", Subject: "s", Text: "  "},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var buf strings.Builder
	ls := &mail.LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := ls.Send(context.Background(), mail.Message{To: "a@x.test", Subject: "Sujet", Text: "lien https://x.test/v?j=1"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "https://x.test/v?j=1") {
		t.Errorf("log sender did not log the text: %s", buf.String())
	}
}

func TestConfigValidate(t *testing.T) {
	c := mail.Config{}
	if err := c.Validate("mail"); err != nil || c.Port != 587 || c.TLS != mail.TLSStartTLS || c.From == "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for name, c := range map[string]mail.Config{
		"tls":      {TLS: "ssl3"},
		"port":     {Port: 70000},
		"from":     {From: "not an address"},
		"password": {Password: "x"},
	} {
		if err := c.Validate("mail"); err == nil || !strings.HasPrefix(err.Error(), "mail."+name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func civicID(t *testing.T) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return strings.ToLower(strings.TrimRight(new(big.Int).SetBytes(b).Text(36), "="))
}

func selfSigned(t *testing.T, dir string) (certPath, keyPath string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}
