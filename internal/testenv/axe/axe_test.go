package axe

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestVendored: the vendored axe.min.js is the release pinned in
// package.json and package-lock.json, byte for byte (the SHA-256 that
// axe-core publishes for it in sri-history.json, kept in axe.min.js.sri).
func TestVendored(t *testing.T) {
	v := Version()
	if v == "" || strings.ContainsAny(v, "^~<>= ") {
		t.Fatalf("package.json pins axe-core %q: want an exact version", v)
	}
	if !strings.HasPrefix(script, "/*! axe v"+v+"\n") {
		t.Fatalf("axe.min.js starts %q, want axe v%s", script[:min(len(script), 20)], v)
	}
	lock, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		t.Fatal(err)
	}
	if got := l.Packages["node_modules/axe-core"].Version; got != v {
		t.Fatalf("package-lock.json has axe-core %q, package.json %q: run make axe", got, v)
	}
	sri, err := os.ReadFile("axe.min.js.sri")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(script))
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != strings.TrimSpace(string(sri)) {
		t.Fatalf("axe.min.js is %s, the release is %s: run make axe", got, sri)
	}
}

// TestRun: in a real Chromium, axe finds the violations of a page built
// with two (no lang, an image without a text alternative), reports them
// readably, and finds none on the fixed page — under a CSP as strict as the
// platform's, which does not stop the injection.
func TestRun(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s not found (%v): apt-get install chromium", chromium, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		img := `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="logo">`
		lang := ""
		if r.URL.Path == "/ok" {
			img = `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="logo" alt="Logo du Département">`
			lang = ` lang="fr"`
		}
		fmt.Fprintf(w, `<!doctype html><html%s><head><title>Essai</title></head><body><main><h1>Essai</h1>%s</main></body></html>`, lang, img)
	}))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	r, err := Run(ctx, WCAG21AA)
	if err != nil {
		t.Fatal(err)
	}
	if r.TestEngine.Version != Version() {
		t.Errorf("engine %q, pinned %q", r.TestEngine.Version, Version())
	}
	if got := IDs(r.Violations); !slices.Equal(got, []string{"html-has-lang", "image-alt"}) {
		t.Fatalf("violations %v, want html-has-lang and image-alt:\n%s", got, Report(r))
	}
	rep := Report(r)
	for _, want := range []string{"image-alt (critical)", "at #logo", `<img src="data:image/gif`, "html-has-lang (serious)", "at html", "https://dequeuniversity.com/"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	rules, err := Rules(ctx, WCAG21AA)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rules, "color-contrast") || !slices.Contains(rules, "image-alt") || slices.Contains(rules, "region") {
		t.Errorf("WCAG 2.1 A/AA rules %v: want color-contrast and image-alt, not the best-practice region", rules)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/ok")); err != nil {
		t.Fatal(err)
	}
	if r, err = Run(ctx, WCAG21AA); err != nil {
		t.Fatal(err)
	}
	if len(r.Violations) != 0 || Report(r) != "" {
		t.Fatalf("fixed page still has violations:\n%s", Report(r))
	}
	if !slices.Contains(IDs(r.Passes), "image-alt") {
		t.Errorf("image-alt not among the passes %v", IDs(r.Passes))
	}
}
