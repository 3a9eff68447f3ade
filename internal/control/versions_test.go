package control

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// TestCollectCodeKeepsVersionsAndLayers checks that code a published
// version or a function's layer still uses survives garbage collection,
// even after $LATEST moved on and the layer version was deleted.
func TestCollectCodeKeepsVersionsAndLayers(t *testing.T) {
	bb, err := backbone.Open(t.Context(), backbone.Options{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer bb.Close()
	st, err := store.New(t.Context(), bb.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	svc := New(Deps{Store: st, Region: "us-east-1", AccountID: "000000000000", Now: clock, CodeGCInterval: -1, CodeGCGrace: time.Minute})
	defer svc.Close()
	ctx := t.Context()
	zipA, zipB, zipL := zipOf(t, map[string]string{"a": "1"}), zipOf(t, map[string]string{"a": "2"}), zipOf(t, map[string]string{"python/l.py": "L"})

	if _, err := svc.PublishLayerVersion(ctx, &PublishLayerVersionInput{LayerName: "lib", Content: &LayerContentInput{ZipFile: zipL}}); err != nil {
		t.Fatal(err)
	}
	in := createInput("gcv", zipA)
	in.Publish = true
	in.Layers = []string{"arn:aws:lambda:us-east-1:000000000000:layer:lib:1"}
	if _, err := svc.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "version 1 Active", func() bool {
		c, err := svc.GetFunctionConfiguration(ctx, "gcv", "1")
		return err == nil && c.State == lambda.StateActive
	})
	if _, err := svc.UpdateFunctionCode(ctx, &UpdateFunctionCodeInput{FunctionName: "gcv", ZipFile: zipB}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteLayerVersion(ctx, "lib", "1"); err != nil {
		t.Fatal(err)
	}
	sweep := func() int {
		t.Helper()
		n, err := svc.CollectCode(ctx)
		if err != nil {
			t.Fatalf("CollectCode: %v", err)
		}
		return n
	}
	sweep()
	advance(2 * time.Minute)
	if n := sweep(); n != 0 {
		t.Fatalf("sweep deleted %d packages still in use", n)
	}
	for _, z := range [][]byte{zipA, zipB, zipL} {
		if _, err := st.Code(ctx, store.CodeSha256(z)); err != nil {
			t.Fatalf("code in use deleted: %v", err)
		}
	}
	waitFor(t, "update settled", func() bool {
		c, _ := svc.GetFunctionConfiguration(ctx, "gcv", "")
		return c.LastUpdateStatus == lambda.UpdateSuccessful
	})
	if err := svc.DeleteFunction(ctx, "gcv", ""); err != nil {
		t.Fatal(err)
	}
	sweep()
	advance(2 * time.Minute)
	if n := sweep(); n != 3 {
		t.Fatalf("sweep after deleting everything deleted %d, want 3", n)
	}
	if _, err := st.Code(ctx, store.CodeSha256(zipL)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("layer code still stored: %v", err)
	}
}

// TestRecoverSettlesOrphanVersion checks that a version left Pending (the
// process stopped after $LATEST settled) is finished by the next Service.
func TestRecoverSettlesOrphanVersion(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, nil)
	ctx := t.Context()
	in := createInput("orphan", zipOf(t, map[string]string{"a": "1"}))
	in.Publish = true
	if _, err := e.svc.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "version Active", func() bool {
		c, err := e.svc.GetFunctionConfiguration(ctx, "orphan", "1")
		return err == nil && c.State == lambda.StateActive
	})
	// Simulate the crash window: put the version back to Pending.
	var v lambda.Function
	rev, err := e.st.Record(ctx, store.KindVersion, "orphan", "1", &v)
	if err != nil {
		t.Fatal(err)
	}
	v.Config.State = lambda.StatePending
	if _, err := e.st.UpdateRecord(ctx, store.KindVersion, "orphan", "1", &v, rev); err != nil {
		t.Fatal(err)
	}
	e.close()
	e = newEnv(t, dir, nil)
	defer e.close()
	waitFor(t, "orphan version settled", func() bool {
		c, err := e.svc.GetFunctionConfiguration(ctx, "orphan", "1")
		return err == nil && c.State == lambda.StateActive
	})
}
