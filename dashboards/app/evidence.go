package app

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// EvidenceSpan is how far back the reviewers' statistics look.
const EvidenceSpan = 30 * 24 * time.Hour

// EvidenceView is what reviewers see of a proposal (GET
// /api/v1/ideas/{id}/evidence and the review page): every linked series'
// statistics over EvidenceSpan from hourly means, the missions flown for
// it, and the experts' reviews.
type EvidenceView struct {
	Proposal    *civic.Proposal
	Start, Stop time.Time
	// Series are every linked series, in the order linked.
	Series []Series
	// Missions are the linked missions, by id; their ProposalIDs are those
	// the viewer may see (MissionView).
	Missions []*civic.Mission
	// Reviews are the experts' reviews with their names.
	Reviews []Review
}

// Review is an expert's review with the expert's name ("" for an erased
// account).
type Review struct {
	*civic.Review
	Expert string
}

// Evidence gathers the evidence on proposal id for viewer (a reviewer: the
// routes check the role): ENOTFOUND for a proposal they may not see. Six
// store calls and one Read, whatever the number of series, missions and
// reviews.
func (v *Views) Evidence(ctx context.Context, viewer *civic.User, id string) (*EvidenceView, error) {
	p, err := v.visibleProposal(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	stop := v.now().UTC().Truncate(time.Minute)
	ev := &EvidenceView{Proposal: p, Start: stop.Add(-EvidenceSpan), Stop: stop, Series: []Series{}, Missions: []*civic.Mission{}, Reviews: []Review{}}
	var links []*civic.Link
	var missions []*civic.Mission
	var reviews []*civic.Review
	g, cx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() (err error) {
		links, err = v.store.Links(cx, civic.LinkFilter{ProposalID: p.ID})
		return err
	})
	g.Go(func() (err error) {
		missions, err = v.store.ProposalMissions(cx, p.ID)
		return err
	})
	g.Go(func() (err error) {
		reviews, err = v.store.Reviews(cx, p.ID)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	var res *series.Results
	var units map[string]map[string]string
	var names map[string]string
	var seen []*MissionView
	g, cx = errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() (err error) {
		res, err = v.meas.Read(cx, series.Reads{Ranges: rangeReads(links, ev.Start, ev.Stop, time.Hour, 24*30+2)})
		return err
	})
	g.Go(func() (err error) {
		units, err = v.units(cx, links)
		return err
	})
	g.Go(func() (err error) {
		ids := make([]string, len(reviews))
		for i, r := range reviews {
			ids[i] = r.ExpertID
		}
		names, err = v.names(cx, ids)
		return err
	})
	g.Go(func() (err error) {
		seen, err = v.MissionsSeen(cx, viewer, missions)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if res.RangesErr != nil {
		return nil, fmt.Errorf("evidence: %w", res.RangesErr)
	}
	for _, d := range res.Ranges {
		ev.Series = append(ev.Series, Series{Data: d, Stats: StatsOf(d), Unit: units[d.Device][d.Quantity]})
	}
	for _, mv := range seen {
		ev.Missions = append(ev.Missions, mv.Mission)
	}
	for _, r := range reviews {
		ev.Reviews = append(ev.Reviews, Review{Review: r, Expert: names[r.ExpertID]})
	}
	return ev, nil
}
