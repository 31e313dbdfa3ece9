package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) myVote(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	voted, err := s.store.HasVoted(ctx(c), p.ID, web.Caller(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(actions.VoteResp{Voted: voted, Votes: p.Votes})
}

func (s *Server) vote(c *fiber.Ctx) error {
	v, err := s.act.CastVote(c, c.Params("id"), false)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) unvote(c *fiber.Ctx) error {
	v, err := s.act.CastVote(c, c.Params("id"), true)
	if err != nil {
		return err
	}
	return c.JSON(v)
}
