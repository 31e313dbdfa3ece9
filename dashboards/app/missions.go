package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// MissionView is a mission as a viewer may see it.
type MissionView struct {
	// Mission's ProposalIDs are those of the proposals the viewer may see
	// (every one for administrators): a mission does not give away the ids
	// of proposals waiting for moderation or refused by it.
	Mission *civic.Mission
	// Proposals are the linked proposals the viewer may see, in the
	// mission's order; proposals erased since are left out.
	Proposals []*civic.Proposal
	// Waiting counts the linked proposals waiting for moderation the viewer
	// may not see: counted, never named (their title is their author's
	// until moderation). Those refused by it are not even counted.
	Waiting int
	// Track is the mission's track and flight summary (MissionOptions.Track):
	// empty, without asking InfluxDB, for a mission that has not flown;
	// nil with TrackErr when InfluxDB could not say.
	Track    *series.Track
	TrackErr error
}

// MissionOptions says what a mission view shows.
type MissionOptions struct {
	// Track asks for the mission's track (the mission page, GET
	// /api/v1/missions/{id}/track).
	Track bool
}

// MissionView gathers mission id for viewer: the mission, the proposals it
// serves as the viewer may see them (one store query for all of them) and,
// with opts.Track, its track (one Read).
func (v *Views) MissionView(ctx context.Context, viewer *civic.User, id string, opts MissionOptions) (*MissionView, error) {
	m, err := v.store.Mission(ctx, id)
	if err != nil {
		return nil, err
	}
	var views []*MissionView
	var res *series.Results
	q, flies := trackQuery(m, v.now().UTC())
	g, cx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		views, err = v.MissionsSeen(cx, viewer, []*civic.Mission{m})
		return err
	})
	if opts.Track && flies {
		g.Go(func() (err error) {
			res, err = v.meas.Read(cx, series.Reads{Tracks: []series.TrackQuery{q}})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("mission %s: %w", m.ID, err)
	}
	mv := views[0]
	switch {
	case !opts.Track:
	case !flies:
		mv.Track = emptyTrack(m)
	case res.TracksErr != nil:
		mv.TrackErr = res.TracksErr
	default:
		mv.Track = res.Tracks[0]
	}
	return mv, nil
}

// Missions gathers every mission (newest planned window first) for viewer,
// the first limit of them (0: all) with their proposals, and how many there
// are in all: two store calls whatever their number.
func (v *Views) Missions(ctx context.Context, viewer *civic.User, limit int) ([]*MissionView, int, error) {
	ms, err := v.store.Missions(ctx)
	if err != nil {
		return nil, 0, err
	}
	total := len(ms)
	if limit > 0 && len(ms) > limit {
		ms = ms[:limit]
	}
	out, err := v.MissionsSeen(ctx, viewer, ms)
	return out, total, err
}

// MissionsSeen dresses missions already read for viewer (MissionView
// without the track): their proposals are read in one store call.
func (v *Views) MissionsSeen(ctx context.Context, viewer *civic.User, ms []*civic.Mission) ([]*MissionView, error) {
	var ids []string
	for _, m := range ms {
		for _, id := range m.ProposalIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	byID := map[string]*civic.Proposal{}
	if len(ids) > 0 {
		ps, err := v.store.ProposalsByIDs(ctx, ids)
		if err != nil {
			return nil, fmt.Errorf("missions' proposals: %w", err)
		}
		for _, p := range ps {
			byID[p.ID] = p
		}
	}
	out := make([]*MissionView, 0, len(ms))
	for _, m := range ms {
		mv := &MissionView{Mission: m}
		seen := make([]string, 0, len(m.ProposalIDs))
		for _, id := range m.ProposalIDs {
			p := byID[id]
			switch {
			case p == nil: // erased since: nothing to link to
			case CanSee(viewer, p):
				mv.Proposals = append(mv.Proposals, p)
				seen = append(seen, id)
			case p.Status == civic.StatusSubmitted:
				mv.Waiting++
			}
		}
		if !civic.Moderator(viewer) {
			m.ProposalIDs = seen
		}
		out = append(out, mv)
	}
	return out, nil
}

// trackQuery is where mission m's track is: the drone's fixes tagged with
// the mission within its flight window (civic.Mission.FlightWindow, which
// the flight-log upload keeps to). ok is false for a mission that has not
// flown (planned, or an empty window): its track is empty.
func trackQuery(m *civic.Mission, now time.Time) (q series.TrackQuery, ok bool) {
	start, stop, ok := m.FlightWindow(now)
	if !ok {
		return q, false
	}
	return series.TrackQuery{Site: m.SiteID, Device: m.DroneID, Mission: m.ID, Start: start, Stop: stop}, true
}

// emptyTrack is the track of a mission that has not flown.
func emptyTrack(m *civic.Mission) *series.Track {
	return &series.Track{Site: m.SiteID, Device: m.DroneID, Mission: m.ID, Points: []series.TrackPoint{}, Duration: "0s"}
}
