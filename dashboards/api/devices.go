package api

import (
	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) sites(c *fiber.Ctx) error {
	ss, err := s.store.Sites(ctx(c))
	if err != nil {
		return err
	}
	return c.JSON(ss)
}

func (s *Server) createSite(c *fiber.Ctx) error {
	var st civic.Site
	if err := decode(c, &st); err != nil {
		return err
	}
	if err := s.registry.CreateSite(ctx(c), web.Caller(c).User.ID, &st); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (s *Server) devices(c *fiber.Ctx) error {
	site := c.Query("site")
	if site != "" && !smartdeal.ValidID(site) {
		return civic.FieldError("site", "invalid identifier")
	}
	ds, err := s.store.Devices(ctx(c), site)
	if err != nil {
		return err
	}
	return c.JSON(ds)
}

func (s *Server) createDevice(c *fiber.Ctx) error {
	var d civic.Device
	if err := decode(c, &d); err != nil {
		return err
	}
	if err := s.registry.CreateDevice(ctx(c), web.Caller(c).User.ID, &d); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) device(c *fiber.Ctx) error {
	d, err := s.store.Device(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// credentials generates a device's MQTT password, stores its Mosquitto hash
// and returns the password once with the password-file and ACL lines.
func (s *Server) credentials(c *fiber.Ctx) error {
	cr, err := s.registry.Provision(ctx(c), web.Caller(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cr)
}
