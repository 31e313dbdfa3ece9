package pages

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The pages work without JavaScript: signing in and up, signing out and
// supporting a proposal are plain HTML form posts to the routes below. The
// page script only enhances them (it may still post to the JSON API).

// Form field names shared by the templates and the handlers.
const (
	csrfField   = "csrf"   // the session's CSRF token on signed-in forms
	returnField = "retour" // the same-site path to go back to
)

// forms are the page forms' French messages and error pages.
func (s *Pages) forms() (signIn, signUp, signOut, support *pageForm) {
	signIn = &pageForm{onError: s.signInFailed, messages: map[string]string{
		civic.EUNAUTHORIZED: "Adresse e-mail ou mot de passe incorrect.",
		civic.ECSRF:         "Cette demande ne vient pas de ce site : ouvrez la page de connexion et réessayez.",
		civic.ETOOMANY:      "Trop de tentatives de connexion : réessayez dans {attente}.",
	}}
	signUp = &pageForm{onError: s.signUpFailed, messages: map[string]string{
		civic.ECONFLICT: "Un compte existe déjà avec cette adresse e-mail : connectez-vous.",
		civic.ECSRF:     "Cette demande ne vient pas de ce site : ouvrez la page d'inscription et réessayez.",
		civic.ETOOMANY:  "Trop de créations de compte : réessayez dans {attente}.",
	}}
	signOut = &pageForm{onError: s.signOutFailed}
	support = &pageForm{onError: s.supportFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Le soutien est réservé aux comptes citoyens.",
		civic.ECONFLICT:  "Le vote n'est pas ouvert pour cette proposition.",
		civic.EINVALID:   "Choisissez de soutenir la proposition ou de retirer votre soutien.",
	}}
	return signIn, signUp, signOut, support
}

// signInView fills the sign-in form template.
type signInView struct {
	Retour, Email string
	Invalid       bool
}

// signUpView fills the sign-up form template.
type signUpView struct {
	Retour, Name, Email, Field string
}

// signInFormReq and signUpFormReq document the form bodies in OpenAPI.
type signInFormReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Retour   string `json:"retour"`
}

type signUpFormReq struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Retour   string `json:"retour"`
}

type signOutFormReq struct {
	CSRF   string `json:"csrf"`
	Retour string `json:"retour"`
}

type supportFormReq struct {
	CSRF   string `json:"csrf"`
	Action string `json:"action"` // soutenir or retirer
}

func (s *Pages) signInPage(c *fiber.Ctx) error {
	retour := safeReturn(c.Query(returnField))
	if p := web.Caller(c); p != nil && p.Session.Kind == civic.SessionCookie {
		if p.User.Role == civic.RoleRiskManager && retour == "/idees" { // signed in by the page's script: as the form does
			retour = DashboardPath
		}
		return c.Redirect(retour, fiber.StatusSeeOther)
	}
	return s.renderSignIn(c, fiber.StatusOK, signInView{Retour: retour}, "")
}

func (s *Pages) renderSignIn(c *fiber.Ctx, status int, v signInView, msg string) error {
	data := &signInPageView{Page: Page{Title: "Connexion", Here: v.Retour}, SignIn: v}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: "email"}
	}
	c.Status(status)
	return s.render(c, "connexion.html", data)
}

func (s *Pages) signInFailed(c *fiber.Ctx, status int, msg, _ string) error {
	v := signInView{Retour: safeReturn(c.FormValue(returnField)), Email: c.FormValue("email"), Invalid: true}
	if len(v.Email) > 254 {
		v.Email = ""
	}
	return s.renderSignIn(c, status, v, msg)
}

// signInPost is the sign-in Form: the same password check and cookie
// session as POST /api/v1/auth/signin with cookie=true, then 303 back.
func (s *Pages) signInPost(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	u, err := s.act.CheckPassword(c, c.FormValue("email"), c.FormValue("password"))
	if err != nil {
		return err
	}
	if _, err := s.act.StartSession(c, u, true); err != nil {
		return err
	}
	s.setFlash(c, "connecte")
	to := safeReturn(c.FormValue(returnField))
	if u.Role == civic.RoleRiskManager && to == "/idees" { // the default: a risk manager's home is the dashboard
		to = DashboardPath
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

func (s *Pages) signUpPage(c *fiber.Ctx) error {
	retour := safeReturn(c.Query(returnField))
	if p := web.Caller(c); p != nil && p.Session.Kind == civic.SessionCookie {
		return c.Redirect(retour, fiber.StatusSeeOther)
	}
	return s.renderSignUp(c, fiber.StatusOK, signUpView{Retour: retour}, "")
}

func (s *Pages) renderSignUp(c *fiber.Ctx, status int, v signUpView, msg string) error {
	data := &signUpPageView{Page: Page{Title: "Créer un compte citoyen", Here: v.Retour}, SignUp: v}
	if msg != "" {
		data.Error = &formError{Msg: msg, Field: v.Field}
	}
	c.Status(status)
	return s.render(c, "inscription.html", data)
}

// signUpMessages are createCitizen's refusals in French, by field.
var signUpMessages = map[string]string{
	"email":    "Adresse e-mail invalide : saisissez une adresse de la forme nom@exemple.fr.",
	"password": "Le mot de passe doit compter entre 10 et 200 caractères.",
	"name":     "Indiquez votre nom (100 caractères au plus).",
}

func (s *Pages) signUpFailed(c *fiber.Ctx, status int, msg, field string) error {
	if m, ok := signUpMessages[field]; ok {
		msg = m
	}
	v := signUpView{Retour: safeReturn(c.FormValue(returnField)), Name: c.FormValue("name"), Email: c.FormValue("email"), Field: field}
	if len(v.Name) > 400 || len(v.Email) > 254 {
		v.Name, v.Email = "", ""
	}
	return s.renderSignUp(c, status, v, msg)
}

// signUpPost is the sign-up Form: the account is created by the same code
// as POST /api/v1/auth/signup, then signed in with a cookie session.
func (s *Pages) signUpPost(c *fiber.Ctx) error {
	if err := sameOrigin(c); err != nil {
		return err
	}
	u, err := s.act.CreateCitizen(c, actions.SignUpReq{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")})
	if err != nil {
		return err
	}
	if _, err := s.act.StartSession(c, u, true); err != nil {
		return err
	}
	s.setFlash(c, "inscrit")
	return c.Redirect(safeReturn(c.FormValue(returnField)), fiber.StatusSeeOther)
}

// signOutPost ends the session (the guard checked the form's CSRF token).
func (s *Pages) signOutPost(c *fiber.Ctx) error {
	if err := s.act.EndSession(c); err != nil {
		return err
	}
	s.setFlash(c, "deconnecte")
	return c.Redirect(safeReturn(c.FormValue(returnField)), fiber.StatusSeeOther)
}

func (s *Pages) signOutFailed(c *fiber.Ctx, status int, msg, _ string) error {
	return s.renderError(c, status, msg)
}

// supportPost is the support form of a proposal page: action "soutenir" or
// "retirer", then 303 back to the page with a confirmation.
func (s *Pages) supportPost(c *fiber.Ctx) error {
	id := c.Params("id")
	var withdraw bool
	switch c.FormValue("action") {
	case "soutenir":
	case "retirer":
		withdraw = true
	default:
		return civic.FieldError("action", "soutenir or retirer")
	}
	if _, err := s.act.CastVote(c, id, withdraw); err != nil {
		return err
	}
	code := "soutien-enregistre"
	if withdraw {
		code = "soutien-retire"
	}
	s.setFlash(c, code)
	return c.Redirect("/idees/"+url.PathEscape(id), fiber.StatusSeeOther)
}

// supportFailed shows the proposal page again, with the error and status.
func (s *Pages) supportFailed(c *fiber.Ctx, status int, msg, _ string) error {
	return s.renderIdea(c, status, ideaForm{Error: &formError{Msg: msg}})
}
