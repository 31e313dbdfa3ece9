package api

import (
	"context"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) healthz(c *fiber.Ctx) error { return c.SendString("ok") }

func (s *Server) readyz(c *fiber.Ctx) error {
	cx, cancel := context.WithTimeout(ctx(c), 3*time.Second)
	defer cancel()
	if err := s.store.Ping(cx); err != nil {
		s.log.Warn("not ready: database", "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "database unavailable")
	}
	if err := s.meas.Ping(cx); err != nil {
		s.log.Warn("not ready: influxdb", "err", err)
		return civic.Errorf(civic.EUNAVAILABLE, "InfluxDB unavailable")
	}
	return c.SendString("ready")
}
