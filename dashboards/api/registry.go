package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// registryRoutes are the device registry's JSON routes beyond the listing,
// creation and provisioning in routes.go: one site, editing sites and
// devices, revoking credentials, and the Mosquitto files generated from the
// registry. The administrators' pages (/admin/registre) do the same through
// actions.Registry.
func (s *Server) registryRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "GET", Path: v1 + "/sites/:id", Tag: "devices", Summary: "A site", Response: civic.Site{}, Handler: s.site},
		{Method: "PUT", Path: v1 + "/sites/:id", Tag: "devices", Summary: "Change a site's name and place (the id in the body, if any, must be the path's)", Access: web.SignedIn, Roles: web.Admins, Body: civic.Site{}, Response: civic.Site{}, Handler: s.updateSite},
		{Method: "PUT", Path: v1 + "/devices/:id", Tag: "devices", Summary: "Change a device's site, kind, model and quantities (its credentials stay; their ACL follows)", Access: web.SignedIn, Roles: web.Admins, Body: civic.Device{}, Response: civic.Device{}, Handler: s.updateDevice},
		{Method: "DELETE", Path: v1 + "/devices/:id/credentials", Tag: "devices", Summary: "Revoke a device's MQTT credentials (the embedded broker refuses them within seconds; regenerate Mosquitto's files)", Access: web.SignedIn, Roles: web.Admins, Status: 204, Handler: s.revokeCredentials},
		{Method: "GET", Path: v1 + "/broker/passwd", Tag: "devices", Summary: "Mosquitto password_file of the provisioned devices (text; the services' lines are the operator's)", Access: web.SignedIn, Roles: web.Admins, Produces: "text/plain", Handler: s.brokerPasswd},
		{Method: "GET", Path: v1 + "/broker/acl", Tag: "devices", Summary: "Mosquitto acl_file: the services' rules and one block per provisioned device (text)", Access: web.SignedIn, Roles: web.Admins, Produces: "text/plain", Handler: s.brokerACL},
	}
}

func (s *Server) site(c *fiber.Ctx) error {
	st, err := s.registry.Store.Site(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) updateSite(c *fiber.Ctx) error {
	var st civic.Site
	if err := decode(c, &st); err != nil {
		return err
	}
	if st.ID != "" && st.ID != c.Params("id") {
		return civic.FieldError("id", "must be the path's id")
	}
	st.ID = c.Params("id")
	out, err := s.registry.UpdateSite(ctx(c), web.Caller(c).User.ID, &st)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) updateDevice(c *fiber.Ctx) error {
	var d civic.Device
	if err := decode(c, &d); err != nil {
		return err
	}
	if d.ID != "" && d.ID != c.Params("id") {
		return civic.FieldError("id", "must be the path's id")
	}
	d.ID = c.Params("id")
	out, err := s.registry.UpdateDevice(ctx(c), web.Caller(c).User.ID, &d)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) revokeCredentials(c *fiber.Ctx) error {
	if err := s.registry.Revoke(ctx(c), web.Caller(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) brokerPasswd(c *fiber.Ctx) error {
	pw, _, err := s.registry.BrokerFiles(ctx(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.SendString(pw)
}

func (s *Server) brokerACL(c *fiber.Ctx) error {
	_, acl, err := s.registry.BrokerFiles(ctx(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.SendString(acl)
}
