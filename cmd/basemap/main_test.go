package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// contours is two communes of 06 (one with an island, one with a hole and
// a ring simplification flattens) and one of 83, which is left out.
const contours = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"06001","nom":"Ancien nom"},"geometry":{"type":"MultiPolygon","coordinates":[
 [[[7.0,43.5],[7.1,43.5],[7.10001,43.55],[7.1,43.6],[7.0,43.6],[7.0,43.5]]],
 [[[7.2,43.5],[7.2001,43.5],[7.2001,43.5001],[7.2,43.5]]]]}},
{"type":"Feature","properties":{"code":"06002","nom":"Deux"},"geometry":{"type":"Polygon","coordinates":[
 [[7.3,43.7],[7.5,43.7],[7.5,43.9],[7.3,43.9],[7.3,43.7]],
 [[7.35,43.75],[7.45,43.75],[7.45,43.85],[7.35,43.75]]]}},
{"type":"Feature","properties":{"code":"83001","nom":"Var"},"geometry":{"type":"Polygon","coordinates":[[[6.0,43.0],[6.1,43.0],[6.1,43.1],[6.0,43.0]]]}}]}`

const communes = `[{"code":"06001","nom":"Un","departement":"06","type":"commune-actuelle","population":10},
{"code":"06002","nom":"Deux","departement":"06","type":"commune-actuelle","population":20},
{"code":"06099","nom":"Déléguée","departement":"06","type":"commune-deleguee"},
{"code":"83001","nom":"Var","departement":"83","type":"commune-actuelle"}]`

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	c, n := write(t, dir, "contours.geojson", contours), write(t, dir, "communes.json", communes)
	var log bytes.Buffer
	if err := run([]string{"-contours", c, "-communes", n, "-out", dir}, &log); err != nil {
		t.Fatal(err)
	}
	base, err := os.ReadFile(filepath.Join(dir, "basemap-06.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(base)
	if err != nil || len(fc.Features) != 2 {
		t.Fatalf("%d features, %v", len(fc.Features), err)
	}
	// Current names; the island too small to keep is dropped, the commune
	// becomes a Polygon; the near-collinear vertex is simplified away.
	one := fc.Features[0]
	if one.Properties.MustString("nom", "") != "Un" {
		t.Errorf("name %v", one.Properties)
	}
	p, ok := one.Geometry.(orb.Polygon)
	if !ok || len(p[0]) != 5 {
		t.Errorf("06001: %#v", one.Geometry)
	}
	if h := fc.Features[1].Geometry.(orb.Polygon); len(h) != 2 {
		t.Errorf("06002 lost its hole: %v", h)
	}
	var gaz []Commune
	raw, _ := os.ReadFile(filepath.Join(dir, "communes-06.json"))
	if err := json.Unmarshal(raw, &gaz); err != nil || len(gaz) != 2 {
		t.Fatalf("gazetteer %s %v", raw, err)
	}
	if g := gaz[1]; g.Code != "06002" || g.Population != 20 || g.BBox != [4]float64{7.3, 43.7, 7.5, 43.9} || g.Lat < 43.7 || g.Lat > 43.9 {
		t.Errorf("gazetteer %+v", g)
	}
	// The same inputs give the same bytes.
	if err := run([]string{"-contours", c, "-communes", n, "-out", dir}, &log); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "basemap-06.geojson")); !bytes.Equal(again, base) {
		t.Error("not reproducible")
	}
}

func TestRunRefuses(t *testing.T) {
	dir := t.TempDir()
	c, n := write(t, dir, "contours.geojson", contours), write(t, dir, "communes.json", communes)
	missing := write(t, dir, "missing.json", strings.Replace(communes, `"code":"06002"`, `"code":"06003"`, 1))
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no flags":       {nil, "required"},
		"bad sum":        {[]string{"-contours", c, "-communes", n, "-out", dir, "-sha256", "00"}, "SHA-256"},
		"not current":    {[]string{"-contours", c, "-communes", missing, "-out", dir}, "06002 is not a current commune"},
		"not GeoJSON":    {[]string{"-contours", n, "-communes", n, "-out", dir}, "contours"},
		"no département": {[]string{"-contours", c, "-communes", n, "-out", dir, "-dep", "2A"}, "no commune"},
	} {
		if err := run(tc.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	onlyOne := write(t, dir, "one.geojson", strings.Replace(contours, `"code":"06002"`, `"code":"83002"`, 1))
	if err := run([]string{"-contours", onlyOne, "-communes", n, "-out", dir}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "no contour for commune 06002") {
		t.Errorf("missing contour: %v", err)
	}
}
