package api

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestCSVCell: cells a spreadsheet would run as formulas (OWASP's list: =, +,
// -, @, tab, carriage return) get a leading single quote; plain numbers,
// text and empty cells are left alone, and the written file reads back as
// the neutralised cells.
func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{`=HYPERLINK("http://evil.example/","x")`, `'=HYPERLINK("http://evil.example/","x")`},
		{"+33 4 93 00 00 00", "'+33 4 93 00 00 00"},
		{"-2+3", "'-2+3"},
		{"-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-", "'-"},
		{"-3.5", "-3.5"},
		{"-12", "-12"},
		{"-1e-07", "-1e-07"},
		{"-1.5E+10", "-1.5E+10"},
		{"-.5", "'-.5"},
		{"-0x10", "'-0x10"},
		{"-Inf", "'-Inf"},
		{"3.5", "3.5"},
		{"Capteurs = utiles", "Capteurs = utiles"},
		{" =1", " =1"},
		{"", ""},
	} {
		if got := csvCell(tc.in); got != tc.want {
			t.Errorf("csvCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var buf bytes.Buffer
	if err := writeCSV(&buf, [][]string{{"title", "value"}, {"=1+1, \"x\"", "-4"}, {"@a\nb", "7"}}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][0] != "'=1+1, \"x\"" || recs[1][1] != "-4" || recs[2][0] != "'@a\nb" {
		t.Fatalf("read back %q, %v", recs, err)
	}
}
