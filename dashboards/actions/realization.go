package actions

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/dashboards/web"
)

// RealizationReq is an update of a selected proposal's realization.
type RealizationReq struct {
	Body          string     `json:"body"`
	Milestone     string     `json:"milestone,omitempty"`
	MilestoneDate *time.Time `json:"milestone_date,omitempty"`
	Progress      *int       `json:"progress,omitempty"`
	ActualCostEUR *int64     `json:"actual_cost_eur,omitempty"`
}

// PostRealization stores the caller's update of proposal id and pokes the
// outbox for its mails (queued with it).
func (s *Service) PostRealization(c *fiber.Ctx, proposalID string, r RealizationReq) (*civic.RealizationUpdate, error) {
	if _, err := s.ProposalFor(c, proposalID); err != nil {
		return nil, err
	}
	u := &civic.RealizationUpdate{ProposalID: proposalID, AuthorID: web.Caller(c).User.ID, Body: r.Body, Milestone: r.Milestone,
		MilestoneDate: r.MilestoneDate, Progress: r.Progress, ActualCostEUR: r.ActualCostEUR, Created: s.now()}
	n, err := s.store.AddRealizationUpdate(ctx(c), u)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		s.outbox.poke()
	}
	return u, nil
}

// realizationMessage writes, at send time, the mail of a realization update
// to a person who still wants status e-mails about the proposal (the same
// consent, checked again, and the same unsubscribe link).
func (s *Service) realizationMessage(ctx context.Context, m *civic.OutboxMail) (mail.Message, error) {
	sm, err := s.store.StatusMailFor(ctx, m.UserID, m.ProposalID)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return mail.Message{}, errDrop
	}
	if err != nil {
		return mail.Message{}, err
	}
	u, err := s.store.RealizationUpdate(ctx, m.Detail)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return mail.Message{}, errDrop
	}
	if err != nil {
		return mail.Message{}, err
	}
	unsub, err := s.UnsubscribeURL(ctx, m.UserID)
	if err != nil {
		return mail.Message{}, err
	}
	title := oneLine(sm.Title)
	whose, why := "La proposition « %s », que vous soutenez,", "des propositions que vous soutenez"
	if sm.Author {
		whose, why = "Votre proposition « %s »", "de vos propositions"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour %s,\n\n", oneLine(sm.Name))
	fmt.Fprintf(&b, whose+" avance : voici les nouvelles de sa réalisation.\n\n%s\n", title, u.Body)
	if u.Milestone != "" {
		fmt.Fprintf(&b, "\nÉtape : %s", oneLine(u.Milestone))
		if u.MilestoneDate != nil {
			fmt.Fprintf(&b, " (%s)", fr.Day(*u.MilestoneDate))
		}
		b.WriteString("\n")
	}
	if u.Progress != nil {
		fmt.Fprintf(&b, "Avancement : %s %%\n", strconv.Itoa(*u.Progress))
	}
	fmt.Fprintf(&b, "\nVoir la proposition : %s/idees/%s#realisation\n", s.PublicURL(), url.PathEscape(m.ProposalID))
	fmt.Fprintf(&b, "\n-- \nVous recevez cet e-mail parce que vous avez demandé, le %s, à être prévenu·e des changements de statut %s.\n", fr.Date(sm.Since), why)
	fmt.Fprintf(&b, "Pour ne plus recevoir ces e-mails, en un clic et sans vous connecter : %s\n", unsub)
	fmt.Fprintf(&b, "Vos préférences : %s/compte#notifications\n", s.PublicURL())
	msg := mail.Message{To: sm.Email, Subject: fmt.Sprintf(whose, clip(title, 80)) + " : nouvelles de la réalisation", Text: b.String(), Unsubscribe: unsub}
	if err := msg.Validate(); err != nil {
		s.log.Warn("realization mail cannot be sent; dropped", "id", m.ID, "err", err)
		return mail.Message{}, errDrop
	}
	return msg, nil
}

// RealizationUpdates lists the updates of a proposal the caller may see.
func (s *Service) RealizationUpdates(c *fiber.Ctx, proposalID string) ([]*civic.RealizationUpdate, error) {
	if _, err := s.ProposalFor(c, proposalID); err != nil {
		return nil, err
	}
	return s.store.RealizationUpdates(ctx(c), proposalID)
}
