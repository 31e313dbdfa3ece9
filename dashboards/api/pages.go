package api

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
)

//go:embed templates/*.html
var templatesFS embed.FS

var statusFR = map[civic.Status]string{
	civic.StatusSubmitted: "déposée", civic.StatusPublished: "publiée", civic.StatusShortlisted: "présélectionnée",
	civic.StatusUnderReview: "en cours d'expertise", civic.StatusSelected: "retenue", civic.StatusRejected: "non retenue",
	civic.StatusInProgress: "en réalisation", civic.StatusRealized: "réalisée",
}

func (s *Server) parsePages() (*template.Template, error) {
	themes := map[string]string{}
	for _, t := range civic.SeedThemes {
		themes[t.ID] = t.NameFR
	}
	return template.New("").Funcs(template.FuncMap{
		"status": func(st civic.Status) string { return statusFR[st] },
		"theme": func(id string) string {
			if n, ok := themes[id]; ok {
				return n
			}
			return id
		},
		"euros": func(v int64) string { return groupThousands(v) + " €" },
		"num": func(v *float64) string {
			if v == nil {
				return "—"
			}
			return strings.Replace(strconv.FormatFloat(*v, 'f', 2, 64), ".", ",", 1)
		},
	}).ParseFS(templatesFS, "templates/*.html")
}

func groupThousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f") // narrow no-break space, French grouping
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (s *Server) render(c *fiber.Ctx, name string, data any) error {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Send(buf.Bytes())
}

func (s *Server) ideasPage(c *fiber.Ctx) error {
	ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{Statuses: publicStatuses, Limit: 200})
	if err != nil {
		return err
	}
	return s.render(c, "ideas.html", map[string]any{"Title": "Propositions", "Proposals": ps})
}

func (s *Server) ideaPage(c *fiber.Ctx) error {
	p, err := s.visibleProposal(c)
	if err != nil {
		return err
	}
	links, err := s.store.Links(ctx(c), civic.LinkFilter{ProposalID: p.ID})
	if err != nil {
		return err
	}
	if len(links) > 12 {
		links = links[:12]
	}
	stop := s.now().UTC().Truncate(time.Minute)
	start := stop.Add(-s.cfg.PageRange)
	data, err := s.linkedSeries(c, links, start, stop, 0, s.cfg.PageSeriesPoints)
	if err != nil {
		return err
	}
	stats := make([]seriesStats, 0, len(data))
	for _, d := range data {
		stats = append(stats, statsOf(d))
	}
	missions, err := s.store.MissionsForProposal(ctx(c), p.ID)
	if err != nil {
		return err
	}
	return s.render(c, "idea.html", map[string]any{"Title": p.Title, "P": p, "Series": stats, "Missions": missions,
		"Start": start.Format(time.RFC3339), "Stop": stop.Format(time.RFC3339)})
}

func statsOf(d *measure.SeriesData) seriesStats {
	st := seriesStats{SeriesKey: d.SeriesKey, Count: len(d.Points)}
	var sum float64
	for i, pt := range d.Points {
		v := pt.Value
		if i == 0 || v < *st.Min {
			st.Min = &v
		}
		if i == 0 || v > *st.Max {
			st.Max = &v
		}
		sum += v
		st.Last = &v
	}
	if st.Count > 0 {
		m := sum / float64(st.Count)
		st.Mean = &m
	}
	return st
}
