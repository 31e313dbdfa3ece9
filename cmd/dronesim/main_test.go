package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/firmware-bridge/tlog"
)

func TestWriteTlogAndImport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flight.tlog")
	var logs bytes.Buffer
	if err := run(context.Background(), []string{"-n", "2", "-tlog", path, "-mavlink", "1", "-duration", "2m"}, &logs); err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, st, err := tlog.Import(context.Background(), f, tlog.Options{Site: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Systems) != 2 || st.MAVLink1 != st.Frames || len(rs) == 0 {
		t.Fatalf("stats %+v, %d readings", st, len(rs))
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "300"}, {"-polygon", "43.6,7.2;nonsense"}, {"-endpoint", "pigeon:x"}, {"-mavlink", "3", "-tlog", "x"},
		{"-key", "k", "-mavlink", "1", "-tlog", "x"},
	} {
		var logs bytes.Buffer
		err := run(context.Background(), args, &logs)
		if err == nil {
			t.Errorf("%v: no error", args)
		} else if !strings.Contains(err.Error(), "-") && !strings.Contains(err.Error(), ":") {
			t.Errorf("%v: unclear error %v", args, err)
		}
	}
}
