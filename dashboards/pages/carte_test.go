package pages

import (
	"math"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseLocation: the proposal form's degrees never take an exponent,
// NaN, an infinity or hexadecimal, and what they take is finite and reads
// back the same with a point or a comma.
func FuzzParseLocation(f *testing.F) {
	for _, s := range [][2]string{{"43,70", "7,25"}, {"43.7", "7.25"}, {"-0,5", "+7"}, {"NaN", "7"}, {"4e1", "1"}, {"0x1p-2", "1"}, {"Inf", "-Inf"}, {"", ""}, {"43", ""}, {"1,2,3", "4"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, lat, lon string) {
		p, err := parseLocation(lat, lon)
		if err != nil || p == nil {
			return
		}
		for _, v := range []float64{p.Lat, p.Lon} {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1000 {
				t.Fatalf("%q %q → %v", lat, lon, p)
			}
		}
		for _, s := range []string{lat, lon} {
			if strings.ContainsAny(strings.ToLower(s), "einfx_") {
				t.Fatalf("took %q", s)
			}
		}
		q, err := parseLocation(strings.ReplaceAll(lat, ",", "."), strings.ReplaceAll(lon, ",", "."))
		if err != nil || *q != *p {
			t.Fatalf("comma and point differ: %v %v %v", p, q, err)
		}
	})
}

// FuzzMapQuery: the map page's query either fails with a field error or
// gives filters that are identifiers and layers map.js knows.
func FuzzMapQuery(f *testing.F) {
	for _, s := range []string{"theme=securite", "couche=proposals&couche=sensors&filtrer=oui", "couches=drones", "statut=published&grandeur=pm2_5",
		"campagne=%3Cscript%3E", "couches=alerts", "couches=,", "filtrer=oui", "grandeur=a%20b", "couche=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, shown, err := mapQuery(q)
		if err != nil {
			return
		}
		for l := range shown {
			if l != "proposals" && l != "sensors" && l != "missions" && l != "drones" && l != "alerts" {
				t.Fatalf("%q: layer %q", raw, l)
			}
		}
		for _, v := range []string{flt.CampaignID, flt.ThemeID, string(flt.Status), flt.Quantity} {
			if strings.ContainsAny(v, "<>\"'& ") {
				t.Fatalf("%q: filter %q", raw, v)
			}
		}
	})
}

func TestTilesValidate(t *testing.T) {
	ok := Tiles{URL: "https://tuiles.example.org/{z}/{x}/{y}.png", Attribution: "© OSM"}
	if err := ok.Validate(); err != nil || ok.MaxZoom != 19 || ok.Origin() != "https://tuiles.example.org" {
		t.Fatalf("%+v %v", ok, err)
	}
	if (Tiles{}).Origin() != "" {
		t.Fatal("an origin without a tile server")
	}
	for _, bad := range []Tiles{{URL: "javascript:alert(1)//{z}{x}{y}", Attribution: "a"}, {URL: "https://a.org/{z}/{x}.png", Attribution: "a"},
		{URL: "https://a.org/{z}/{x}/{y}.png", Attribution: " "}, {MaxZoom: 3}, {URL: "https://a.org/{z}/{x}/{y}.png", Attribution: "a", MaxZoom: -1}} {
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "map.tile_") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
