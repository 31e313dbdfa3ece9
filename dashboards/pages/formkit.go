package pages

import (
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The machinery shared by the page forms: French error pages in place of
// problem+json, safe return paths, login-CSRF origin checks and flash
// messages across a redirect.

// flashCookie carries a message code across a form's 303 redirect. Only the
// codes of flashMessages are ever shown: the cookie never reflects user text.
const flashCookie = "sd_flash"

var flashMessages = map[string]string{
	"connecte":           "Vous êtes connecté·e.",
	"deconnecte":         "Vous êtes déconnecté·e.",
	"inscrit":            "Votre compte citoyen est créé ; vous êtes connecté·e. Un lien de confirmation vient d'être envoyé à votre adresse e-mail : suivez-le pour pouvoir soutenir, proposer et commenter.",
	"soutien-enregistre": "Soutien enregistré.",
	"soutien-retire":     "Soutien retiré.",
	"proposition-deposee": "Votre proposition est déposée : elle sera publiée après modération. " +
		"D'ici là, elle n'est visible que par vous et les modérateurs.",
	"commentaire-envoye": "Commentaire envoyé : il sera publié après modération.",
	"avis-enregistre":    "Avis enregistré.",
	"decision-retenue":   "Décision enregistrée : la proposition est retenue.",
	"decision-rejetee":   "Décision enregistrée : la proposition n'est pas retenue ; le motif est public.",
	"decision-expertise": "La proposition est passée en cours d'expertise.",

	// Mon compte (moncompte.go)
	"preferences-enregistrees": "Vos préférences d'e-mail sont enregistrées.",
	"compte-supprime":          "Votre compte est supprimé et vous êtes déconnecté·e.",
	"desabonne":                "C'est fait : vous ne recevrez plus d'e-mails de suivi des propositions.",

	// The risk managers' pages (alerts.go)
	"alerte-prise-en-compte": "Alerte prise en compte.",
	"alerte-close":           "Alerte close.",
	"regle-creee":            "Règle d'alerte créée.",
	"regle-modifiee":         "Règle d'alerte modifiée.",
	"regle-activee":          "Règle d'alerte activée.",
	"regle-desactivee":       "Règle d'alerte désactivée : ses alertes en cours restent visibles.",
	"regle-supprimee":        "Règle d'alerte supprimée ; ses alertes en cours sont closes.",
	"abonnement-enregistre":  "Abonnement enregistré : vous recevrez ces alertes par e-mail.",
	"abonnement-supprime":    "Abonnement supprimé : vous ne recevrez plus ces alertes par e-mail.",
}

// formMessages are the French messages of a failed form post by error code;
// a form's own messages take precedence.
var formMessages = map[string]string{
	civic.EUNAUTHORIZED: "Votre session a expiré : connectez-vous à nouveau.",
	civic.ECSRF:         "Le formulaire a expiré ou ne vient pas de ce site : rechargez la page et réessayez.",
	civic.EFORBIDDEN:    "Cette action n'est pas permise avec votre compte.",
	civic.ENOTFOUND:     "Cette proposition n'existe pas ou n'est pas publique.",
	civic.ECONFLICT:     "Cette action n'est pas possible pour le moment.",
	civic.EINVALID:      "Le formulaire contient une erreur.",
	civic.ETOOLARGE:     "Le formulaire est trop volumineux.",
	civic.ETOOMANY:      "Trop de demandes : réessayez dans {attente}.",
	civic.EUNAVAILABLE:  "Service momentanément indisponible : réessayez plus tard.",
	civic.EINTERNAL:     "Une erreur est survenue de notre côté : réessayez plus tard.",
	civic.EUNVERIFIED: "Confirmez d'abord votre adresse e-mail : ouvrez le lien reçu à l'inscription, " +
		"ou demandez-en un nouveau avec le bouton « Renvoyer le lien de confirmation ».",
	civic.EASSURANCE: "Cette action demande une vérification d'identité renforcée : voyez la page « Sécurité du compte ».",
	civic.ETOKEN:     "Ce lien n'est pas valide.",
}

// pageForm marks a route posted by an HTML form. Its guard also accepts the
// CSRF token in the csrf field, and a failure answered to a browser form is
// a French page (onError) with the error's status instead of problem+json.
type pageForm struct {
	srv      *Pages
	messages map[string]string // by error code, over formMessages
	// onError renders the form's page with msg (field: the invalid input,
	// if any); when it fails, a plain error page is shown.
	onError func(c *fiber.Ctx, status int, msg, field string) error
}

type formError struct {
	Msg, Field string
}

// formError answers a browser form post's refusal with the form's French
// page (formErrors for the route's chain; the error handler for what the
// middleware before it refused: a body too large, text not UTF-8).
func (s *Pages) formError(c *fiber.Ctx, f *pageForm, err error) error {
	ce := web.ToCivic(err)
	status := web.ProblemStatus(ce.Code)
	if v, ok := ce.Extra["status_override"].(int); ok {
		status = v
	}
	if status >= 500 {
		s.log.Error("form post failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	// An error that says itself in French (the last administrator's
	// refusal) is shown as it says; otherwise the form's message, then
	// the generic one for its code.
	msg, _ := ce.Extra["detail_fr"].(string)
	if msg == "" {
		msg = f.messages[ce.Code]
	}
	if msg == "" {
		msg = formMessages[ce.Code]
	}
	if msg == "" {
		msg = formMessages[civic.EINTERNAL]
	}
	// A window's length, or the limit's own wait when longer (the
	// per-account sign-in delays, the sign-up windows of an hour).
	wait := s.cfg.RateWindow
	if ra, ok := ce.Extra["retry_after"].(int); ok {
		wait = max(wait, time.Duration(ra)*time.Second)
	}
	msg = strings.ReplaceAll(msg, "{attente}", fr.Duration(wait))
	// An over-budget refusal says by how much (the problem's over_by_eur).
	if over, ok := ce.Extra["over_by_eur"].(int64); ok {
		msg = strings.ReplaceAll(msg, "{depassement}", fr.Thousands(over)+" €")
	}
	field, _ := ce.Extra["field"].(string)
	c.Locals(formErrorKey, ce) // for onError: a link's reason, a wait, a resend offer
	// A failed handler may have set a cookie or a Location already.
	c.Response().Header.Del(fiber.HeaderLocation)
	if rerr := f.onError(c, status, msg, field); rerr != nil {
		return s.renderError(c, status, msg)
	}
	return nil
}

// renderError is the plain error page, with a link back.
func (s *Pages) renderError(c *fiber.Ctx, status int, msg string) error {
	c.Status(status)
	return s.render(c, "erreur.html", &errorView{Page: Page{Title: "Action impossible", Error: &formError{Msg: msg},
		Here: safeReturn(c.FormValue(returnField))}, Resend: civic.ErrorCode(formErrorOf(c)) == civic.EUNVERIFIED})
}

// safeReturn keeps a return path only if it is a same-site absolute path:
// one leading "/" (not "//" nor "/\", which browsers read as another host),
// no backslash or control character anywhere, no scheme or host. Anything
// else gives /idees, so a form can never redirect off the site.
func safeReturn(p string) string {
	const def = "/idees"
	if len(p) == 0 || len(p) > 1024 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return def
	}
	for _, r := range p {
		if r == '\\' || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return def
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return def
	}
	return p
}

// sameOrigin protects the sign-in and sign-up forms from login CSRF (a
// cross-site page signing the visitor into an account of the attacker's):
// they have no session, hence no CSRF token yet. Browsers say where a post
// comes from: Sec-Fetch-Site must be same-origin when sent; otherwise an
// Origin header must name this host. A request with neither is not from a
// browser that could be abused this way (every current browser sends Origin
// on cross-site POSTs), so it passes, like any API client.
func sameOrigin(c *fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		if site != "same-origin" {
			return civic.Errorf(civic.ECSRF, "cross-site form post refused (Sec-Fetch-Site: %s)", site)
		}
		return nil
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, string(c.Request().Host())) {
		return civic.Errorf(civic.ECSRF, "cross-site form post refused (Origin: %.100s)", origin)
	}
	return nil
}

func (s *Pages) setFlash(c *fiber.Ctx, code string) {
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: code, Path: "/", MaxAge: 60,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.cfg.CookieSecure})
}

// takeFlash returns the message of the flash cookie (once: it is cleared).
func (s *Pages) takeFlash(c *fiber.Ctx) string {
	code := c.Cookies(flashCookie)
	if code == "" {
		return ""
	}
	s.kit.ClearCookie(c, flashCookie)
	if m, ok := flashMessages[code]; ok {
		return m
	}
	return accountFlash[code]
}

// FormError implements web.FormHandler.
func (f *pageForm) FormError(c *fiber.Ctx, err error) error { return f.srv.formError(c, f, err) }
