package actions

// The pages the e-mails link to (dashboards/pages serves them): the links
// are written here, when a mail is sent, and the pages route them.
const (
	VerifyPath      = "/verification"         // a verification or address-change link
	ForgotPath      = "/mot-de-passe-oublie"  // ask for a reset link
	ResetPath       = "/mot-de-passe/nouveau" // what a reset link opens
	SecurityPath    = "/compte/securite"      // address, password, sessions
	UnsubscribePath = "/desabonnement"        // + /{token}: the one-click unsubscribe of the status e-mails
	TokenField      = "jeton"                 // the token of a link, in its URL and in the confirmation forms
)
