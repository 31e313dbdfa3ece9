package pages

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// pageErrorMessages are the French messages of a page that cannot be shown,
// by error code (form posts have their own, formMessages).
var pageErrorMessages = map[string]string{
	civic.ENOTFOUND:     "Cette page n'existe pas, ou la proposition n'est pas (encore) publique.",
	civic.EUNAUTHORIZED: "Connectez-vous pour voir cette page.",
	civic.EFORBIDDEN:    "Cette page n'est pas accessible avec votre compte.",
	civic.EINVALID:      "L'adresse de cette page contient une erreur.",
	civic.ETOOMANY:      "Trop de demandes : réessayez dans quelques instants.",
	civic.EUNAVAILABLE:  "Service momentanément indisponible : réessayez plus tard.",
}

// wantsPage reports whether an error should be answered with a French HTML
// page rather than problem+json: a browser (Accept names text/html) asking
// for a page (GET or HEAD outside the machine routes). API clients, which
// do not ask for HTML, keep problem+json everywhere.
func wantsPage(c *fiber.Ctx) bool {
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return false
	}
	p := c.Path()
	for _, machine := range []string{"/api/", "/opendata/", "/metrics", "/healthz", "/readyz"} {
		if strings.HasPrefix(p, machine) {
			return false
		}
	}
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

// pageError renders the French error page for a failed page view.
func (s *Pages) pageError(c *fiber.Ctx, status int, code string) error {
	msg := pageErrorMessages[code]
	if msg == "" {
		msg = formMessages[civic.EINTERNAL]
	}
	title := "Page indisponible"
	if status == fiber.StatusNotFound {
		title = "Page introuvable"
	}
	c.Status(status)
	return s.render(c, "erreur.html", &errorView{Page: Page{Title: title, Error: &formError{Msg: msg}, Here: "/idees"}})
}
