package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestCommentPaging: 120 approved comments are listed 50 a page on the
// proposal page, oldest first, with previous/next links, and the visitor's
// own pending comment on the last page only; the JSON route pages with
// limit/offset and says the total in X-Total-Count.
func TestCommentPaging(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{ContributionLimit: -1})
	_, author := e.user(civic.RoleCitizen)
	p := e.idea(author, 1000, true)
	for i := range 120 {
		var cm civic.Comment
		e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", author, map[string]any{"body": fmt.Sprintf("Commentaire n°%03d", i)}, 201, &cm)
		e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	}
	e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", author, map[string]any{"body": "Mon commentaire en attente"}, 201, nil)

	// The store's order (created, then id for comments of the same
	// millisecond) is the order pages follow.
	approved, err := e.st.Comments(context.Background(), p.ID, false)
	if err != nil || len(approved) != 120 {
		t.Fatalf("%d approved, %v", len(approved), err)
	}
	page := func(q string) string {
		t.Helper()
		resp, body := e.send(e.request("GET", "/idees/"+p.ID+q, author, nil, "Accept", "text/html"))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", q, resp.StatusCode)
		}
		return string(body)
	}
	for _, tc := range []struct {
		q                string
		first, last      int
		prev, next, mine bool
		pageOf           string
	}{
		{"", 0, 49, false, true, false, "Page 1 sur 3"},
		{"?commentaires=2", 50, 99, true, true, false, "Page 2 sur 3"},
		{"?commentaires=3", 100, 119, true, false, true, "Page 3 sur 3"},
		{"?commentaires=99", 100, 119, true, false, true, "Page 3 sur 3"},
		{"?commentaires=abc", 0, 49, false, true, false, "Page 1 sur 3"},
	} {
		html := page(tc.q)
		if !strings.Contains(html, "Commentaires (120)") || !strings.Contains(html, tc.pageOf) {
			t.Errorf("%q: heading or page number missing", tc.q)
		}
		for i, cm := range approved {
			want := i >= tc.first && i <= tc.last
			if got := strings.Contains(html, cm.Body); got != want {
				t.Errorf("%q: comment %d shown %v, want %v", tc.q, i, got, want)
			}
		}
		if strings.Contains(html, `rel="prev"`) != tc.prev || strings.Contains(html, `rel="next"`) != tc.next ||
			strings.Contains(html, "Mon commentaire en attente") != tc.mine {
			t.Errorf("%q: prev/next/pending links wrong", tc.q)
		}
	}

	resp, body := e.send(e.request("GET", "/api/v1/ideas/"+p.ID+"/comments?limit=30&offset=100", "", nil))
	var cs []civic.Comment
	if err := jsonUnmarshal(body, &cs); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("JSON: %d %v", resp.StatusCode, err)
	}
	if len(cs) != 20 || cs[0].Body != approved[100].Body || resp.Header.Get("X-Total-Count") != "120" {
		t.Fatalf("JSON page: %d comments, first %q, total %q", len(cs), cs[0].Body, resp.Header.Get("X-Total-Count"))
	}
	for _, bad := range []string{"limit=0", "limit=501", "offset=-1", "limit=x"} {
		e.problem("GET", "/api/v1/ideas/"+p.ID+"/comments?"+bad, "", nil, 400)
	}
	if all, _ := e.st.Comments(context.Background(), p.ID, true); len(all) != 121 {
		t.Fatalf("%d comments stored", len(all))
	}
}
