package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestMissionView: a mission shows the proposals it serves as the viewer
// may see them (waiting ones counted, refused ones not even that, their ids
// kept for administrators only), and its track once flown: empty without
// asking InfluxDB before; the track's error, not the view's, when InfluxDB
// is down.
func TestMissionView(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) { testMissionView(t, b) })
	}
}

func testMissionView(t *testing.T, b sqltest.Backend) {
	ctx := context.Background()
	w := newWorld(t, b, measure.EngineAuto)
	public, waiting, refused := w.proposal(civic.StatusPublished), w.proposal(civic.StatusSubmitted), w.proposal(civic.StatusRefused)
	flown := w.mission(true, public, waiting, refused)
	planned := w.mission(false, public)
	w.write()

	ids := func(ps []*civic.Proposal) (out []string) {
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		who     *civic.User
		named   []string
		waiting int
	}{
		{nil, []string{public.ID}, 1},
		{w.stranger, []string{public.ID}, 1},
		{w.author, []string{public.ID, waiting.ID, refused.ID}, 0},
		{w.admin, []string{public.ID, waiting.ID, refused.ID}, 0},
	} {
		mv, err := w.views.MissionView(ctx, tc.who, flown.ID, app.MissionOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(tc.named)
		slices.Sort(want)
		if got := ids(mv.Proposals); !slices.Equal(got, want) || mv.Waiting != tc.waiting || !slices.Equal(mv.Mission.ProposalIDs, want) {
			t.Errorf("%v sees %v (ids %v), %d waiting; want %v, %d", tc.who, got, mv.Mission.ProposalIDs, mv.Waiting, want, tc.waiting)
		}
		if mv.Track != nil || mv.TrackErr != nil {
			t.Errorf("track without asking: %+v %v", mv.Track, mv.TrackErr)
		}
	}

	w.meas.reset()
	mv, err := w.views.MissionView(ctx, nil, flown.ID, app.MissionOptions{Track: true})
	if err != nil || mv.TrackErr != nil || len(mv.Track.Points) != 3 || mv.Track.DurationS != 120 || w.meas.reset() != 1 {
		t.Fatalf("flown: %+v %v", mv, err)
	}
	mv, err = w.views.MissionView(ctx, nil, planned.ID, app.MissionOptions{Track: true})
	if err != nil || mv.Track == nil || len(mv.Track.Points) != 0 || mv.Track.Duration != "0s" || w.meas.reset() != 0 {
		t.Fatalf("planned: %+v %v", mv, err)
	}
	if _, err := w.views.MissionView(ctx, nil, "nope", app.MissionOptions{Track: true}); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Fatalf("unknown mission: %v", err)
	}

	// The list: one store call for the missions, one for all their proposals.
	for range 3 {
		w.mission(false, public, waiting)
	}
	w.store.reset()
	mvs, total, err := w.views.Missions(ctx, nil, 4)
	if err != nil || total != 5 || len(mvs) != 4 {
		t.Fatalf("%d of %d missions: %v", len(mvs), total, err)
	}
	if calls := w.store.reset(); calls["Missions"] != 1 || calls["ProposalsByIDs"] != 1 || len(calls) != 2 {
		t.Errorf("list calls %v", calls)
	}
	for _, mv := range mvs {
		if mv.Mission.ID != planned.ID && mv.Mission.ID != flown.ID && (mv.Waiting != 1 || len(mv.Proposals) != 1) {
			t.Errorf("mission %s: %d waiting, %d named", mv.Mission.ID, mv.Waiting, len(mv.Proposals))
		}
	}

	down := newWorldOn(t, sqltest.SQLite(t), offline(t), nil, "")
	m := down.mission(true)
	mv, err = down.views.MissionView(ctx, nil, m.ID, app.MissionOptions{Track: true})
	if err != nil || mv.Track != nil || mv.TrackErr == nil {
		t.Fatalf("InfluxDB down: %+v %v", mv, err)
	}
}

// TestEvidence: the reviewers' evidence: every linked series' statistics
// over 30 days of hourly means with its unit, the missions with the
// proposals the viewer may see, the reviews with the experts' names ("" for
// an erased account).
func TestEvidence(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, sqltest.SQLite(t), measure.EngineAuto)
	p, refused := w.proposal(civic.StatusPublished), w.proposal(civic.StatusRefused)
	w.series(p, "niveau-a", "m")
	w.series(p, "niveau-b", "")
	m := w.mission(true, p, refused)
	w.write()
	if _, err := w.st.SetStatus(ctx, p.ID, civic.StatusShortlisted, w.admin, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	gone := &civic.User{Email: civic.NewID() + "@example.fr", Name: "Parti", Role: civic.RoleExpert, PasswordHash: "x"}
	if err := w.st.CreateUser(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*civic.User{w.expert, gone} {
		if err := w.st.PutReview(ctx, &civic.Review{ProposalID: p.ID, ExpertID: e.ID, Impact: 4, Feasibility: 3, Cost: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.st.DeleteUser(ctx, gone.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.store.reset()
	ev, err := w.views.Evidence(ctx, w.expert, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Stop.Equal(w.now.Truncate(time.Minute)) || ev.Stop.Sub(ev.Start) != app.EvidenceSpan || len(ev.Series) != 2 {
		t.Fatalf("evidence %+v", ev)
	}
	units := map[string]string{"niveau-a": "m", "niveau-b": ""}
	for i, s := range ev.Series {
		// 30 readings over 5 hours: 5 or 6 hourly means, from 0 to 29.
		if s.Unit != units[s.Data.Device] || s.Data.Every != "1h0m0s" || s.Stats.Count < 5 || s.Stats.Count > 6 || *s.Stats.Min < 0 || *s.Stats.Max > 29 || *s.Stats.Max < 20 {
			t.Errorf("series %d: unit %q every %s stats %+v", i, s.Unit, s.Data.Every, s.Stats)
		}
	}
	if len(ev.Missions) != 1 || ev.Missions[0].ID != m.ID || !slices.Equal(ev.Missions[0].ProposalIDs, []string{p.ID}) {
		t.Errorf("missions %+v", ev.Missions)
	}
	var names []string
	for _, r := range ev.Reviews {
		names = append(names, r.Expert)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"", "Experte Durand"}) {
		t.Errorf("reviewers %q", names)
	}
	if calls := w.store.reset(); len(calls) != 7 {
		t.Errorf("store calls %v, want one each of seven", calls)
	}
	admin, err := w.views.Evidence(ctx, w.admin, p.ID)
	if err != nil || len(admin.Missions[0].ProposalIDs) != 2 {
		t.Fatalf("the administrator's evidence %+v %v", admin, err)
	}
}
