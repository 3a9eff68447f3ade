package control

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

type env struct {
	bb  *backbone.Backbone
	st  *store.Store
	svc *Service
}

func newEnv(t *testing.T, dir string, check func(string) error) *env {
	t.Helper()
	bb, err := backbone.Open(t.Context(), backbone.Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(t.Context(), bb.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Deps{Store: st, Region: "us-east-1", AccountID: "000000000000", Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), CheckRuntime: check, BaseURL: func() string { return "http://h" }})
	e := &env{bb: bb, st: st, svc: svc}
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	if e.svc != nil {
		e.svc.Close()
		e.svc = nil
	}
	if e.bb != nil {
		e.bb.Close()
		e.bb = nil
	}
}

func zipOf(t testing.TB, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, c := range files {
		w, _ := zw.Create(n)
		w.Write([]byte(c))
	}
	zw.Close()
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

func createInput(name string, zipb []byte) *CreateFunctionInput {
	return &CreateFunctionInput{
		FunctionName: name, Runtime: "python3.12", Handler: ptr("h.handler"),
		Role: ptr("arn:aws:iam::000000000000:role/r"), Code: &FunctionCode{ZipFile: zipb},
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func wantErr(t *testing.T, err error, typ, msg string) {
	t.Helper()
	var le *lambda.Error
	if !errors.As(err, &le) || le.Type != typ || (msg != "" && le.Message != msg) {
		t.Fatalf("err = %v, want %s %q", err, typ, msg)
	}
}

func TestLifecycle(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	e := newEnv(t, t.TempDir(), func(string) error { <-release; return nil })
	ctx := t.Context()
	svc := e.svc

	c, err := svc.CreateFunction(ctx, createInput("f1", zipOf(t, map[string]string{"h.py": "x"})))
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if c.State != lambda.StatePending || c.StateReasonCode != "Creating" || c.LastUpdateStatus != "" {
		t.Fatalf("create state = %q/%q/%q", c.State, c.StateReasonCode, c.LastUpdateStatus)
	}
	if c.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:f1" || c.Timeout != 3 || c.MemorySize != 128 {
		t.Fatalf("defaults wrong: %+v", c)
	}
	// Pending: updates are refused with AWS's 409.
	_, err = svc.UpdateFunctionConfiguration(ctx, &UpdateFunctionConfigurationInput{FunctionName: "f1", Timeout: ptr(5)})
	wantErr(t, err, lambda.ErrTypeResourceConflict, "The operation cannot be performed at this time. The function is currently in the following state: Pending")
	_, err = svc.ResolveForInvoke(ctx, "f1", "")
	wantErr(t, err, lambda.ErrTypeResourceConflict, "")
	_, err = svc.CreateFunction(ctx, createInput("f1", zipOf(t, map[string]string{"h.py": "x"})))
	wantErr(t, err, lambda.ErrTypeResourceConflict, "Function already exist: f1")

	open()
	var active *lambda.FunctionConfiguration
	waitFor(t, "Active", func() bool {
		active, _ = svc.GetFunctionConfiguration(ctx, "f1", "")
		return active != nil && active.State == lambda.StateActive
	})
	if active.RevisionId == c.RevisionId || active.LastUpdateStatus != lambda.UpdateSuccessful || active.StateReason != "" {
		t.Fatalf("active config = %+v", active)
	}

	// Precondition.
	_, err = svc.UpdateFunctionConfiguration(ctx, &UpdateFunctionConfigurationInput{FunctionName: "f1", Timeout: ptr(5), RevisionId: c.RevisionId})
	wantErr(t, err, lambda.ErrTypePreconditionFailed, lambda.MsgRevisionMismatch)

	u, err := svc.UpdateFunctionConfiguration(ctx, &UpdateFunctionConfigurationInput{FunctionName: "f1", Timeout: ptr(5), RevisionId: active.RevisionId})
	if err != nil {
		t.Fatalf("UpdateFunctionConfiguration: %v", err)
	}
	if u.LastUpdateStatus != lambda.UpdateInProgress || u.LastUpdateStatusReason != lambda.ReasonCreating || u.Timeout != 5 || u.RevisionId == active.RevisionId {
		t.Fatalf("update response = %+v", u)
	}
	waitFor(t, "update Successful", func() bool {
		g, _ := svc.GetFunctionConfiguration(ctx, "f1", "")
		return g.LastUpdateStatus == lambda.UpdateSuccessful
	})

	newZip := zipOf(t, map[string]string{"h.py": "y"})
	dry, err := svc.UpdateFunctionCode(ctx, &UpdateFunctionCodeInput{FunctionName: "f1", ZipFile: newZip, DryRun: true})
	if err != nil || dry.CodeSha256 != store.CodeSha256(newZip) {
		t.Fatalf("DryRun = %+v, %v", dry, err)
	}
	g, _ := svc.GetFunctionConfiguration(ctx, "f1", "")
	if g.CodeSha256 == dry.CodeSha256 {
		t.Fatal("DryRun changed the function")
	}
	uc, err := svc.UpdateFunctionCode(ctx, &UpdateFunctionCodeInput{FunctionName: "arn:aws:lambda:us-east-1:000000000000:function:f1", ZipFile: newZip})
	if err != nil || uc.CodeSha256 != dry.CodeSha256 {
		t.Fatalf("UpdateFunctionCode = %+v, %v", uc, err)
	}
	code, err := svc.Code(ctx, "f1", uc.CodeSha256)
	if err != nil || !bytes.Equal(code, newZip) {
		t.Fatalf("Code = %d bytes, %v", len(code), err)
	}
	waitFor(t, "code update Successful", func() bool {
		g, _ := svc.GetFunctionConfiguration(ctx, "f1", "")
		return g.LastUpdateStatus == lambda.UpdateSuccessful
	})
	if _, err := svc.ResolveForInvoke(ctx, "000000000000:function:f1", "$LATEST"); err != nil {
		t.Fatalf("ResolveForInvoke: %v", err)
	}
	_, err = svc.ResolveForInvoke(ctx, "nope", "")
	wantErr(t, err, lambda.ErrTypeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope:$LATEST")

	wantErr(t, svc.DeleteFunction(ctx, "f1", "$LATEST"), lambda.ErrTypeInvalidParameterValue, lambda.MsgDeleteLatest)
	if err := svc.DeleteFunction(ctx, "f1", ""); err != nil {
		t.Fatalf("DeleteFunction: %v", err)
	}
	wantErr(t, svc.DeleteFunction(ctx, "f1", ""), lambda.ErrTypeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f1")
}

func TestRuntimeUnavailableFails(t *testing.T) {
	e := newEnv(t, t.TempDir(), func(r string) error { return fmt.Errorf("runtime %s is not available on this host", r) })
	ctx := t.Context()
	if _, err := e.svc.CreateFunction(ctx, createInput("bad", zipOf(t, map[string]string{"a": "b"}))); err != nil {
		t.Fatal(err)
	}
	var c *lambda.FunctionConfiguration
	waitFor(t, "Failed", func() bool {
		c, _ = e.svc.GetFunctionConfiguration(ctx, "bad", "")
		return c.State == lambda.StateFailed
	})
	if c.StateReason != "runtime python3.12 is not available on this host" || c.StateReasonCode != lambda.ReasonCodeInvalidRuntime {
		t.Fatalf("failed config = %+v", c)
	}
	_, err := e.svc.ResolveForInvoke(ctx, "bad", "")
	wantErr(t, err, lambda.ErrTypeResourceConflict, "The operation cannot be performed at this time. The function is currently in the following state: Failed. runtime python3.12 is not available on this host")
}

func TestRecoverAfterRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, nil)
	e.svc.Close() // no service running: the record below stays Pending
	e.svc = nil
	pending := &lambda.Function{Config: lambda.FunctionConfiguration{
		FunctionName: "r", Runtime: "python3.12", Handler: "h.h", RevisionId: "rev-1",
		State: lambda.StatePending, StateReason: lambda.ReasonCreating, StateReasonCode: lambda.ReasonCodeCreating,
	}}
	if _, err := e.st.CreateFunction(t.Context(), pending); err != nil {
		t.Fatal(err)
	}
	e.close()

	e2 := newEnv(t, dir, nil)
	waitFor(t, "recovered Active", func() bool {
		c, err := e2.svc.GetFunctionConfiguration(t.Context(), "r", "")
		return err == nil && c.State == lambda.StateActive && c.RevisionId != "rev-1"
	})
}

func TestListPagination(t *testing.T) {
	e := newEnv(t, t.TempDir(), nil)
	ctx := t.Context()
	z := zipOf(t, map[string]string{"a": "b"})
	for i := range 7 {
		if _, err := e.svc.CreateFunction(ctx, createInput(fmt.Sprintf("fn-%02d", i), z)); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	marker := ""
	for pages := 0; ; pages++ {
		out, err := e.svc.ListFunctions(ctx, ListFunctionsInput{Marker: marker, MaxItems: "3"})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Functions {
			names = append(names, f.FunctionName)
			if f.State != "" || f.RuntimeVersionConfig != nil {
				t.Fatalf("list item carries state fields: %+v", f)
			}
		}
		if out.NextMarker == "" {
			if pages != 2 {
				t.Fatalf("pages = %d, want 3", pages+1)
			}
			break
		}
		marker = out.NextMarker
	}
	if fmt.Sprint(names) != "[fn-00 fn-01 fn-02 fn-03 fn-04 fn-05 fn-06]" {
		t.Fatalf("names = %v", names)
	}
	_, err := e.svc.ListFunctions(ctx, ListFunctionsInput{FunctionVersion: "invalid"})
	wantErr(t, err, lambda.ErrTypeValidation, "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: Member must satisfy enum value set: [ALL]")
	acc, err := e.svc.GetAccountSettings(ctx)
	if err != nil || acc.AccountUsage.FunctionCount != 7 || acc.AccountLimit.ConcurrentExecutions != 1000 {
		t.Fatalf("GetAccountSettings = %+v, %v", acc, err)
	}
}

func TestConcurrentUpdatesOneWins(t *testing.T) {
	e := newEnv(t, t.TempDir(), func(string) error { return nil })
	ctx := t.Context()
	if _, err := e.svc.CreateFunction(ctx, createInput("cc", zipOf(t, map[string]string{"a": "b"}))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Active", func() bool {
		c, _ := e.svc.GetFunctionConfiguration(ctx, "cc", "")
		return c.State == lambda.StateActive && c.LastUpdateStatus == lambda.UpdateSuccessful
	})
	var wg sync.WaitGroup
	results := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			_, err := e.svc.UpdateFunctionConfiguration(ctx, &UpdateFunctionConfigurationInput{FunctionName: "cc", Description: ptr(fmt.Sprint(i))})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
			continue
		}
		var le *lambda.Error
		if !errors.As(err, &le) || le.Type != lambda.ErrTypeResourceConflict {
			t.Fatalf("concurrent update err = %v", err)
		}
	}
	// Whether the others were refused depends on timing relative to the
	// provisioning goroutine; at least one must have won and none is lost
	// silently (every success is a distinct InProgress transition).
	if ok < 1 {
		t.Fatal("no concurrent update succeeded")
	}
}

func TestCollectCode(t *testing.T) {
	dir := t.TempDir()
	bb, err := backbone.Open(t.Context(), backbone.Options{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
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
	zipA, zipB := zipOf(t, map[string]string{"a": "1"}), zipOf(t, map[string]string{"a": "2"})
	if _, err := svc.CreateFunction(ctx, createInput("gc", zipA)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Active", func() bool {
		c, _ := svc.GetFunctionConfiguration(ctx, "gc", "")
		return c.State == lambda.StateActive && c.LastUpdateStatus == lambda.UpdateSuccessful
	})
	if _, err := svc.UpdateFunctionCode(ctx, &UpdateFunctionCodeInput{FunctionName: "gc", ZipFile: zipB}); err != nil {
		t.Fatal(err)
	}
	shaA, shaB := store.CodeSha256(zipA), store.CodeSha256(zipB)
	sweep := func() int {
		n, err := svc.CollectCode(ctx)
		if err != nil {
			t.Fatalf("CollectCode: %v", err)
		}
		return n
	}
	if n := sweep(); n != 0 { // A is only marked
		t.Fatalf("first sweep deleted %d", n)
	}
	if n := sweep(); n != 0 { // within the grace period
		t.Fatalf("sweep within grace deleted %d", n)
	}
	advance(2 * time.Minute)
	if n := sweep(); n != 1 {
		t.Fatalf("sweep after grace deleted %d, want 1", n)
	}
	if _, err := st.Code(ctx, shaA); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old code still stored: %v", err)
	}
	if _, err := st.Code(ctx, shaB); err != nil {
		t.Fatalf("referenced code deleted: %v", err)
	}
}

// TestCloseLeavesNoGoroutines checks that Close stops provisioning and the
// code collector, and the backbone shuts down completely.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	block := make(chan struct{})
	e := newEnv(t, t.TempDir(), func(string) error { <-block; return nil })
	if _, err := e.svc.CreateFunction(t.Context(), createInput("leak", zipOf(t, map[string]string{"a": "b"}))); err != nil {
		t.Fatal(err)
	}
	close(block)
	e.close()
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= base })
}
