package pages

// subscriptionRow is one of the caller's alert subscriptions (regles.html):
// what it covers in French, the site's page if a site, and the values of
// its unsubscribe form.
type subscriptionRow struct {
	What, Href   string
	RuleID, Site string
}
