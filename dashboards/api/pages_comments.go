package api

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Comments on a proposal page: the approved ones are listed, and a signed-in
// visitor writes one with a plain form post, stored pending moderation by
// the same code as POST /api/v1/ideas/{id}/comments.

// commentField names the comment textarea in formError.Field.
const commentField = "commentaire"

// commentFormReq documents the form body in OpenAPI.
type commentFormReq struct {
	CSRF string `json:"csrf"`
	Body string `json:"body"`
}

// commentView is a comment as the page shows it: approved, or the
// visitor's own still waiting for moderation (Pending) or hidden by it
// (Hidden, with the reason in French and the moderator's note), shown to
// them only.
type commentView struct {
	ID, Author, Body string
	Date, ISO        string // French date, and the machine-readable one for <time>
	Pending          bool
	Hidden           bool
	Reason, Note     string
}

func (s *Server) commentForm() *pageForm {
	return &pageForm{onError: s.commentFailed, messages: map[string]string{
		civic.EINVALID:  "Écrivez votre commentaire : entre 1 et 5 000 caractères, sans caractère de contrôle.",
		civic.ECONFLICT: "Les commentaires ne sont ouverts que sur les propositions publiées.",
	}}
}

// commentViews lists a proposal's approved comments with their authors'
// names (an erased account's comments stay, signed "Anonyme"), and, for a
// signed-in visitor, their own comments still waiting for moderation, so a
// comment just sent does not seem lost, or hidden by it, with the reason.
// Nobody else's pending or hidden comments are shown.
func (s *Server) commentViews(c *fiber.Ctx, proposalID string) ([]commentView, error) {
	me := viewer(c)
	cs, err := s.store.Comments(ctx(c), proposalID, me != nil)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]commentView, 0, len(cs))
	for _, cm := range cs {
		pending, hidden := cm.Status == civic.CommentPending, cm.Status == civic.CommentHidden
		if !civic.CommentListed(me, cm) {
			continue
		}
		name, ok := names[cm.AuthorID]
		if !ok {
			name = "Anonyme"
			if cm.AuthorID != "" {
				u, err := s.store.UserByID(ctx(c), cm.AuthorID)
				switch {
				case err == nil:
					name = u.Name
				case civic.ErrorCode(err) != civic.ENOTFOUND:
					return nil, err
				}
			}
			names[cm.AuthorID] = name
		}
		v := commentView{ID: cm.ID, Author: name, Body: cm.Body, Date: frDate(cm.Created),
			ISO: cm.Created.UTC().Format(time.RFC3339), Pending: pending, Hidden: hidden}
		if m := cm.Moderation; hidden && m != nil { // comments hidden before reasons were kept have none
			v.Reason, v.Note = moderationReasonFR[m.Reason], m.Note
		}
		out = append(out, v)
	}
	return out, nil
}

// commentsPerPage bounds the comments one proposal page lists.
const commentsPerPage = 50

// commentPage is one page of a proposal's comments: approved ones, oldest
// first, and on the last page the visitor's own comments awaiting
// moderation or hidden by it.
type commentPage struct {
	Items       []commentView
	Published   int // approved comments in all
	Page, Pages int
	Prev, Next  string // links to the neighbouring pages, "" at the ends
}

// pageComments cuts views (approved and own pending or hidden, oldest
// first) into the requested page (1-based; out of range falls back to the
// nearest).
func pageComments(views []commentView, page int, here string) commentPage {
	var approved, pending []commentView
	for _, v := range views {
		if v.Pending || v.Hidden {
			pending = append(pending, v)
		} else {
			approved = append(approved, v)
		}
	}
	cp := commentPage{Published: len(approved), Pages: max(1, (len(approved)+commentsPerPage-1)/commentsPerPage)}
	cp.Page = min(max(page, 1), cp.Pages)
	cp.Items = approved[(cp.Page-1)*commentsPerPage : min(cp.Page*commentsPerPage, len(approved))]
	if cp.Page == cp.Pages {
		cp.Items = append(cp.Items, pending...)
	}
	link := func(n int) string { return here + "?commentaires=" + strconv.Itoa(n) + "#commentaires" }
	if cp.Page > 1 {
		cp.Prev = link(cp.Page - 1)
	}
	if cp.Page < cp.Pages {
		cp.Next = link(cp.Page + 1)
	}
	return cp
}

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// frDate writes an instant as French prose in Paris time: "27 novembre 2026 à 20 h 05".
func frDate(t time.Time) string {
	t = t.In(parisTime)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + "\u00a0" + monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year()) + " à " +
		strconv.Itoa(t.Hour()) + "\u00a0h\u00a0" + t.Format("04")
}

// commentPost is the comment form of a proposal page: then 303 back to the
// page with a confirmation that moderation comes first.
func (s *Server) commentPost(c *fiber.Ctx) error {
	id := c.Params("id")
	if _, err := s.postComment(c, id, c.FormValue("body")); err != nil {
		return err
	}
	s.setFlash(c, "commentaire-envoye")
	return c.Redirect("/idees/"+url.PathEscape(id), fiber.StatusSeeOther)
}

// commentFailed shows the proposal page again with the error, the comment
// being written kept (unless the post may come from another site) and the
// textarea focused when the text was refused.
func (s *Server) commentFailed(c *fiber.Ctx, status int, msg, field string) error {
	f := ideaForm{Error: &formError{Msg: msg}}
	if field == "body" {
		f.Error.Field = commentField
	}
	if status != fiber.StatusForbidden {
		f.Comment = keep(c.FormValue("body"), 25_000)
	}
	return s.renderIdea(c, status, f)
}
