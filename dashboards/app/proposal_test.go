package app_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestProposalPage: what a proposal page shows, read once with each
// engine: the series in the order linked with the registry's units and
// their latest readings, the missions (a flown one with its track, a
// planned one without), the comments each viewer may read with their
// authors' names, the viewer's support; without Detail (the JSON route)
// the same series and the missions' ids only.
func TestProposalPage(t *testing.T) {
	for _, engine := range []string{measure.EngineAuto, measure.EngineFlux} {
		t.Run(engine, func(t *testing.T) { testProposalPage(t, engine) })
	}
}

func testProposalPage(t *testing.T, engine string) {
	ctx := context.Background()
	w := newWorld(t, sqltest.SQLite(t), engine)
	p := w.proposal(civic.StatusPublished)
	w.series(p, "niveau-a", "m")
	w.series(p, "niveau-b", "") // not registered
	flown, planned := w.mission(true, p), w.mission(false, p)
	w.comment(p, w.author, "Premier", civic.CommentApproved)
	w.comment(p, w.stranger, "Second", civic.CommentApproved)
	w.comment(p, w.fan, "En attente", civic.CommentPending)
	w.comment(p, w.stranger, "Masqué", civic.CommentHidden)
	if _, _, err := w.st.Vote(ctx, p.ID, w.fan.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.write()

	v, err := w.views.ProposalPage(ctx, w.fan, p.ID, pageOpts)
	if err != nil {
		t.Fatal(err)
	}
	if v.Proposal.ID != p.ID || v.Proposal.Votes != 1 || !v.VotingOpen || !v.Supported || !v.Stop.Equal(w.now.Truncate(time.Minute)) || v.Stop.Sub(v.Start) != pageOpts.Span {
		t.Fatalf("view %+v", v)
	}
	if len(v.Links) != 2 || len(v.Series) != 2 {
		t.Fatalf("%d links, %d series", len(v.Links), len(v.Series))
	}
	units := map[string]string{"niveau-a": "m", "niveau-b": ""}
	for i, s := range v.Series {
		if s.Data.Device != v.Links[i].DeviceID || s.Unit != units[s.Data.Device] || v.Series[0].Data.Device == v.Series[1].Data.Device {
			t.Errorf("series %d: %s unit %q, link %s", i, s.Data.Device, s.Unit, v.Links[i].DeviceID)
		}
		// 30 readings over 5 hours in windows of 1213 s (a week in 500 points).
		if n := len(s.Data.Points); n < 12 || n > 18 || s.Stats.Count != n || s.Stats.SeriesKey != s.Data.SeriesKey || s.Stats.Min == nil || *s.Stats.Max > 29 {
			t.Errorf("series %d: %d points, stats %+v", i, n, s.Stats)
		}
		if l := s.Latest; l == nil || l.Value != 0 || l.Unit != "cm" || !l.Time.Equal(w.now.Truncate(time.Second)) {
			t.Errorf("series %d latest %+v, want 0 cm at %s", i, l, w.now)
		}
	}
	want := []string{flown.ID, planned.ID}
	slices.Sort(want)
	if !slices.Equal(v.MissionIDs, want) || len(v.Missions) != 2 {
		t.Fatalf("missions %v, want %v", v.MissionIDs, want)
	}
	for _, m := range v.Missions {
		switch m.ID {
		case flown.ID:
			if !m.Flown || m.Track == nil || len(m.Track.Points) != 3 || m.Track.DurationS != 120 || m.Track.Mission != flown.ID {
				t.Errorf("flown mission %+v track %+v", m.Mission, m.Track)
			}
		case planned.ID:
			if m.Flown || m.Track != nil {
				t.Errorf("planned mission flown %v, track %+v", m.Flown, m.Track)
			}
		}
	}
	// The approved comments come first (their order within one millisecond
	// is not fixed), then the viewer's own.
	comments := func(v *app.ProposalView) (out []string) {
		for _, c := range v.Comments.Items {
			out = append(out, c.Author+": "+c.Body)
		}
		slices.Sort(out[:min(len(out), v.Comments.Published)])
		return out
	}
	if got, want := comments(v), []string{"Autrice: Premier", "Passant: Second", "Soutien: En attente"}; !slices.Equal(got, want) || v.Comments.Published != 2 || v.Comments.Pages != 1 {
		t.Errorf("the supporter reads %q (%d published), want %q", got, v.Comments.Published, want)
	}

	other, err := w.views.ProposalPage(ctx, w.stranger, p.ID, pageOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := comments(other), []string{"Autrice: Premier", "Passant: Second", "Passant: Masqué"}; !slices.Equal(got, want) || other.Supported {
		t.Errorf("another citizen reads %q, supported %v; want %q", got, other.Supported, want)
	}
	anon, err := w.views.ProposalPage(ctx, nil, p.ID, pageOpts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := comments(anon), []string{"Autrice: Premier", "Passant: Second"}; !slices.Equal(got, want) || anon.Supported {
		t.Errorf("a visitor reads %q, supported %v; want %q", got, anon.Supported, want)
	}

	data, err := w.views.ProposalPage(ctx, w.fan, p.ID, app.ProposalOptions{Span: pageOpts.Span, Points: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Series) != 2 || len(data.Missions) != 0 || len(data.MissionIDs) != 2 || len(data.Comments.Items) != 0 || data.Supported {
		t.Fatalf("data %+v", data)
	}
	for i, s := range data.Series {
		if len(s.Data.Points) > 7 || len(s.Data.Points) == 0 || s.Latest != nil || s.Unit != "" || s.Data.Device != v.Series[i].Data.Device {
			t.Errorf("series %d without detail: %d points, latest %v, unit %q", i, len(s.Data.Points), s.Latest, s.Unit)
		}
	}
}

// TestProposalPageVisibility: a proposal waiting for moderation or refused
// by it is its author's and the administrators' only; anybody else is told
// it does not exist, on the page and its data.
func TestProposalPageVisibility(t *testing.T) {
	ctx := context.Background()
	w := newWorldOn(t, sqltest.SQLite(t), offline(t), nil, "")
	_, unknown := w.views.ProposalPage(ctx, w.admin, "nope", pageOpts)
	if civic.ErrorCode(unknown) != civic.ENOTFOUND {
		t.Fatalf("unknown id: %v", unknown)
	}
	for _, st := range []civic.Status{civic.StatusSubmitted, civic.StatusRefused} {
		p := w.proposal(st)
		for _, who := range []*civic.User{nil, w.stranger, w.expert, w.agent} {
			for _, detail := range []bool{true, false} {
				_, err := w.views.ProposalPage(ctx, who, p.ID, app.ProposalOptions{Span: time.Hour, Points: 10, Detail: detail})
				if civic.ErrorCode(err) != civic.ENOTFOUND || err.Error() != unknown.Error() {
					t.Errorf("%s proposal seen by %v: %v, want the not found of an unknown id", st, who, err)
				}
				if _, err := w.views.Evidence(ctx, who, p.ID); civic.ErrorCode(err) != civic.ENOTFOUND {
					t.Errorf("%s proposal's evidence for %v: %v", st, who, err)
				}
			}
		}
		for _, who := range []*civic.User{w.author, w.admin} {
			v, err := w.views.ProposalPage(ctx, who, p.ID, app.ProposalOptions{Span: time.Hour, Points: 10, Detail: true})
			if err != nil || v.Proposal.Status != st || v.VotingOpen {
				t.Errorf("%s proposal for %s: %+v %v", st, who.Name, v, err)
			}
		}
	}
}

// TestProposalPageBounded: the views call the store and the measurements
// the same number of times, and InfluxDB is read once, whatever the number
// of series, missions and commenters (10, 5, 6 or 1, 0, 1).
func TestProposalPageBounded(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, sqltest.SQLite(t), measure.EngineAuto)
	build := func(series, missions, commenters int) *civic.Proposal {
		p := w.proposal(civic.StatusPublished)
		for i := range series {
			w.series(p, fmt.Sprintf("s-%s-%d", p.ID[:6], i), "m")
		}
		for range missions {
			w.mission(true, p)
		}
		for i := range commenters {
			u := &civic.User{Email: civic.NewID() + "@example.fr", Name: fmt.Sprintf("Citoyen %d", i), Role: civic.RoleCitizen, PasswordHash: "x"}
			if err := w.st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			w.comment(p, u, "Oui", civic.CommentApproved)
		}
		return p
	}
	big, small := build(10, 5, 6), build(1, 0, 1)
	w.write()
	type cost struct {
		calls map[string]int
		reads int
	}
	view := func(p *civic.Proposal, n, flown int) cost {
		t.Helper()
		w.store.reset()
		w.meas.reset()
		v, err := w.views.ProposalPage(ctx, w.fan, p.ID, pageOpts)
		if err != nil {
			t.Fatal(err)
		}
		tracked := 0
		for _, m := range v.Missions {
			if m.Track != nil && len(m.Track.Points) == 3 {
				tracked++
			}
		}
		if len(v.Series) != n || tracked != flown || w.meas.ranges != n || w.meas.latest != n || w.meas.tracks != flown {
			t.Fatalf("%d series, %d tracks; asked for %d ranges, %d latest, %d tracks", len(v.Series), tracked, w.meas.ranges, w.meas.latest, w.meas.tracks)
		}
		return cost{w.store.reset(), w.meas.reset()}
	}
	b, s := view(big, 10, 5), view(small, 1, 0)
	t.Logf("store calls %v, measurement reads %d", b.calls, b.reads)
	if !maps.Equal(b.calls, s.calls) || b.reads != 1 || s.reads != 1 {
		t.Errorf("10 series, 5 missions: %v and %d reads; 1 series, none: %v and %d", b.calls, b.reads, s.calls, s.reads)
	}
	for m, n := range b.calls {
		if n != 1 {
			t.Errorf("%s called %d times", m, n)
		}
	}
}

// offline is a measurements client where nothing listens.
func offline(t *testing.T) *measure.Client {
	t.Helper()
	c, err := measure.New(measure.Config{URL: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), Bucket: "none/autogen", Timeout: 2 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestProposalPageInfluxDown: without InfluxDB a page with series fails
// (ErrUnavailable, a 503), one without shows its missions without their
// flight summaries.
func TestProposalPageInfluxDown(t *testing.T) {
	ctx := context.Background()
	w := newWorldOn(t, sqltest.SQLite(t), offline(t), nil, "")
	p := w.proposal(civic.StatusPublished)
	w.mission(true, p)
	v, err := w.views.ProposalPage(ctx, nil, p.ID, pageOpts)
	if err != nil || len(v.Missions) != 1 || !v.Missions[0].Flown || v.Missions[0].Track != nil {
		t.Fatalf("%+v %v", v, err)
	}
	if err := w.st.CreateLink(ctx, &civic.Link{ProposalID: p.ID, SiteID: "var", DeviceID: "d", Quantity: "water_level"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.views.ProposalPage(ctx, nil, p.ID, pageOpts); !errors.Is(err, series.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
