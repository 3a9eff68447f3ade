package store

import (
	"errors"
	"testing"
	"time"
)

func TestRecords(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx := t.Context()
	type rec struct{ N int }

	var r rec
	if _, err := s.Record(ctx, KindVersion, "f", "1", &r); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Record(missing) = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"10", "2", "1"} {
		if _, err := s.CreateRecord(ctx, KindVersion, "f", id, rec{N: len(id)}); err != nil {
			t.Fatalf("CreateRecord(%s): %v", id, err)
		}
	}
	if _, err := s.CreateRecord(ctx, KindVersion, "f", "1", rec{}); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateRecord(dup) = %v, want ErrExists", err)
	}
	if _, err := s.CreateRecord(ctx, KindVersion, "g", "1", rec{}); err != nil {
		t.Fatal(err)
	}
	// Odd ids (escaped) and the empty id round-trip.
	for _, id := range []string{"$LATEST", ""} {
		if _, err := s.CreateRecord(ctx, KindPolicy, "f", id, rec{N: 7}); err != nil {
			t.Fatalf("CreateRecord(policy %q): %v", id, err)
		}
	}
	es, err := s.Records(ctx, KindVersion, "f")
	if err != nil || len(es) != 3 || es[0].ID != "1" || es[1].ID != "2" || es[2].ID != "10" {
		t.Fatalf("Records(f) = %+v, %v", es, err)
	}
	all, _ := s.Records(ctx, KindVersion, "")
	if len(all) != 4 || all[3].Owner != "g" {
		t.Fatalf("Records(all) = %+v", all)
	}
	ps, _ := s.Records(ctx, KindPolicy, "f")
	if len(ps) != 2 || ps[0].ID != "" || ps[1].ID != "$LATEST" {
		t.Fatalf("Records(policy) = %+v", ps)
	}

	rev, err := s.Record(ctx, KindVersion, "f", "2", &r)
	if err != nil || r.N != 1 {
		t.Fatalf("Record(2) = %+v, %v", r, err)
	}
	if _, err := s.UpdateRecord(ctx, KindVersion, "f", "2", rec{N: 5}, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateRecord(ctx, KindVersion, "f", "2", rec{N: 6}, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("UpdateRecord(stale) = %v, want ErrConflict", err)
	}
	if err := s.DeleteRecord(ctx, KindVersion, "f", "2", rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("DeleteRecord(stale) = %v, want ErrConflict", err)
	}
	if err := s.DeleteRecord(ctx, KindVersion, "f", "nope", 0); err != nil {
		t.Fatalf("DeleteRecord(missing) = %v", err)
	}
	if err := s.DeleteFunctionRecords(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{KindVersion, KindPolicy} {
		if es, _ := s.Records(ctx, k, "f"); len(es) != 0 {
			t.Fatalf("Records(%s, f) after DeleteFunctionRecords = %+v", k, es)
		}
	}
	if es, _ := s.Records(ctx, KindVersion, "g"); len(es) != 1 {
		t.Fatalf("DeleteFunctionRecords(f) touched g: %+v", es)
	}
}

func TestWatchFunctionsReportsEveryRecordKind(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx := t.Context()
	ch, err := s.WatchFunctions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		select {
		case name := <-ch:
			return name
		case <-time.After(30 * time.Second):
			t.Fatal("no watch event")
			return ""
		}
	}
	steps := []struct {
		kind  Kind
		owner string
	}{{KindVersion, "v"}, {KindAlias, "a"}, {KindEventConfig, "e"}, {KindProvisioned, "p"}, {KindPolicy, "po"}}
	// A layer record belongs to no function: it must not be reported.
	if _, err := s.CreateRecord(ctx, KindLayer, "layer", "1", 1); err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		if _, err := s.CreateRecord(ctx, st.kind, st.owner, "1", 1); err != nil {
			t.Fatal(err)
		}
		if got := next(); got != st.owner {
			t.Fatalf("watch after %s record = %q, want %q", st.kind, got, st.owner)
		}
	}
	if _, err := s.CreateFunction(ctx, fn("f")); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "f" {
		t.Fatalf("watch after function = %q", got)
	}
}
