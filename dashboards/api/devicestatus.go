package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// deviceStatusRoutes: a device's status history, as its page shows it
// (dashboards/pages/sites.go), for the risk managers.
func (s *Server) deviceStatusRoutes() []*web.Route {
	const v1 = "/api/v1"
	return []*web.Route{
		{Method: "GET", Path: v1 + "/devices/:id/status-history", Tag: "devices", Summary: "A device's status transitions (online, offline) with the time it reported them, newest first; the last 200 are kept",
			Access: web.SignedIn, Roles: web.AlertReaders, Params: []web.Param{web.Q("limit", "integer", "at most this many (default and at most 200)")},
			Response: []civic.DeviceStatusChange{}, Handler: s.deviceStatusHistory},
	}
}

func (s *Server) deviceStatusHistory(c *fiber.Ctx) error {
	limit := 0
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return civic.FieldError("limit", "an integer from 1 to 200")
		}
		limit = n
	}
	d, err := s.store.Device(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	h, err := s.store.DeviceStatusHistory(ctx(c), d.ID, limit)
	if err != nil {
		return err
	}
	return c.JSON(h)
}
