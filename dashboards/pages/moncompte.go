package pages

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// "Mon compte" (/compte): the citizen's own space, without JavaScript. What
// they contributed (proposals in every status with the reason of the latest
// decision, supports with a withdraw button while voting is open, comments
// in every moderation state), their consent to status e-mails, the download
// of their data (GET /api/v1/me/export) and the deletion of the account.
// The unsubscribe link of the e-mails (/desabonnement/{token}) works without
// signing in. Every write goes through the code of the JSON routes.

const (
	accountPath  = "/compte"
	deletionPath = "/compte/suppression"
	deletedPath  = "/compte/supprime"
)

// Form bodies, documented in OpenAPI.
type notificationsFormReq struct {
	CSRF      string `json:"csrf"`
	Own       string `json:"own"`       // "oui" (checked) or absent
	Supported string `json:"supported"` // "oui" (checked) or absent
}

type withdrawFormReq struct {
	CSRF string `json:"csrf"`
}

type deletionFormReq struct {
	CSRF     string `json:"csrf"`
	Password string `json:"password"` // the account's current password
}

type unsubscribeFormReq struct {
	// ListUnsubscribe is "One-Click" when a mail client posts it (RFC 8058);
	// the page's own form sends nothing.
	ListUnsubscribe string `json:"List-Unsubscribe,omitempty"`
}

func (s *Pages) monCompteForms() (account, prefs, withdraw, deletion, unsubscribe *pageForm) {
	account = &pageForm{onError: s.accountFailed}
	prefs = &pageForm{onError: s.accountFailed}
	withdraw = &pageForm{onError: s.accountFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Le soutien est réservé aux comptes citoyens.",
		civic.ECONFLICT:  "Le vote est clos pour cette proposition : le soutien ne peut plus être retiré.",
		civic.ENOTFOUND:  formMessages[civic.ENOTFOUND],
	}}
	deletion = &pageForm{onError: s.deletionFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Mot de passe incorrect : votre compte n'a pas été supprimé.",
		civic.ECONFLICT: "Votre compte est l'agent de missions de drone : un administrateur doit les confier à un autre agent " +
			"avant la suppression. Rien n'a été supprimé.",
		civic.ETOOMANY: "Trop de tentatives : réessayez dans {attente}.",
	}}
	unsubscribe = &pageForm{onError: s.unsubscribeFailed, messages: map[string]string{
		civic.ENOTFOUND: "Ce lien de désabonnement n'est pas valide : il a peut-être été coupé ou mal copié. " +
			"Vous pouvez aussi choisir vos e-mails dans « Mon compte », une fois connecté·e.",
	}}
	return account, prefs, withdraw, deletion, unsubscribe
}

// accountProposal, accountSupport and accountComment are the rows of /compte.
type accountProposal struct {
	ID, Title, Status, Reason, Date string
	Votes                           int
	Submitted                       bool // waiting for moderation: visible to me and moderators only
}

type accountSupport struct {
	ID, Title, Status, Date string
	Votes                   int
	Open                    bool // voting open: I may withdraw
}

type accountComment struct {
	ProposalID, ProposalTitle, State, Date, ISO, Body string
}

var commentStateFR = map[civic.CommentStatus]string{
	civic.CommentPending: "en attente de modération", civic.CommentApproved: "publié", civic.CommentHidden: "masqué par la modération",
}

// reasonFR shows a status change's reason; the shortlist rule records one
// in English.
func reasonFR(r string) string {
	if r == "shortlist rule" {
		return "règle de présélection de l'appel (les propositions les plus soutenues)"
	}
	return r
}

func (s *Pages) accountPage(c *fiber.Ctx) error { return s.renderAccount(c, fiber.StatusOK, nil) }

// renderAccount renders /compte; a refused form shows it again with its
// error and status.
func (s *Pages) renderAccount(c *fiber.Ctx, status int, ferr *formError) error {
	u := web.Caller(c).User
	act, err := s.store.Activity(ctx(c), u.ID, s.now())
	if err != nil {
		return err
	}
	prefs, err := s.store.NotificationPrefs(ctx(c), u.ID)
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	props := make([]accountProposal, 0, len(act.Proposals))
	for _, p := range act.Proposals {
		reason := reasonFR(p.StatusReason)
		if p.Status == civic.StatusRefused && p.Moderation != nil { // the moderator's reason, and the note if any
			reason = moderationReasonFR[p.Moderation.Reason]
			if p.Moderation.Note != "" {
				reason += " — " + p.Moderation.Note
			}
		}
		props = append(props, accountProposal{ID: p.ID, Title: p.Title, Status: fr.Status(p.Status), Reason: reason,
			Date: fr.Date(p.Created), Votes: p.Votes, Submitted: p.Status == civic.StatusSubmitted})
	}
	sups := make([]accountSupport, 0, len(act.Supports))
	for _, sp := range act.Supports {
		sups = append(sups, accountSupport{ID: sp.ProposalID, Title: sp.Title, Status: fr.Status(sp.Status), Date: fr.Date(sp.Supported),
			Votes: sp.Votes, Open: sp.VotingOpen})
	}
	coms := make([]accountComment, 0, len(act.Comments))
	for _, cm := range act.Comments {
		coms = append(coms, accountComment{ProposalID: cm.ProposalID, ProposalTitle: cm.ProposalTitle, State: commentStateFR[cm.Status],
			Date: fr.Date(cm.Created), ISO: cm.Created.UTC().Format(time.RFC3339), Body: cm.Body})
	}
	since := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return fr.Date(*t)
	}
	data := &accountView{Page: Page{Title: "Mon compte", Session: se, Error: ferr,
		Here: "/idees"}, // signing out of one's account leads to the list
		User: u, Created: fr.Date(u.Created), Proposals: props, Supports: sups, Comments: coms, Limit: civic.ActivityLimit,
		Prefs: prefs, OwnSince: since(prefs.OwnSince), SupportedSince: since(prefs.SupportedSince)}
	c.Status(status)
	return s.render(c, "compte.html", data)
}

// accountFailed answers a refused visit or post of /compte: an anonymous
// visit goes to the sign-in page, which comes back; an expired session on a
// post gets the sign-in form; other refusals show the page again with the
// message (a bad CSRF token changes nothing and keeps nothing).
func (s *Pages) accountFailed(c *fiber.Ctx, status int, msg, _ string) error {
	here := c.Path()
	if c.Method() != fiber.MethodGet {
		here = accountPath
	}
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(here), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: here}, msg)
	case c.Method() == fiber.MethodGet || web.Caller(c) == nil:
		return s.renderError(c, status, msg)
	}
	return s.renderAccount(c, status, &formError{Msg: msg})
}

// notificationsPost is the e-mail form of /compte: the consent stored like
// PUT /api/v1/me/notifications (the time of a consent given now is kept),
// then 303 back with a confirmation.
func (s *Pages) notificationsPost(c *fiber.Ctx) error {
	r := actions.NotificationsReq{OwnProposals: c.FormValue("own") == "oui", SupportedProposals: c.FormValue("supported") == "oui"}
	if _, err := s.act.SetNotifications(c, r, "page"); err != nil {
		return err
	}
	s.setFlash(c, "preferences-enregistrees")
	return c.Redirect(accountPath+"#notifications", fiber.StatusSeeOther)
}

// withdrawPost is the withdraw button of a support on /compte: the same
// withdrawal as DELETE /api/v1/ideas/{id}/vote (castVote), then 303 back.
func (s *Pages) withdrawPost(c *fiber.Ctx) error {
	if _, err := s.act.CastVote(c, c.Params("id"), true); err != nil {
		return err
	}
	s.setFlash(c, "soutien-retire")
	return c.Redirect(accountPath+"#soutiens", fiber.StatusSeeOther)
}

func (s *Pages) deletionPage(c *fiber.Ctx) error {
	return s.renderDeletion(c, fiber.StatusOK, nil)
}

func (s *Pages) renderDeletion(c *fiber.Ctx, status int, ferr *formError) error {
	u := web.Caller(c).User
	act, err := s.store.Activity(ctx(c), u.ID, s.now())
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	data := &deletionView{Page: Page{Title: "Supprimer mon compte", Session: se, Error: ferr, Here: "/idees"}, User: u, Erasure: erasureOf(act),
		Expert: u.Role == civic.RoleExpert, Agent: u.Role == civic.RoleAgent, Admin: u.Role == civic.RoleAdmin}
	c.Status(status)
	return s.render(c, "compte_suppression.html", data)
}

// erasureCounts are the numbers of the deletion page, split by civic's
// erasure rules as the store's erasure (DeleteUser) applies them.
type erasureCounts struct {
	PublicProposals, HiddenProposals int // public ones stay without author; submitted and refused ones are deleted
	OpenSupports, ClosedSupports     int // withdrawn while voting is open; counted anonymously once it has closed
	PublicComments, HiddenComments   int // approved ones stay without author; pending and hidden ones are deleted
}

func erasureOf(a *civic.Activity) erasureCounts {
	var n erasureCounts
	for _, p := range a.Proposals {
		if p.Status.KeptByErasure() {
			n.PublicProposals++
		} else {
			n.HiddenProposals++
		}
	}
	for _, sp := range a.Supports {
		if sp.VotingOpen { // civic.ErasureKeepsSupport is its negation
			n.OpenSupports++
		} else {
			n.ClosedSupports++
		}
	}
	for _, c := range a.Comments {
		if c.Status.KeptByErasure() {
			n.PublicComments++
		} else {
			n.HiddenComments++
		}
	}
	return n
}

// deletionPost deletes the caller's account once they typed their
// password: the store's erasure (DeleteUser, as DELETE /api/v1/me), the
// session cookie expired, then 303 to the confirmation page. A wrong
// password is 403 and deletes nothing; attempts count in the sign-in
// limit (per address), like any password check.
func (s *Pages) deletionPost(c *fiber.Ctx) error {
	u, err := s.store.UserByID(ctx(c), web.Caller(c).User.ID)
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if len(password) > 200 || !actions.VerifyPassword(u.PasswordHash, password) {
		_ = s.store.Record(ctx(c), civic.AuditEntry{Actor: u.ID, Action: "user.delete_refused", Target: u.ID, Detail: s.kit.ClientIP(c)})
		return &civic.Error{Code: civic.EFORBIDDEN, Message: "wrong password", Extra: map[string]any{"field": "password"}}
	}
	if err := s.act.EraseAccount(c); err != nil {
		return err
	}
	s.setFlash(c, "compte-supprime")
	return c.Redirect(deletedPath, fiber.StatusSeeOther)
}

// deletionFailed shows the deletion page again with the message, the
// password field marked when it was wrong; never anything of what was typed.
func (s *Pages) deletionFailed(c *fiber.Ctx, status int, msg, field string) error {
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(deletionPath), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: deletionPath}, msg)
	case web.Caller(c) == nil:
		return s.renderError(c, status, msg)
	}
	ferr := &formError{Msg: msg}
	if field == "password" {
		ferr.Field = "mot-de-passe-suppression"
	}
	return s.renderDeletion(c, status, ferr)
}

// deletedPage confirms a deletion, once, right after it (the flash of the
// redirect); anyone else arriving here goes to the list.
func (s *Pages) deletedPage(c *fiber.Ctx) error {
	if c.Cookies(flashCookie) != "compte-supprime" {
		return c.Redirect("/idees", fiber.StatusSeeOther)
	}
	return s.render(c, "compte_supprime.html", &deletedView{Page{Title: "Compte supprimé", Here: "/idees"}})
}

// unsubscribePage is the page of an e-mail's unsubscribe link: it changes
// nothing (link scanners open links), it shows what the person receives
// and a button that posts the unsubscription. No sign-in: the signed token
// names the account.
func (s *Pages) unsubscribePage(c *fiber.Ctx) error {
	return s.renderUnsubscribe(c, fiber.StatusOK)
}

func (s *Pages) renderUnsubscribe(c *fiber.Ctx, status int) error {
	userID, err := s.act.UnsubscribeUser(ctx(c), c.Params("token"))
	if err != nil {
		return err
	}
	prefs, err := s.store.NotificationPrefs(ctx(c), userID)
	if err != nil {
		return err
	}
	c.Status(status)
	return s.render(c, "desabonnement.html", &unsubscribeView{Page: Page{Title: "Se désabonner des e-mails de suivi", Here: "/idees"}, Prefs: prefs,
		Action: actions.UnsubscribePath + "/" + url.PathEscape(c.Params("token"))})
}

// unsubscribePost unsubscribes the token's account from every status
// e-mail, without signing in: from the page's button (then 303 back to the
// page, which says it is done) or from a mail client's RFC 8058 one-click
// POST (body List-Unsubscribe=One-Click, no cookie; answered 200 at once).
// It is idempotent, and an account deleted since the mail is already
// unsubscribed.
func (s *Pages) unsubscribePost(c *fiber.Ctx) error {
	userID, err := s.act.UnsubscribeUser(ctx(c), c.Params("token"))
	if err != nil {
		return err
	}
	oneClick := c.FormValue("List-Unsubscribe") == "One-Click"
	source := "unsubscribe"
	if oneClick {
		source = "one-click"
	}
	if _, err := s.store.SetNotificationPrefs(ctx(c), userID, false, false, source, s.now()); err != nil && civic.ErrorCode(err) != civic.ENOTFOUND {
		return err
	}
	if oneClick {
		return s.renderUnsubscribe(c, fiber.StatusOK)
	}
	s.setFlash(c, "desabonne")
	return c.Redirect(actions.UnsubscribePath+"/"+url.PathEscape(c.Params("token")), fiber.StatusSeeOther)
}

func (s *Pages) unsubscribeFailed(c *fiber.Ctx, status int, msg, _ string) error {
	c.Status(status)
	return s.render(c, "erreur.html", &errorView{Page: Page{Title: "Lien de désabonnement", Error: &formError{Msg: msg}, Here: "/idees"}})
}
