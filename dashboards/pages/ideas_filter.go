package pages

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
)

// /idees without JavaScript: a GET form filters the public proposals by
// campaign, theme and status, searches their text and sorts them by
// supports or date; 50 a page (one query for the page, one more row read to
// know whether a next page exists), the links to the neighbouring pages
// keeping the filters.

const ideasPerPage = 50

// ideasFilter is the filter form as typed, its choices, and the pages.
type ideasFilter struct {
	Campaign, Theme, Status, Query, Sort string
	Campaigns, Themes, Statuses          []filterOption
	Active                               bool // a filter or a search narrows the list
	PageNo                               int
	Prev, Next                           string
}

type filterOption struct {
	Value, Label string
	Selected     bool
}

func (s *Pages) filteredIdeas(c *fiber.Ctx) error {
	f := ideasFilter{Campaign: keep(c.Query("appel"), 100), Theme: keep(c.Query("theme"), 100), Status: keep(c.Query("statut"), 30),
		Query: keep(c.Query("q"), 200), Sort: keep(c.Query("tri"), 20)}
	n, err := strconv.Atoi(c.Query("page", "1"))
	if err != nil || n < 1 || n > 10_000 {
		return civic.FieldError("page", "want 1 to 10000")
	}
	f.PageNo = n
	pf := civic.ProposalFilter{CampaignID: f.Campaign, ThemeID: f.Theme, Statuses: civic.PublicStatuses(), Limit: ideasPerPage + 1, Offset: (n - 1) * ideasPerPage}
	if f.Status != "" {
		st := civic.Status(f.Status)
		if !st.Public() { // only public statuses are listed here
			return civic.FieldError("statut", "not a public status")
		}
		pf.Statuses = []civic.Status{st}
	}
	if f.Sort == "soutiens" {
		pf.Sort = civic.SortSupports
	} else if f.Sort != "" && f.Sort != "date" {
		return civic.FieldError("tri", "want soutiens or date")
	}
	if pf.Query, err = civic.CheckProposalQuery(f.Query, pf.Sort); err != nil {
		return err
	}
	f.Active = f.Campaign != "" || f.Theme != "" || f.Status != "" || pf.Query != ""
	ps, err := s.store.Proposals(ctx(c), pf)
	if err != nil {
		return err
	}
	cps, err := s.store.Campaigns(ctx(c))
	if err != nil {
		return err
	}
	ts, err := s.store.Themes(ctx(c))
	if err != nil {
		return err
	}
	f.Campaigns = append(f.Campaigns, filterOption{Value: "", Label: "tous les appels", Selected: f.Campaign == ""})
	for _, cp := range cps {
		f.Campaigns = append(f.Campaigns, filterOption{Value: cp.ID, Label: cp.Name, Selected: cp.ID == f.Campaign})
	}
	f.Themes = append(f.Themes, filterOption{Value: "", Label: "tous les thèmes", Selected: f.Theme == ""})
	for _, t := range ts {
		f.Themes = append(f.Themes, filterOption{Value: t.ID, Label: t.NameFR, Selected: t.ID == f.Theme})
	}
	f.Statuses = append(f.Statuses, filterOption{Value: "", Label: "tous les statuts", Selected: f.Status == ""})
	for _, st := range civic.PublicStatuses() {
		f.Statuses = append(f.Statuses, filterOption{Value: string(st), Label: fr.Status(st), Selected: string(st) == f.Status})
	}
	link := func(page int) string {
		q := url.Values{}
		for k, v := range map[string]string{"appel": f.Campaign, "theme": f.Theme, "statut": f.Status, "q": f.Query, "tri": f.Sort} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("page", strconv.Itoa(page))
		return "/idees?" + q.Encode()
	}
	if len(ps) > ideasPerPage {
		ps, f.Next = ps[:ideasPerPage], link(n+1)
	}
	if n > 1 {
		f.Prev = link(n - 1)
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	return s.render(c, "ideas.html", &ideasView{Page: Page{Title: "Propositions", Session: se}, Proposals: ps, Filter: f})
}
