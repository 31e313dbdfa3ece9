package pages

import (
	_ "embed"

	"github.com/cd06/smartdeal/dashboards/pages/legal"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

// The legal pages a French public body publishes (/mentions-legales,
// /confidentialite, /conditions-utilisation, /accessibilite), linked from
// every page's footer. Who publishes, hosts and answers comes from Legal; the
// retention periods come from the running configuration (session lifetime,
// rate-limit window) and from what the code does; the accessibility
// statement shows the committed results of the automated checks the browser
// tests run (accessibilite.json), which the tests fail on when they are stale.

func (s *Pages) legalPage(name, title string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		data := &legalPageView{Page: Page{Title: title}, Legal: s.cfg.Legal.View(), Licence: s.cfg.Licence}
		switch name {
		case "confidentialite.html":
			data.SessionTTL = frSpan(s.cfg.SessionTTL)
			data.RateWindow = frSpan(s.cfg.RateWindow)
			data.SessionCookie, data.FlashCookie = web.SessionCookie, flashCookie
		case "accessibilite.html":
			checks, err := legal.Checks()
			if err != nil {
				return err
			}
			data.Checks = checks
			data.CheckedOn = legal.Day(checks.Date)
			if s.cfg.Legal.RGAAAuditRate > 0 {
				data.AuditRate = legal.Percent(s.cfg.Legal.RGAAAuditRate)
				data.AuditDate = legal.Day(s.cfg.Legal.RGAAAuditDate)
			}
		}
		return s.render(c, name, data)
	}
}
