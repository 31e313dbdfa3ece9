package pages

import (
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
