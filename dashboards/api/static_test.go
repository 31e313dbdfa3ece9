package api_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestStaticAssets: the embedded front end is served under /static/ by the
// API itself (no CDN): the map's script with its content type and a year's
// caching for its hashed URL, the base map as GeoJSON; an unknown file or a
// path escaping the directory is 404.
func TestStaticAssets(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	base := serve(t, e)
	fetch := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := fetch("/static/" + assets.URL("map.js"))
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "createMap") {
		t.Fatalf("map.js: %d %q %.80q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("hashed map.js Cache-Control %q, want immutable", cc)
	}
	if resp, _ := fetch("/static/" + assets.URL(assets.BaseMap)); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/geo+json") {
		t.Fatalf("base map: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/static/nope.js", "/static/../api.go", "/static/%2e%2e/go.mod"} {
		if resp, _ := fetch(p); resp.StatusCode != 404 {
			t.Fatalf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}
