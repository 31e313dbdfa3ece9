// Package maptest checks a page that draws a map with map.js, in a
// chromedp browser (internal/browsertest): the counts per layer map.js
// writes on its container, a popup opened from the keyboard, the view kept
// in the URL, a drone marker's position. It is for tests only: the assets'
// own browser test uses it on a fixture page, the map page's tests on the
// real one.
package maptest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Counts are the items shown per layer.
type Counts struct {
	Proposals int `json:"proposals"`
	Sensors   int `json:"sensors"`
	Missions  int `json:"missions"`
	Drones    int `json:"drones"`
}

// WaitReady waits until the map in container (a CSS selector) is drawn.
func WaitReady(ctx context.Context, container string) error {
	return chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(container+`[data-pret="oui"]`)))
}

// ReadCounts reads the counts map.js wrote on container.
func ReadCounts(ctx context.Context, container string) (Counts, error) {
	js, _ := json.Marshal(container)
	return chromedp.Run(ctx, chromedp.Evaluate[Counts](`(() => { const d = document.querySelector(`+string(js)+`).dataset;
		return {proposals: +d.proposals, sensors: +d.sensors, missions: +d.missions, drones: +d.drones}; })()`))
}

// Count counts the elements matching sel.
func Count(ctx context.Context, sel string) (int, error) {
	js, _ := json.Marshal(sel)
	return chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+string(js)+`).length`))
}

// PopupFromKeyboard focuses the first marker matching sel, checks it has
// the focus (a marker a keyboard user can reach), presses Enter and
// returns the text of the popup that opened.
func PopupFromKeyboard(ctx context.Context, sel string) (string, error) {
	js, _ := json.Marshal(sel)
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+string(js)+`);
		if (!e) return false; e.focus(); return document.activeElement === e && e.tabIndex === 0; })()`))
	if err != nil {
		return "", err
	}
	if !focused {
		return "", fmt.Errorf("%s: no marker takes the keyboard focus", sel)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		return "", err
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(".leaflet-popup-content"))); err != nil {
		return "", fmt.Errorf("no popup opened from the keyboard: %w", err)
	}
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".leaflet-popup-content")))
}

// Hash is the page's URL fragment.
func Hash(ctx context.Context) (string, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
}

// DronePosition is the position of the drone marker of site/device.
func DronePosition(ctx context.Context, key string) (lat, lon float64, err error) {
	js, _ := json.Marshal(key)
	p, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const e = [...document.querySelectorAll("[data-drone]")].find((x) => x.dataset.drone === `+string(js)+`);
		return e ? [+e.dataset.lat, +e.dataset.lon] : []; })()`))
	if err != nil {
		return 0, 0, err
	}
	if len(p) != 2 {
		return 0, 0, fmt.Errorf("no drone marker %s", key)
	}
	return p[0], p[1], nil
}
