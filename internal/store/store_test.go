package store

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/lambda"
)

func open(t *testing.T, dir string) (*backbone.Backbone, *Store) {
	t.Helper()
	b, err := backbone.Open(t.Context(), backbone.Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("backbone.Open: %v", err)
	}
	s, err := New(t.Context(), b.JetStream())
	if err != nil {
		b.Close()
		t.Fatalf("New: %v", err)
	}
	return b, s
}

func fn(name string) *lambda.Function {
	return &lambda.Function{Config: lambda.FunctionConfiguration{FunctionName: name, RevisionId: "r1", MemorySize: 128}}
}

func TestFunctionCRUD(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx := t.Context()

	if _, _, err := s.Function(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Function(nope) = %v, want ErrNotFound", err)
	}
	if list, err := s.Functions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Functions(empty) = %v, %v", list, err)
	}
	rev, err := s.CreateFunction(ctx, fn("b"))
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if _, err := s.CreateFunction(ctx, fn("b")); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateFunction(dup) = %v, want ErrExists", err)
	}
	if _, err := s.CreateFunction(ctx, fn("a")); err != nil {
		t.Fatal(err)
	}
	got, grev, err := s.Function(ctx, "b")
	if err != nil || grev != rev || got.Config.MemorySize != 128 {
		t.Fatalf("Function(b) = %+v, %d, %v", got, grev, err)
	}
	got.Config.MemorySize = 256
	nrev, err := s.UpdateFunction(ctx, got, rev)
	if err != nil {
		t.Fatalf("UpdateFunction: %v", err)
	}
	if _, err := s.UpdateFunction(ctx, got, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("UpdateFunction(stale) = %v, want ErrConflict", err)
	}
	list, err := s.Functions(ctx)
	if err != nil || len(list) != 2 || list[0].Name() != "a" || list[1].Name() != "b" {
		t.Fatalf("Functions = %v, %v", list, err)
	}
	if err := s.DeleteFunction(ctx, "b", rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("DeleteFunction(stale) = %v, want ErrConflict", err)
	}
	if err := s.DeleteFunction(ctx, "b", nrev); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	if _, _, err := s.Function(ctx, "b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Function(deleted) = %v", err)
	}
	if list, err := s.Functions(ctx); err != nil || len(list) != 1 || list[0].Name() != "a" {
		t.Fatalf("Functions after delete = %v, %v", list, err)
	}
	if _, err := s.CreateFunction(ctx, fn("b")); err != nil {
		t.Fatalf("re-create after delete: %v", err)
	}
}

// TestConcurrentUpdatesLoseNothing increments a counter from many goroutines
// with read-modify-CAS loops; every increment must survive.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx := t.Context()
	if _, err := s.CreateFunction(ctx, fn("c")); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				for {
					f, rev, err := s.Function(ctx, "c")
					if err != nil {
						errs <- err
						return
					}
					f.Config.Timeout++
					if _, err := s.UpdateFunction(ctx, f, rev); errors.Is(err, ErrConflict) {
						continue
					} else if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	f, _, _ := s.Function(ctx, "c")
	if f.Config.Timeout != workers*each {
		t.Fatalf("Timeout = %d, want %d", f.Config.Timeout, workers*each)
	}
}

func TestCode(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx := t.Context()
	zip := bytes.Repeat([]byte("zipdata"), 100000) // several chunks
	sha, err := s.PutCode(ctx, zip)
	if err != nil {
		t.Fatalf("PutCode: %v", err)
	}
	if sha != CodeSha256(zip) {
		t.Fatalf("sha = %s", sha)
	}
	if sha2, err := s.PutCode(ctx, zip); err != nil || sha2 != sha {
		t.Fatalf("PutCode(dup) = %s, %v", sha2, err)
	}
	got, err := s.Code(ctx, sha)
	if err != nil || !bytes.Equal(got, zip) {
		t.Fatalf("Code = %d bytes, %v", len(got), err)
	}
	if _, err := s.Code(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Code(missing) = %v", err)
	}
	objs, err := s.CodeObjects(ctx)
	if err != nil || len(objs) != 1 || objs[0].Sha != sha || objs[0].Size != uint64(len(zip)) || objs[0].ModTime.IsZero() {
		t.Fatalf("CodeObjects = %+v, %v", objs, err)
	}
	before := objs[0].ModTime
	deadline := time.Now().Add(10 * time.Second)
	for { // re-putting identical content refreshes ModTime
		if _, err := s.PutCode(ctx, zip); err != nil {
			t.Fatal(err)
		}
		objs, _ = s.CodeObjects(ctx)
		if objs[0].ModTime.After(before) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ModTime not refreshed: %v", objs[0].ModTime)
		}
	}
	if err := s.DeleteCode(ctx, sha); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Code(ctx, sha); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Code(deleted) = %v", err)
	}
	if err := s.DeleteCode(ctx, sha); err != nil {
		t.Fatalf("DeleteCode(absent) = %v", err)
	}
	if objs, err := s.CodeObjects(ctx); err != nil || len(objs) != 0 {
		t.Fatalf("CodeObjects after delete = %+v, %v", objs, err)
	}
}

func TestWatchFunctions(t *testing.T) {
	b, s := open(t, t.TempDir())
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := s.WatchFunctions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := s.CreateFunction(t.Context(), fn("w1"))
	f := fn("w1")
	f.Config.Timeout = 9
	s.UpdateFunction(t.Context(), f, rev)
	s.DeleteFunction(t.Context(), "w1", 0)
	for i, want := range []string{"w1", "w1", "w1"} {
		select {
		case got := <-ch:
			if got != want {
				t.Fatalf("event %d = %q, want %q", i, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d not delivered", i)
		}
	}
	cancel()
	for range ch {
	}
}

func TestRestartDurability(t *testing.T) {
	dir := t.TempDir()
	b, s := open(t, dir)
	ctx := t.Context()
	sha, err := s.PutCode(ctx, []byte("code"))
	if err != nil {
		t.Fatal(err)
	}
	f := fn("keep")
	f.Config.CodeSha256 = sha
	f.Config.RevisionId = "rev-xyz"
	if _, err := s.CreateFunction(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2, s2 := open(t, dir)
	defer b2.Close()
	got, _, err := s2.Function(ctx, "keep")
	if err != nil || got.Config.CodeSha256 != sha || got.Config.RevisionId != "rev-xyz" {
		t.Fatalf("after restart Function = %+v, %v", got, err)
	}
	code, err := s2.Code(ctx, sha)
	if err != nil || string(code) != "code" {
		t.Fatalf("after restart Code = %q, %v", code, err)
	}
}

func TestEscapeKey(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain-Name_1", "with.dot", "a b/c=d", "$LATEST", ""} {
		e := EscapeKey(s)
		back, err := UnescapeKey(e)
		if err != nil || back != s {
			t.Errorf("UnescapeKey(EscapeKey(%q)=%q) = %q, %v", s, e, back, err)
		}
	}
	if _, err := UnescapeKey("a=4"); err == nil {
		t.Error("UnescapeKey(truncated) succeeded")
	}
}
