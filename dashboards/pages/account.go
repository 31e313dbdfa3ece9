package pages

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The account security pages, in French, without JavaScript: following a
// verification or address-change link (/verification), a forgotten
// password (/mot-de-passe-oublie, /mot-de-passe/nouveau) and the account's
// security page (/compte/securite: address, password, sessions). Each form
// goes through the same code as its JSON route (dashboards/actions).

// Form bodies, for the OpenAPI document.
type verifyFormReq struct {
	Jeton string `json:"jeton"`
}

type resetFormReq struct {
	Jeton        string `json:"jeton"`
	Password     string `json:"password"`
	Confirmation string `json:"confirmation"`
}

type csrfFormReq struct {
	CSRF   string `json:"csrf"`
	Retour string `json:"retour"`
}

type passwordFormReq struct {
	CSRF            string `json:"csrf"`
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
	Confirmation    string `json:"confirmation"`
}

type emailFormReq struct {
	CSRF     string `json:"csrf"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// tokenMessages say in French why a link does not work.
var tokenMessages = map[string]string{
	civic.TokenUnknown: "Ce lien n'est pas valide : vérifiez qu'il est complet (copiez-le en entier depuis le message), ou demandez-en un nouveau.",
	civic.TokenExpired: "Ce lien a expiré : demandez-en un nouveau.",
	civic.TokenUsed:    "Ce lien a déjà servi : il ne fonctionne qu'une fois.",
	civic.TokenStale:   "L'adresse du compte a changé depuis l'envoi de ce lien : il ne vaut plus.",
}

// accountFieldMessages are the refusals in French, by field.
var accountFieldMessages = map[string]string{
	"email":            "Adresse e-mail invalide : saisissez une adresse de la forme nom@exemple.fr.",
	"password":         "Le mot de passe doit compter entre 10 et 200 caractères.",
	"new_password":     "Le nouveau mot de passe doit compter entre 10 et 200 caractères.",
	"current_password": "Mot de passe actuel incorrect.",
	"confirmation":     "Les deux mots de passe saisis sont différents.",
}

// accountInputs maps a refused field to the input the page marks.
var accountInputs = map[string]string{
	"current_password": "mdp-actuel", "new_password": "mdp-nouveau", "confirmation": "mdp-confirmation",
	"email": "nouvelle-adresse", "password": "mdp-adresse", // the address form's current password
}

type accountForms struct {
	verify, forgot, reset, security, resend *pageForm
}

func (s *Pages) accountForms() accountForms {
	tooMany := "Trop de demandes : réessayez dans {reessai}."
	return accountForms{
		verify: &pageForm{onError: s.verifyFailed, messages: map[string]string{
			civic.ECONFLICT: "Un autre compte utilise désormais cette adresse : le changement n'a pas eu lieu.",
			civic.ECSRF:     "Cette demande ne vient pas de ce site : ouvrez de nouveau le lien reçu.",
		}},
		forgot: &pageForm{onError: s.forgotFailed, messages: map[string]string{
			civic.ETOOMANY: tooMany,
			civic.ECSRF:    "Cette demande ne vient pas de ce site : ouvrez la page et réessayez.",
		}},
		reset: &pageForm{onError: s.resetFailed, messages: map[string]string{
			civic.ETOOMANY: tooMany,
			civic.ECSRF:    "Cette demande ne vient pas de ce site : ouvrez de nouveau le lien reçu.",
		}},
		security: &pageForm{onError: s.securityFailed, messages: map[string]string{
			civic.ETOOMANY:  tooMany,
			civic.ECONFLICT: "Un compte existe déjà avec cette adresse e-mail.",
			civic.ENOTFOUND: "Cette session n'existe plus.",
		}},
		resend: &pageForm{onError: s.resendFailed, messages: map[string]string{
			civic.ETOOMANY:  tooMany,
			civic.ECONFLICT: "Votre adresse est déjà confirmée.",
		}},
	}
}

// accountMessage refines a refusal's message with what the error carries:
// the reason of a link that does not work, the field's rule, the wait.
func accountMessage(c *fiber.Ctx, msg, field string) string {
	ce := formErrorOf(c)
	if ce != nil && ce.Code == civic.ETOKEN {
		if m, ok := tokenMessages[reasonOf(ce)]; ok {
			return m
		}
	}
	if m, ok := accountFieldMessages[field]; ok {
		return m
	}
	if ce != nil {
		if secs, ok := ce.Extra["retry_after"].(int); ok {
			msg = strings.ReplaceAll(msg, "{reessai}", frRetry(secs))
		}
	}
	return strings.ReplaceAll(msg, "{reessai}", "un moment")
}

func reasonOf(ce *civic.Error) string {
	r, _ := ce.Extra["reason"].(string)
	return r
}

// frRetry writes a wait in whole minutes or seconds ("45 s", "12 min", "1 h").
func frRetry(secs int) string {
	switch {
	case secs >= 3600 && secs%3600 == 0:
		return strconv.Itoa(secs/3600) + "\u00a0h"
	case secs >= 60:
		return strconv.Itoa((secs+59)/60) + "\u00a0min"
	default:
		return strconv.Itoa(secs) + "\u00a0s"
	}
}

// linkView fills the confirmation and new-password pages.
type linkView struct {
	Token   string
	Purpose civic.TokenPurpose
	Email   string // the address the link confirms (masked)
	Invalid bool   // the link does not work: only the message and what to do
	Field   string // the input in error
}

func (s *Pages) renderLink(c *fiber.Ctx, status int, name, title string, v linkView, msg string) error {
	data := &linkPageView{Page: Page{Title: title, Here: "/idees"}, Link: v}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: v.Field}
	}
	c.Status(status)
	return s.render(c, name, data)
}

func verifyTitle(p civic.TokenPurpose) string {
	if p == civic.TokenEmailChange {
		return "Confirmer votre nouvelle adresse e-mail"
	}
	return "Confirmer votre adresse e-mail"
}

// verifyPage shows what a link confirms, with a button: opening the link
// uses nothing, so a mail scanner that fetches links does not spend it.
func (s *Pages) verifyPage(c *fiber.Ctx) error {
	tok := c.Query(actions.TokenField)
	if !actions.PlausibleToken(tok) {
		return s.renderLink(c, fiber.StatusBadRequest, "verification.html", "Lien de confirmation", linkView{Invalid: true}, tokenMessages[civic.TokenUnknown])
	}
	t, err := s.store.Token(ctx(c), web.HashToken(tok), s.now())
	if err == nil && t.Purpose == civic.TokenReset {
		err = actions.BadToken()
	}
	if err != nil {
		ce := web.ToCivic(err)
		if ce.Code != civic.ETOKEN {
			return err
		}
		return s.renderLink(c, fiber.StatusBadRequest, "verification.html", "Lien de confirmation", linkView{Invalid: true}, tokenMessages[reasonOf(ce)])
	}
	return s.renderLink(c, fiber.StatusOK, "verification.html", verifyTitle(t.Purpose), linkView{Token: tok, Purpose: t.Purpose, Email: t.Email}, "")
}

// verifyPost uses the link, then 303 to the security page (signed in) or
// the sign-in page.
func (s *Pages) verifyPost(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	_, t, err := s.act.ConfirmLink(c, c.FormValue(actions.TokenField))
	if err != nil {
		return err
	}
	code, to := "adresse-confirmee", "/idees"
	if t.Purpose == civic.TokenEmailChange {
		code = "adresse-changee"
	}
	if p := web.Caller(c); p != nil && p.Session.Kind == civic.SessionCookie && p.User.ID == t.UserID {
		to = actions.SecurityPath
	} else if t.Purpose == civic.TokenEmailChange {
		to = "/connexion?" + returnField + "=" + url.QueryEscape(actions.SecurityPath)
	}
	s.setFlash(c, code)
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (s *Pages) verifyFailed(c *fiber.Ctx, status int, msg, field string) error {
	return s.renderLink(c, status, "verification.html", "Lien de confirmation", linkView{Invalid: true}, accountMessage(c, msg, field))
}

// forgotView fills the reset request page.
type forgotView struct {
	Email, Validity string
	Invalid         bool
}

func (s *Pages) forgotPage(c *fiber.Ctx) error {
	return s.renderForgot(c, fiber.StatusOK, forgotView{}, "")
}

func (s *Pages) renderForgot(c *fiber.Ctx, status int, v forgotView, msg string) error {
	v.Validity = fr.Validity(s.cfg.Accounts.ResetTTL)
	data := &forgotPageView{Page: Page{Title: "Mot de passe oublié", Here: actions.ForgotPath}, Forgot: v}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: "email"}
	}
	c.Status(status)
	return s.render(c, "oubli.html", data)
}

// forgotPost queues the reset mail and says the same for every address.
func (s *Pages) forgotPost(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	if err := s.act.RequestReset(c, c.FormValue("email")); err != nil {
		return err
	}
	s.setFlash(c, "lien-reinitialisation")
	return c.Redirect(actions.ForgotPath, fiber.StatusSeeOther)
}

func (s *Pages) forgotFailed(c *fiber.Ctx, status int, msg, field string) error {
	v := forgotView{Email: keep(c.FormValue("email"), 254), Invalid: true}
	return s.renderForgot(c, status, v, accountMessage(c, msg, field))
}

// resetPage is what a reset link opens: the new password form, or why the
// link does not work.
func (s *Pages) resetPage(c *fiber.Ctx) error {
	tok := c.Query(actions.TokenField)
	if _, err := s.act.ResetLink(c, tok); err != nil {
		ce := web.ToCivic(err)
		if ce.Code != civic.ETOKEN {
			return err
		}
		return s.renderLink(c, fiber.StatusBadRequest, "nouveau_mdp.html", "Nouveau mot de passe", linkView{Invalid: true}, tokenMessages[reasonOf(ce)])
	}
	return s.renderLink(c, fiber.StatusOK, "nouveau_mdp.html", "Nouveau mot de passe", linkView{Token: tok}, "")
}

func (s *Pages) resetPost(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("confirmation") {
		return civic.FieldError("confirmation", "the two passwords differ")
	}
	if err := s.act.ApplyReset(c, c.FormValue(actions.TokenField), pw); err != nil {
		return err
	}
	s.setFlash(c, "mot-de-passe-reinitialise")
	return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(actions.SecurityPath), fiber.StatusSeeOther)
}

func (s *Pages) resetFailed(c *fiber.Ctx, status int, msg, field string) error {
	v := linkView{Token: c.FormValue(actions.TokenField), Field: map[string]string{"password": "mdp-nouveau", "confirmation": "mdp-confirmation"}[field]}
	ce := formErrorOf(c)
	if ce != nil && (ce.Code == civic.ETOKEN || ce.Code == civic.ECSRF) || len(v.Token) > 128 {
		v = linkView{Invalid: true}
	}
	return s.renderLink(c, status, "nouveau_mdp.html", "Nouveau mot de passe", v, accountMessage(c, msg, field))
}

// securityView fills /compte/securite.
type securityView struct {
	User       *civic.User
	Level      civic.Assurance
	Support    civic.Assurance // the level supports need
	Sessions   []sessionRow
	Verifiers  []verifierView
	Field      string // the input in error
	Email      string // the new address typed (kept after a refusal)
	VerifyTTL  string
	CSRF, Here string
}

type sessionRow struct {
	civic.SessionView
	KindFR, CreatedFR, LastUsedFR, ExpiresFR string
}

type verifierView struct {
	Label, URL string
}

func (s *Pages) securityPage(c *fiber.Ctx) error {
	return s.renderSecurity(c, fiber.StatusOK, "", "", "")
}

var sessionKindFR = map[string]string{civic.SessionCookie: "navigateur", civic.SessionBearer: "jeton d'API"}

func (s *Pages) renderSecurity(c *fiber.Ctx, status int, msg, field, email string) error {
	p := web.Caller(c)
	if p == nil || p.Session.Kind != civic.SessionCookie {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(actions.SecurityPath), fiber.StatusSeeOther)
	}
	u, err := s.store.UserByID(ctx(c), p.User.ID)
	if err != nil {
		return err
	}
	views, err := s.act.SessionViews(c)
	if err != nil {
		return err
	}
	v := securityView{User: u, Level: u.Level(), Support: s.cfg.Accounts.SupportAssurance, Field: accountInputs[field], Email: email,
		VerifyTTL: fr.Validity(s.cfg.Accounts.VerifyTTL), CSRF: p.Session.CSRF, Here: actions.SecurityPath}
	for _, sv := range views {
		r := sessionRow{SessionView: sv, KindFR: sessionKindFR[sv.Kind], CreatedFR: fr.Time(sv.Created), ExpiresFR: fr.Time(sv.Expires), LastUsedFR: "—"}
		if sv.LastUsed != nil {
			r.LastUsedFR = fr.Time(*sv.LastUsed)
		}
		v.Sessions = append(v.Sessions, r)
	}
	for _, vf := range s.act.Verifiers() {
		if u.Level() >= civic.AssuranceEmail && u.Level() < vf.Level() {
			v.Verifiers = append(v.Verifiers, verifierView{Label: vf.Label(), URL: vf.StartURL(u)})
		}
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	data := &securityPageView{Page: Page{Title: "Sécurité du compte", Session: se, Here: actions.SecurityPath}, Security: v}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: v.Field}
	}
	c.Status(status)
	return s.render(c, "securite.html", data)
}

// securityFailed answers a refused form of the security page: anonymous
// or expired sessions go to the sign-in page, others see the page again
// with the message and the field marked (passwords are never kept).
func (s *Pages) securityFailed(c *fiber.Ctx, status int, msg, field string) error {
	if status == fiber.StatusUnauthorized {
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(actions.SecurityPath), fiber.StatusSeeOther)
		}
		return s.renderSignIn(c, status, signInView{Retour: actions.SecurityPath}, msg)
	}
	email := ""
	if status != fiber.StatusForbidden {
		email = keep(c.FormValue("email"), 254)
	}
	msg = accountMessage(c, msg, field)
	if field == "password" { // on this page, only the address form's current password
		msg = accountFieldMessages["current_password"]
	}
	return s.renderSecurity(c, status, msg, field, email)
}

// resendPost sends a new verification link, then back to retour.
func (s *Pages) resendPost(c *fiber.Ctx) error {
	if _, err := s.act.SendVerification(c); err != nil {
		return err
	}
	s.setFlash(c, "lien-renvoye")
	return c.Redirect(s.accountReturn(c), fiber.StatusSeeOther)
}

// accountReturn is the form's retour, defaulting to the security page.
func (s *Pages) accountReturn(c *fiber.Ctx) string {
	if c.FormValue(returnField) == "" {
		return actions.SecurityPath
	}
	return safeReturn(c.FormValue(returnField))
}

func (s *Pages) resendFailed(c *fiber.Ctx, status int, msg, field string) error {
	if status == fiber.StatusUnauthorized {
		return s.securityFailed(c, status, msg, field)
	}
	return s.renderError(c, status, accountMessage(c, msg, field))
}

func (s *Pages) passwordPost(c *fiber.Ctx) error {
	next := c.FormValue("new_password")
	if next != c.FormValue("confirmation") {
		return civic.FieldError("confirmation", "the two passwords differ")
	}
	if _, err := s.act.ChangePassword(c, c.FormValue("current_password"), next); err != nil {
		return err
	}
	s.setFlash(c, "mot-de-passe-change")
	return c.Redirect(actions.SecurityPath, fiber.StatusSeeOther)
}

func (s *Pages) emailPost(c *fiber.Ctx) error {
	if _, err := s.act.RequestEmailChange(c, c.FormValue("email"), c.FormValue("password")); err != nil {
		return err
	}
	s.setFlash(c, "adresse-demandee")
	return c.Redirect(actions.SecurityPath, fiber.StatusSeeOther)
}

func (s *Pages) revokePost(c *fiber.Ctx) error {
	current, err := s.act.RevokeSession(c, c.Params("id"))
	if err != nil {
		return err
	}
	if current {
		s.setFlash(c, "deconnecte")
		return c.Redirect("/idees", fiber.StatusSeeOther)
	}
	s.setFlash(c, "session-fermee")
	return c.Redirect(actions.SecurityPath, fiber.StatusSeeOther)
}

func (s *Pages) everywherePost(c *fiber.Ctx) error {
	if _, err := s.act.SignOutEverywhere(c); err != nil {
		return err
	}
	s.setFlash(c, "deconnecte-partout")
	return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(actions.SecurityPath), fiber.StatusSeeOther)
}

// formErrorKey holds, in a form post's Locals, the refusal its onError
// renders (formErrors sets it).
const formErrorKey = "smartdeal.form_error"

// formErrorOf is the refusal being rendered, if any.
func formErrorOf(c *fiber.Ctx) *civic.Error {
	ce, _ := c.Locals(formErrorKey).(*civic.Error)
	return ce
}

// accountFlash are the confirmations of the account pages (see flashMessages).
var accountFlash = map[string]string{
	"adresse-confirmee": "Votre adresse e-mail est confirmée : vous pouvez soutenir, proposer et commenter.",
	"adresse-changee":   "Votre nouvelle adresse e-mail est confirmée et remplace l'ancienne ; vos autres sessions sont fermées.",
	"lien-reinitialisation": "Si un compte existe pour cette adresse, un lien pour choisir un nouveau mot de passe vient d'y être envoyé. " +
		"Pensez à regarder dans les courriers indésirables.",
	"mot-de-passe-reinitialise": "Votre mot de passe est changé et toutes vos sessions sont fermées : connectez-vous avec le nouveau.",
	"lien-renvoye":              "Un nouveau lien de confirmation vient d'être envoyé à votre adresse e-mail.",
	"mot-de-passe-change":       "Votre mot de passe est changé ; vos autres sessions sont fermées.",
	"adresse-demandee": "Un lien de confirmation vient d'être envoyé à la nouvelle adresse : elle remplacera l'ancienne quand vous l'aurez suivi. " +
		"L'ancienne adresse est prévenue.",
	"session-fermee":     "La session est fermée.",
	"deconnecte-partout": "Toutes vos sessions sont fermées, sur tous vos appareils et pour toutes vos applications.",
}
