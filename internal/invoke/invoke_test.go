package invoke

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
)

// fakeEnv is a hand-made environment: it echoes the payload and can be told
// to block until released, to die, or to fail.
type fakeEnv struct {
	initType string
	id       int
	closed   atomic.Bool
	gate     chan struct{} // if non-nil, Invoke waits on it
	dies     bool
}

func (e *fakeEnv) Invoke(ctx context.Context, c *Call) (*Outcome, error) {
	if e.gate != nil {
		<-e.gate
	}
	return &Outcome{Payload: c.Payload, Alive: !e.dies, LogTail: []byte("tail")}, nil
}

func (e *fakeEnv) Close() error { e.closed.Store(true); return nil }

type fakeStarter struct {
	mu      sync.Mutex
	started []*fakeEnv
	gate    chan struct{}
	dies    bool
	err     error
}

func (s *fakeStarter) Start(ctx context.Context, v *Version) (Env, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	e := &fakeEnv{id: len(s.started), gate: s.gate, dies: s.dies, initType: v.InitType}
	s.started = append(s.started, e)
	return e, nil
}

func (s *fakeStarter) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.started) }

type fakeResolver struct {
	mu    sync.Mutex
	cfg   lambda.FunctionConfiguration
	calls int
}

func (r *fakeResolver) Resolve(ctx context.Context, name, q string) (*Target, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if name != r.cfg.FunctionName {
		return nil, lambda.FunctionNotFound(name)
	}
	return &Target{Config: r.cfg, InvokedARN: "arn:aws:lambda:us-east-1:000000000000:function:" + name}, nil
}

func (r *fakeResolver) set(f func(c *lambda.FunctionConfiguration)) {
	r.mu.Lock()
	f(&r.cfg)
	r.mu.Unlock()
}

func newFixture(t *testing.T, opts Options) (*Invoker, *fakeResolver, *fakeStarter) {
	t.Helper()
	r := &fakeResolver{cfg: lambda.FunctionConfiguration{FunctionName: "f", Version: "$LATEST", State: lambda.StateActive, LastUpdateStatus: lambda.UpdateSuccessful, MemorySize: 128, CodeSha256: "a"}}
	s := &fakeStarter{}
	iv := New(r, s, opts)
	t.Cleanup(func() { iv.Close() })
	return iv, r, s
}

func req(payload string) *lambda.InvokeRequest {
	return &lambda.InvokeRequest{FunctionName: "f", InvocationType: "RequestResponse", Payload: []byte(payload), RequestID: "r"}
}

func TestWarmReuseAndCache(t *testing.T) {
	iv, r, s := newFixture(t, Options{})
	for i := 0; i < 5; i++ {
		res, err := iv.Invoke(context.Background(), req(`{"i":1}`))
		if err != nil {
			t.Fatalf("Invoke: %v", err)
		}
		if string(res.Payload) != `{"i":1}` || res.StatusCode != 200 || res.ExecutedVersion != "$LATEST" {
			t.Fatalf("Invoke = %+v", res)
		}
	}
	if got := s.count(); got != 1 {
		t.Errorf("environments started = %d, want 1 (warm reuse)", got)
	}
	if r.calls != 1 {
		t.Errorf("resolver calls = %d, want 1 (cached)", r.calls)
	}
	iv.Invalidate("f", false)
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	if r.calls != 2 {
		t.Errorf("resolver calls after invalidate = %d, want 2", r.calls)
	}
}

func TestTailIsBase64(t *testing.T) {
	iv, _, _ := newFixture(t, Options{})
	rq := req(`{}`)
	rq.LogType = "Tail"
	res, err := iv.Invoke(context.Background(), rq)
	if err != nil {
		t.Fatal(err)
	}
	if res.LogResult != "dGFpbA==" {
		t.Errorf("LogResult = %q, want base64 of the tail", res.LogResult)
	}
}

func TestParallelInvokesGetOwnEnvironmentsAndThrottle(t *testing.T) {
	iv, _, s := newFixture(t, Options{ConcurrencyLimit: 3})
	s.gate = make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := iv.Invoke(context.Background(), req(`{}`))
			errs <- err
		}()
	}
	waitFor(t, func() bool { return iv.Busy() == 3 && s.count() == 3 })
	_, err := iv.Invoke(context.Background(), req(`{}`))
	var le *lambda.Error
	if !errors.As(err, &le) || le.Type != lambda.ErrTypeTooManyRequests || le.Reason != "ConcurrentInvocationLimitExceeded" || le.Status != 429 {
		t.Fatalf("4th parallel Invoke error = %v, want 429 ConcurrentInvocationLimitExceeded", err)
	}
	close(s.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Invoke: %v", err)
		}
	}
	if st := iv.Stats("f"); st.Idle != 3 || st.Live != 3 {
		t.Errorf("Stats = %+v, want 3 idle of 3 live", st)
	}
}

func TestReservedConcurrency(t *testing.T) {
	iv, r, s := newFixture(t, Options{})
	zero := 0
	r2 := &reservedResolver{fakeResolver: r, n: &zero}
	iv.resolver = r2
	_, err := iv.Invoke(context.Background(), req(`{}`))
	var le *lambda.Error
	if !errors.As(err, &le) || le.Reason != "ReservedFunctionConcurrentInvocationLimitExceeded" {
		t.Fatalf("Invoke with reserved 0 = %v, want ReservedFunctionConcurrentInvocationLimitExceeded", err)
	}
	if s.count() != 0 {
		t.Errorf("started %d environments for a throttled call", s.count())
	}
}

type reservedResolver struct {
	*fakeResolver
	n *int
}

func (r *reservedResolver) Resolve(ctx context.Context, name, q string) (*Target, error) {
	t, err := r.fakeResolver.Resolve(ctx, name, q)
	if err == nil {
		t.ReservedConcurrency = r.n
	}
	return t, err
}

func TestDeadEnvironmentIsNotReused(t *testing.T) {
	iv, _, s := newFixture(t, Options{})
	s.dies = true
	for i := 0; i < 2; i++ {
		if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if s.count() != 2 {
		t.Errorf("started = %d, want 2 (a dead env is replaced)", s.count())
	}
	for _, e := range s.started {
		if !e.closed.Load() {
			t.Errorf("env %d not closed after dying", e.id)
		}
	}
}

func TestUpdateRetiresOldPool(t *testing.T) {
	iv, r, s := newFixture(t, Options{})
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	r.set(func(c *lambda.FunctionConfiguration) { c.MemorySize = 256 })
	iv.Invalidate("f", false)
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	if s.count() != 2 {
		t.Fatalf("started = %d, want 2 (new config, new env)", s.count())
	}
	waitFor(t, func() bool { return s.started[0].closed.Load() }) // retired beside the invocation
	if st := iv.Stats("f"); st.Live != 1 || st.MemoryMB != 256 {
		t.Errorf("Stats = %+v, want 1 live env of 256 MB", st)
	}
}

func TestReapAndMemoryBudget(t *testing.T) {
	iv, _, s := newFixture(t, Options{KeepWarm: time.Hour, MemoryBudgetMB: 256})
	s.gate = make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); iv.Invoke(context.Background(), req(`{}`)) }()
	}
	waitFor(t, func() bool { return iv.Busy() == 2 })
	close(s.gate)
	wg.Wait()
	if st := iv.Stats(""); st.Idle != 2 {
		t.Fatalf("idle = %d, want 2", st.Idle)
	}
	// A third function's cold start needs 128 MB more: the LRU idle env goes.
	iv.reserveMemory(128)
	if st := iv.Stats(""); st.Idle != 1 {
		t.Errorf("idle after budget eviction = %d, want 1", st.Idle)
	}
	iv.Reap(time.Now().Add(2 * time.Hour))
	if st := iv.Stats(""); st.Idle != 0 || st.Live != 0 {
		t.Errorf("after reap Stats = %+v, want none", st)
	}
}

func TestStateChecks(t *testing.T) {
	iv, r, _ := newFixture(t, Options{})
	r.set(func(c *lambda.FunctionConfiguration) { c.State = lambda.StatePending })
	_, err := iv.Invoke(context.Background(), req(`{}`))
	var le *lambda.Error
	if !errors.As(err, &le) || le.Status != 409 {
		t.Fatalf("Invoke of Pending = %v, want 409", err)
	}
	r.set(func(c *lambda.FunctionConfiguration) {
		c.State = lambda.StateFailed
		c.StateReason = "no python3.12 here"
	})
	_, err = iv.Invoke(context.Background(), req(`{}`))
	if !errors.As(err, &le) || le.Status != 409 {
		t.Fatalf("Invoke of Failed = %v, want 409", err)
	}
	r.set(func(c *lambda.FunctionConfiguration) { c.State = lambda.StateActive })
	rq := req(`{}`)
	rq.InvocationType = "DryRun"
	res, err := iv.Invoke(context.Background(), rq)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("DryRun = %+v, %v; want 204", res, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met within 10s")
		case <-tick.C:
		}
	}
}

func TestWeightedAliasRouting(t *testing.T) {
	iv, r, _ := newFixture(t, Options{})
	r2 := &routingResolver{fakeResolver: r}
	iv.resolver = r2
	const n = 2000
	extra := 0
	for i := 0; i < n; i++ {
		res, err := iv.Invoke(context.Background(), req(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		switch res.ExecutedVersion {
		case "2":
			extra++
		case "1":
		default:
			t.Fatalf("ExecutedVersion = %q", res.ExecutedVersion)
		}
	}
	// 10% weight: the count of a binomial(2000, 0.1) lies within 200±60
	// (about 4.5 standard deviations) except with negligible probability.
	if extra < 140 || extra > 260 {
		t.Errorf("version 2 ran %d of %d times, want about 10%%", extra, n)
	}
}

type routingResolver struct{ *fakeResolver }

func (r *routingResolver) Resolve(ctx context.Context, name, q string) (*Target, error) {
	t, err := r.fakeResolver.Resolve(ctx, name, q)
	if err != nil {
		return nil, err
	}
	t.Config.Version = "1"
	v2 := t.Config
	v2.Version = "2"
	t.Additional, t.AdditionalWeight = &Version{Config: v2}, 0.1
	return t, nil
}

func TestProvisionedEnvironments(t *testing.T) {
	iv, r, s := newFixture(t, Options{KeepWarm: time.Hour})
	v := &Version{Config: r.cfg}
	if err := iv.Provision(context.Background(), v, 2); err != nil {
		t.Fatal(err)
	}
	if s.count() != 2 || s.started[0].initType != "provisioned-concurrency" {
		t.Fatalf("provisioned %d environments (init type %q), want 2 provisioned-concurrency", s.count(), s.started[0].initType)
	}
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	if s.count() != 2 {
		t.Errorf("the invocation cold-started although provisioned environments were idle")
	}
	iv.Reap(time.Now().Add(2 * time.Hour))
	if st := iv.Stats("f"); st.Live != 2 || st.Provisioned != 2 {
		t.Errorf("after reap Stats = %+v, want the 2 provisioned kept", st)
	}
	if err := iv.Provision(context.Background(), v, 0); err != nil {
		t.Fatal(err)
	}
	iv.Reap(time.Now().Add(2 * time.Hour))
	if st := iv.Stats("f"); st.Live != 0 {
		t.Errorf("after unprovision and reap Stats = %+v, want none", st)
	}
}

// A resolution read before an in-process write is never cached after it.
func TestChangeBracketsKeepCacheExact(t *testing.T) {
	iv, r, _ := newFixture(t, Options{})
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	// A write begins; the stale entry goes and nothing is cached meanwhile.
	iv.BeginChange("f")
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	calls := r.calls
	if _, err := iv.Invoke(context.Background(), req(`{}`)); err != nil {
		t.Fatal(err)
	}
	if r.calls != calls+1 {
		t.Errorf("a resolution was cached while a write was in flight")
	}
	r.set(func(c *lambda.FunctionConfiguration) { c.MemorySize = 512 })
	iv.EndChange("f")
	res, err := iv.Resolve(context.Background(), "f", "")
	if err != nil || res.Config.MemorySize != 512 {
		t.Fatalf("after the write Resolve = %+v, %v; want the written config", res, err)
	}
	// Now it is cached again.
	calls = r.calls
	iv.Resolve(context.Background(), "f", "")
	if r.calls != calls {
		t.Errorf("settled resolution not cached")
	}
}

func TestNewTraceID(t *testing.T) {
	re := regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)
	if id := NewTraceID(); !re.MatchString(id) {
		t.Errorf("NewTraceID() = %q", id)
	}
}
