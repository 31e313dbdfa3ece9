// Command basemap derives the map's offline base and its commune gazetteer
// (dashboards/assets/static/basemap-06.geojson and communes-06.json) from
// open data: the communes' contours (IGN Admin Express COG, Licence
// Ouverte) and the communes' current names, codes and populations
// (@etalab/decoupage-administratif from npm, Licence Ouverte). It keeps the
// communes of one département, simplifies their outlines (Douglas–Peucker,
// github.com/paulmach/orb/simplify) and rounds positions, so the base stays
// small enough to ship in the binary. The same inputs give the same bytes.
// docs/map.md says where the inputs come from; `make basemap SRC=…` runs it.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/simplify"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "basemap:", err)
		os.Exit(1)
	}
}

// Commune is one entry of the gazetteer (the JSON dashboards/assets
// serves): its INSEE code, current name, population, a point inside it
// (the centroid of its largest polygon) and its bounding box.
type Commune struct {
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Population int        `json:"population,omitempty"`
	Lat        float64    `json:"lat"`
	Lon        float64    `json:"lon"`
	BBox       [4]float64 `json:"bbox"` // west, south, east, north
}

type etalabCommune struct {
	Code        string `json:"code"`
	Name        string `json:"nom"`
	Departement string `json:"departement"`
	Type        string `json:"type"`
	Population  int    `json:"population"`
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("basemap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	contours := fs.String("contours", "", "GeoJSON FeatureCollection of commune contours (properties code, nom)")
	sum := fs.String("sha256", "", "(optional) the contours file's expected SHA-256")
	communes := fs.String("communes", "", "@etalab/decoupage-administratif's data/communes.json")
	dep := fs.String("dep", "06", "the département code")
	tol := fs.Float64("tolerance", 0.0008, "simplification tolerance in degrees (0.0008 ≈ 65 m)")
	digits := fs.Int("digits", 4, "decimals kept in positions (4 ≈ 10 m)")
	out := fs.String("out", "", "directory to write basemap-<dep>.geojson and communes-<dep>.json into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *contours == "" || *communes == "" || *out == "" {
		return errors.New("-contours, -communes and -out are required")
	}
	raw, err := os.ReadFile(*contours)
	if err != nil {
		return err
	}
	if *sum != "" {
		h := sha256.Sum256(raw)
		if got := hex.EncodeToString(h[:]); got != *sum {
			return fmt.Errorf("contours: SHA-256 %s, want %s", got, *sum)
		}
	}
	names, err := readCommunes(*communes, *dep)
	if err != nil {
		return err
	}
	base, gaz, err := derive(raw, names, *dep, *tol, *digits)
	if err != nil {
		return err
	}
	bb, err := encodeBase(base)
	if err != nil {
		return err
	}
	gb, err := json.Marshal(gaz)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "basemap-"+*dep+".geojson"), bb, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "communes-"+*dep+".json"), append(gb, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "basemap: %d communes, base %d bytes, gazetteer %d bytes\n", len(gaz), len(bb), len(gb))
	return nil
}

func readCommunes(path, dep string) (map[string]etalabCommune, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var all []etalabCommune
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]etalabCommune{}
	for _, c := range all {
		if c.Departement == dep && c.Type == "commune-actuelle" {
			out[c.Code] = c
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no commune in département %s", path, dep)
	}
	return out, nil
}

// derive keeps dep's communes of the contours, simplified and rounded,
// named as names (current) says; every current commune must have a contour.
func derive(raw []byte, names map[string]etalabCommune, dep string, tol float64, digits int) (*geojson.FeatureCollection, []Commune, error) {
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("contours: %w", err)
	}
	base := geojson.NewFeatureCollection()
	var gaz []Commune
	seen := map[string]bool{}
	scale := math.Pow(10, float64(digits))
	for _, f := range fc.Features {
		code := f.Properties.MustString("code", "")
		if !strings.HasPrefix(code, dep) || len(code) != 5 {
			continue
		}
		c, ok := names[code]
		if !ok {
			return nil, nil, fmt.Errorf("contours: commune %s is not a current commune of %s", code, dep)
		}
		seen[code] = true
		g := round(simplify.DouglasPeucker(tol).Simplify(orb.Clone(f.Geometry)), scale)
		g = dropFlat(g)
		if g == nil {
			return nil, nil, fmt.Errorf("contours: commune %s vanished when simplified", code)
		}
		nf := geojson.NewFeature(g)
		nf.Properties = geojson.Properties{"code": code, "nom": c.Name}
		base.Append(nf)
		b := f.Geometry.Bound()
		ctr := centroid(f.Geometry)
		gaz = append(gaz, Commune{Code: code, Name: c.Name, Population: c.Population,
			Lat: roundTo(ctr[1], scale), Lon: roundTo(ctr[0], scale),
			BBox: [4]float64{roundTo(b.Min[0], scale), roundTo(b.Min[1], scale), roundTo(b.Max[0], scale), roundTo(b.Max[1], scale)}})
	}
	for code := range names {
		if !seen[code] {
			return nil, nil, fmt.Errorf("contours: no contour for commune %s (%s)", code, names[code].Name)
		}
	}
	sort.Slice(base.Features, func(i, j int) bool {
		return base.Features[i].Properties["code"].(string) < base.Features[j].Properties["code"].(string)
	})
	sort.Slice(gaz, func(i, j int) bool { return gaz[i].Code < gaz[j].Code })
	return base, gaz, nil
}

// centroid is the centroid of g's largest polygon (a commune with islands
// gets a point on its main land).
func centroid(g orb.Geometry) orb.Point {
	switch g := g.(type) {
	case orb.MultiPolygon:
		best, area := 0, 0.0
		for i, p := range g {
			if a := math.Abs(planar.Area(p)); a > area {
				best, area = i, a
			}
		}
		c, _ := planar.CentroidArea(g[best])
		return c
	default:
		c, _ := planar.CentroidArea(g)
		return c
	}
}

func roundTo(v, scale float64) float64 { return math.Round(v*scale) / scale }

func round(g orb.Geometry, scale float64) orb.Geometry {
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			for i := range r {
				r[i] = orb.Point{roundTo(r[i][0], scale), roundTo(r[i][1], scale)}
			}
		}
		return g
	case orb.MultiPolygon:
		for _, p := range g {
			round(p, scale)
		}
		return g
	}
	return g
}

// dropFlat removes the rings simplification left with under four
// positions (no area), and the polygons left without an exterior ring.
func dropFlat(g orb.Geometry) orb.Geometry {
	keep := func(p orb.Polygon) orb.Polygon {
		var out orb.Polygon
		for i, r := range p {
			if len(r) >= 4 {
				out = append(out, r)
			} else if i == 0 {
				return nil
			}
		}
		return out
	}
	switch g := g.(type) {
	case orb.Polygon:
		if p := keep(g); p != nil {
			return p
		}
		return nil
	case orb.MultiPolygon:
		var out orb.MultiPolygon
		for _, p := range g {
			if p = keep(p); p != nil {
				out = append(out, p)
			}
		}
		switch len(out) {
		case 0:
			return nil
		case 1:
			return out[0]
		}
		return out
	}
	return g
}

// encodeBase writes one feature a line: diffs of a re-derivation stay
// readable.
func encodeBase(fc *geojson.FeatureCollection) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	for i, f := range fc.Features {
		j, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		b.Write(j)
		if i < len(fc.Features)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes(), nil
}
