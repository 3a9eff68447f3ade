package async

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

const (
	testRegion  = "us-east-1"
	testAccount = "123456789012"
)

// handlerFunc is a fake function body.
type handlerFunc func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error)

// fakeRunner is the Runner seam: named functions with hand-written bodies.
type fakeRunner struct {
	mu    sync.Mutex
	fns   map[string]handlerFunc
	state map[string]string
	rc    map[string]int           // reserved concurrency
	calls map[string][]invoke.Call // by function
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{fns: map[string]handlerFunc{}, state: map[string]string{}, rc: map[string]int{}, calls: map[string][]invoke.Call{}}
}

func (r *fakeRunner) set(name string, h handlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fns[name] = h
}

func (r *fakeRunner) Resolve(ctx context.Context, name, qualifier string) (*invoke.Target, error) {
	ref, err := lambda.ParseFunctionName(name, true)
	if err != nil {
		return nil, err
	}
	if qualifier == "" {
		qualifier = ref.Qualifier
	}
	r.mu.Lock()
	_, ok := r.fns[ref.Name]
	state := r.state[ref.Name]
	rc, hasRC := r.rc[ref.Name]
	r.mu.Unlock()
	if !ok {
		return nil, lambda.FunctionNotFound(lambda.QualifiedFunctionARN(testRegion, testAccount, ref.Name, qualifier))
	}
	if state == "" {
		state = lambda.StateActive
	}
	t := &invoke.Target{
		Config:     lambda.FunctionConfiguration{FunctionName: ref.Name, Version: lambda.VersionLatest, State: state},
		InvokedARN: lambda.QualifiedFunctionARN(testRegion, testAccount, ref.Name, qualifier),
	}
	if hasRC {
		t.ReservedConcurrency = &rc
	}
	return t, nil
}

func (r *fakeRunner) Run(ctx context.Context, t *invoke.Target, c *invoke.Call) (*invoke.Outcome, error) {
	r.mu.Lock()
	h := r.fns[t.Config.FunctionName]
	r.calls[t.Config.FunctionName] = append(r.calls[t.Config.FunctionName], *c)
	r.mu.Unlock()
	return h(ctx, c)
}

func (r *fakeRunner) callsOf(name string) []invoke.Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]invoke.Call(nil), r.calls[name]...)
}

// fakeConfigs is the ConfigSource seam.
type fakeConfigs struct {
	mu  sync.Mutex
	cfg map[string]*EventInvokeConfig // function + "\x00" + qualifier
	dlt map[string]string
}

func newFakeConfigs() *fakeConfigs {
	return &fakeConfigs{cfg: map[string]*EventInvokeConfig{}, dlt: map[string]string{}}
}

func (f *fakeConfigs) put(function, qualifier string, c *EventInvokeConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg[function+"\x00"+qualifier] = c
}

func (f *fakeConfigs) EventInvokeConfig(ctx context.Context, function, qualifier string) (*EventInvokeConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cfg[function+"\x00"+qualifier], nil
}

func (f *fakeConfigs) DeadLetterTarget(ctx context.Context, function string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dlt[function], nil
}

// openJS opens the real backbone (embedded NATS, SyncAlways) on dir.
func openJS(t testing.TB, dir string) jetstream.JetStream {
	t.Helper()
	bb, err := backbone.Open(context.Background(), backbone.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bb.Close() })
	return bb.JetStream()
}

type env struct {
	js      jetstream.JetStream
	runner  *fakeRunner
	configs *fakeConfigs
	svc     *Service
}

// newEnv starts a Service with short test delays; mod adjusts Deps.
func newEnv(t testing.TB, mod func(*Deps)) *env {
	t.Helper()
	e := &env{js: openJS(t, t.TempDir()), runner: newFakeRunner(), configs: newFakeConfigs()}
	d := Deps{
		JS: e.js, Runner: e.runner, Configs: e.configs, Region: testRegion, AccountID: testAccount,
		RetryDelays: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond},
		Workers:     4, AckWait: 5 * time.Second,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
	if tt, ok := t.(*testing.T); ok {
		d.Logger = slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if mod != nil {
		mod(&d)
	}
	svc, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Close(ctx)
	})
	return e
}

// newRequestID returns a lower-case UUID as AWS's request ids.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (e *env) enqueue(t testing.TB, fn, payload string) string {
	t.Helper()
	rid := newRequestID()
	res, err := e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{
		FunctionName: fn, InvocationType: lambda.InvocationEvent, Payload: []byte(payload), RequestID: rid,
	})
	if err != nil {
		t.Fatalf("Enqueue(%s) = %v", fn, err)
	}
	if res.StatusCode != 202 {
		t.Fatalf("Enqueue(%s) status = %d, want 202", fn, res.StatusCode)
	}
	return rid
}

// waitFor polls cond every few milliseconds until it holds or the deadline
// passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tk := time.NewTicker(5 * time.Millisecond)
	defer tk.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tk.C
	}
}

func ok(payload string) handlerFunc {
	return func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		return &invoke.Outcome{Payload: []byte(payload), Alive: true}, nil
	}
}

const pyError = `{"errorMessage":"intentional failure","errorType":"Exception","requestId":"%s","stackTrace":["  File \"/var/task/handler.py\", line 7, in handler\n    raise Exception(\"intentional failure\")\n"]}`

func failing() handlerFunc {
	return func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		return &invoke.Outcome{Payload: fmt.Appendf(nil, pyError, c.RequestID), FunctionError: lambda.FunctionErrorUnhandled, Alive: true}, nil
	}
}

// recorder is a destination function that keeps every event it receives.
func recorder(ch chan<- []byte) handlerFunc {
	return func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		ch <- append([]byte(nil), c.Payload...)
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	}
}

func intp(n int) *int { return &n }
