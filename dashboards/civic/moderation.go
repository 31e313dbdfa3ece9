package civic

import (
	"strings"
)

// ModerationReason is why a moderator refused a proposal or hid a comment.
// The set is closed, so authors are told in their own language and the
// refusals can be counted; a note says more when needed.
type ModerationReason string

// The moderation reasons.
const (
	ReasonAbusive   ModerationReason = "abusive"   // insults, hatred, harassment, personal data, unlawful content
	ReasonOffTopic  ModerationReason = "off_topic" // not about the campaign (a proposal) or the proposal (a comment)
	ReasonDuplicate ModerationReason = "duplicate" // already proposed, or already said
	ReasonOther     ModerationReason = "other"     // anything else: the note says what
)

// ModerationReasons lists every reason.
var ModerationReasons = []ModerationReason{ReasonAbusive, ReasonOffTopic, ReasonDuplicate, ReasonOther}

// Valid reports whether r is one of ModerationReasons.
func (r ModerationReason) Valid() bool {
	for _, x := range ModerationReasons {
		if r == x {
			return true
		}
	}
	return false
}

// MaxModerationNote bounds a moderation note, in characters.
const MaxModerationNote = 2000

// Moderation is a moderator's refusal of a proposal (StatusRefused) or of a
// comment (CommentHidden): a reason code and an optional note. The content's
// author and the moderators see it; nobody else sees the content.
type Moderation struct {
	Reason ModerationReason `json:"reason_code"`
	Note   string           `json:"note,omitempty"`
}

// Validate checks the reason code (field reason_code) and trims the note
// (field note, at most MaxModerationNote characters).
func (m *Moderation) Validate() error {
	if m.Reason == "" {
		return FieldError("reason_code", "required for a moderation refusal: want one of %s", reasonList())
	}
	if !m.Reason.Valid() {
		return FieldError("reason_code", "unknown reason code %q: want one of %s", truncate(string(m.Reason), 40), reasonList())
	}
	m.Note = strings.TrimSpace(m.Note)
	return checkText("note", m.Note, 0, MaxModerationNote)
}

func reasonList() string {
	s := make([]string, len(ModerationReasons))
	for i, r := range ModerationReasons {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
