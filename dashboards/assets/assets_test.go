package assets_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/cd06/smartdeal/dashboards/assets"
)

// TestVendored: the vendored files are the versions package.json and
// package-lock.json pin (the lockfile's resolved versions, and the version
// each file announces).
func TestVendored(t *testing.T) {
	want := map[string]string{"leaflet": "1.9.4", "leaflet.markercluster": "1.5.3"}
	got := assets.Versions()
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
	for name, v := range want {
		if got[name] != v {
			t.Errorf("package.json pins %s %q, want %q", name, got[name], v)
		}
		if lv := l.Packages["node_modules/"+name].Version; lv != v {
			t.Errorf("package-lock.json resolves %s to %q, want %q", name, lv, v)
		}
	}
	js, err := fs.ReadFile(assets.FS(), "vendor/leaflet/leaflet.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`version="1.9.4"`)) {
		t.Error("vendor/leaflet/leaflet.js is not Leaflet 1.9.4: run make assets")
	}
	for _, f := range []string{"vendor/leaflet/LICENSE", "vendor/markercluster/MIT-LICENCE.txt"} {
		if _, err := fs.Stat(assets.FS(), f); err != nil {
			t.Errorf("licence %s not shipped: %v", f, err)
		}
	}
}

// TestBudget: what the map page loads (its scripts and styles) is under
// MapBudget gzip-compressed, as the handler sends it.
func TestBudget(t *testing.T) {
	total := 0
	for _, f := range append(append([]string{assets.MissionModule}, assets.MapScripts...), assets.MapStyles...) {
		n := assets.GzipSize(f)
		if n == 0 {
			t.Fatalf("%s: not shipped", f)
		}
		t.Logf("%-50s %7d bytes gzip", f, n)
		total += n
	}
	t.Logf("total %d bytes gzip (budget %d); base map %d, gazetteer %d", total, assets.MapBudget, assets.GzipSize(assets.BaseMap), assets.GzipSize(assets.Gazetteer))
	if total > assets.MapBudget {
		t.Fatalf("the map's JavaScript and CSS weigh %d bytes gzip, over the budget of %d", total, assets.MapBudget)
	}
	// The base map is data, fetched once and cached: bounded apart.
	if n := assets.GzipSize(assets.BaseMap); n > 100<<10 {
		t.Errorf("base map %d bytes gzip, over 100 KiB", n)
	}
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestHandler: content types, gzip, caching by content hash, ETag
// revalidation, and what is refused.
func TestHandler(t *testing.T) {
	h := assets.Handler()
	types := map[string]string{
		"map.js":                           "text/javascript; charset=utf-8",
		"map.css":                          "text/css; charset=utf-8",
		assets.BaseMap:                     "application/geo+json",
		assets.Gazetteer:                   "application/json",
		"vendor/leaflet/images/layers.png": "image/png",
	}
	for name, ct := range types {
		resp := get(t, h, http.MethodGet, "/"+name, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct || resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %q %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
		}
	}

	u := assets.URL("map.js")
	if !strings.HasPrefix(u, "map.js?v=") || len(u) != len("map.js?v=")+12 {
		t.Fatalf("URL %q", u)
	}
	resp := get(t, h, http.MethodGet, "/"+u, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("hashed URL: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	plain, _ := fs.ReadFile(assets.FS(), "map.js")
	if !bytes.Equal(body, plain) {
		t.Fatal("gzip body differs from the file")
	}
	// A stale hash is not cached for a year (a page of the previous release).
	if resp := get(t, h, http.MethodGet, "/map.js?v=000000000000", nil); resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale hash: %q", resp.Header.Get("Cache-Control"))
	}
	// gzip;q=0 and no Accept-Encoding: identity.
	for _, ae := range []string{"", "gzip;q=0", "identity"} {
		if resp := get(t, h, http.MethodGet, "/map.js", map[string]string{"Accept-Encoding": ae}); resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("Accept-Encoding %q: %q", ae, resp.Header.Get("Content-Encoding"))
		}
	}
	etag := resp.Header.Get("ETag")
	if resp := get(t, h, http.MethodGet, "/map.js", map[string]string{"If-None-Match": `"x", ` + etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	if resp := get(t, h, http.MethodHead, "/map.js", nil); resp.StatusCode != 200 || resp.ContentLength != int64(len(plain)) {
		t.Errorf("HEAD: %d %d", resp.StatusCode, resp.ContentLength)
	}
	for _, bad := range []string{"/", "/vendor", "/vendor/", "/nope.js", "/../assets.go", "/%2e%2e/assets.go", "/vendor/../../package.json"} {
		if resp := get(t, h, http.MethodGet, bad, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, resp.StatusCode)
		}
	}
	if resp := get(t, h, http.MethodPost, "/map.js", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	defer func() {
		if recover() == nil {
			t.Error("URL of an unknown file did not panic")
		}
	}()
	assets.URL("nope.js")
}

// TestBaseMap: the base map parses as GeoJSON (orb), has the 163
// communes of the Alpes-Maritimes, each a polygon with positions inside the
// département's box; the gazetteer has the same communes.
func TestBaseMap(t *testing.T) {
	raw, err := fs.ReadFile(assets.FS(), assets.BaseMap)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatal(err)
	}
	box := orb.Bound{Min: orb.Point{6.6, 43.4}, Max: orb.Point{7.8, 44.4}}
	codes := map[string]bool{}
	for _, f := range fc.Features {
		code := f.Properties.MustString("code", "")
		if !strings.HasPrefix(code, "06") || f.Properties.MustString("nom", "") == "" {
			t.Errorf("feature %v", f.Properties)
		}
		codes[code] = true
		switch f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
		default:
			t.Errorf("%s: %s", code, f.Geometry.GeoJSONType())
		}
		if b := f.Geometry.Bound(); !box.Contains(b.Min) || !box.Contains(b.Max) {
			t.Errorf("%s: out of the département: %v", code, b)
		}
	}
	if len(codes) != 163 {
		t.Errorf("%d communes, want 163", len(codes))
	}
	cs := assets.Communes()
	if len(cs) != 163 {
		t.Fatalf("gazetteer: %d communes", len(cs))
	}
	for _, c := range cs {
		pt := orb.Point{c.Lon, c.Lat}
		b := orb.Bound{Min: orb.Point{c.BBox[0], c.BBox[1]}, Max: orb.Point{c.BBox[2], c.BBox[3]}}
		if !codes[c.Code] || c.Name == "" || !b.Contains(pt) || !box.Contains(pt) {
			t.Errorf("gazetteer entry %+v", c)
		}
	}
}

// TestFindCommunes: names as people type them.
func TestFindCommunes(t *testing.T) {
	first := func(q string) string {
		r := assets.FindCommunes(q)
		if len(r) == 0 {
			return ""
		}
		return r[0].Name
	}
	for q, want := range map[string]string{
		"Nice":                 "Nice",
		"nice":                 "Nice",
		"  NICE ":              "Nice",
		"eze":                  "Èze",
		"saint martin vesubie": "Saint-Martin-Vésubie",
		"St-Martin-Vésubie":    "Saint-Martin-Vésubie",
		"06029":                "Cannes",
		"cann":                 "Cannes",
		"roquebrune":           "Roquebrune-Cap-Martin",
		"":                     "",
		"n":                    "",
		"<script>":             "",
		"Paris":                "",
		"99999":                "",
	} {
		if got := first(q); got != want {
			t.Errorf("FindCommunes(%q) = %q, want %q", q, got, want)
		}
	}
	// "saint" matches many: bounded, exact/prefix first, then population.
	r := assets.FindCommunes("saint")
	if len(r) != assets.MaxMatches {
		t.Errorf("saint: %d matches", len(r))
	}
	for i := 1; i < len(r); i++ {
		if r[i].Population > r[i-1].Population {
			t.Errorf("saint: %s (%d) after %s (%d)", r[i].Name, r[i].Population, r[i-1].Name, r[i-1].Population)
		}
	}
}

func FuzzFindCommunes(f *testing.F) {
	for _, s := range []string{"Nice", "saint martin", "06088", "é", "St", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := assets.FindCommunes(q)
		if len(r) > assets.MaxMatches {
			t.Fatalf("%d matches", len(r))
		}
		if assets.Fold(assets.Fold(q)) != assets.Fold(q) {
			t.Fatalf("Fold not idempotent on %q", q)
		}
	})
}
