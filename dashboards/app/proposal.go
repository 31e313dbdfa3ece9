package app

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// MaxPageLinks bounds the series a proposal page draws (JSON and HTML): the
// first ones linked.
const MaxPageLinks = 12

// PageMissions bounds the missions a proposal page details with their
// flight summaries; the JSON route lists every mission's id.
const PageMissions = 10

// CommentsPerPage bounds the comments one proposal page lists.
const CommentsPerPage = 50

// ProposalOptions says what a proposal page shows.
type ProposalOptions struct {
	// Span is how far back the series go, to the current minute (which
	// keeps the query text stable for a minute, so the measurements cache
	// serves repeated views). Required.
	Span time.Duration
	// Points caps each series (2 to series.MaxPointsLimit). Required.
	Points int
	// Detail asks for what the HTML page shows besides the JSON route's
	// data: the registered units, each series' latest reading, the first
	// PageMissions missions with their flight summaries, a page of
	// comments, whether the viewer supports the proposal.
	Detail bool
	// CommentsPage is the page of comments (1-based; out of range: the
	// nearest).
	CommentsPage int
	// Stop ends the range (optional) defaults to the current minute: an
	// export of a past range.
	Stop time.Time
}

// ProposalView is what a proposal page shows.
type ProposalView struct {
	Proposal *civic.Proposal
	// VotingOpen says the proposal's status takes supports
	// (civic.Status.VotingOpen).
	VotingOpen bool
	// Supported says the viewer, a citizen, supports it (Detail).
	Supported bool
	// Start and Stop are the series' range.
	Start, Stop time.Time
	// Links are the first MaxPageLinks series linked to the proposal, and
	// Series their data, one for one.
	Links  []*civic.Link
	Series []Series
	// MissionIDs are every mission linked to the proposal, Missions the
	// first PageMissions of them (Detail).
	MissionIDs []string
	Missions   []Mission
	// Comments is the requested page of comments (Detail).
	Comments CommentPage
}

// Mission is a mission flown (or planned) for a proposal.
type Mission struct {
	*civic.Mission
	// Flown says it has started.
	Flown bool
	// Track is its track and flight summary once flown: nil before, or
	// when InfluxDB could not say (the rest of the page still renders).
	Track *series.Track
}

// Comment is a comment with its author's name ("" for an erased account).
type Comment struct {
	*civic.Comment
	Author string
}

// CommentPage is one page of the comments a proposal page lists: the
// approved ones, oldest first, and on the last page the viewer's own
// waiting for moderation or hidden by it (shown to them only, so a comment
// just sent does not seem lost). Nobody else's pending or hidden comments
// are listed.
type CommentPage struct {
	Items       []Comment
	Published   int // approved comments in all
	Page, Pages int
}

// ProposalPage gathers proposal id's page for viewer: ENOTFOUND for a
// proposal the viewer may not see (CanSee). The store is called at most
// seven times (each method once) and the measurements once (Read),
// whatever the number of series, missions and comments; a failure to read the series fails the
// view, one to read the latest values or the tracks leaves them out.
func (v *Views) ProposalPage(ctx context.Context, viewer *civic.User, id string, opts ProposalOptions) (*ProposalView, error) {
	p, err := v.visibleProposal(ctx, viewer, id)
	if err != nil {
		return nil, err
	}
	stop := v.now().UTC().Truncate(time.Minute)
	if !opts.Stop.IsZero() {
		stop = opts.Stop.UTC()
	}
	pv := &ProposalView{Proposal: p, VotingOpen: p.Status.VotingOpen(), Start: stop.Add(-opts.Span), Stop: stop,
		MissionIDs: []string{}, Series: []Series{}}
	var missions []*civic.Mission
	var comments []*civic.Comment
	g, cx := errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() error {
		links, err := v.store.Links(cx, civic.LinkFilter{ProposalID: p.ID})
		pv.Links = links[:min(len(links), MaxPageLinks)]
		return err
	})
	g.Go(func() (err error) {
		missions, err = v.store.ProposalMissions(cx, p.ID)
		return err
	})
	if opts.Detail {
		g.Go(func() (err error) {
			comments, err = v.store.Comments(cx, p.ID, viewer != nil)
			return err
		})
		if viewer != nil && viewer.Role == civic.RoleCitizen {
			g.Go(func() (err error) {
				pv.Supported, err = v.store.HasVoted(cx, p.ID, viewer.ID)
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("proposal page: %w", err)
	}
	for _, m := range missions {
		pv.MissionIDs = append(pv.MissionIDs, m.ID)
	}
	reads := series.Reads{Ranges: rangeReads(pv.Links, pv.Start, pv.Stop, 0, opts.Points)}
	var flown []int // indexes in pv.Missions of the tracks asked for
	if opts.Detail {
		pv.Comments = commentPage(viewer, comments, opts.CommentsPage)
		reads.Lookback = opts.Span
		for _, l := range pv.Links {
			reads.Latest = append(reads.Latest, keyOf(l))
		}
		now := v.now().UTC()
		for _, m := range missions[:min(len(missions), PageMissions)] {
			pm := Mission{Mission: m, Flown: m.Started != nil}
			if q, ok := trackQuery(m, now); ok && pm.Flown {
				flown = append(flown, len(pv.Missions))
				reads.Tracks = append(reads.Tracks, q)
			} else if pm.Flown {
				pm.Track = emptyTrack(m)
			}
			pv.Missions = append(pv.Missions, pm)
		}
	}
	var res *series.Results
	var units map[string]map[string]string
	var names map[string]string
	g, cx = errgroup.WithContext(ctx)
	g.SetLimit(Concurrency)
	g.Go(func() (err error) {
		res, err = v.meas.Read(cx, reads)
		return err
	})
	if opts.Detail {
		g.Go(func() (err error) {
			units, err = v.units(cx, pv.Links)
			return err
		})
		g.Go(func() (err error) {
			ids := make([]string, len(pv.Comments.Items))
			for i, c := range pv.Comments.Items {
				ids[i] = c.AuthorID
			}
			names, err = v.names(cx, ids)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("proposal page: %w", err)
	}
	if res.RangesErr != nil {
		return nil, fmt.Errorf("proposal page: %w", res.RangesErr)
	}
	for i, d := range res.Ranges {
		s := Series{Data: d, Stats: StatsOf(d), Unit: units[d.Device][d.Quantity]}
		if res.LatestErr == nil && i < len(res.Latest) {
			s.Latest = res.Latest[i]
		}
		pv.Series = append(pv.Series, s)
	}
	if res.TracksErr == nil {
		for i, at := range flown {
			pv.Missions[at].Track = res.Tracks[i]
		}
	}
	for i := range pv.Comments.Items {
		pv.Comments.Items[i].Author = names[pv.Comments.Items[i].AuthorID]
	}
	return pv, nil
}

// commentPage cuts the comments viewer may read on the page (approved, and
// their own pending or hidden, oldest first) into the requested page.
func commentPage(viewer *civic.User, cs []*civic.Comment, page int) CommentPage {
	var approved, own []Comment
	for _, c := range cs {
		switch {
		case !civic.CommentListed(viewer, c):
		case c.Status == civic.CommentApproved:
			approved = append(approved, Comment{Comment: c})
		default: // the viewer's own, pending or hidden
			own = append(own, Comment{Comment: c})
		}
	}
	cp := CommentPage{Published: len(approved), Pages: max(1, (len(approved)+CommentsPerPage-1)/CommentsPerPage)}
	cp.Page = min(max(page, 1), cp.Pages)
	cp.Items = approved[(cp.Page-1)*CommentsPerPage : min(cp.Page*CommentsPerPage, len(approved))]
	if cp.Page == cp.Pages {
		cp.Items = append(cp.Items, own...)
	}
	return cp
}
