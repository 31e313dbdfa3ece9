package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/web"
)

// publicStatuses are the statuses everyone sees (civic.Status.Public):
// lists, open data and counts show only these.
var publicStatuses = civic.PublicStatuses()

// isAdmin reports whether the caller moderates (civic.Moderator: the
// administrators), and so sees what moderation hides.
func isAdmin(c *fiber.Ctx) bool { return civic.Moderator(viewer(c)) }

func (s *Server) ideas(c *fiber.Ctx) error {
	f := civic.ProposalFilter{CampaignID: c.Query("campaign"), ThemeID: c.Query("theme"), Statuses: publicStatuses}
	if st := civic.Status(c.Query("status")); st != "" {
		if !st.Valid() {
			return civic.FieldError("status", "unknown status")
		}
		if !st.Public() && !isAdmin(c) {
			return civic.Errorf(civic.EFORBIDDEN, "only moderators list proposals that are not public (submitted or refused)")
		}
		f.Statuses = []civic.Status{st}
	}
	var err error
	if f.Limit, err = intQuery(c, "limit", 50, 1, 500); err != nil {
		return err
	}
	if f.Offset, err = intQuery(c, "offset", 0, 0, 1_000_000); err != nil {
		return err
	}
	ps, err := s.store.Proposals(ctx(c), f)
	if err != nil {
		return err
	}
	return c.JSON(ps)
}

type proposalReq struct {
	CampaignID       string       `json:"campaign_id"`
	ThemeID          string       `json:"theme_id"`
	Title            string       `json:"title"`
	Body             string       `json:"body"`
	Location         *civic.Point `json:"location,omitempty"`
	EstimatedCostEUR int64        `json:"estimated_cost_eur"`
}

func (s *Server) createIdea(c *fiber.Ctx) error {
	var r proposalReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.submitProposal(c, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

// submitProposal stores the caller's proposal, submitted for moderation (the
// store validates it and records the first history entry); the JSON route
// and the proposal form share it.
func (s *Server) submitProposal(c *fiber.Ctx, r proposalReq) (*civic.Proposal, error) {
	// A proposal goes into a running campaign: a call for citizen ideas takes
	// them from citizens (and administrators); a call for digital projects
	// is answered by organisations, whose projects an administrator enters.
	if r.CampaignID != "" {
		cp, err := s.store.Campaign(ctx(c), r.CampaignID)
		if civic.ErrorCode(err) == civic.ENOTFOUND {
			return nil, civic.FieldError("campaign_id", "unknown campaign")
		}
		if err != nil {
			return nil, err
		}
		if err := cp.CheckSubmission(web.Caller(c).User.Role, s.now()); err != nil {
			return nil, err
		}
	}
	p := &civic.Proposal{CampaignID: r.CampaignID, ThemeID: r.ThemeID, Title: r.Title, Body: r.Body, Location: r.Location,
		EstimatedCostEUR: r.EstimatedCostEUR, AuthorID: web.Caller(c).User.ID, Created: s.now()}
	if err := s.store.CreateProposal(ctx(c), p); err != nil {
		return nil, err
	}
	return p, nil
}

// visibleProposal loads the proposal of the route's id if the caller may
// see it (proposalFor).
func (s *Server) visibleProposal(c *fiber.Ctx) (*civic.Proposal, error) {
	return s.proposalFor(c, c.Params("id"))
}

func (s *Server) idea(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) history(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	h, err := s.store.History(ctx(c), p.ID)
	if err != nil {
		return err
	}
	return c.JSON(h)
}

type statusReq struct {
	Status civic.Status `json:"status"`
	// Reason is a rejection's public reason (required for rejected).
	Reason string `json:"reason,omitempty"`
	// ReasonCode (required for refused, and only then) is the moderation
	// refusal's reason: abusive, off_topic, duplicate or other.
	ReasonCode civic.ModerationReason `json:"reason_code,omitempty"`
	// Note (optional, refused only) is the moderator's word to the author.
	Note string `json:"note,omitempty"`
}

func (s *Server) setStatus(c *fiber.Ctx) error {
	var r statusReq
	if err := decode(c, &r); err != nil {
		return err
	}
	p, err := s.changeStatus(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// changeStatus takes one workflow step for the caller (the store checks the
// transition, the rejection reason and, for a selection, the budget); the
// JSON route and the committee's decision form share it.
func (s *Server) changeStatus(c *fiber.Ctx, proposalID string, r statusReq) (*civic.Proposal, error) {
	// A proposal the caller may not see (an expert, an agent and one that is
	// not public) is unknown to them: neither 403 nor 409 tells it exists.
	if _, err := s.proposalFor(c, proposalID); err != nil {
		return nil, err
	}
	if r.Status == civic.StatusRefused {
		if r.Reason != "" {
			return nil, civic.FieldError("reason", "a moderation refusal takes reason_code and an optional note")
		}
		return s.store.RefuseProposal(ctx(c), proposalID, web.Caller(c).User, civic.Moderation{Reason: r.ReasonCode, Note: r.Note}, s.now())
	}
	if r.ReasonCode != "" {
		return nil, civic.FieldError("reason_code", "only for a moderation refusal (status refused)")
	}
	if r.Note != "" {
		return nil, civic.FieldError("note", "only for a moderation refusal (status refused)")
	}
	p, err := s.store.SetStatus(ctx(c), proposalID, r.Status, web.Caller(c).User, r.Reason, s.now())
	if err != nil {
		return nil, err
	}
	s.statusChanged(c, p.ID, r.Status, r.Reason) // committed: the mails are queued, sent later
	return p, nil
}

type voteResp struct {
	Voted bool `json:"voted"`
	Votes int  `json:"votes"`
}

func (s *Server) myVote(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	voted, err := s.store.HasVoted(ctx(c), p.ID, web.Caller(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(voteResp{Voted: voted, Votes: p.Votes})
}

func (s *Server) vote(c *fiber.Ctx) error {
	v, err := s.castVote(c, c.Params("id"), false)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) unvote(c *fiber.Ctx) error {
	v, err := s.castVote(c, c.Params("id"), true)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// castVote adds (or with withdraw removes) the caller's support; the JSON
// routes and the support form share it. Voting on a proposal the caller may
// not see is a 404, as if it did not exist.
func (s *Server) castVote(c *fiber.Ctx, proposalID string, withdraw bool) (voteResp, error) {
	userID := web.Caller(c).User.ID
	if withdraw {
		_, n, err := s.store.Unvote(ctx(c), proposalID, userID, s.now())
		if err != nil {
			return voteResp{}, s.hideUnseen(c, proposalID, err)
		}
		return voteResp{Voted: false, Votes: n}, nil
	}
	added, n, err := s.store.Vote(ctx(c), proposalID, userID, s.now())
	if err != nil {
		return voteResp{}, s.hideUnseen(c, proposalID, err)
	}
	if added {
		s.kit.Metrics().Votes.Inc()
	}
	return voteResp{Voted: true, Votes: n}, nil
}

func (s *Server) comments(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	offset, err := intQuery(c, "offset", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	cs, err := s.store.Comments(ctx(c), p.ID, web.Caller(c) != nil)
	if err != nil {
		return err
	}
	cs = seenComments(c, cs)
	// Oldest first; X-Total-Count lets a client page through them.
	c.Set("X-Total-Count", strconv.Itoa(len(cs)))
	cs = cs[min(offset, len(cs)):min(offset+limit, len(cs))]
	return c.JSON(cs)
}

type commentReq struct {
	Body string `json:"body"`
}

func (s *Server) addComment(c *fiber.Ctx) error {
	var r commentReq
	if err := decode(c, &r); err != nil {
		return err
	}
	cm, err := s.postComment(c, c.Params("id"), r.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cm)
}

// postComment stores the caller's comment, pending moderation, on a public
// proposal: ECONFLICT on one that is not public, for its author and the
// moderators; ENOTFOUND for whoever may not see it. The JSON route and the
// comment form share it.
func (s *Server) postComment(c *fiber.Ctx, proposalID, body string) (*civic.Comment, error) {
	cm := &civic.Comment{ProposalID: proposalID, AuthorID: web.Caller(c).User.ID, Body: body, Created: s.now()}
	if err := s.store.AddComment(ctx(c), cm); err != nil {
		return nil, s.hideUnseen(c, proposalID, err)
	}
	return cm, nil
}

type moderateReq struct {
	Status civic.CommentStatus `json:"status"`
	// ReasonCode (required for hidden, and only then): abusive, off_topic,
	// duplicate or other.
	ReasonCode civic.ModerationReason `json:"reason_code,omitempty"`
	// Note (optional, hidden only) is the moderator's word to the author.
	Note string `json:"note,omitempty"`
}

func (s *Server) moderate(c *fiber.Ctx) error {
	var r moderateReq
	if err := decode(c, &r); err != nil {
		return err
	}
	var cm *civic.Comment
	var err error
	switch {
	case r.Status == civic.CommentHidden:
		cm, err = s.store.HideComment(ctx(c), c.Params("id"), civic.Moderation{Reason: r.ReasonCode, Note: r.Note}, web.Caller(c).User.ID)
	case r.ReasonCode != "":
		err = civic.FieldError("reason_code", "only to hide a comment (status hidden)")
	case r.Note != "":
		err = civic.FieldError("note", "only to hide a comment (status hidden)")
	default:
		cm, err = s.store.ModerateComment(ctx(c), c.Params("id"), r.Status, web.Caller(c).User.ID)
	}
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

func (s *Server) reviews(c *fiber.Ctx) error {
	rs, err := s.store.Reviews(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

type reviewReq struct {
	Impact      int    `json:"impact"`
	Feasibility int    `json:"feasibility"`
	Cost        int    `json:"cost"`
	Comment     string `json:"comment"`
}

func (s *Server) review(c *fiber.Ctx) error {
	var r reviewReq
	if err := decode(c, &r); err != nil {
		return err
	}
	rv, err := s.putReview(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(rv)
}

// putReview stores the caller's review (a new one replaces theirs); the
// JSON route and the review form share it.
func (s *Server) putReview(c *fiber.Ctx, proposalID string, r reviewReq) (*civic.Review, error) {
	rv := &civic.Review{ProposalID: proposalID, ExpertID: web.Caller(c).User.ID, Impact: r.Impact, Feasibility: r.Feasibility, Cost: r.Cost, Comment: r.Comment,
		Created: s.now()}
	if err := s.store.PutReview(ctx(c), rv); err != nil {
		return nil, s.hideUnseen(c, proposalID, err)
	}
	_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: rv.ExpertID, Action: "review.put", Target: proposalID,
		Detail: "impact=" + strconv.Itoa(rv.Impact) + " feasibility=" + strconv.Itoa(rv.Feasibility) + " cost=" + strconv.Itoa(rv.Cost)})
	return rv, nil
}

type pageResp struct {
	Proposal *civic.Proposal      `json:"proposal"`
	Votes    int                  `json:"votes"`
	Links    []*civic.Link        `json:"links"`
	Series   []*series.SeriesData `json:"series"`
	Missions []string             `json:"missions"`
}

// page is a proposal page's data: the view of the HTML page
// (app.ProposalPage) without its details.
func (s *Server) page(c *fiber.Ctx) error {
	points, err := intQuery(c, "points", s.cfg.PageSeriesPoints, 2, series.MaxPointsLimit)
	if err != nil {
		return err
	}
	v, err := s.views.ProposalPage(ctx(c), viewer(c), c.Params("id"), app.ProposalOptions{Span: s.cfg.PageRange, Points: points})
	if err != nil {
		return err
	}
	series := make([]*series.SeriesData, len(v.Series))
	for i, sr := range v.Series {
		series[i] = sr.Data
	}
	return c.JSON(pageResp{Proposal: v.Proposal, Votes: v.Proposal.Votes, Links: v.Links, Series: series, Missions: v.MissionIDs})
}

type evidenceResp struct {
	Proposal *civic.Proposal   `json:"proposal"`
	Series   []app.Stats       `json:"series"`
	Missions []*civic.Mission  `json:"missions"`
	Reviews  []*civic.Review   `json:"reviews"`
	Extra    map[string]string `json:"extra,omitempty"`
}

// evidence gives reviewers the linked series' statistics over 30 days (from
// hourly means) and the missions flown for the proposal: the view of the
// review page (app.Evidence).
func (s *Server) evidence(c *fiber.Ctx) error {
	ev, err := s.views.Evidence(ctx(c), viewer(c), c.Params("id"))
	if err != nil {
		return err
	}
	resp := evidenceResp{Proposal: ev.Proposal, Series: make([]app.Stats, 0, len(ev.Series)), Missions: ev.Missions,
		Reviews: make([]*civic.Review, 0, len(ev.Reviews))}
	for _, sr := range ev.Series {
		resp.Series = append(resp.Series, sr.Stats)
	}
	for _, r := range ev.Reviews {
		resp.Reviews = append(resp.Reviews, r.Review)
	}
	return c.JSON(resp)
}

type nearbyDevice struct {
	civic.Device
	DistanceM float64 `json:"distance_m"`
}

func (s *Server) nearby(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	radius := 2000.0
	if v := c.Query("radius_m"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !(r > 0 && r <= 50000) {
			return civic.FieldError("radius_m", "want a number of metres in (0, 50000]")
		}
		radius = r
	}
	out := []nearbyDevice{}
	if p.Location == nil {
		return c.JSON(out)
	}
	sites, err := s.store.Sites(ctx(c))
	if err != nil {
		return err
	}
	for _, st := range sites {
		d := civic.DistanceMeters(*p.Location, st.Location)
		if d > radius {
			continue
		}
		devs, err := s.store.Devices(ctx(c), st.ID)
		if err != nil {
			return err
		}
		for _, dv := range devs {
			if dv.Kind == civic.DeviceSensor || dv.Kind == civic.DeviceGateway {
				out = append(out, nearbyDevice{Device: *dv, DistanceM: d})
			}
		}
	}
	return c.JSON(out)
}
