package assets

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Commune is one commune of the gazetteer (static/communes-06.json, written
// by cmd/basemap): INSEE code, current name, population, a point inside it
// and its bounding box [west, south, east, north].
type Commune struct {
	Code       string     `json:"code"`
	Name       string     `json:"name"`
	Population int        `json:"population,omitempty"`
	Lat        float64    `json:"lat"`
	Lon        float64    `json:"lon"`
	BBox       [4]float64 `json:"bbox"`
}

var (
	gazOnce  sync.Once
	communes []Commune
	folded   []string
)

// Communes is the gazetteer, by INSEE code.
func Communes() []Commune {
	gazOnce.Do(func() {
		b, err := fs.ReadFile(FS(), Gazetteer)
		if err == nil {
			err = json.Unmarshal(b, &communes)
		}
		if err != nil {
			panic("assets: gazetteer: " + err.Error()) // embedded: the package's test reads it
		}
		for _, c := range communes {
			folded = append(folded, Fold(c.Name))
		}
	})
	return communes
}

// MaxMatches bounds what FindCommunes returns.
const MaxMatches = 10

// FindCommunes finds the communes a visitor means by q, a name typed as
// people type it ("saint martin vesubie", "Èze", "06088"): an INSEE code,
// else the names equal to q once folded (case, accents, hyphens,
// apostrophes and "St"/"Ste" aside), then those starting with it, then
// those containing it, the more populous first within each, at most
// MaxMatches. An empty or too short (under 2 characters) q finds nothing.
func FindCommunes(q string) []Commune {
	all := Communes()
	q = strings.TrimSpace(q)
	if len(q) == 5 && strings.Trim(q, "0123456789AB") == "" {
		for _, c := range all {
			if c.Code == strings.ToUpper(q) {
				return []Commune{c}
			}
		}
	}
	f := Fold(q)
	if len([]rune(f)) < 2 {
		return nil
	}
	type hit struct {
		rank int
		c    Commune
	}
	var hits []hit
	for i, name := range folded {
		switch {
		case name == f:
			hits = append(hits, hit{0, all[i]})
		case strings.HasPrefix(name, f):
			hits = append(hits, hit{1, all[i]})
		case strings.Contains(name, f):
			hits = append(hits, hit{2, all[i]})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return b.c.Population - a.c.Population
	})
	out := make([]Commune, 0, min(len(hits), MaxMatches))
	for _, h := range hits[:min(len(hits), MaxMatches)] {
		out = append(out, h.c)
	}
	return out
}

// accents maps the accented letters of French names to their base letter.
var accents = strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y", "œ", "oe", "æ", "ae")

// Fold is s as FindCommunes compares names: lower case without accents,
// every run of other characters than letters and digits one space, "st"
// and "ste" as "saint" and "sainte".
func Fold(s string) string {
	s = accents.Replace(strings.ToLower(s))
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		switch w {
		case "st":
			words[i] = "saint"
		case "ste":
			words[i] = "sainte"
		}
	}
	return strings.Join(words, " ")
}
