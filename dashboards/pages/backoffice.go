package pages

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The back office's moderation (issue 14): a signed-in citizen flags a
// proposal or a comment from its page (/idees/{id}/signalement), the
// moderators work through the queue at /admin/moderation, every decision
// going through the code of the JSON routes (actions.Flag, actions.Decide).

const (
	adminModerationPath = "/admin/moderation"
	flagPathSuffix      = "/signalement"
)

func init() { maps.Copy(flashMessages, backofficeFlash) }

var backofficeFlash = map[string]string{
	"signalement-envoye":  "Merci : votre signalement est transmis aux modérateurs.",
	"moderation-approuve": "Décision enregistrée : le contenu est publié.",
	"moderation-conserve": "Décision enregistrée : le contenu reste publié et ses signalements sont clos.",
	"moderation-refuse":   "Décision enregistrée : le contenu est masqué ; son auteur·e reçoit le motif par e-mail.",
}

// flagFormReq and moderationFormReq document the form bodies in OpenAPI.
type flagFormReq struct {
	CSRF        string `json:"csrf"`
	Commentaire string `json:"commentaire"` // the comment's id, empty for the proposal
	ReasonCode  string `json:"reason_code"`
	Note        string `json:"note"`
}

type moderationFormReq struct {
	CSRF       string `json:"csrf"`
	Decision   string `json:"decision"` // approve, keep or refuse
	ReasonCode string `json:"reason_code"`
	Note       string `json:"note"`
}

var targetKindFR = map[civic.TargetKind]string{civic.TargetProposal: "Proposition", civic.TargetComment: "Commentaire"}

var decisionFR = map[civic.Decision]string{
	civic.DecisionApprove: "publié", civic.DecisionKeep: "conservé (signalements clos)", civic.DecisionRefuse: "refusé",
}

var commentStatusFR = map[string]string{
	string(civic.CommentPending): "en attente de modération", string(civic.CommentApproved): "publié", string(civic.CommentHidden): "masqué",
}

func reasonOptions(checked string) []reasonOption {
	out := make([]reasonOption, len(civic.ModerationReasons))
	for i, r := range civic.ModerationReasons {
		out[i] = reasonOption{Value: string(r), Label: moderationReasonFR[r], Checked: string(r) == checked}
	}
	return out
}

func (s *Pages) backofficeForms() (flag, moderation *pageForm) {
	flag = &pageForm{onError: s.flagFailed, messages: map[string]string{
		civic.ECONFLICT:  "Vous avez déjà signalé ce contenu : les modérateurs l'examineront.",
		civic.EFORBIDDEN: "Vous ne pouvez pas signaler votre propre contribution.",
		civic.ENOTFOUND:  "Ce contenu n'existe pas ou n'est pas public.",
		civic.EINVALID:   "Choisissez un motif de signalement ; la précision compte 500 caractères au plus.",
	}}
	moderation = &pageForm{onError: s.moderationFailed, messages: map[string]string{
		civic.EFORBIDDEN: "La modération est réservée aux administrateurs.",
		civic.ECONFLICT:  "Cette décision n'est plus possible : le contenu a changé entre-temps. La file est à jour.",
		civic.ENOTFOUND:  "Ce contenu n'existe pas ou plus.",
		civic.EINVALID:   "Choisissez une décision ; pour refuser, choisissez un motif (la précision compte 2 000 caractères au plus).",
	}}
	return flag, moderation
}

// backofficeRoutes are the moderation pages and forms.
func (s *Pages) backofficeRoutes() []*web.Route {
	flag, moderation := s.backofficeForms()
	routes := []*web.Route{
		{Method: "GET", Path: "/idees/:id" + flagPathSuffix, Tag: "pages", Summary: "Page (HTML, French): flag a proposal, or with ?commentaire={id} one of its approved comments, for the moderators (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Params: []web.Param{web.Q("commentaire", "string", "the comment's id")}, Produces: "text/html", Form: flag, Handler: s.flagPage},
		{Method: "POST", Path: "/idees/:id" + flagPathSuffix, Tag: "pages", Summary: "Flag form post: stored like POST /api/v1/ideas/{id}/flag (or /api/v1/comments/{id}/flag with commentaire), then 303 to the proposal page", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: flagFormReq{}, Produces: "text/html", Status: 303, Limit: "contribution", Form: flag, Handler: s.flagPost},
		{Method: "GET", Path: adminModerationPath, Tag: "pages", Summary: "Page (HTML, French): the moderation queue (submitted proposals, pending comments, flagged items, with a decision form each) and the history of decisions", Access: web.SignedIn, Roles: web.Admins, Produces: "text/html", Form: moderation, Handler: s.moderationPage},
		{Method: "POST", Path: adminModerationPath + "/:kind/:id", Tag: "pages", Summary: "Moderation decision form post, like POST /api/v1/moderation/{kind}/{id}/decision, then 303 to the queue", Access: web.SignedIn, Roles: web.Admins, Body: moderationFormReq{}, Produces: "text/html", Status: 303, Form: moderation, Handler: s.moderationPost},
	}
	for _, rt := range routes {
		rt.Form.(*pageForm).srv = s
	}
	return routes
}

// flagTarget loads the proposal of the page and, with commentaire, its
// approved comment: what the visitor may flag. Anything else is ENOTFOUND.
func (s *Pages) flagTarget(c *fiber.Ctx, commentID string) (*civic.Proposal, *civic.Comment, error) {
	p, err := s.act.ProposalFor(c, c.Params("id"))
	if err != nil {
		return nil, nil, err
	}
	if !p.Status.Public() {
		return nil, nil, civic.Errorf(civic.ENOTFOUND, "proposal not found")
	}
	if commentID == "" {
		return p, nil, nil
	}
	cs, err := s.store.Comments(ctx(c), p.ID, false)
	if err != nil {
		return nil, nil, err
	}
	for _, cm := range cs {
		if cm.ID == commentID {
			return p, cm, nil
		}
	}
	return nil, nil, civic.Errorf(civic.ENOTFOUND, "comment not found")
}

func (s *Pages) flagPage(c *fiber.Ctx) error {
	return s.renderFlag(c, fiber.StatusOK, c.Query("commentaire"), "", "", nil)
}

func (s *Pages) renderFlag(c *fiber.Ctx, status int, commentID, reason, note string, ferr *formError) error {
	p, cm, err := s.flagTarget(c, commentID)
	if err != nil {
		return err
	}
	v := &flagView{Page: Page{Title: "Signaler un contenu", Error: ferr, Here: c.Path()}, P: p, Reasons: reasonOptions(reason), Note: note}
	if cm != nil {
		v.CommentID, v.Excerpt = cm.ID, cm.Body
	}
	if ferr != nil {
		v.Field = ferr.Field
	}
	c.Status(status)
	return s.render(c, "signalement.html", v)
}

func (s *Pages) flagPost(c *fiber.Ctx) error {
	commentID := c.FormValue("commentaire")
	p, cm, err := s.flagTarget(c, commentID)
	if err != nil {
		return err
	}
	kind, id := civic.TargetProposal, p.ID
	if cm != nil {
		kind, id = civic.TargetComment, cm.ID
	}
	r := actions.FlagReq{ReasonCode: civic.ModerationReason(c.FormValue("reason_code")), Note: c.FormValue("note")}
	if _, err := s.act.Flag(c, kind, id, r); err != nil {
		return err
	}
	s.setFlash(c, "signalement-envoye")
	return c.Redirect("/idees/"+url.PathEscape(p.ID), fiber.StatusSeeOther)
}

// flagFailed: an anonymous visit goes to the sign-in page; an unknown item
// or a refused session is the plain error page; a refused form comes back
// with what was typed and the field focused.
func (s *Pages) flagFailed(c *fiber.Ctx, status int, msg, field string) error {
	here := c.Path()
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		if q := c.Query("commentaire"); q != "" {
			here += "?commentaire=" + url.QueryEscape(q)
		}
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(here), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: here}, msg)
	case c.Method() == fiber.MethodGet || status == fiber.StatusNotFound:
		return s.renderError(c, status, msg)
	}
	commentID := keep(c.FormValue("commentaire"), 100)
	if e := formErrorOf(c); status == fiber.StatusForbidden && e != nil && e.Code == civic.ECSRF {
		return s.renderFlag(c, status, commentID, "", "", &formError{Msg: msg})
	}
	ids := map[string]string{"reason_code": "motif-" + string(civic.ModerationReasons[0]), "note": "signalement-note"}
	return s.renderFlag(c, status, commentID, keep(c.FormValue("reason_code"), 20), keep(c.FormValue("note"), 2000),
		&formError{Msg: msg, Field: ids[field]})
}

func (s *Pages) moderationPage(c *fiber.Ctx) error {
	return s.renderModeration(c, fiber.StatusOK, decisionDraft{}, nil)
}

func itemKey(kind civic.TargetKind, id string) string { return string(kind) + "-" + id }

// renderModeration renders the queue (at most 100 items) and the latest 50
// decisions: two statements and one for the flags' reasons, whatever the
// number of items.
func (s *Pages) renderModeration(c *fiber.Ctx, status int, d decisionDraft, ferr *formError) error {
	items, err := s.store.ModerationQueue(ctx(c), 100)
	if err != nil {
		return err
	}
	hist, err := s.store.ModerationHistory(ctx(c), 50)
	if err != nil {
		return err
	}
	v := &moderationView{Page: Page{Title: "Modération", Error: ferr}, Reasons: reasonOptions(d.Reason), Draft: d}
	for _, it := range items {
		st := commentStatusFR[it.Status]
		if it.Kind == civic.TargetProposal {
			st = fr.Status(civic.Status(it.Status))
		}
		row := queueRow{QueueItem: it, Key: itemKey(it.Kind, it.ID), KindFR: targetKindFR[it.Kind], StatusFR: st,
			Date: fr.Date(it.Created), ISO: it.Created.UTC().Format(time.RFC3339),
			Action:  adminModerationPath + "/" + string(it.Kind) + "/" + url.PathEscape(it.ID),
			Flagged: it.Flags > 0, Waiting: it.Waiting()}
		var parts []string
		for _, r := range slices.Sorted(maps.Keys(it.Reasons)) {
			parts = append(parts, moderationReasonFR[r]+" ("+strconv.Itoa(it.Reasons[r])+")")
		}
		row.FlagReasons = strings.Join(parts, ", ")
		v.Items = append(v.Items, row)
	}
	for _, h := range hist {
		link := "/idees/" + url.PathEscape(h.ProposalID)
		if h.Kind == civic.TargetComment {
			link += "#commentaire-" + url.PathEscape(h.TargetID)
		}
		v.History = append(v.History, historyRow{ModerationDecision: h, KindFR: targetKindFR[h.Kind], DecisionFR: decisionFR[h.Decision],
			ReasonFR: moderationReasonFR[h.Reason], Date: fr.Time(h.At), ISO: h.At.UTC().Format(time.RFC3339), Link: link})
	}
	c.Status(status)
	return s.render(c, "admin_moderation.html", v)
}

func (s *Pages) moderationPost(c *fiber.Ctx) error {
	kind := civic.TargetKind(c.Params("kind"))
	if !kind.Valid() {
		return civic.Errorf(civic.ENOTFOUND, "unknown kind of content")
	}
	d := civic.Decision(c.FormValue("decision"))
	r := actions.DecideReq{Decision: d}
	if d == civic.DecisionRefuse { // the reason fields of the other choices are ignored
		r.ReasonCode, r.Note = civic.ModerationReason(c.FormValue("reason_code")), c.FormValue("note")
	}
	if err := s.act.Decide(c, kind, c.Params("id"), r); err != nil {
		return err
	}
	s.setFlash(c, map[civic.Decision]string{civic.DecisionApprove: "moderation-approuve", civic.DecisionKeep: "moderation-conserve",
		civic.DecisionRefuse: "moderation-refuse"}[d])
	return c.Redirect(adminModerationPath, fiber.StatusSeeOther)
}

// moderationFailed: an anonymous visit goes to the sign-in page, another
// role gets the plain error page, a refused decision shows the queue again
// with what was typed in that item's form.
func (s *Pages) moderationFailed(c *fiber.Ctx, status int, msg, field string) error {
	p := web.Caller(c)
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(adminModerationPath), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: adminModerationPath}, msg)
	case c.Method() == fiber.MethodGet || p == nil || !p.User.Role.Moderates():
		return s.renderError(c, status, msg)
	case status == fiber.StatusForbidden || status == fiber.StatusNotFound:
		return s.renderModeration(c, status, decisionDraft{}, &formError{Msg: msg})
	}
	key := itemKey(civic.TargetKind(keep(c.Params("kind"), 20)), keep(c.Params("id"), 100))
	d := decisionDraft{Key: key, Decision: keep(c.FormValue("decision"), 20), Reason: keep(c.FormValue("reason_code"), 20),
		Note: keep(c.FormValue("note"), 10_000)}
	switch field {
	case "reason_code":
		d.Field = "motif-" + key
	case "note":
		d.Field = "note-" + key
	case "decision":
		d.Field = "decision-" + key + "-approve"
	}
	return s.renderModeration(c, status, d, &formError{Msg: msg, Field: d.Field})
}
