package civic

import (
	"context"
	"time"
)

// Assurance is how sure the platform is that an account belongs to one real
// person who controls its e-mail address: the "identity assurance level".
// Routes that count people (supports, proposals, comments) require a level;
// the API refuses callers below it (EUNVERIFIED at level 0, EASSURANCE
// above).
type Assurance int

// Assurance levels. The platform itself reaches AssuranceEmail (a link sent
// to the address was followed). Higher levels are granted by a stronger
// check that an operator adds — an administrator who saw a proof of
// residency, or an integration such as FranceConnect (api.Verifier) —
// through AccountService.SetAssurance; see docs/api.md, "Identity assurance".
const (
	AssuranceNone   Assurance = 0 // signed up, address not verified
	AssuranceEmail  Assurance = 1 // e-mail address verified by a single-use link
	AssuranceStrong Assurance = 2 // identity checked by a stronger method (an administrator, a Verifier)
	AssuranceMax    Assurance = 3 // the highest level a Verifier may grant
)

// Level is the account's effective assurance: nothing before its address
// is verified (a stronger check does not replace the address the platform
// writes to for resets and notices), then the higher of AssuranceEmail and
// the level a Verifier granted.
func (u *User) Level() Assurance {
	if u.EmailVerified == nil {
		return AssuranceNone
	}
	return max(AssuranceEmail, u.Assurance)
}

// TokenPurpose says what a single-use account link does.
type TokenPurpose string

// Token purposes.
const (
	TokenVerify      TokenPurpose = "verify"       // confirms the account's address
	TokenEmailChange TokenPurpose = "email_change" // confirms a new address, which then replaces the old
	TokenReset       TokenPurpose = "reset"        // sets a new password
)

// AccountToken is a single-use link sent by e-mail. Only the SHA-256 of the
// token is stored; Email is the address the link was sent to (for
// TokenEmailChange, the new address).
type AccountToken struct {
	TokenHash string
	UserID    string
	Purpose   TokenPurpose
	Email     string
	Created   time.Time
	Expires   time.Time
	Used      *time.Time
}

// Reasons of an ETOKEN error (Extra["reason"]).
const (
	TokenUnknown = "unknown" // no such link (mistyped, or its account was erased)
	TokenExpired = "expired"
	TokenUsed    = "used"
	TokenStale   = "stale" // the account's address changed since the link was sent
)

// SessionView is a session as its owner sees it in the list of their
// sessions: never the token.
type SessionView struct {
	ID       string     `json:"id"`
	Kind     string     `json:"kind"` // cookie or bearer
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"` // to within SessionTouchEvery
	Expires  time.Time  `json:"expires"`
	Current  bool       `json:"current"` // the session of this request
}

// SessionTouchEvery is how stale a session's last use may get before a
// request records it again: one write per session per interval, not one per
// request.
const SessionTouchEvery = 5 * time.Minute

// MailKind is what an outbox mail says; its text is written when it is sent.
type MailKind string

// Mail kinds.
const (
	MailVerify          MailKind = "verify"       // link confirming the account's address
	MailEmailChange     MailKind = "email_change" // link confirming a new address, to that address
	MailEmailChangeNote MailKind = "email_change_notice"
	MailReset           MailKind = "reset"            // reset link; dropped unless the address has an account
	MailPasswordChanged MailKind = "password_changed" // notice after a change or reset
	// MailStatus tells an author or supporter who opted in that a proposal
	// changed status (NotificationService); dropped at send time unless
	// they still want it and their address is verified.
	MailStatus MailKind = "status"
	// MailModeration tells an author that a moderator refused their
	// proposal or hid their comment, with the reason (civic/flag.go): a
	// notice about their own contribution, sent without opt-in.
	MailModeration MailKind = "moderation"
	// MailRealization tells the author and supporters who opted in to
	// status e-mails of an update of a selected proposal's realization.
	MailRealization MailKind = "realization"
)

// OutboxMail is one mail waiting in the outbox. Links are not stored: the
// sender creates the token when it sends, so the database never holds a
// usable link in clear.
type OutboxMail struct {
	ID        string
	Kind      MailKind
	UserID    string // "" for MailReset (the address decides at send time)
	Recipient string
	Detail    string // MailEmailChangeNote: the new address; MailStatus: the reason given with the change
	Created   time.Time
	Attempts  int
	Next      time.Time // next attempt (or, while claimed, the end of the claim)
	LastError string

	// MailStatus: the proposal and the status it reached.
	ProposalID string
	Status     Status
}

// AccountService stores what account security needs besides users and
// sessions: single-use links, verification levels, password and address
// changes, the user's sessions.
type AccountService interface {
	CreateToken(ctx context.Context, t *AccountToken) error
	// Token returns a link that is still usable at now, without using it
	// (the confirmation pages show it first); ETOKEN with a reason otherwise.
	Token(ctx context.Context, tokenHash string, now time.Time) (*AccountToken, error)
	// ConfirmEmail uses a TokenVerify or TokenEmailChange link: the address
	// is verified, or the new address replaces the old and every session of
	// the account but keepSession (a token hash, may be "") ends.
	ConfirmEmail(ctx context.Context, tokenHash string, now time.Time, keepSession string) (*User, *AccountToken, error)
	// ResetPassword uses a TokenReset link: the password is replaced, every
	// session ends and the other reset links die.
	ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (*User, error)
	// ChangePassword replaces the password and ends every session but
	// keepSession; it returns how many ended.
	ChangePassword(ctx context.Context, userID, passwordHash, keepSession string) (int, error)
	MarkEmailVerified(ctx context.Context, userID string, at time.Time) error
	SetAssurance(ctx context.Context, actor, userID string, level Assurance, method string) error
	UserSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// DeleteUserSession ends one of the user's sessions (ENOTFOUND if it is
	// not theirs) and returns it.
	DeleteUserSession(ctx context.Context, userID, id string) (*Session, error)
	// DeleteUserSessions ends every session of the user but except (a token
	// hash, may be "") and returns how many ended.
	DeleteUserSessions(ctx context.Context, userID, except string) (int, error)
	TouchSession(ctx context.Context, tokenHash string, at time.Time) error
}

// OutboxService is the mail outbox: mails are queued in the database in the
// request that causes them and sent by a background worker, so that an SMTP
// outage never fails nor slows a request.
type OutboxService interface {
	EnqueueMail(ctx context.Context, m *OutboxMail) error
	// ClaimMail takes up to limit mails due at now, each for lease: another
	// worker (replica) does not see them until the lease ends.
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*OutboxMail, error)
	// FinishMail removes a sent (or dropped) mail when sendErr is nil;
	// otherwise it records the error and retries at next, or, with giveUp,
	// keeps it as failed for the operator.
	FinishMail(ctx context.Context, id string, sendErr error, next time.Time, giveUp bool) error
	// PendingMail counts the mails not sent yet (failed ones excluded).
	PendingMail(ctx context.Context) (int, error)
}

// ErasedUser stands for an erased account wherever a record must name
// someone and cannot be NULL: proposal history (by), audit entries (actor,
// target). It is one constant for every erased account, so the records of
// one erased person cannot be linked to each other through it, and it is
// never a valid account id (ids are 16 characters).
const ErasedUser = "deleted"

// OtherActor replaces, in a person's GDPR export, the actor of an audit
// entry about them that someone else (or an anonymous client) did: the
// export says that it happened, not who did it.
const OtherActor = "other"

// LastAdminError is the refusal to demote or erase the last administrator:
// the platform would be left without anyone able to moderate or change roles.
// Message is English (like every API message); Extra["detail_fr"] is the same
// in French for the pages.
func LastAdminError() *Error {
	return &Error{
		Code:    ECONFLICT,
		Message: "this is the last administrator account: make another account administrator before demoting or deleting this one",
		Extra: map[string]any{
			"detail_fr": "C'est le dernier compte administrateur : nommez d'abord un autre administrateur avant de rétrograder ou de supprimer celui-ci.",
			"rule":      "last_admin",
		},
	}
}
