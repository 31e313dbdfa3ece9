package ds18b20

import (
	"strings"
	"testing"
)

// TestParseROM moved here from package devices with ParseROM.
func TestParseROM(t *testing.T) {
	a, err := ParseROM("28-0000056d8a2f")
	if err != nil {
		t.Fatal(err)
	}
	if a&0xFF != 0x28 || (a>>8)&0xFFFFFFFFFFFF != 0x0000056d8a2f {
		t.Fatalf("%#x", a)
	}
	// The 16-hex-digit form with the computed CRC parses to the same address.
	b, err := ParseROM(strings.ToUpper(hex16(a)))
	if err != nil || b != a {
		t.Fatalf("%#x %v", b, err)
	}
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xF]
		v >>= 4
	}
	return string(b[:])
}
