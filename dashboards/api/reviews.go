package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) reviews(c *fiber.Ctx) error {
	rs, err := s.store.Reviews(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(rs)
}

func (s *Server) review(c *fiber.Ctx) error {
	var r actions.ReviewReq
	if err := decode(c, &r); err != nil {
		return err
	}
	rv, err := s.act.PutReview(c, c.Params("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(rv)
}
