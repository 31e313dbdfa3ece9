// Package axe runs axe-core, Deque's accessibility rules engine, in a page
// open in a chromedp browser and returns what it found. It is for tests only.
//
// axe.min.js is vendored next to this file at the exact version pinned in
// package.json and package-lock.json, so tests and CI need no npm; `make axe`
// refreshes it from the npm registry (see the README) and axe.min.js.sri
// records the release's published SHA-256, which the package's test checks.
package axe

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/chromedp/chromedp"
)

//go:embed axe.min.js
var script string

//go:embed package.json
var packageJSON []byte

// WCAG21AA are the axe tags of the WCAG 2.0 and 2.1 success criteria of
// levels A and AA: the criteria the RGAA 4.1 takes over.
var WCAG21AA = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// Version is the axe-core version pinned in package.json.
func Version() string {
	var p struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(packageJSON, &p); err != nil {
		panic("axe: package.json: " + err.Error()) // embedded: cannot happen after the package test
	}
	return p.DevDependencies["axe-core"]
}

// Result is what axe.run reports for one page (the fields tests use).
type Result struct {
	URL          string `json:"url"`
	Violations   []Rule `json:"violations"`
	Passes       []Rule `json:"passes"`
	Incomplete   []Rule `json:"incomplete"` // to check by hand: axe could not decide
	Inapplicable []Rule `json:"inapplicable"`
	TestEngine   struct {
		Version string `json:"version"`
	} `json:"testEngine"`
	TestEnvironment struct {
		UserAgent string `json:"userAgent"`
	} `json:"testEnvironment"`
}

// Rule is one rule's outcome on the page.
type Rule struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"` // minor, moderate, serious, critical (violations)
	Help    string   `json:"help"`
	HelpURL string   `json:"helpUrl"`
	Tags    []string `json:"tags"`
	Nodes   []Node   `json:"nodes"`
}

// Node is an element a rule applies to.
type Node struct {
	// Target is the element's CSS selector path: one selector, or more for
	// elements inside iframes or shadow roots (each then a list).
	Target         []json.RawMessage `json:"target"`
	HTML           string            `json:"html"`
	Impact         string            `json:"impact"`
	FailureSummary string            `json:"failureSummary"`
}

// Selector is the node's target as one readable string.
func (n Node) Selector() string {
	parts := make([]string, 0, len(n.Target))
	for _, raw := range n.Target {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
			continue
		}
		var ss []string
		if json.Unmarshal(raw, &ss) == nil {
			parts = append(parts, strings.Join(ss, " >>> "))
			continue
		}
		parts = append(parts, string(raw))
	}
	return strings.Join(parts, " | ")
}

// IDs are the rule ids of rules, sorted.
func IDs(rules []Rule) []string {
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// inject loads axe into the page unless it is there. The page's
// Content-Security-Policy does not apply: Runtime.evaluate runs the script
// as the debugger, not as a <script> of the page.
func inject(ctx context.Context) error {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return fmt.Errorf("axe: probe: %w", err)
	}
	if loaded {
		return nil
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](script)); err != nil {
		return fmt.Errorf("axe: inject: %w", err)
	}
	return nil
}

// Rules lists the ids of the rules of this axe version that carry any of
// tags (what a Run with the same tags checks), sorted.
func Rules(ctx context.Context, tags []string) ([]string, error) {
	if err := inject(ctx); err != nil {
		return nil, err
	}
	js, _ := json.Marshal(tags)
	ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.getRules(`+string(js)+`).map(r => r.ruleId)`))
	if err != nil {
		return nil, fmt.Errorf("axe: rules: %w", err)
	}
	sort.Strings(ids)
	return ids, nil
}

// Run checks the document open in ctx with the rules tagged tags (for
// example WCAG21AA) and returns axe's result. Violations list every failing
// element; passes and incomplete list one element per rule.
func Run(ctx context.Context, tags []string) (*Result, error) {
	if err := inject(ctx); err != nil {
		return nil, err
	}
	opts, _ := json.Marshal(map[string]any{
		"runOnly":     map[string]any{"type": "tag", "values": tags},
		"resultTypes": []string{"violations"},
	})
	res, err := chromedp.Run(ctx, chromedp.Evaluate[*Result](`axe.run(document, `+string(opts)+`)`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: run: %w", err)
	}
	return res, nil
}

// Report describes the violations of r for a test failure: per rule its id,
// impact and help, then each element's selector, its HTML and what to fix.
// It is empty when there are none.
func Report(r *Result) string { return Describe(r.Violations) }

// Describe is Report for any list of rules (r.Incomplete: what to check by
// hand, and why axe could not decide).
func Describe(rules []Rule) string {
	var b strings.Builder
	for _, v := range rules {
		fmt.Fprintf(&b, "%s (%s): %s — %s\n", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "    at %s\n      %s\n", n.Selector(), n.HTML)
			for _, line := range strings.Split(strings.TrimSpace(n.FailureSummary), "\n") {
				fmt.Fprintf(&b, "      %s\n", strings.TrimSpace(line))
			}
		}
	}
	return b.String()
}
