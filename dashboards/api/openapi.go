package api

import "github.com/gofiber/fiber/v2"

// OpenAPI is the OpenAPI 3 document of every route (JSON and pages).
func (s *Server) OpenAPI() map[string]any { return s.kit.OpenAPI(s.cfg.Licence) }

func (s *Server) openapi(c *fiber.Ctx) error { return c.JSON(s.OpenAPI()) }
