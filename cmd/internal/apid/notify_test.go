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

// TestRunSendsStatusMails: the service's Run delivers status e-mails (the
// mail outbox it runs next to the HTTP server sends them with the
// verification mails) through the configured relay, with links on the
// listener's address when http.public_url is empty, and returns nil when
// its context ends.
func TestRunSendsStatusMails(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	cfg.MQTT.URL = ""
	cfg.Admin = AdminConfig{Email: "admin." + civic.NewID() + "@example.fr", Password: "administrateur-2026"}
	cfg.Mail = mail.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mail.TLSNone, From: "SMART Deal <no-reply@cd06.test>"}
	base, _, _ := runApp(t, cfg)

	var in struct {
		Token string `json:"token"`
	}
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": cfg.Admin.Email, "password": cfg.Admin.Password}, 200, &in)
	admin := in.Token
	email := "camille." + civic.NewID() + "@example.fr"
	httpJSON(t, "POST", base+"/api/v1/auth/signup", "", map[string]any{"email": email, "name": "Camille", "password": "mot de passe citoyen"}, 201, nil)
	m := mp.WaitMail(t, email, "Confirmez votre adresse e-mail", 30*time.Second)
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/verification\?jeton=([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Text)
	if link == nil {
		t.Fatalf("no verification link to %s in:\n%s", base, m.Text)
	}
	httpJSON(t, "POST", base+"/api/v1/auth/verify", "", map[string]any{"token": link[1]}, 200, nil)
	httpJSON(t, "POST", base+"/api/v1/auth/signin", "", map[string]any{"email": email, "password": "mot de passe citoyen"}, 200, &in)
	httpJSON(t, "PUT", base+"/api/v1/me/notifications", in.Token, map[string]bool{"own_proposals": true}, 200, nil)
	var p civic.Proposal
	httpJSON(t, "POST", base+"/api/v1/ideas", in.Token, map[string]any{"campaign_id": fmt.Sprintf("smart-deal-%d", time.Now().Year()),
		"theme_id": "securite", "title": "Éclairage du parc", "body": "Des lampadaires."}, 201, &p)
	httpJSON(t, "POST", base+"/api/v1/ideas/"+p.ID+"/status", admin, map[string]any{"status": "published"}, 200, nil)
	got := mp.WaitMail(t, email, "Votre proposition « Éclairage du parc » est publiée", 15*time.Second)
	if !strings.Contains(got.Text, base+"/idees/"+p.ID) || !strings.Contains(got.Text, base+"/desabonnement/") {
		t.Errorf("links not on %s:\n%s", base, got.Text)
	}

}
