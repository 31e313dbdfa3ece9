package apid

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestAccountMail runs the service with mail.* pointing at a real SMTP
// server: Run starts the outbox, so a sign-up's verification mail arrives
// with a link to the service's own address; the administrator created from
// the configuration is verified (it may propose at once); a password of
// 150 × "é" is accepted for it.
func TestAccountMail(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	cfg.MQTT.URL = ""
	cfg.Mail = mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone}
	adminPW := strings.Repeat("é", 150)
	cfg.Admin = AdminConfig{Email: "admin-" + civic.NewID() + "@departement06.fr", Password: adminPW}
	base, _, _ := runApp(t, cfg)

	var in struct {
		Token string      `json:"token"`
		User  *civic.User `json:"user"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": cfg.Admin.Email, "password": adminPW}, 200, &in)
	if in.User.EmailVerified == nil {
		t.Fatal("the configured administrator is not verified")
	}
	campaign := fmt.Sprintf("smart-deal-%d", time.Now().Year())
	httpJSON(t, "POST", base+"/api/v1/ideas", in.Token, map[string]any{"campaign_id": campaign, "theme_id": "securite",
		"title": "Projet d'une organisation", "body": "Saisi par l'administration."}, 201, nil)

	email := "citoyen-" + civic.NewID() + "@example.fr"
	httpJSON(t, "POST", base+"/api/v1/auth/signup", "", map[string]any{"email": email, "name": "Citoyen", "password": "mot de passe citoyen"}, 201, nil)
	m := mp.WaitMail(t, email, "Confirmez votre adresse e-mail", 30*time.Second)
	tok := regexp.MustCompile(regexp.QuoteMeta(base) + `/verification\?jeton=([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if tok == nil {
		t.Fatalf("no link to %s in:\n%s", base, m.Text)
	}
	var u civic.User
	httpJSON(t, "POST", base+"/api/v1/auth/verify", "", map[string]any{"token": tok[1]}, 200, &u)
	if u.EmailVerified == nil || u.Email != email {
		t.Fatalf("verified %+v", u)
	}
}
