package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// accountFixture is a citizen with a password and what they contributed,
// next to another citizen's contributions that their page must not show.
type accountFixture struct {
	e               *env
	me              *civic.User
	password        string
	mine, waiting   *civic.Proposal // published (supported by me and the other), submitted
	refused         *civic.Proposal // published, then rejected with a reason
	moderated       *civic.Proposal // refused at moderation (never public)
	theirs, closed  *civic.Proposal // the other's, supported by me; closed: under review
	unrelated       *civic.Proposal // the other's, nothing to do with me
	myPending       *civic.Comment  // on theirs, waiting for moderation
	myApproved      *civic.Comment  // on mine
	theirComment    string
	otherTok, meTok string
}

const (
	refusalReason   = "Projet déjà financé par la commune."
	moderationNote  = "Déjà proposée par ailleurs."
	moderationShown = "doublon — " + moderationNote // as /compte shows it
)

func newAccountFixture(t *testing.T, e *env) *accountFixture {
	t.Helper()
	f := &accountFixture{e: e, password: "mon mot de passe citoyen", theirComment: "Commentaire de l'autre personne"}
	f.me = e.account(civic.RoleCitizen, "camille."+civic.NewID()+"@example.fr", f.password)
	var in struct {
		Token string `json:"token"`
	}
	e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": f.me.Email, "password": f.password}, 200, &in)
	f.meTok = in.Token
	_, f.otherTok = e.person("Autre", civic.RoleCitizen)
	mk := func(tok, title string, to ...string) *civic.Proposal {
		var p civic.Proposal
		e.call("POST", "/api/v1/ideas", tok, map[string]any{"campaign_id": e.campaign, "theme_id": "securite", "title": title, "body": "Texte de " + title}, 201, &p)
		for _, st := range to {
			r := map[string]any{"status": st}
			if st == "rejected" {
				r["reason"] = refusalReason
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, r, 200, &p)
		}
		return &p
	}
	f.mine = mk(f.meTok, "Mon idée publiée <b>éclairage</b>", "published")
	f.waiting = mk(f.meTok, "Mon idée en attente")
	f.refused = mk(f.meTok, "Mon idée refusée", "published", "rejected")
	f.moderated = mk(f.meTok, "Mon idée modérée")
	e.call("POST", "/api/v1/ideas/"+f.moderated.ID+"/status", e.admin, map[string]any{"status": "refused", "reason_code": "duplicate", "note": moderationNote}, 200, f.moderated)
	f.theirs = mk(f.otherTok, "L'idée de l'autre", "published")
	f.closed = mk(f.otherTok, "Autre idée, vote clos", "published")
	f.unrelated = mk(f.otherTok, "Proposition sans lien avec moi", "published")
	for _, v := range []struct {
		tok string
		p   *civic.Proposal
	}{{f.meTok, f.mine}, {f.otherTok, f.mine}, {f.meTok, f.theirs}, {f.meTok, f.closed}, {f.otherTok, f.unrelated}} {
		e.call("POST", "/api/v1/ideas/"+v.p.ID+"/vote", v.tok, nil, 200, nil)
	}
	for _, st := range []string{"shortlisted", "under_review"} {
		e.call("POST", "/api/v1/ideas/"+f.closed.ID+"/status", e.admin, map[string]any{"status": st}, 200, nil)
	}
	var c civic.Comment
	e.call("POST", "/api/v1/ideas/"+f.theirs.ID+"/comments", f.meTok, map[string]string{"body": "Mon commentaire en attente"}, 201, &c)
	f.myPending = &c
	var c2 civic.Comment
	e.call("POST", "/api/v1/ideas/"+f.mine.ID+"/comments", f.meTok, map[string]string{"body": "Mon commentaire publié"}, 201, &c2)
	e.call("PUT", "/api/v1/comments/"+c2.ID+"/status", e.admin, map[string]string{"status": "approved"}, 200, nil)
	f.myApproved = &c2
	var c3 civic.Comment
	e.call("POST", "/api/v1/ideas/"+f.theirs.ID+"/comments", f.otherTok, map[string]string{"body": f.theirComment}, 201, &c3)
	e.call("PUT", "/api/v1/comments/"+c3.ID+"/status", e.admin, map[string]string{"status": "approved"}, 200, nil)
	return f
}

// TestBrowserAccount drives "Mon compte" in Chromium, with JavaScript off
// and on: /compte sends an anonymous visitor to the sign-in page and back;
// it lists exactly my proposals (the one waiting for moderation and the
// refused one with its reason), my supports (a withdraw button only while
// voting is open) and my comments (the pending one marked), nobody else's;
// withdrawing a support and opting in to e-mails are form posts; "Télécharger
// mes données" downloads the JSON export with the session cookie; deleting
// the account refuses a wrong password, then with the right one signs out
// and confirms, after which the session is gone, sign-in fails and my
// supports no longer count.
func TestBrowserAccount(t *testing.T) {
	for _, js := range []bool{false, true} {
		name := "sans JavaScript"
		if js {
			name = "avec JavaScript"
		}
		t.Run(name, func(t *testing.T) { testBrowserAccount(t, js) })
	}
}

func testBrowserAccount(t *testing.T, js bool) {
	db := sqltest.SQLite(t)
	e := newEnv(t, db, nil, api.Config{})
	f := newAccountFixture(t, e)
	stored, err := e.st.UserByID(context.Background(), f.me.ID)
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, e)
	ctx := browser(t)
	if !js {
		ctx = browserNoScript(t)
	}
	ctx2, cancel := context.WithTimeout(ctx, 80*time.Second)
	defer cancel()
	ctx = ctx2

	// Anonymous: the sign-in page, which comes back to /compte.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/compte"), chromedp.WaitVisible(chromedp.ID("courriel"))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); loc != base+"/connexion?retour=%2Fcompte" {
		t.Fatalf("anonymous /compte at %s", loc)
	}
	typeInto(t, ctx, "courriel", f.me.Email)
	typeInto(t, ctx, "mot-de-passe", f.password)
	submit(t, ctx, "#se-connecter")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("mes-propositions"))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); loc != base+"/compte" {
		t.Fatalf("after sign-in at %s", loc)
	}
	if href := eval[string](t, ctx, `document.querySelector("header nav #mon-compte").getAttribute("href")`); href != "/compte" {
		t.Fatalf("header link %q", href)
	}
	if got := eval[string](t, ctx, `document.getElementById("lien-securite").getAttribute("href")`); got != "/compte/securite" {
		t.Errorf("security link %q", got)
	}

	keepScreenshot(t, ctx, "compte")
	// Exactly my proposals, supports and comments.
	rows := func(css string) []string {
		return eval[[]string](t, ctx, `[...document.querySelectorAll(`+jsString(css)+`)].map(r => r.innerText.replace(/\s+/g, " ").trim())`)
	}
	props := rows("#mes-propositions tbody tr")
	sort.Strings(props)
	if len(props) != 4 || !strings.HasPrefix(props[0], "Mon idée en attente déposée (en attente de modération) — ") ||
		!strings.HasPrefix(props[1], "Mon idée modérée refusée à la modération "+moderationShown) ||
		!strings.HasPrefix(props[2], "Mon idée publiée <b>éclairage</b> publiée") ||
		!strings.HasPrefix(props[3], "Mon idée refusée non retenue "+refusalReason) {
		t.Fatalf("my proposals %q", props)
	}
	sups := rows("#mes-soutiens tbody tr")
	sort.Strings(sups)
	if len(sups) != 3 || !strings.Contains(sups[0], "Autre idée, vote clos en cours d'expertise") || !strings.HasSuffix(sups[0], "Vote clos : soutien définitif") ||
		!strings.Contains(sups[1], "L'idée de l'autre publiée") || !strings.HasSuffix(sups[1], "Retirer mon soutien") ||
		!strings.Contains(sups[2], "Mon idée publiée <b>éclairage</b> publiée") || !strings.HasSuffix(sups[2], " 2 Retirer mon soutien") {
		t.Fatalf("my supports %q", sups)
	}
	coms := rows("#mes-commentaires li")
	sort.Strings(coms)
	if len(coms) != 2 || !strings.HasPrefix(coms[0], "Sur L'idée de l'autre, le ") || !strings.Contains(coms[0], ": en attente de modération Mon commentaire en attente") ||
		!strings.HasPrefix(coms[1], "Sur Mon idée publiée <b>éclairage</b>, le ") || !strings.Contains(coms[1], ": publié Mon commentaire publié") {
		t.Fatalf("my comments %q", coms)
	}
	body := eval[string](t, ctx, `document.body.innerText`)
	for _, other := range []string{f.unrelated.Title, f.theirComment} {
		if strings.Contains(body, other) {
			t.Errorf("my page shows someone else's %q", other)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("b").length`); n != 0 {
		t.Errorf("a title's markup was not escaped (%d <b>)", n)
	}

	// Withdraw a support: form post, back to the page, one fewer.
	submit(t, ctx, `#mes-soutiens button[aria-label="Retirer mon soutien à « L'idée de l'autre »"]`)
	if got := text(t, ctx, "#confirmation"); got != "Soutien retiré." {
		t.Fatalf("withdraw confirmation %q", got)
	}
	if n := len(rows("#mes-soutiens tbody tr")); n != 2 || e.votes(f.theirs.ID) != 0 || !strings.HasSuffix(location(t, ctx), "/compte#soutiens") {
		t.Fatalf("after withdrawing: %d rows, %d votes, at %s", n, e.votes(f.theirs.ID), location(t, ctx))
	}

	// Opt in to mails about my proposals.
	if eval[bool](t, ctx, `document.getElementById("suivi-mes-propositions").checked`) {
		t.Fatal("opted in by default")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("suivi-mes-propositions"))); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, "#enregistrer-preferences")
	if got := text(t, ctx, "#confirmation"); got != "Vos préférences d'e-mail sont enregistrées." {
		t.Fatalf("prefs confirmation %q", got)
	}
	if !eval[bool](t, ctx, `document.getElementById("suivi-mes-propositions").checked && !document.getElementById("suivi-soutiens").checked`) ||
		!strings.HasPrefix(text(t, ctx, "#suivi-mes-propositions-depuis"), "Accepté le ") {
		t.Fatal("preferences not shown as saved")
	}
	if p := e.prefsOf(f.me.ID); !p.OwnProposals || p.SupportedProposals || p.OwnSince == nil {
		t.Fatalf("stored prefs %+v", p)
	}

	// Download my data: the link, with the session cookie.
	dir := t.TempDir()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		on := true
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on})
		return err
	}), chromedp.Click(chromedp.ID("telecharger-donnees"))); err != nil {
		t.Fatal(err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		User      civic.User       `json:"user"`
		Proposals []civic.Proposal `json:"proposals"`
		Comments  []civic.Comment  `json:"comments"`
		Votes     []string         `json:"votes"`
		Extra     map[string]any   `json:"extra"`
	}
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatalf("downloaded %q: %v", raw, err)
	}
	sort.Strings(ex.Votes)
	want := []string{f.mine.ID, f.closed.ID}
	sort.Strings(want)
	if ex.User.Email != f.me.Email || len(ex.Proposals) != 4 || len(ex.Comments) != 2 || strings.Join(ex.Votes, ",") != strings.Join(want, ",") {
		t.Fatalf("export of %s: %d proposals, %d comments, votes %v", ex.User.Email, len(ex.Proposals), len(ex.Comments), ex.Votes)
	}
	if np, _ := ex.Extra["notification_prefs"].(map[string]any); np["own_proposals"] != true {
		t.Errorf("export lacks the e-mail consent: %v", ex.Extra)
	}

	// Delete the account: what happens, then a wrong password, then the right one.
	submit(t, ctx, "#supprimer-compte")
	if loc := location(t, ctx); loc != base+"/compte/suppression" {
		t.Fatalf("deletion page at %s", loc)
	}
	keepScreenshot(t, ctx, "compte-suppression")
	cons := text(t, ctx, "#consequences")
	for _, w := range []string{
		"2 publiée(s) : conservée(s) sans auteur", "2 jamais publiée(s) (en attente de modération ou refusée(s) à la modération) : supprimée(s).",
		"1 sur des propositions dont le vote est ouvert : retiré(s), le nombre de soutiens de chacune baisse d'un",
		"1 sur des propositions dont le vote est clos : toujours compté(s) dans leur total, sans plus vous nommer",
		"1 publié(s) : conservé(s), signé(s) « Anonyme »", "1 en attente de modération ou masqué(s) : supprimé(s).",
		"Toutes vos sessions sont fermées", "les e-mails qui ne vous ont pas encore été envoyés", "remplacé par « deleted »"} {
		if !strings.Contains(cons, w) {
			t.Errorf("deletion page lacks %q:\n%s", w, cons)
		}
	}
	typeInto(t, ctx, "mot-de-passe-suppression", "pas le bon mot de passe")
	submit(t, ctx, "#supprimer-definitivement")
	if got := text(t, ctx, "#erreur"); got != "Erreur : Mot de passe incorrect : votre compte n'a pas été supprimé." {
		t.Fatalf("wrong password: %q", got)
	}
	if v := eval[string](t, ctx, `document.getElementById("mot-de-passe-suppression").getAttribute("aria-invalid") + " " + document.activeElement.id`); v != "true mot-de-passe-suppression" {
		t.Errorf("invalid/focus %q", v)
	}
	if _, err := e.st.UserByID(context.Background(), f.me.ID); err != nil {
		t.Fatalf("deleted on a wrong password: %v", err)
	}
	typeInto(t, ctx, "mot-de-passe-suppression", f.password)
	submit(t, ctx, "#supprimer-definitivement")
	if loc := location(t, ctx); loc != base+"/compte/supprime" {
		t.Fatalf("after deletion at %s", loc)
	}
	if h, c := text(t, ctx, "h1"), text(t, ctx, "#confirmation"); h != "Votre compte est supprimé" || c != "Votre compte est supprimé et vous êtes déconnecté·e." {
		t.Fatalf("confirmation %q / %q", h, c)
	}
	if eval[bool](t, ctx, `document.getElementById("mon-compte") !== null`) {
		t.Error("still signed in on the confirmation page")
	}
	if _, err := e.st.UserByID(context.Background(), f.me.ID); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Fatalf("account still there: %v", err)
	}
	// No byte of the database file (nor its WAL) holds the person any more.
	for _, file := range []string{db.DSN, db.DSN + "-wal", db.DSN + "-shm"} {
		raw, err := os.ReadFile(file)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for what, secret := range map[string]string{"e-mail": stored.Email, "name": stored.Name, "password hash": stored.PasswordHash, "id": stored.ID} {
			if bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(secret))) {
				t.Errorf("%s (%d bytes) still holds the %s %q after deletion from the page", file, len(raw), what, secret)
			}
		}
	}
	// The session is gone: /compte asks to sign in, and signing in fails.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/compte"), chromedp.WaitVisible(chromedp.ID("courriel"))); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, base+"/connexion?") {
		t.Fatalf("after deletion /compte at %s", loc)
	}
	e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": f.me.Email, "password": f.password}, 401)
	e.problem("GET", "/api/v1/me", f.meTok, nil, 401)
	// As the deletion page said: my support where voting is open no longer
	// counts, the one where it has closed still does; my public proposals
	// and comment stay, anonymous; what was never public is gone.
	if n := e.votes(f.mine.ID); n != 1 {
		t.Errorf("votes of my published proposal %d, want 1 (the other's)", n)
	}
	if n := e.votes(f.closed.ID); n != 1 {
		t.Errorf("votes of the closed proposal %d, want 1 (mine, kept anonymously)", n)
	}
	for _, p := range []*civic.Proposal{f.mine, f.refused} {
		if got, err := e.st.Proposal(context.Background(), p.ID); err != nil || got.AuthorID != "" {
			t.Errorf("my public proposal after deletion %+v %v", got, err)
		}
	}
	for _, p := range []*civic.Proposal{f.waiting, f.moderated} {
		if _, err := e.st.Proposal(context.Background(), p.ID); civic.ErrorCode(err) != civic.ENOTFOUND {
			t.Errorf("my never-public proposal %q after deletion: %v", p.Title, err)
		}
	}
	if cs := e.allComments(f.mine.ID); len(cs) != 1 || cs[0].AuthorID != "" {
		t.Errorf("my comment after deletion %+v", cs)
	}
	if cs := e.allComments(f.theirs.ID); len(cs) != 1 || cs[0].Body != f.theirComment {
		t.Errorf("comments on the other's proposal after deletion (my pending one must be gone) %+v", cs)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
