// Package fr writes values the French way for the pages and the e-mails:
// instants in Paris time, durations, numbers, proposal statuses. It is a
// leaf (the standard library and civic) so that the mail text
// (dashboards/actions) and the pages (dashboards/pages) share one copy.
package fr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris in minimal images

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Paris is the time zone pages and mails show times in: the readers are in
// the Alpes-Maritimes. time/tzdata is linked in so minimal container images
// without /usr/share/zoneinfo still know it.
var Paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic("Europe/Paris: " + err.Error()) // tzdata is embedded: cannot happen
	}
	return loc
}()

var statusFR = map[civic.Status]string{
	civic.StatusSubmitted: "déposée", civic.StatusPublished: "publiée", civic.StatusShortlisted: "présélectionnée",
	civic.StatusUnderReview: "en cours d'expertise", civic.StatusSelected: "retenue", civic.StatusRejected: "non retenue",
	civic.StatusInProgress: "en réalisation", civic.StatusRealized: "réalisée",
	civic.StatusRefused: "refusée à la modération",
}

func Thousands(v int64) string {
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

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// Date writes an instant as French prose in Paris time: "27 novembre 2026 à 20 h 05".
func Date(t time.Time) string {
	t = t.In(Paris)
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + "\u00a0" + monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year()) + " à " +
		strconv.Itoa(t.Hour()) + "\u00a0h\u00a0" + t.Format("04")
}

// Day writes a calendar day (a date stored as its midnight UTC, such as a
// milestone's or a campaign's bounds) as French prose: "1er décembre 2026".
func Day(t time.Time) string {
	t = t.UTC()
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + "\u00a0" + monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// Num formats v the French way: decimal comma, at most two decimals.
func Num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return strings.Replace(s, ".", ",", 1)
}

// Time formats an instant in Paris time, French order.
func Time(t time.Time) string { return t.In(Paris).Format("02/01/2006 15:04") }

// Duration writes a duration in French words ("1 h 05 min", "12 min 5 s").
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d\u00a0h %02d\u00a0min", h, m)
	case m > 0 && s == 0:
		return fmt.Sprintf("%d\u00a0min", m)
	case m > 0:
		return fmt.Sprintf("%d\u00a0min %d\u00a0s", m, s)
	default:
		return fmt.Sprintf("%d\u00a0s", s)
	}
}

// Status is a proposal status in French ("publiée", "retenue"…).
func Status(st civic.Status) string { return statusFR[st] }

// Validity writes a link's lifetime: "48 heures", "1 heure", "30 minutes".
func Validity(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		if h := int(d / time.Hour); h > 1 {
			return fmt.Sprintf("%d heures", h)
		}
		return "1 heure"
	}
	return fmt.Sprintf("%d minutes", int(d.Round(time.Minute)/time.Minute))
}

// Month is a month's French name ("janvier").
func Month(m time.Month) string { return monthsFR[m-1] }
