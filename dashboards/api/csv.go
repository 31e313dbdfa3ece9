package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
)

// plainNumber is a decimal number as the platform writes them (negative
// temperatures, coordinates west of Greenwich): a spreadsheet reads it as
// the number it is, never as a formula, so it keeps its leading minus.
var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// csvCell neutralises a cell a spreadsheet would run as a formula (CSV
// injection, OWASP "CSV Injection"): a cell that starts with =, +, -, @, a
// tab or a carriage return gets a leading single quote, which spreadsheets
// take as "this is text" and which a reader of the file sees as such. Plain
// numbers are left alone (see plainNumber).
func csvCell(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if v[0] == '-' && plainNumber.MatchString(v) {
			return v
		}
		return "'" + v
	}
	return v
}

// writeCSV writes rows as RFC 4180 CSV, every cell through csvCell. Every
// CSV the platform serves goes through it.
func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	cell := make([]string, 0, 16)
	for _, row := range rows {
		cell = cell[:0]
		for _, v := range row {
			cell = append(cell, csvCell(v))
		}
		if err := cw.Write(cell); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
