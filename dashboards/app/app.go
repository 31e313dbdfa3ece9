// Package app composes what a page or a JSON route shows: a proposal page,
// the experts' evidence, a mission. Each view is gathered in one call from
// the relational store and the measurements, each kind of data read with a
// bounded number of queries whatever the number of series, missions,
// comments or reviews (batch store reads, one measure.Read), independent
// reads concurrently (at most Concurrency at a time). The HTML page and the
// JSON route of the same thing render from the same view, so they cannot
// show different figures.
//
// The views hold domain data (civic and measure types, registered units,
// viewer-specific facts such as "supported"): French words, charts and
// templates belong to the pages, JSON shapes to the routes. Who may see what
// (moderation) is decided here once for all of them, from the viewer, a
// *civic.User (nil for an anonymous visitor).
//
// The package declares what it reads (Store, Measurements); sqlstore.Store
// and measure.Client provide it.
package app

import (
	"context"
	"slices"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
)

// ProposalReader reads proposals and supports.
type ProposalReader interface {
	Proposal(ctx context.Context, id string) (*civic.Proposal, error)
	ProposalsByIDs(ctx context.Context, ids []string) ([]*civic.Proposal, error)
	HasVoted(ctx context.Context, proposalID, userID string) (bool, error)
	// CommittedEUR sums a campaign's selected, in-progress and realized costs.
	CommittedEUR(ctx context.Context, campaignID string) (int64, error)
}

// LinkReader reads the links of proposals to measurement series and the
// devices that record them.
type LinkReader interface {
	Links(ctx context.Context, f civic.LinkFilter) ([]*civic.Link, error)
	DevicesByIDs(ctx context.Context, ids []string) ([]*civic.Device, error)
}

// MissionReader reads missions with their linked proposals.
type MissionReader interface {
	Mission(ctx context.Context, id string) (*civic.Mission, error)
	Missions(ctx context.Context) ([]*civic.Mission, error)
	ProposalMissions(ctx context.Context, proposalID string) ([]*civic.Mission, error)
}

// DiscussionReader reads comments, reviews and their authors.
type DiscussionReader interface {
	Comments(ctx context.Context, proposalID string, all bool) ([]*civic.Comment, error)
	Reviews(ctx context.Context, proposalID string) ([]*civic.Review, error)
	UsersByIDs(ctx context.Context, ids []string) ([]*civic.User, error)
}

// Store is what the views read from the relational store (sqlstore.Store).
type Store interface {
	ProposalReader
	LinkReader
	MissionReader
	DiscussionReader
}

// Measurements is what the views read from InfluxDB (measure.Client): one
// Read per view.
type Measurements interface {
	Read(ctx context.Context, r series.Reads) (*series.Results, error)
}

// Concurrency bounds the store reads one view runs at once.
const Concurrency = 4

// Views gathers the views.
type Views struct {
	store Store
	meas  Measurements
	now   func() time.Time
}

// New returns the views over store and meas; now (optional) defaults to
// time.Now.
func New(store Store, meas Measurements, now func() time.Time) *Views {
	if now == nil {
		now = time.Now
	}
	return &Views{store: store, meas: meas, now: now}
}

// CanSee reports whether viewer may see p: everyone a public proposal
// (civic.Status.Public); its author and the administrators (the
// moderators) one waiting for moderation or refused by it. Everyone else is
// answered as if it did not exist.
func CanSee(viewer *civic.User, p *civic.Proposal) bool { return civic.CanSee(viewer, p) }

// errNoProposal is what a viewer who may not see a proposal is told: the
// store's words for an unknown id.
func errNoProposal() error { return civic.Errorf(civic.ENOTFOUND, "proposal not found") }

// visibleProposal reads proposal id if viewer may see it (CanSee).
func (v *Views) visibleProposal(ctx context.Context, viewer *civic.User, id string) (*civic.Proposal, error) {
	p, err := v.store.Proposal(ctx, id)
	if err != nil {
		return nil, err
	}
	if !CanSee(viewer, p) {
		return nil, errNoProposal()
	}
	return p, nil
}

// units reads the registered unit of each device's quantities (device →
// quantity → unit) in one query; unregistered devices have none.
func (v *Views) units(ctx context.Context, links []*civic.Link) (map[string]map[string]string, error) {
	var ids []string
	for _, l := range links {
		if !slices.Contains(ids, l.DeviceID) {
			ids = append(ids, l.DeviceID)
		}
	}
	out := map[string]map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	devs, err := v.store.DevicesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		out[d.ID] = map[string]string{}
		for _, q := range d.Quantities {
			out[d.ID][q.Quantity] = q.Unit
		}
	}
	return out, nil
}

// names reads the names of accounts in one query; erased accounts have
// none ("").
func (v *Views) names(ctx context.Context, ids []string) (map[string]string, error) {
	var want []string
	for _, id := range ids {
		if id != "" && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	out := map[string]string{}
	if len(want) == 0 {
		return out, nil
	}
	us, err := v.store.UsersByIDs(ctx, want)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		out[u.ID] = u.Name
	}
	return out, nil
}

// Stats are one series' statistics over its points (the page's table, the
// reviewers' evidence).
type Stats struct {
	series.SeriesKey
	Count int      `json:"count"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
	Mean  *float64 `json:"mean,omitempty"`
	Last  *float64 `json:"last,omitempty"`
}

// StatsOf computes d's statistics; a series without points has a count only.
func StatsOf(d *series.SeriesData) Stats {
	st := Stats{SeriesKey: d.SeriesKey, Count: len(d.Points)}
	var sum float64
	for i, pt := range d.Points {
		v := pt.Value
		if i == 0 || v < *st.Min {
			st.Min = &v
		}
		if i == 0 || v > *st.Max {
			st.Max = &v
		}
		sum += v
		st.Last = &v
	}
	if st.Count > 0 {
		m := sum / float64(st.Count)
		st.Mean = &m
	}
	return st
}

// Series is one linked series as a view shows it.
type Series struct {
	Data  *series.SeriesData
	Stats Stats
	// Unit is the unit the device registry gives the device's quantity, ""
	// for an unregistered device (the page then takes the reading's own).
	Unit string
	// Latest is the newest raw reading within the range (proposal page,
	// Detail): nil without one, or when InfluxDB could not say.
	Latest *series.Latest
}

// rangeReads are the Range queries of links over [start, stop).
func rangeReads(links []*civic.Link, start, stop time.Time, every time.Duration, points int) []series.RangeQuery {
	qs := make([]series.RangeQuery, len(links))
	for i, l := range links {
		qs[i] = series.RangeQuery{SeriesKey: keyOf(l), Start: start, Stop: stop, Agg: series.Mean, Every: every, MaxPoints: points}
	}
	return qs
}

func keyOf(l *civic.Link) series.SeriesKey {
	return series.SeriesKey{Site: l.SiteID, Device: l.DeviceID, Quantity: l.Quantity}
}
