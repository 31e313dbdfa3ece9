package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/apid"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/internal/browsertest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBrowserRegistryBrokers: an administrator registers a site and two
// devices and provisions their MQTT credentials from the pages (the first
// with JavaScript off, the second with it on), reading each password once on
// the page. Then, on the all-in-one's embedded broker and on a dedicated
// Mosquitto started with the password and ACL files exported from the
// registry, a real MQTT client publishes with the first device's credentials
// on its topic and is accepted, while the second device's credentials on
// that topic, a wrong password and anonymous clients are refused. The
// revocation form then locks the first device out of the embedded broker.
func TestBrowserRegistryBrokers(t *testing.T) {
	in := testenv.SharedInflux(t)
	cfg := apid.DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL, cfg.Influx.Bucket = in.URL, in.NewDatabase(t)+"/autogen"
	const adminEmail, adminPW = "admin@departement06.fr", "administrateur-2026"
	cfg.Admin = apid.AdminConfig{Email: adminEmail, Password: adminPW}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := new(testenv.LogBuffer)
	app, err := apid.New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := "http://" + app.Addr()
	testenv.Eventually(t, 20*time.Second, func() bool { return app.DatabaseReady(ctx) == nil }, "API not ready: %s", logs)

	auth := newRegistryAuth(smartdeal.Topics{}, slog.New(slog.NewTextHandler(logs, nil)))
	apiPW := auth.serviceAccount(brokeracl.API, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.API))
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	srv, err := startBroker(addr, slog.New(slog.DiscardHandler), auth)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	auth.useStore(ctx, app.Store())

	// Without JavaScript: sign in from the registry, register the site and
	// the first device, provision it.
	noJS := browsertest.New(t)
	if err := chromedp.Do(noJS, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(noJS, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	signIn(t, noJS, base, adminEmail, adminPW)
	const hostileName = `Roya <script>alert(1)</script> & "vallée"`
	fill(t, noJS, map[string]string{"site-id": "vallee-roya", "site-nom": hostileName, "site-lat": "43,9375", "site-lon": "7.514"})
	click(t, noJS, "#form-site button")
	if got := textOf(t, noJS, "#site-vallee-roya"); !strings.Contains(got, hostileName) || !strings.Contains(got, "43,93750") {
		t.Fatalf("site row %q", got)
	}
	if got := textOf(t, noJS, "#confirmation"); got != "Site enregistré." {
		t.Errorf("notice %q", got)
	}
	airPW := registerAndProvision(t, noJS, base, "roya-air", "pm2_5 ug/m3\ntemperature Cel")
	if got := textOf(t, noJS, "dl"); !strings.Contains(got, "particules fines PM2,5 (ug/m3)") && !strings.Contains(got, "(ug/m3)") {
		t.Errorf("device quantities %q", got)
	}

	// With JavaScript: the second device.
	js := browsertest.New(t)
	signIn(t, js, base, adminEmail, adminPW)
	eauPW := registerAndProvision(t, js, base, "roya-eau", "water_level m")
	if err := chromedp.Do(js, chromedp.Navigate(base+"/admin/registre")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"roya-air", "roya-eau"} {
		if got := textOf(t, js, "#appareil-"+id); !strings.Contains(got, "attribués") || !strings.Contains(got, "inconnu") || !strings.Contains(got, "jamais") {
			t.Errorf("registry row %q", got)
		}
	}

	topic := "smartdeal/v1/vallee-roya/roya-air/telemetry"
	dev, other := mqtttest.Account{User: "roya-air", Password: airPW}, mqtttest.Account{User: "roya-eau", Password: eauPW}
	t.Run("embedded", func(t *testing.T) {
		mqtttest.CheckDeviceACL(t, mqtttest.DeviceACLCase{URL: "tcp://" + addr, Topic: topic, Device: dev, Other: other,
			Watcher: mqtttest.Account{User: brokeracl.API, Password: apiPW}})
	})
	t.Run("mosquitto", func(t *testing.T) {
		tok := bearer(t, base, adminEmail, adminPW)
		passwd, acl := get(t, base+"/api/v1/broker/passwd", tok), get(t, base+"/api/v1/broker/acl", tok)
		if !strings.Contains(passwd, "roya-air:$7$101$") || !strings.Contains(acl, "user roya-air\n") || !strings.Contains(acl, "user api\n") {
			t.Fatalf("exported files:\n%s\n%s", passwd, acl)
		}
		if strings.Contains(passwd, airPW) {
			t.Fatal("the password file holds a clear password")
		}
		// The operator adds the services' lines (deploy/README.md).
		h, err := brokeracl.Hash("api-password", brokeracl.Iterations)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		pwFile, aclFile := filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
		if err := os.WriteFile(pwFile, []byte(passwd+"api:"+h+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(aclFile, []byte(acl), 0o600); err != nil {
			t.Fatal(err)
		}
		m := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: "allow_anonymous false\npassword_file " + pwFile + "\nacl_file " + aclFile + "\n"})
		mqtttest.CheckDeviceACL(t, mqtttest.DeviceACLCase{URL: m.URL(), Topic: topic, Device: dev, Other: other,
			Watcher: mqtttest.Account{User: brokeracl.API, Password: "api-password"}})
	})

	// Revocation from the page (without JavaScript).
	if err := chromedp.Do(noJS, chromedp.Navigate(base+"/admin/registre/appareils/roya-air")); err != nil {
		t.Fatal(err)
	}
	click(t, noJS, "#form-revocation button")
	if got := textOf(t, noJS, "#identifiants-etat"); !strings.Contains(got, "aucun") {
		t.Fatalf("after revocation: %q", got)
	}
	auth.reload(ctx)
	if _, err := mqtttest.Connect(t, "tcp://"+addr, "roya-air", airPW); err == nil {
		t.Fatal("revoked credentials accepted by the embedded broker")
	}
}

func signIn(t *testing.T, ctx context.Context, base, email, pw string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/registre"), chromedp.WaitVisible(chromedp.ID("courriel"))); err != nil {
		t.Fatal(err)
	}
	fill(t, ctx, map[string]string{"courriel": email, "mot-de-passe": pw})
	click(t, ctx, "#se-connecter")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/admin/registre" {
		t.Fatalf("after sign-in at %s (%v)", loc, err)
	}
}

// registerAndProvision registers a sensor at vallee-roya from the registry
// page, provisions it from its page and returns the password shown.
func registerAndProvision(t *testing.T, ctx context.Context, base, id, quantities string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/registre")); err != nil {
		t.Fatal(err)
	}
	fill(t, ctx, map[string]string{"appareil-id": id, "appareil-site": "vallee-roya", "appareil-type": "sensor",
		"appareil-modele": "Capteur de test", "appareil-grandeurs": quantities})
	click(t, ctx, "#form-appareil button")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/admin/registre/appareils/"+id {
		t.Fatalf("after registering %s at %s (%v)", id, loc, err)
	}
	click(t, ctx, "#form-identifiants button")
	if got := textOf(t, ctx, "#mqtt-utilisateur"); got != id {
		t.Fatalf("user shown %q", got)
	}
	pw := textOf(t, ctx, "#mqtt-mot-de-passe")
	if len(pw) < 32 {
		t.Fatalf("password shown %q", pw)
	}
	if acl, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("bloc-acl"))); !strings.Contains(acl, "topic write smartdeal/v1/vallee-roya/"+id+"/telemetry") {
		t.Fatalf("ACL shown %q", acl)
	}
	// Shown once: the device's page does not show it again.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/registre/appareils/"+id)); err != nil {
		t.Fatal(err)
	}
	if body := textOf(t, ctx, "body"); strings.Contains(body, pw) || !strings.Contains(body, "attribués") {
		t.Fatal("the password is shown again, or the credentials are not recorded")
	}
	return pw
}

func fill(t *testing.T, ctx context.Context, fields map[string]string) {
	t.Helper()
	for id, v := range fields {
		if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID(id), v)); err != nil {
			t.Fatalf("set #%s: %v", id, err)
		}
	}
}

func click(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func bearer(t *testing.T, base, email, pw string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	resp, err := http.Post(base+"/api/v1/auth/signin", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("sign-in %d %v", resp.StatusCode, err)
	}
	return out.Token
}

func get(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
