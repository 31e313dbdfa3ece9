package civic

import (
	"context"
	"time"
)

// Session is a signed-in client: a browser (cookie, with a CSRF token) or an
// API client (bearer token). Only the SHA-256 of the token is stored.
type Session struct {
	TokenHash string
	UserID    string
	Kind      string // "cookie" or "bearer"
	CSRF      string
	Created   time.Time
	Expires   time.Time
	// ID names the session to its owner (list, revoke); it is not the token.
	ID string
	// LastUsed is the last request made with it, to within SessionTouchEvery.
	LastUsed *time.Time
}

// Session kinds.
const (
	SessionCookie = "cookie"
	SessionBearer = "bearer"
)

// Export is everything the platform holds about one user (GDPR access right).
// Votes are listed here, to their owner only: who voted for what is never public.
type Export struct {
	User      User           `json:"user"`
	Proposals []*Proposal    `json:"proposals"`
	Comments  []*Comment     `json:"comments"`
	Votes     []string       `json:"votes"`
	Reviews   []*Review      `json:"reviews"`
	Audit     []*AuditEntry  `json:"audit"`
	Sessions  int            `json:"sessions"`
	Generated time.Time      `json:"generated"`
	Extra     map[string]any `json:"extra,omitempty"`
}

// ProposalFilter selects proposals. Zero fields do not filter.
type ProposalFilter struct {
	CampaignID string
	ThemeID    string
	AuthorID   string
	Statuses   []Status
	// Query matches a part of the title or the text, case insensitive, as
	// plain text (at most MaxProposalQuery characters: CheckProposalQuery).
	Query string
	// Sort is SortDate (default: newest first) or SortSupports (most
	// supported first, then newest).
	Sort   ProposalSort
	Limit  int // default 50, at most 500
	Offset int
}

// LinkFilter selects links by owner.
type LinkFilter struct {
	ProposalID string
	MissionID  string
}

// UserService stores accounts and sessions.
type UserService interface {
	CreateUser(ctx context.Context, u *User) error
	UserByEmail(ctx context.Context, email string) (*User, error)
	SetUserRole(ctx context.Context, actor, userID string, role Role) error
	// DeleteUser erases an account; now decides which of its supports stay
	// as anonymous counts (ErasureKeepsSupport).
	DeleteUser(ctx context.Context, userID string, now time.Time) error
	ExportUser(ctx context.Context, userID string) (*Export, error)
	CreateSession(ctx context.Context, s *Session) error
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (*Session, *User, error)
	DeleteSession(ctx context.Context, tokenHash string) error
}

// ProposalService stores themes, campaigns, proposals and their workflow.
type ProposalService interface {
	Themes(ctx context.Context) ([]*Theme, error)
	CreateTheme(ctx context.Context, t *Theme) error
	Campaigns(ctx context.Context) ([]*Campaign, error)
	Campaign(ctx context.Context, id string) (*Campaign, error)
	CreateCampaign(ctx context.Context, c *Campaign) error
	CreateProposal(ctx context.Context, p *Proposal) error
	Proposal(ctx context.Context, id string) (*Proposal, error)
	Proposals(ctx context.Context, f ProposalFilter) ([]*Proposal, error)
	History(ctx context.Context, proposalID string) ([]*StatusChange, error)
	// SetStatus applies one workflow step for actor at now (CheckReason,
	// CheckTransition, Proposal.Apply); a selection that would exceed the
	// campaign budget fails with EOVERBUDGET and Extra["over_by_eur"]
	// (CheckSelection).
	SetStatus(ctx context.Context, proposalID string, to Status, actor *User, reason string, now time.Time) (*Proposal, error)
	// RefuseProposal is the moderation step to StatusRefused (SetStatus
	// refuses it): the transition is checked as any other and m is stored
	// with the proposal, its history and the audit log.
	RefuseProposal(ctx context.Context, proposalID string, actor *User, m Moderation, now time.Time) (*Proposal, error)
	// Shortlist applies the campaign's rule (civic.Shortlist) at now and
	// returns the ids it shortlisted.
	Shortlist(ctx context.Context, campaignID string, actor *User, now time.Time) ([]string, error)
}

// VoteService records supports. One per user per proposal, enforced by the store.
type VoteService interface {
	// Vote adds the user's support; added is false when it already existed.
	Vote(ctx context.Context, proposalID, userID string, now time.Time) (added bool, count int, err error)
	// Unvote withdraws it; removed is false when there was none.
	Unvote(ctx context.Context, proposalID, userID string, now time.Time) (removed bool, count int, err error)
	HasVoted(ctx context.Context, proposalID, userID string) (bool, error)
}

// DiscussionService stores comments and expert reviews.
type DiscussionService interface {
	AddComment(ctx context.Context, c *Comment) error
	Comments(ctx context.Context, proposalID string, all bool) ([]*Comment, error)
	// ModerateComment approves a comment (clearing any earlier moderation);
	// hiding one takes HideComment.
	ModerateComment(ctx context.Context, id string, status CommentStatus, actor string) (*Comment, error)
	HideComment(ctx context.Context, id string, m Moderation, actor string) (*Comment, error)
	PutReview(ctx context.Context, r *Review) error
	Reviews(ctx context.Context, proposalID string) ([]*Review, error)
}

// FieldService stores sites, devices, missions and links.
type FieldService interface {
	CreateSite(ctx context.Context, s *Site) error
	Sites(ctx context.Context) ([]*Site, error)
	CreateDevice(ctx context.Context, d *Device) error
	Device(ctx context.Context, id string) (*Device, error)
	Devices(ctx context.Context, siteID string) ([]*Device, error)
	SetDeviceCredentials(ctx context.Context, id, user, hash, actor string) error
	CreateMission(ctx context.Context, m *Mission) error
	Mission(ctx context.Context, id string) (*Mission, error)
	Missions(ctx context.Context) ([]*Mission, error)
	SetMissionStatus(ctx context.Context, id string, to MissionStatus, actor string, now time.Time) (*Mission, error)
	CreateLink(ctx context.Context, l *Link) error
	Links(ctx context.Context, f LinkFilter) ([]*Link, error)
	DeleteLink(ctx context.Context, id string) error
}

// AuditService records and lists sensitive actions.
type AuditService interface {
	Record(ctx context.Context, e AuditEntry) error
	AuditLog(ctx context.Context, limit int) ([]*AuditEntry, error)
}
