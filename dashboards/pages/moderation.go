package pages

import "github.com/cd06/smartdeal/dashboards/civic"

// moderationReasonFR names the moderation reasons as authors read them.
var moderationReasonFR = map[civic.ModerationReason]string{
	civic.ReasonAbusive: "contenu abusif", civic.ReasonOffTopic: "hors sujet",
	civic.ReasonDuplicate: "doublon", civic.ReasonOther: "autre motif",
}
