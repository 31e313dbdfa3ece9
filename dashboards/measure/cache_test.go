package measure

import (
	"errors"
	"testing"
	"time"
)

// TestCacheClaims: keys a caller claims are fetched once for everyone who
// asks meanwhile: the others wait for them, then read the entry; a failed
// fetch is not kept, its waiters get the error and the next caller fetches
// again.
func TestCacheClaims(t *testing.T) {
	c := newRangeCache(time.Hour, 10)
	a, b := &SeriesData{Every: "a"}, &SeriesData{Every: "b"}
	hits, waits, mine := c.claim([]string{"a", "b"})
	if len(hits) != 0 || len(waits) != 0 || len(mine) != 2 {
		t.Fatalf("first claim: %v %v %v", hits, waits, mine)
	}
	hits, waits, mine2 := c.claim([]string{"b", "c"})
	if len(hits) != 0 || waits["b"] == nil || len(mine2) != 1 || mine2[0] != "c" {
		t.Fatalf("second claim: %v %v %v", hits, waits, mine2)
	}
	select {
	case <-waits["b"].done:
		t.Fatal("b done before it was fetched")
	default:
	}
	c.complete(mine, map[string]*SeriesData{"a": a, "b": b}, nil)
	<-waits["b"].done
	if waits["b"].data != b || waits["b"].err != nil {
		t.Fatalf("waiter got %v %v", waits["b"].data, waits["b"].err)
	}
	boom := errors.New("boom")
	c.complete(mine2, nil, boom)
	hits, waits, mine = c.claim([]string{"a", "b", "c"})
	if hits["a"] != a || hits["b"] != b || len(waits) != 0 || len(mine) != 1 || mine[0] != "c" {
		t.Fatalf("after: %v %v %v", hits, waits, mine)
	}
	_, waits, _ = c.claim([]string{"c"})
	c.complete(mine, nil, boom)
	<-waits["c"].done
	if waits["c"].err != boom {
		t.Fatalf("waiter of a failed fetch: %v", waits["c"].err)
	}
}
