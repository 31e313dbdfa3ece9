package apid

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/internal/testenv"
)

// TestLegalKeys: legal.* reaches the legal pages; the start logs the keys
// still shown as placeholders; a bad value is refused with its key named.
func TestLegalKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	cfg.MQTT.URL = ""
	cfg.Legal.DPOEmail = "dpo@departement06.fr"
	cfg.Legal.HostName = "Hébergeur Exemple SAS"

	var logs testenv.LogBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := New(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = app.Run(ctx) }() // releases what New opened
	req := httptest.NewRequest("GET", "/confidentialite", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := app.Server().App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `<a href="mailto:dpo@departement06.fr">`) || !strings.Contains(string(b), "Département des Alpes-Maritimes") {
		t.Fatalf("/confidentialite %d:\n%.800s", resp.StatusCode, b)
	}
	log := logs.String()
	if !strings.Contains(log, "legal pages show placeholders") || !strings.Contains(log, "legal.contact_email") ||
		strings.Contains(log, "legal.dpo_email") || strings.Contains(log, "legal.host_name,") {
		t.Errorf("placeholder warning:\n%s", log)
	}

	bad := DefaultConfig()
	bad.Legal.ContactEmail = "pas une adresse"
	if err := bad.Validate(); err == nil || !strings.HasPrefix(err.Error(), "legal.contact_email:") {
		t.Fatalf("Validate = %v, want legal.contact_email named", err)
	}
}
