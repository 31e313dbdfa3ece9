package actions

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The moderation queue's workflows, shared by the JSON routes and the back
// office's forms: a citizen flags an item, a moderator decides on it. The
// decisions are the existing moderation steps (ChangeStatus, the store's
// ModerateComment and HideComment), which write the history, close the
// flags and queue the refusal's mail to the author in their transaction.

// FlagReq is a flag: a reason code of the moderation's list and a note.
type FlagReq struct {
	ReasonCode civic.ModerationReason `json:"reason_code"`
	Note       string                 `json:"note,omitempty"`
}

// Flag stores the caller's flag of the proposal or comment id.
func (s *Service) Flag(c *fiber.Ctx, kind civic.TargetKind, id string, r FlagReq) (*civic.Flag, error) {
	f := &civic.Flag{Kind: kind, TargetID: id, Reason: r.ReasonCode, Note: r.Note, Created: s.now()}
	if err := s.store.FlagContent(ctx(c), f, web.Caller(c).User); err != nil {
		return nil, err
	}
	return f, nil
}

// DecideReq is a moderator's decision on an item of the queue.
type DecideReq struct {
	// Decision: approve (a submitted proposal or a pending comment), keep
	// (a flagged public item: its flags are closed) or refuse.
	Decision civic.Decision `json:"decision"`
	// ReasonCode (required to refuse, and only then): abusive, off_topic,
	// duplicate or other; Note (optional) is the moderator's word to the
	// author. Both are mailed to the author.
	ReasonCode civic.ModerationReason `json:"reason_code,omitempty"`
	Note       string                 `json:"note,omitempty"`
}

// Decide applies the caller's decision on the proposal or comment id.
func (s *Service) Decide(c *fiber.Ctx, kind civic.TargetKind, id string, r DecideReq) error {
	if !r.Decision.Valid() {
		return civic.FieldError("decision", "want approve, keep or refuse")
	}
	if r.Decision != civic.DecisionRefuse && (r.ReasonCode != "" || r.Note != "") {
		return civic.FieldError("reason_code", "only to refuse (decision refuse)")
	}
	actor := web.Caller(c).User
	var err error
	switch kind {
	case civic.TargetProposal:
		switch r.Decision {
		case civic.DecisionApprove:
			_, err = s.ChangeStatus(c, id, StatusReq{Status: civic.StatusPublished})
		case civic.DecisionRefuse:
			_, err = s.ChangeStatus(c, id, StatusReq{Status: civic.StatusRefused, ReasonCode: r.ReasonCode, Note: r.Note})
		default:
			err = s.store.KeepContent(ctx(c), kind, id, actor, s.now())
		}
	case civic.TargetComment:
		switch r.Decision {
		case civic.DecisionApprove:
			_, err = s.store.ModerateComment(ctx(c), id, civic.CommentApproved, actor.ID)
		case civic.DecisionRefuse:
			_, err = s.store.HideComment(ctx(c), id, civic.Moderation{Reason: r.ReasonCode, Note: r.Note}, actor.ID)
		default:
			err = s.store.KeepContent(ctx(c), kind, id, actor, s.now())
		}
	default:
		return civic.FieldError("kind", "want proposal or comment")
	}
	if err != nil {
		return err
	}
	if r.Decision == civic.DecisionRefuse {
		s.outbox.poke() // the refusal's mail is queued with the decision
	}
	return nil
}

// moderationReasonFR names the reasons in the authors' mail (the pages have
// their own copy for the pages' wording).
var moderationReasonFR = map[civic.ModerationReason]string{
	civic.ReasonAbusive:  "contenu abusif (insultes, haine, harcèlement, données personnelles ou contenu illicite)",
	civic.ReasonOffTopic: "hors sujet", civic.ReasonDuplicate: "doublon", civic.ReasonOther: "autre motif",
}

// moderationMessage writes, at send time, the mail telling an author that
// their proposal was refused or their comment hidden, with the reason and
// the moderator's note. A decision whose author or item is gone is dropped.
func (s *Service) moderationMessage(ctx context.Context, m *civic.OutboxMail) (mail.Message, error) {
	mm, err := s.store.ModerationMailFor(ctx, m.Detail)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return mail.Message{}, errDrop
	}
	if err != nil {
		return mail.Message{}, err
	}
	title := oneLine(mm.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour %s,\n\n", oneLine(mm.Name))
	subject := "Votre proposition « " + clip(title, 80) + " » a été refusée à la modération"
	if mm.Kind == civic.TargetComment {
		subject = "Votre commentaire sur « " + clip(title, 80) + " » a été masqué par la modération"
		fmt.Fprintf(&b, "Votre commentaire sur la proposition « %s » a été masqué par la modération :\n\n« %s »\n\n", title, clip(oneLine(mm.Excerpt), 300))
		b.WriteString("Il reste visible par vous seul·e et les modérateurs.\n")
	} else {
		fmt.Fprintf(&b, "Votre proposition « %s » a été refusée à la modération : elle n'est pas publiée et reste visible par vous seul·e et les modérateurs.\n", title)
	}
	fmt.Fprintf(&b, "\nMotif : %s\n", moderationReasonFR[mm.Reason])
	if mm.Note != "" {
		fmt.Fprintf(&b, "Précision du modérateur : %s\n", mm.Note)
	}
	fmt.Fprintf(&b, "\nLes règles de participation : %s/conditions-utilisation\n", s.PublicURL())
	fmt.Fprintf(&b, "Voir la proposition : %s/idees/%s\n", s.PublicURL(), url.PathEscape(mm.ProposalID))
	fmt.Fprintf(&b, "\nCet e-mail vous informe d'une décision sur votre propre contribution (%s) ; il n'est envoyé qu'à cette occasion.\n", fr.Date(m.Created))
	b.WriteString("\n— SMART Deal, plateforme participative du Département\n")
	msg := mail.Message{To: mm.Email, Subject: subject, Text: b.String()}
	if err := msg.Validate(); err != nil {
		s.log.Warn("moderation mail cannot be sent; dropped", "id", m.ID, "err", err)
		return mail.Message{}, errDrop
	}
	return msg, nil
}
