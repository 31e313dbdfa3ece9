package pages

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// Routes are the pages and their forms, for the server's route table
// (dashboards/api mounts them beside the JSON routes: one table, one
// OpenAPI document).
func (s *Pages) Routes() []*web.Route {
	signInForm, signUpForm, signOutForm, supportForm := s.forms()
	proposalForm, commentForm := s.proposalForm(), s.commentForm()
	deskForm, reviewForm, decisionForm := s.reviewForms()
	accountForm, prefsForm, withdrawForm, deletionForm, unsubscribeForm := s.monCompteForms()
	f := s.accountForms()
	retour := web.Q(returnField, "string", "same-site path to return to (default /idees)")
	retourAccount := web.Q(returnField, "string", "same-site path to return to")
	jeton := web.Q(actions.TokenField, "string", "the token of the link received by e-mail")
	routes := []*web.Route{
		{Method: "GET", Path: "/idees", Tag: "pages", Summary: "Page (HTML, French): public proposals", Produces: "text/html", Handler: s.ideasPage},
		// Before /idees/:id, which would take "nouvelle" for an id.
		{Method: "GET", Path: newProposalPath, Tag: "pages", Summary: "Page (HTML, French): proposal form (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Roles: web.Proposers, Produces: "text/html", Form: proposalForm, Handler: s.newProposalPage},
		{Method: "POST", Path: newProposalPath, Tag: "pages", Summary: "Proposal form post: the proposal is submitted for moderation like POST /api/v1/ideas, then 303 to its page", Access: web.SignedIn, Roles: web.Proposers, Assurance: civic.AssuranceEmail, Body: proposalFormReq{}, Produces: "text/html", Status: 303, Form: proposalForm, Limit: "contribution", Handler: s.proposalPost},
		{Method: "GET", Path: "/idees/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal with its linked measurements and missions", Produces: "text/html", Handler: s.ideaPage},
		{Method: "GET", Path: "/missions", Tag: "pages", Summary: "Page (HTML, French): the drone missions for the territory, newest first, with their linked public proposals", Produces: "text/html", OperationID: "get_missions_page", Handler: s.missionsPage},
		{Method: "GET", Path: "/missions/:id", Tag: "pages", Summary: "Page (HTML, French): a mission, and once flown the summary of GET /api/v1/missions/{id}/track with a drawing of the track over the mission's area", Produces: "text/html", OperationID: "get_missions_by_id_page", Handler: s.missionPage},
		{Method: "GET", Path: "/connexion", Tag: "pages", Summary: "Page (HTML, French): sign-in form", Produces: "text/html", Params: []web.Param{retour}, Handler: s.signInPage},
		{Method: "POST", Path: "/connexion", Tag: "pages", Summary: "Sign-in form post: session cookie, then 303 to retour (same-origin posts only)", Body: signInFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: signInForm, Handler: s.signInPost},
		{Method: "GET", Path: "/inscription", Tag: "pages", Summary: "Page (HTML, French): citizen sign-up form", Produces: "text/html", Params: []web.Param{retour}, Handler: s.signUpPage},
		{Method: "POST", Path: "/inscription", Tag: "pages", Summary: "Sign-up form post: citizen account, session cookie, then 303 to retour (same-origin posts only)", Body: signUpFormReq{}, Produces: "text/html", Status: 303, Limit: "signup", Form: signUpForm, Handler: s.signUpPost},
		{Method: "POST", Path: "/deconnexion", Tag: "pages", Summary: "Sign-out form post, then 303 to retour", Access: web.SignedIn, Body: signOutFormReq{}, Produces: "text/html", Status: 303, Form: signOutForm, Handler: s.signOutPost},
		{Method: "POST", Path: "/idees/:id/commentaires", Tag: "pages", Summary: "Comment form post: stored pending moderation like POST /api/v1/ideas/{id}/comments, then 303 to the proposal page", Access: web.SignedIn, Assurance: civic.AssuranceEmail, Body: commentFormReq{}, Produces: "text/html", Status: 303, Form: commentForm, Limit: "contribution", Handler: s.commentPost},
		{Method: "POST", Path: "/idees/:id/soutien", Tag: "pages", Summary: "Support form post (action soutenir or retirer), then 303 to the proposal page", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Assurance: s.cfg.Accounts.SupportAssurance, Body: supportFormReq{}, Produces: "text/html", Status: 303, Limit: "vote", Form: supportForm, Handler: s.supportPost},
		{Method: "GET", Path: reviewDeskPath, Tag: "pages", Summary: "Page (HTML, French): the review desk: proposals awaiting review per campaign with their scores so far, and the budget (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Roles: web.Reviewers, Produces: "text/html", Form: deskForm, Handler: s.reviewDesk},
		{Method: "GET", Path: reviewDeskPath + "/:id", Tag: "pages", Summary: "Page (HTML, French): a proposal for review: the evidence of GET /api/v1/ideas/{id}/evidence, the reviews, the scoring form (experts) and the decision form (administrators)", Access: web.SignedIn, Roles: web.Reviewers, Produces: "text/html", Form: deskForm, Handler: s.reviewPage},
		{Method: "POST", Path: reviewDeskPath + "/:id/avis", Tag: "pages", Summary: "Scoring form post: the review is stored like POST /api/v1/ideas/{id}/reviews (a new one replaces the expert's own), then 303 to the review page", Access: web.SignedIn, Roles: []civic.Role{civic.RoleExpert}, Body: reviewFormReq{}, Produces: "text/html", Status: 303, Form: reviewForm, Handler: s.reviewPost},
		{Method: "POST", Path: reviewDeskPath + "/:id/decision", Tag: "pages", Summary: "Committee decision form post (decision retenir, rejeter with a public reason, or expertiser): the status changes like POST /api/v1/ideas/{id}/status (refused over budget, 409), then 303 to the review page", Access: web.SignedIn, Roles: web.Admins, Body: decisionFormReq{}, Produces: "text/html", Status: 303, Form: decisionForm, Handler: s.decisionPost},
		{Method: "GET", Path: "/mentions-legales", Tag: "pages", Summary: "Page (HTML, French): mentions légales: publisher, director of publication, host, contact (legal.* config)", Produces: "text/html", Handler: s.legalPage("mentions-legales.html", "Mentions légales")},
		{Method: "GET", Path: "/confidentialite", Tag: "pages", Summary: "Page (HTML, French): privacy policy: each processing with its purpose, legal basis (GDPR art. 6), retention, recipients; rights and how to use them; the DPO; the CNIL", Produces: "text/html", Handler: s.legalPage("confidentialite.html", "Politique de confidentialité")},
		{Method: "GET", Path: "/conditions-utilisation", Tag: "pages", Summary: "Page (HTML, French): terms of use: rules of participation, moderation and its reasons, licence of contributions and open data, liability", Produces: "text/html", Handler: s.legalPage("conditions-utilisation.html", "Conditions d'utilisation")},
		{Method: "GET", Path: "/accessibilite", Tag: "pages", Summary: "Page (HTML, French): accessibility statement (RGAA 4.1 model) with the results of the automated axe-core checks of the browser tests", Produces: "text/html", Handler: s.legalPage("accessibilite.html", "Déclaration d'accessibilité")},
		{Method: "GET", Path: accountPath, Tag: "pages", Summary: "Page (HTML, French): my account: my proposals with their status and reason, my supports (withdraw while voting is open), my comments (pending ones too), my e-mail preferences, the download of my data and the deletion of my account (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Produces: "text/html", Form: accountForm, Handler: s.accountPage},
		{Method: "POST", Path: accountPath + "/notifications", Tag: "pages", Summary: "E-mail preferences form post (checkboxes own and supported, value oui): stored like PUT /api/v1/me/notifications, then 303 to /compte", Access: web.SignedIn, Body: notificationsFormReq{}, Produces: "text/html", Status: 303, Form: prefsForm, Handler: s.notificationsPost},
		{Method: "POST", Path: accountPath + "/soutiens/:id/retrait", Tag: "pages", Summary: "Withdraw a support from /compte, like DELETE /api/v1/ideas/{id}/vote, then 303 to /compte", Access: web.SignedIn, Roles: []civic.Role{civic.RoleCitizen}, Body: withdrawFormReq{}, Produces: "text/html", Status: 303, Limit: "vote", Form: withdrawForm, Handler: s.withdrawPost},
		{Method: "GET", Path: deletionPath, Tag: "pages", Summary: "Page (HTML, French): what deleting my account does to my proposals, supports, comments and sessions, and the confirmation form", Access: web.SignedIn, Produces: "text/html", Form: deletionForm, Handler: s.deletionPage},
		{Method: "POST", Path: deletionPath, Tag: "pages", Summary: "Account deletion form post: with the right password, the account is erased like DELETE /api/v1/me and signed out, then 303 to /compte/supprime (wrong password: 403, nothing deleted; counts in the sign-in limit)", Access: web.SignedIn, Body: deletionFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: deletionForm, Handler: s.deletionPost},
		{Method: "GET", Path: deletedPath, Tag: "pages", Summary: "Page (HTML, French): confirmation of an account deletion, right after it (otherwise 303 to /idees)", Produces: "text/html", Handler: s.deletedPage},
		{Method: "GET", Path: actions.UnsubscribePath + "/:token", Tag: "pages", Summary: "Page (HTML, French) of a status e-mail's unsubscribe link: what the account receives and a button; changes nothing (no sign-in: the signed token names the account)", Produces: "text/html", Form: unsubscribeForm, Handler: s.unsubscribePage},
		{Method: "POST", Path: actions.UnsubscribePath + "/:token", Tag: "pages", Summary: "Unsubscribe the token's account from every status e-mail, without signing in: the page's button (303 to the page) or a mail client's RFC 8058 one-click POST (body List-Unsubscribe=One-Click, answered 200)", Body: unsubscribeFormReq{}, Produces: "text/html", Status: 303, Form: unsubscribeForm, Handler: s.unsubscribePost},

		{Method: "GET", Path: actions.VerifyPath, Tag: "pages", Summary: "Page (HTML, French): what a verification or address-change link opens: a button that confirms (the link is not used by opening it)", Produces: "text/html", Params: []web.Param{jeton}, Handler: s.verifyPage},
		{Method: "POST", Path: actions.VerifyPath, Tag: "pages", Summary: "Confirmation form post: the link is used like POST /api/v1/auth/verify, then 303", Body: verifyFormReq{}, Produces: "text/html", Status: 303, Form: f.verify, Handler: s.verifyPost},
		{Method: "GET", Path: actions.ForgotPath, Tag: "pages", Summary: "Page (HTML, French): ask for a password-reset link", Produces: "text/html", Handler: s.forgotPage},
		{Method: "POST", Path: actions.ForgotPath, Tag: "pages", Summary: "Reset request form post, like POST /api/v1/auth/password/forgot, then 303 with the same answer for any address", Body: actions.ForgotReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: f.forgot, Handler: s.forgotPost},
		{Method: "GET", Path: actions.ResetPath, Tag: "pages", Summary: "Page (HTML, French): choose a new password (what a reset link opens)", Produces: "text/html", Params: []web.Param{jeton}, Handler: s.resetPage},
		{Method: "POST", Path: actions.ResetPath, Tag: "pages", Summary: "New password form post, like POST /api/v1/auth/password/reset, then 303 to the sign-in page", Body: resetFormReq{}, Produces: "text/html", Status: 303, Limit: "signin", Form: f.reset, Handler: s.resetPost},
		{Method: "GET", Path: actions.SecurityPath, Tag: "pages", Summary: "Page (HTML, French): account security: address and its verification, password, sessions (anonymous visitors are sent to the sign-in page)", Access: web.SignedIn, Produces: "text/html", Params: []web.Param{retourAccount}, Form: f.security, Handler: s.securityPage},
		{Method: "POST", Path: actions.SecurityPath + "/verification", Tag: "pages", Summary: "Form post: send a new verification link, like POST /api/v1/me/verification, then 303 to retour", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.resend, Handler: s.resendPost},
		{Method: "POST", Path: actions.SecurityPath + "/mot-de-passe", Tag: "pages", Summary: "Form post: change the password, like PUT /api/v1/me/password, then 303", Access: web.SignedIn, Body: passwordFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.passwordPost},
		{Method: "POST", Path: actions.SecurityPath + "/adresse", Tag: "pages", Summary: "Form post: change the address, like PUT /api/v1/me/email, then 303", Access: web.SignedIn, Body: emailFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.emailPost},
		{Method: "POST", Path: actions.SecurityPath + "/sessions/:id/fermer", Tag: "pages", Summary: "Form post: end one session, like DELETE /api/v1/me/sessions/{id}, then 303", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.revokePost},
		{Method: "POST", Path: actions.SecurityPath + "/deconnexion-partout", Tag: "pages", Summary: "Form post: sign out everywhere, like DELETE /api/v1/me/sessions, then 303 to the sign-in page", Access: web.SignedIn, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f.security, Handler: s.everywherePost},
	}
	routes = append(routes, s.mapRoutes()...)
	routes = append(s.missionControlRoutes(), routes...) // /missions/nouvelle before /missions/:id
	routes = append(routes, s.registryRoutes()...)
	routes = append(routes, s.eventsRoutes()...)
	routes = append(routes, s.alertRoutes()...)
	routes = append(routes, s.subscriptionRoutes()...)
	for _, rt := range routes {
		if f, ok := rt.Form.(*pageForm); ok {
			f.srv = s
		}
	}
	routes = append(routes, s.backofficeRoutes()...)
	routes = append(routes, s.peopleRoutes()...)
	routes = append(routes, s.campaignRoutes()...)
	routes = append(routes, s.realizationRoutes()...)
	return routes
}
