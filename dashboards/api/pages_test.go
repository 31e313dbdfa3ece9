package api_test

import (
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

func TestPages(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, citizen := e.user(civic.RoleCitizen)
	var p civic.Proposal
	e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "sante-solidarite",
		"title": `<script>alert("x")</script> Défibrillateurs`, "body": "Dans chaque mairie.", "estimated_cost_eur": 1234567}, 201, &p)
	e.problem("GET", "/idees/"+p.ID, "", nil, 404) // not published yet
	e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
	e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", citizen, nil, 200, nil)

	resp, body := e.do("GET", "/idees/"+p.ID, "", nil)
	html := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	for _, want := range []string{`<html lang="fr">`, "&lt;script&gt;", "Défibrillateurs", "Santé et solidarité", "publiée",
		`<dt>Soutiens</dt><dd id="soutiens">1</dd>`, "1\u202f234\u202f567 €", `href="#contenu"`, "Aucune série"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Fatal("title not escaped")
	}
	// Strict CSP: no 'unsafe-inline'; the page's one <style> and one <script>
	// carry this response's nonce, and a second view gets another nonce.
	csp := resp.Header.Get("Content-Security-Policy")
	_, nonce, _ := strings.Cut(csp, "script-src 'nonce-")
	nonce, _, _ = strings.Cut(nonce, "'")
	if len(nonce) < 22 || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'nonce-"+nonce+"'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	if strings.Count(html, "<script") != 1 || strings.Count(html, `<script nonce="`+nonce+`">`) != 1 ||
		strings.Count(html, "<style") != 1 || strings.Count(html, `<style nonce="`+nonce+`">`) != 1 || strings.Contains(html, "style=") {
		t.Fatal("a script or style without the response's nonce")
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if r2, _ := e.do("GET", "/idees/"+p.ID, "", nil); r2.Header.Get("Content-Security-Policy") == csp {
		t.Fatal("nonce reused")
	}
	// Anonymous visitors get the sign-in form (revealed by the script), no CSRF token.
	for _, want := range []string{`<form id="connexion"`, `<label for="courriel">`, `<label for="mot-de-passe">`, `aria-live="polite"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, `<meta name="csrf-token"`) {
		t.Fatal("CSRF meta for an anonymous visitor")
	}
	resp, body = e.do("GET", "/idees", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `href="/idees/`+p.ID+`"`) {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	e.problem("GET", "/idees/nope", "", nil, 404)
}
