package api_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestBrowserModerateFlaggedComment, with JavaScript off and on: a citizen
// flags an approved comment from the proposal page (the form comes back
// with the field focused when no reason is chosen); an administrator finds
// it in the queue of /admin/moderation with its reason and note, hides it
// with a reason and a note; the history lists the decision, the comment is
// gone from the public page, and its author gets the reason by e-mail.
func TestBrowserModerateFlaggedComment(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	for _, js := range []bool{false, true} {
		name := "sans-javascript"
		if js {
			name = "avec-javascript"
		}
		t.Run(name, func(t *testing.T) {
			e, base := newBrowserMailEnv(t, mp)
			const password = "un mot de passe solide"
			authorMail, flaggerMail, adminMail := address("auteur"), address("signaleur"), address("moderatrice")
			e.account(civic.RoleCitizen, authorMail, password)
			e.account(civic.RoleCitizen, flaggerMail, password)
			e.account(civic.RoleAdmin, adminMail, password)
			authorTok := e.bearer(authorMail, password)
			p := e.idea(authorTok, 1000, true)
			var cm civic.Comment
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", authorTok, map[string]any{"body": "Vous êtes tous des incapables."}, 201, &cm)
			e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)

			var ctx context.Context
			if js {
				ctx = browser(t)
			} else {
				ctx = browserNoScript(t)
			}
			signIn := func(email, retour string) {
				t.Helper()
				if err := chromedp.Do(ctx, chromedp.Navigate(base+"/connexion?retour="+url.QueryEscape(retour)), chromedp.WaitVisible(chromedp.ID("connexion"))); err != nil {
					t.Fatal(err)
				}
				typeInto(t, ctx, "courriel", email)
				typeInto(t, ctx, "mot-de-passe", password)
				submit(t, ctx, "#se-connecter")
				if loc := location(t, ctx); loc != base+retour {
					t.Fatalf("signed in at %s, want %s", loc, retour)
				}
			}

			// The citizen flags the comment.
			pageURL := "/idees/" + p.ID
			signIn(flaggerMail, pageURL)
			submit(t, ctx, "#signaler-"+cm.ID)
			if got := text(t, ctx, "#contenu-signale"); got != cm.Body {
				t.Fatalf("flagged content %q", got)
			}
			typeInto(t, ctx, "signalement-note", "Insulte envers les autres participants.")
			// Without a reason, the server refuses (the browser's own check,
			// which would stop the post, is lifted): the note is kept and the
			// first reason focused.
			eval[bool](t, ctx, `document.querySelectorAll("input[required]").forEach(i => i.required = false), true`)
			submit(t, ctx, "#signaler")
			if got := text(t, ctx, "#erreur"); !strings.Contains(got, "Choisissez un motif") {
				t.Fatalf("error %q", got)
			}
			if v := eval[string](t, ctx, `document.activeElement.id + "|" + document.getElementById("signalement-note").value`); v != "motif-abusive|Insulte envers les autres participants." {
				t.Fatalf("focus|note %q", v)
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("motif-abusive"))); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#signaler")
			if loc := location(t, ctx); loc != base+pageURL {
				t.Fatalf("after the flag at %s", loc)
			}
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "signalement est transmis") {
				t.Fatalf("confirmation %q", got)
			}
			keepScreenshot(t, ctx, "signalement-envoye")
			submit(t, ctx, "#deconnexion")

			// The administrator hides it from the queue.
			signIn(adminMail, "/idees")
			submit(t, ctx, "#nav-admin")
			submit(t, ctx, "#admin-moderation")
			key := "comment-" + cm.ID
			item := text(t, ctx, "#element-"+key)
			for _, want := range []string{"Commentaire", p.Title, cm.Body, "1 signalement : contenu abusif (1)", "« Insulte envers les autres participants. »"} {
				if !strings.Contains(item, want) {
					t.Errorf("queue item lacks %q: %q", want, item)
				}
			}
			keepScreenshot(t, ctx, "moderation-file")
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("decision-"+key+"-refuse")),
				chromedp.SetValue(chromedp.ID("motif-"+key), "abusive"),
				chromedp.SendKeys(chromedp.ID("note-"+key), "Merci de rester courtois.")); err != nil {
				t.Fatal(err)
			}
			submit(t, ctx, "#valider-"+key)
			if loc := location(t, ctx); loc != base+"/admin/moderation" {
				t.Fatalf("after the decision at %s", loc)
			}
			if got := text(t, ctx, "#confirmation"); !strings.Contains(got, "reçoit le motif par e-mail") {
				t.Fatalf("confirmation %q", got)
			}
			if n := eval[int](t, ctx, `document.querySelectorAll("#element-`+key+`").length`); n != 0 {
				t.Error("the decided comment is still queued")
			}
			if h := text(t, ctx, "#historique tbody tr:first-child"); !strings.Contains(h, "refusé") || !strings.Contains(h, "contenu abusif") || !strings.Contains(h, "Merci de rester courtois.") {
				t.Errorf("history row %q", h)
			}
			if strings.Contains(e.pageAs(pageURL, "", 200), cm.Body) {
				t.Error("the hidden comment is still public")
			}

			m := mp.WaitMail(t, authorMail, "masqué par la modération", 15*time.Second)
			for _, want := range []string{cm.Body, "Motif : contenu abusif", "Précision du modérateur : Merci de rester courtois.", base + pageURL} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("mail lacks %q:\n%s", want, m.Text)
				}
			}
			if len(mp.Messages(t, flaggerMail)) != 0 {
				t.Error("the flagger got a mail")
			}
		})
	}
}
