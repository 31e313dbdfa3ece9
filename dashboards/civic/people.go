package civic

import (
	"context"
	"strings"
	"time"
)

// The people of the back office: administrators search accounts, see their
// activity, change roles (the last-administrator rule: CheckAdminsLeft) and
// block an account. A blocked account cannot sign in, its sessions are
// deleted (and any left are refused), so it cannot contribute; unblocking
// gives sign-in back. Every change is audited; the audit log is searched by
// actor, action and dates.

// UserFilter selects accounts. Zero fields do not filter.
type UserFilter struct {
	// Query matches a part of the name or of the e-mail address, case
	// insensitive, as plain text (no wildcard).
	Query   string
	Role    Role
	Blocked *bool
	Limit   int // default 50, at most 200
	Offset  int
}

// MaxUserQuery bounds a search's text, in characters.
const MaxUserQuery = 100

// Validate checks the filter (fields q, role, limit, offset) and trims the text.
func (f *UserFilter) Validate() error {
	f.Query = strings.TrimSpace(f.Query)
	if err := checkText("q", f.Query, 0, MaxUserQuery); err != nil {
		return err
	}
	if f.Role != "" && !f.Role.Valid() {
		return FieldError("role", "unknown role %q", truncate(string(f.Role), 40))
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return FieldError("limit", "want 1 to 200")
	}
	if f.Offset < 0 || f.Offset > 1_000_000 {
		return FieldError("offset", "want 0 to 1000000")
	}
	return nil
}

// Person is an account as the back office lists it, with its activity.
type Person struct {
	User
	BlockedReason string `json:"blocked_reason,omitempty"`
	Proposals     int    `json:"proposals"` // written, every status
	Comments      int    `json:"comments"`  // written, every state
	Flags         int    `json:"flags"`     // flags given
}

// MaxBlockReason bounds the reason of a block, in characters.
const MaxBlockReason = 500

// CheckBlock decides whether actor may block target: never oneself (an
// administrator would lock themself out); the last administrator is the
// store's check (CheckAdminsLeft, counting the administrators not blocked).
func CheckBlock(actor *User, targetID, reason string) (string, error) {
	if actor.ID == targetID {
		return "", &Error{Code: EFORBIDDEN, Message: "you cannot block your own account",
			Extra: map[string]any{"detail_fr": "Vous ne pouvez pas bloquer votre propre compte."}}
	}
	reason = strings.TrimSpace(reason)
	if err := checkText("reason", reason, 1, MaxBlockReason); err != nil {
		return "", err
	}
	return reason, nil
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	Actor    string // a user id
	Action   string // an action, or a prefix ending in "." (e.g. "user.")
	From, To time.Time
	Limit    int // default 100, at most 1000
}

// Validate checks the filter (fields actor, action, from, to, limit).
func (f *AuditFilter) Validate() error {
	if err := checkText("actor", f.Actor, 0, 64); err != nil {
		return err
	}
	if err := checkText("action", f.Action, 0, 64); err != nil {
		return err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return FieldError("to", "before from")
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return FieldError("limit", "want 1 to 1000")
	}
	return nil
}

// PeopleService stores what the back office needs of accounts.
type PeopleService interface {
	People(ctx context.Context, f UserFilter) ([]*Person, error)
	Person(ctx context.Context, id string) (*Person, error)
	// BlockUser blocks (reason required) or unblocks an account for actor
	// at now: sessions deleted, audited; the last administrator not
	// blocked cannot be blocked.
	BlockUser(ctx context.Context, actor *User, userID string, block bool, reason string, now time.Time) error
	SearchAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// BlockedError is the refusal to sign in to a blocked account, given only
// to whoever knows its password.
func BlockedError() *Error {
	return &Error{
		Code:    EFORBIDDEN,
		Message: "this account is blocked by an administrator",
		Extra: map[string]any{
			"detail_fr": "Ce compte est suspendu par un administrateur : il ne peut plus se connecter. Écrivez au contact indiqué dans les mentions légales pour en savoir plus.",
			"rule":      "blocked",
		},
	}
}

// ParseFilterTime reads a filter's bound (field names it in the error): an
// RFC 3339 time, or a date YYYY-MM-DD meaning its midnight UTC, or as an
// end (exclusive) the next midnight, so that "to" a date includes that day.
// Empty is no bound.
func ParseFilterTime(v, field string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, FieldError(field, "want RFC 3339 or YYYY-MM-DD")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
