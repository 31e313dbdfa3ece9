package api

import (
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/gofiber/fiber/v2"
)

func (s *Server) latest(c *fiber.Ctx) error {
	ls, err := s.meas.Series(ctx(c), series.Filter{Site: c.Params("id")})
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

func (s *Server) series(c *fiber.Ctx) error {
	ls, err := s.meas.Series(ctx(c), series.Filter{Site: c.Query("site"), Device: c.Query("device"), Quantity: c.Query("quantity")})
	if err != nil {
		return err
	}
	return c.JSON(ls)
}

// rangeQuery parses a series range request: ids from the path, RFC 3339
// times, aggregate, window and point cap from the query string.
func rangeQuery(c *fiber.Ctx) (series.RangeQuery, error) {
	q := series.RangeQuery{SeriesKey: series.SeriesKey{Site: c.Params("site"), Device: c.Params("device"), Quantity: c.Params("quantity")}}
	if err := q.SeriesKey.Validate(); err != nil {
		return q, civic.Errorf(civic.EINVALID, "site, device or quantity is not a valid identifier")
	}
	var err error
	if q.Start, err = time.Parse(time.RFC3339, c.Query("start")); err != nil {
		return q, civic.FieldError("start", "want an RFC 3339 time")
	}
	if q.Stop, err = time.Parse(time.RFC3339, c.Query("stop")); err != nil {
		return q, civic.FieldError("stop", "want an RFC 3339 time")
	}
	if !q.Stop.After(q.Start) {
		return q, civic.FieldError("stop", "must be after start")
	}
	if q.Agg, err = series.ParseAggregate(c.Query("agg")); err != nil {
		return q, civic.FieldError("agg", "want mean, min, max or last")
	}
	if e := c.Query("every"); e != "" {
		if q.Every, err = time.ParseDuration(e); err != nil || q.Every < time.Second || q.Every > 366*24*time.Hour {
			return q, civic.FieldError("every", "want a duration between 1s and 366 days")
		}
	}
	if q.MaxPoints, err = intQuery(c, "points", series.DefaultMaxPoints, 2, series.MaxPointsLimit); err != nil {
		return q, err
	}
	return q, nil
}

func (s *Server) seriesRange(c *fiber.Ctx) error {
	q, err := rangeQuery(c)
	if err != nil {
		return err
	}
	d, err := s.meas.Range(ctx(c), q)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
