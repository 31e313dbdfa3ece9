package spool_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/devices/spool"
)

func open(t *testing.T, path string, opts spool.Options) *spool.Spool {
	t.Helper()
	s, err := spool.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAppendPeekRemoveInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	s := open(t, path, spool.Options{})
	for i := range 10 {
		if err := s.Append(fmt.Sprintf("t/%d", i%3), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Peek(0, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Seq != 1 || got[3].Seq != 4 || string(got[2].Payload) != "2" || got[2].Topic != "t/2" {
		t.Fatalf("peek(0,4) = %+v", got)
	}
	got, err = s.Peek(8, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Seq != 9 || got[1].Seq != 10 {
		t.Fatalf("peek(8,100) = %+v", got)
	}
	if err := s.Remove(1, 2, 3, 3, 999); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Depth != 7 || st.FirstSeq != 4 || st.LastSeq != 10 || st.Removed != 3 || st.Dropped != 0 {
		t.Fatalf("stats after remove = %+v", st)
	}
	got, _ = s.Peek(0, 1)
	if got[0].Seq != 4 {
		t.Fatalf("oldest after remove = %d, want 4", got[0].Seq)
	}

	// Reopen: content, counters and the sequence survive.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append("t/x", nil); !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("append after close: %v, want ErrClosed", err)
	}
	s2 := open(t, path, spool.Options{})
	st2 := s2.Stats()
	if st2.Depth != 7 || st2.Bytes != st.Bytes || st2.LastSeq != 10 || st2.FirstSeq != 4 {
		t.Fatalf("stats after reopen = %+v, before %+v", st2, st)
	}
	if err := s2.Remove(4, 5, 6, 7, 8, 9, 10); err != nil {
		t.Fatal(err)
	}
	if err := s2.Append("t/y", []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, _ = s2.Peek(0, 10)
	if len(got) != 1 || got[0].Seq != 11 {
		t.Fatalf("seq after emptying = %+v, want 11 (seqs are never reused)", got)
	}
	if st := s2.Stats(); st.Depth != 1 || st.Bytes <= 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestFullDropsOldestAndCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	s := open(t, path, spool.Options{MaxEntries: 100})
	for i := range 250 {
		if err := s.Append("t", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Depth != 100 || st.Dropped != 150 || st.FirstSeq != 151 || st.LastSeq != 250 {
		t.Fatalf("stats = %+v", st)
	}
	got, _ := s.Peek(0, 1000)
	if len(got) != 100 || string(got[0].Payload) != "150" || string(got[99].Payload) != "249" {
		t.Fatalf("kept %d entries from %q to %q, want the newest 100", len(got), got[0].Payload, got[len(got)-1].Payload)
	}
	s.Close()

	// Byte bound, and the dropped counter persists across reopen.
	s2 := open(t, path, spool.Options{MaxEntries: 100, MaxBytes: 8192})
	if st := s2.Stats(); st.Dropped != 150 {
		t.Fatalf("dropped after reopen = %d, want 150", st.Dropped)
	}
	payload := make([]byte, 1000)
	for range 20 {
		if err := s2.Append("t", payload); err != nil {
			t.Fatal(err)
		}
	}
	st = s2.Stats()
	if st.Bytes > 8192 || st.Depth == 0 || st.Depth > 8 {
		t.Fatalf("byte bound not held: %+v", st)
	}
	if st.Dropped != 150+100+uint64(20-st.Depth) {
		t.Fatalf("dropped = %d, want %d", st.Dropped, 150+100+20-st.Depth)
	}
	last, _ := s2.Peek(st.LastSeq-1, 1)
	if len(last) != 1 || last[0].Seq != st.LastSeq {
		t.Fatalf("newest entry missing: %+v", last)
	}
	if err := s2.Append("t", make([]byte, 9000)); !errors.Is(err, spool.ErrTooLarge) {
		t.Fatalf("oversized append: %v, want ErrTooLarge", err)
	}
	if err := s2.Append("", []byte("x")); !errors.Is(err, spool.ErrInvalidEntry) {
		t.Fatalf("empty topic: %v, want ErrInvalidEntry", err)
	}
}

// TestDeliveredNotCountedAsDropped: entries acknowledged but not yet removed
// may be dropped when the spool overflows, without being counted as lost.
func TestDeliveredNotCountedAsDropped(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "spool.db"), spool.Options{MaxEntries: 10})
	for i := range 10 {
		if err := s.Append("t", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	s.Delivered(1, 2, 3, 4)
	if st := s.Stats(); st.Depth != 10 || st.Pending != 6 {
		t.Fatalf("after Delivered: %+v", st)
	}
	for i := 10; i < 16; i++ {
		if err := s.Append("t", []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	// 6 oldest deleted: 4 delivered (not lost), 2 undelivered (lost).
	st := s.Stats()
	if st.Depth != 10 || st.Dropped != 2 || st.Pending != 10 || st.FirstSeq != 7 {
		t.Fatalf("after overflow: %+v, want 2 dropped", st)
	}
	s.Delivered(7)
	if err := s.Remove(7, 3); err != nil { // 3 is gone already
		t.Fatal(err)
	}
	if st := s.Stats(); st.Depth != 9 || st.Pending != 9 {
		t.Fatalf("after remove: %+v", st)
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		opts spool.Options
		want string
	}{
		"negative bytes":   {spool.Options{MaxBytes: -1}, "max_bytes"},
		"tiny bytes":       {spool.Options{MaxBytes: 100}, "max_bytes"},
		"negative entries": {spool.Options{MaxEntries: -5}, "max_entries"},
		"negative batch":   {spool.Options{MaxBatch: -1}, "max_batch"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := spool.Open(filepath.Join(t.TempDir(), "s.db"), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to name %s", err, tc.want)
			}
		})
	}
}

func TestSecondOpenFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.db")
	open(t, path, spool.Options{})
	// bbolt's flock is per open file description, so a second Open in the same
	// process blocks like another process would, until the timeout.
	if _, err := spool.Open(path, spool.Options{}); err == nil {
		t.Fatal("second open of a locked spool succeeded")
	}
}

func TestConcurrentAppendsGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "spool.db"), spool.Options{})
	const writers, each = 32, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Append(fmt.Sprintf("dev%d", w), []byte(strconv.Itoa(i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Depth != writers*each {
		t.Fatalf("depth = %d, want %d", st.Depth, writers*each)
	}
	if st.Commits >= writers*each {
		t.Fatalf("%d commits for %d appends: no group commit", st.Commits, writers*each)
	}
	// Per writer, the spool keeps append order.
	all, _ := s.Peek(0, writers*each)
	next := map[string]int{}
	for _, e := range all {
		n, _ := strconv.Atoi(string(e.Payload))
		if n != next[e.Topic] {
			t.Fatalf("%s: got %d, want %d", e.Topic, n, next[e.Topic])
		}
		next[e.Topic]++
	}
	t.Logf("%d appends in %d commits", writers*each, st.Commits)
}

// TestKill9KeepsAcknowledgedAppends runs a child process that appends as fast as
// it can and prints each acknowledged seq, SIGKILLs it, and checks that every
// acknowledged entry is in the reopened spool.
func TestKill9KeepsAcknowledgedAppends(t *testing.T) {
	if os.Getenv("SPOOL_CHILD") != "" {
		childAppend(os.Getenv("SPOOL_CHILD"))
		return
	}
	path := filepath.Join(t.TempDir(), "spool.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9KeepsAcknowledgedAppends$")
	cmd.Env = append(os.Environ(), "SPOOL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(20 * time.Second)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "acked "); ok {
			acked[p] = true
		}
		if len(acked) >= 3000 || time.Now().After(deadline) {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Read what the child printed before it died.
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked[p] = true
		}
	}
	_ = cmd.Wait()
	if len(acked) < 100 {
		t.Fatalf("child acknowledged only %d appends", len(acked))
	}
	s := open(t, path, spool.Options{})
	all, err := s.Peek(0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range all {
		have[string(e.Payload)] = true
	}
	for p := range acked {
		if !have[p] {
			t.Fatalf("acknowledged entry %s lost after SIGKILL (%d acked, %d stored)", p, len(acked), len(all))
		}
	}
	t.Logf("%d acknowledged, %d stored after SIGKILL", len(acked), len(all))
}

func childAppend(path string) {
	s, err := spool.Open(path, spool.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("%d-%d", w, i)
				if err := s.Append("t", []byte(p)); err != nil {
					return
				}
				mu.Lock()
				fmt.Println("acked", p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
