package pages

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
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

func (s *Pages) commentForm() *pageForm {
	return &pageForm{onError: s.commentFailed, messages: map[string]string{
		civic.EINVALID:  "Écrivez votre commentaire : entre 1 et 5 000 caractères, sans caractère de contrôle.",
		civic.ECONFLICT: "Les commentaires ne sont ouverts que sur les propositions publiées.",
	}}
}

// commentPage is the page of comments a proposal page lists
// (app.CommentPage) in French, with links to the neighbouring pages.
type commentPage struct {
	Items       []commentView
	Published   int // approved comments in all
	Page, Pages int
	Prev, Next  string // links to the neighbouring pages, "" at the ends
}

// commentsOf words a page of comments: an erased account's comments stay,
// signed "Anonyme"; the visitor's own waiting for moderation are marked
// (Pending), those hidden by it carry the reason in French and the
// moderator's note.
func commentsOf(cp app.CommentPage, here string) commentPage {
	out := commentPage{Items: make([]commentView, 0, len(cp.Items)), Published: cp.Published, Page: cp.Page, Pages: cp.Pages}
	for _, cm := range cp.Items {
		name := cm.Author
		if name == "" {
			name = "Anonyme"
		}
		pending, hidden := cm.Status == civic.CommentPending, cm.Status == civic.CommentHidden
		v := commentView{ID: cm.ID, Author: name, Body: cm.Body, Date: fr.Date(cm.Created),
			ISO: cm.Created.UTC().Format(time.RFC3339), Pending: pending, Hidden: hidden}
		if m := cm.Moderation; hidden && m != nil { // comments hidden before reasons were kept have none
			v.Reason, v.Note = moderationReasonFR[m.Reason], m.Note
		}
		out.Items = append(out.Items, v)
	}
	link := func(n int) string { return here + "?commentaires=" + strconv.Itoa(n) + "#commentaires" }
	if cp.Page > 1 {
		out.Prev = link(cp.Page - 1)
	}
	if cp.Page < cp.Pages {
		out.Next = link(cp.Page + 1)
	}
	return out
}

// commentPost is the comment form of a proposal page: then 303 back to the
// page with a confirmation that moderation comes first.
func (s *Pages) commentPost(c *fiber.Ctx) error {
	id := c.Params("id")
	if _, err := s.act.PostComment(c, id, c.FormValue("body")); err != nil {
		return err
	}
	s.setFlash(c, "commentaire-envoye")
	return c.Redirect("/idees/"+url.PathEscape(id), fiber.StatusSeeOther)
}

// commentFailed shows the proposal page again with the error, the comment
// being written kept (unless the post may come from another site) and the
// textarea focused when the text was refused.
func (s *Pages) commentFailed(c *fiber.Ctx, status int, msg, field string) error {
	f := ideaForm{Error: &formError{Msg: msg}}
	if field == "body" {
		f.Error.Field = commentField
	}
	if status != fiber.StatusForbidden {
		f.Comment = keep(c.FormValue("body"), 25_000)
	}
	return s.renderIdea(c, status, f)
}
