package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestDevicePageStatusHistory: the device page lists its status
// transitions newest first in French (Paris time, « hors ligne » with its
// badge), the site page does not; a device without any says so.
func TestDevicePageStatusHistory(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e, _ := alertEnv(t, b, nil)
			e.field() // var-estuaire with level-1 and drone-1
			const pw = "un mot de passe solide"
			e.account(civic.RoleRiskManager, "rm-"+b.Name+"@example.fr", pw)
			rm := newFormClient(e)
			signInForm(t, rm, "rm-"+b.Name+"@example.fr", pw, "/tableau-de-bord")

			ctx := context.Background()
			t0 := time.Date(2026, 7, 14, 8, 30, 0, 0, time.UTC) // 10:30 in Paris
			for i, st := range []string{"online", "online", "offline", "online"} {
				if err := e.st.SetDeviceStatus(ctx, "level-1", st, t0.Add(time.Duration(i)*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			resp, html := rm.get("/sites/var-estuaire/appareils/level-1")
			wantPage(t, "device page", resp, html, 200, "Historique des états de l'appareil", `id="historique-etats-table"`)
			table := html[strings.Index(html, `id="historique-etats-table"`):]
			table = table[:strings.Index(table, "</table>")]
			if n := strings.Count(table, "<tr>") - 1; n != 3 {
				t.Fatalf("%d transitions on the page, want 3:\n%s", n, table)
			}
			first, second, third := strings.Index(table, "13:30"), strings.Index(table, "12:30"), strings.Index(table, "10:30")
			if first < 0 || second < first || third < second || !strings.Contains(table, "14/07/2026 13:30") {
				t.Errorf("not newest first in Paris time:\n%s", table)
			}
			if strings.Count(table, "hors ligne</span>") != 1 || strings.Count(table, `<td class="statut">en ligne</td>`) != 2 || strings.Contains(table, "offline") {
				t.Errorf("states not in French:\n%s", table)
			}
			resp, html = rm.get("/sites/var-estuaire/appareils/drone-1")
			wantPage(t, "device without history", resp, html, 200, "Aucun changement d'état reçu de cet appareil.")
			resp, html = rm.get("/sites/var-estuaire")
			wantPage(t, "site page", resp, html, 200)
			if strings.Contains(html, "Historique des états") {
				t.Error("the site page shows a device's history")
			}
		})
	}
}
