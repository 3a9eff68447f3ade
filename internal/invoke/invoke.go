// Package invoke runs invocations: it resolves a FunctionName and qualifier
// to a function version (from a cache that store watches invalidate, so the
// warm path makes no store round trip), hands out an idle execution
// environment of that version or cold-starts one, accounts concurrency
// against the account limit, and reaps idle environments after a keep-warm
// period or when a memory budget is exceeded (least recently used first).
//
// Pools are keyed by the function version and a digest of everything that
// shapes an environment (code, runtime, handler, memory, timeout, variables,
// layers): an update of code or configuration makes a new pool, and the old
// one retires — its idle environments close at once, busy ones when their
// invocation finishes.
//
// It imports internal/lambda only; environments are started through the
// consumer-declared Starter interface, which internal/daemon implements on
// top of internal/environment and internal/sandbox.
package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
)

// Target is a resolved invocation target: the version the qualifier names
// and, for an alias with weighted routing, a second version.
type Target struct {
	// Config is the configuration of the primary version.
	Config lambda.FunctionConfiguration
	// Layers are the CodeSha256 of the primary version's layers, in /opt
	// merge order.
	Layers []string
	// Additional is the alias' second version, which receives
	// AdditionalWeight (0..1) of the invocations; nil without routing.
	Additional       *Version
	AdditionalWeight float64
	// InvokedARN is the ARN as the caller named the function: unqualified if
	// invoked unqualified, else qualified with the caller's qualifier.
	InvokedARN string
	// ReservedConcurrency caps the function's parallel environments; nil
	// when the function has no reservation.
	ReservedConcurrency *int

	primary *Version // built once by prepare
}

// Version is one function version an invocation may run.
type Version struct {
	Config lambda.FunctionConfiguration
	Layers []string
	// InitType is AWS_LAMBDA_INITIALIZATION_TYPE of environments started
	// for it: "on-demand" ("" too) or "provisioned-concurrency".
	InitType string

	key string // pool key, computed once by prepare
}

// prepare precomputes what every invocation of t needs (the primary
// Version and the pool keys), so a cached Target costs nothing per call.
func (t *Target) prepare() {
	if t.primary == nil {
		t.primary = &Version{Config: t.Config, Layers: t.Layers}
	}
	t.primary.prepare()
	if t.Additional != nil {
		t.Additional.prepare()
	}
}

func (v *Version) prepare() {
	if v.key == "" {
		v.key = poolKey(&v.Config)
	}
}

// pick chooses the version to run: the additional one with probability
// AdditionalWeight.
func (t *Target) pick() *Version {
	if t.Additional != nil && t.AdditionalWeight > 0 && mathrand.Float64() < t.AdditionalWeight {
		return t.Additional
	}
	if t.primary == nil {
		t.prepare()
	}
	return t.primary
}

// Resolver resolves a caller's FunctionName and Qualifier. Errors are
// *lambda.Error values (ResourceNotFoundException, ValidationException...).
type Resolver interface {
	Resolve(ctx context.Context, functionName, qualifier string) (*Target, error)
}

// Call is one invocation handed to an environment.
type Call struct {
	RequestID     string
	Payload       []byte
	InvokedARN    string
	ClientContext []byte
	TraceID       string
	Tail          bool
}

// Outcome is what an environment answered.
type Outcome struct {
	// ExecutedVersion is the version that ran (X-Amz-Executed-Version).
	ExecutedVersion string
	Payload         []byte
	FunctionError   string // "" or "Unhandled"
	LogTail         []byte // last 4 KB of this invocation's log, when asked
	Alive           bool   // the environment may serve another invocation
}

// Env is one execution environment as the pools use it.
type Env interface {
	Invoke(ctx context.Context, c *Call) (*Outcome, error)
	Close() error
}

// Starter cold-starts an environment of a function version. Errors that
// are *lambda.Error reach the caller as they are; others become
// ServiceException.
type Starter interface {
	Start(ctx context.Context, v *Version) (Env, error)
}

// Options configure an Invoker.
type Options struct {
	// ConcurrencyLimit is the account's unreserved concurrency (default 1000).
	ConcurrencyLimit int
	// KeepWarm is how long an idle environment lives (default 10 min).
	KeepWarm time.Duration
	// MemoryBudgetMB caps the summed MemorySize of live environments; idle
	// ones are evicted LRU to make room (0 = unlimited).
	MemoryBudgetMB int
	Logger         *slog.Logger
}

// Invoker is the entry point of every invocation. It is safe for concurrent
// use.
type Invoker struct {
	resolver Resolver
	starter  Starter
	opts     Options
	log      *slog.Logger

	cacheMu sync.RWMutex
	cache   map[cacheKey]*Target
	// writing counts in-flight writes per function; gen is bumped by every
	// write and invalidation, so a resolution read before a write is never
	// cached after it (see BeginChange).
	writing map[string]int
	gen     uint64

	// mu guards pools, current, memoryMB and closed. Lock order: Invoker.mu
	// before pool.mu.
	mu       sync.Mutex
	pools    map[string]*pool // by pool key
	current  map[string]string
	memoryMB int
	closed   bool

	inflight atomic.Int64 // busy environments across the account
	reserved sync.Map     // function name -> *atomic.Int64 busy count

	stop chan struct{}
	wg   sync.WaitGroup
}

type cacheKey struct{ name, qualifier string }

// New returns an Invoker and starts its reaper; Close stops it.
func New(resolver Resolver, starter Starter, opts Options) *Invoker {
	if opts.ConcurrencyLimit <= 0 {
		opts.ConcurrencyLimit = 1000
	}
	if opts.KeepWarm <= 0 {
		opts.KeepWarm = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	iv := &Invoker{
		resolver: resolver,
		starter:  starter,
		opts:     opts,
		log:      opts.Logger,
		cache:    make(map[cacheKey]*Target),
		writing:  make(map[string]int),
		pools:    make(map[string]*pool),
		current:  make(map[string]string),
		stop:     make(chan struct{}),
	}
	iv.wg.Add(1)
	go iv.reapLoop()
	return iv
}

// BeginChange and EndChange bracket a write of function name's records in
// this process (the store's write hooks): cached resolutions are dropped
// and none is cached while the write is in flight or from a read that began
// before it. Together they guarantee that once a caller has seen a write's
// result, invocations run what it wrote.
func (iv *Invoker) BeginChange(name string) {
	iv.cacheMu.Lock()
	iv.writing[name]++
	iv.gen++
	iv.dropLocked(name)
	iv.cacheMu.Unlock()
}

// EndChange ends a write begun with BeginChange.
func (iv *Invoker) EndChange(name string) {
	iv.cacheMu.Lock()
	if iv.writing[name] <= 1 {
		delete(iv.writing, name)
	} else {
		iv.writing[name]--
	}
	iv.gen++
	iv.dropLocked(name)
	iv.cacheMu.Unlock()
}

// dropLocked forgets cached resolutions of name; cacheMu is held.
func (iv *Invoker) dropLocked(name string) {
	for k, t := range iv.cache {
		if t.Config.FunctionName == name || k.name == name {
			delete(iv.cache, k)
		}
	}
}

// Invalidate forgets cached resolutions of the function name; deleted also
// retires every pool of the function. Call it from a store watch (writes by
// other processes) — in-process writes use BeginChange/EndChange.
func (iv *Invoker) Invalidate(name string, deleted bool) {
	iv.cacheMu.Lock()
	iv.dropLocked(name)
	iv.gen++
	iv.cacheMu.Unlock()
	if !deleted {
		return
	}
	iv.mu.Lock()
	var retired []*pool
	for key, p := range iv.pools {
		if p.function == name {
			delete(iv.pools, key)
			retired = append(retired, p)
		}
	}
	for v, key := range iv.current {
		if iv.pools[key] == nil {
			delete(iv.current, v)
		}
	}
	iv.mu.Unlock()
	for _, p := range retired {
		iv.retire(p)
	}
}

// Resolve returns the cached resolution of name and qualifier, asking the
// Resolver on a miss.
func (iv *Invoker) Resolve(ctx context.Context, name, qualifier string) (*Target, error) {
	k := cacheKey{name, qualifier}
	iv.cacheMu.RLock()
	t := iv.cache[k]
	gen := iv.gen
	iv.cacheMu.RUnlock()
	if t != nil {
		return t, nil
	}
	t, err := iv.resolver.Resolve(ctx, name, qualifier)
	if err != nil {
		return nil, err
	}
	t.prepare()
	// Only settled versions are cached: a Pending function flips to Active
	// shortly, and the watch may fire before this store read returns.
	if t.Config.State == lambda.StateActive && t.Config.LastUpdateStatus != lambda.UpdateInProgress {
		fn := t.Config.FunctionName
		iv.cacheMu.Lock()
		if iv.gen == gen && iv.writing[name] == 0 && iv.writing[fn] == 0 {
			iv.cache[k] = t
		}
		iv.cacheMu.Unlock()
	}
	return t, nil
}

// Invoke runs one synchronous invocation (or validates a DryRun).
// Function errors are results (FunctionError "Unhandled"), not Go errors;
// the returned error is a *lambda.Error for the API to render.
func (iv *Invoker) Invoke(ctx context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	t, err := iv.Resolve(ctx, req.FunctionName, req.Qualifier)
	if err != nil {
		return nil, err
	}
	if err := lambda.Invocable(&t.Config); err != nil {
		return nil, err
	}
	switch req.InvocationType {
	case "DryRun":
		return &lambda.InvokeResult{StatusCode: 204, ExecutedVersion: t.Config.Version}, nil
	case "", "RequestResponse":
	default:
		return nil, lambda.InvalidParameter("Unsupported invocation type %s", req.InvocationType)
	}
	out, err := iv.Run(ctx, t, &Call{
		RequestID:     req.RequestID,
		Payload:       req.Payload,
		InvokedARN:    t.InvokedARN,
		ClientContext: req.ClientContext,
		TraceID:       NewTraceID(),
		Tail:          req.LogType == "Tail",
	})
	if err != nil {
		return nil, err
	}
	res := &lambda.InvokeResult{
		StatusCode:      200,
		Payload:         out.Payload,
		FunctionError:   out.FunctionError,
		ExecutedVersion: out.ExecutedVersion,
	}
	if req.LogType == "Tail" {
		res.LogResult = base64.StdEncoding.EncodeToString(out.LogTail)
	}
	return res, nil
}

// Run executes call on an environment of t, cold-starting one if none is
// idle. It is the path shared by synchronous and asynchronous invocations.
func (iv *Invoker) Run(ctx context.Context, t *Target, call *Call) (*Outcome, error) {
	v := t.pick()
	p, err := iv.pool(v)
	if err != nil {
		return nil, err
	}
	if err := iv.admit(t); err != nil {
		return nil, err
	}
	defer iv.leave(t)
	for attempt := 0; ; attempt++ {
		e, err := p.acquire(ctx, iv, v)
		if err != nil {
			return nil, err
		}
		out, err := e.env.Invoke(ctx, call)
		alive := err == nil && out.Alive
		p.release(iv, e, alive)
		if errors.Is(err, ErrEnvDead) && attempt == 0 {
			// An idle environment died before taking the event (its
			// process exited while frozen or idle): use another one.
			continue
		}
		if err != nil {
			return nil, lambda.ServiceError("invoke: " + err.Error())
		}
		out.ExecutedVersion = v.Config.Version
		return out, nil
	}
}

// ErrEnvDead is returned by Env.Invoke when the environment was already
// dead and did not take the event; Run then retries on a fresh one.
var ErrEnvDead = errors.New("execution environment is dead")

// admit accounts one busy environment against the function's reservation
// and the account's unreserved pool, or throttles.
func (iv *Invoker) admit(t *Target) error {
	if t.ReservedConcurrency != nil {
		c, _ := iv.reserved.LoadOrStore(t.Config.FunctionName, new(atomic.Int64))
		n := c.(*atomic.Int64)
		if n.Add(1) > int64(*t.ReservedConcurrency) {
			n.Add(-1)
			return lambda.TooManyRequests("ReservedFunctionConcurrentInvocationLimitExceeded", lambda.MsgRateExceeded, 0)
		}
		return nil
	}
	if iv.inflight.Add(1) > int64(iv.opts.ConcurrencyLimit) {
		iv.inflight.Add(-1)
		return lambda.TooManyRequests("ConcurrentInvocationLimitExceeded", lambda.MsgRateExceeded, 0)
	}
	return nil
}

func (iv *Invoker) leave(t *Target) {
	if t.ReservedConcurrency != nil {
		if c, ok := iv.reserved.Load(t.Config.FunctionName); ok {
			c.(*atomic.Int64).Add(-1)
		}
		return
	}
	iv.inflight.Add(-1)
}

// Busy reports the number of environments currently serving an invocation
// from the unreserved pool.
func (iv *Invoker) Busy() int { return int(iv.inflight.Load()) }

// pool returns the live pool of version v, creating it and retiring a
// stale one of the same version.
func (iv *Invoker) pool(v *Version) (*pool, error) {
	v.prepare()
	key := v.key
	version := v.Config.FunctionName + ":" + v.Config.Version
	iv.mu.Lock()
	if iv.closed {
		iv.mu.Unlock()
		return nil, lambda.ServiceError("lambdad is shutting down")
	}
	p := iv.pools[key]
	var stale *pool
	if p == nil {
		p = &pool{key: key, function: v.Config.FunctionName, memoryMB: v.Config.MemorySize}
		iv.pools[key] = p
		if old := iv.current[version]; old != "" && old != key {
			stale = iv.pools[old]
			delete(iv.pools, old)
		}
		iv.current[version] = key
	}
	if stale != nil {
		// Closing the old configuration's idle environments is not the
		// caller's business: do it beside the invocation.
		iv.wg.Add(1)
		go func() {
			defer iv.wg.Done()
			iv.retire(stale)
		}()
	}
	iv.mu.Unlock()
	return p, nil
}

// retire closes a pool's idle environments now; busy ones close on release.
func (iv *Invoker) retire(p *pool) {
	p.mu.Lock()
	p.retired = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, e := range idle {
		iv.closeEnv(p, e)
	}
}

func (iv *Invoker) closeEnv(p *pool, e *slot) {
	iv.mu.Lock()
	iv.memoryMB -= p.memoryMB
	iv.mu.Unlock()
	p.mu.Lock()
	p.live--
	if e.pinned {
		p.pinned--
	}
	p.mu.Unlock()
	if err := e.env.Close(); err != nil {
		iv.log.Warn("close environment", "err", err)
	}
}

// reserveMemory accounts a new environment of mb against the budget,
// evicting least recently used idle environments to make room.
func (iv *Invoker) reserveMemory(mb int) {
	for {
		iv.mu.Lock()
		if iv.opts.MemoryBudgetMB <= 0 || iv.memoryMB+mb <= iv.opts.MemoryBudgetMB {
			iv.memoryMB += mb
			iv.mu.Unlock()
			return
		}
		var victimPool *pool
		var victim *slot
		for _, p := range iv.pools {
			p.mu.Lock()
			// idle is ordered oldest first; provisioned ones stay.
			for _, e := range p.idle {
				if e.pinned {
					continue
				}
				if victim == nil || e.lastUsed.Before(victim.lastUsed) {
					victim, victimPool = e, p
				}
				break
			}
			p.mu.Unlock()
		}
		if victim == nil {
			// Nothing idle to evict: busy environments cannot be taken, so
			// the budget is exceeded rather than the invocation refused.
			iv.memoryMB += mb
			iv.mu.Unlock()
			iv.log.Warn("memory budget exceeded", "budget_mb", iv.opts.MemoryBudgetMB, "used_mb", iv.memoryMB)
			return
		}
		iv.mu.Unlock()
		if victimPool.take(victim) {
			iv.log.Debug("evict environment", "function", victimPool.function, "reason", "memory budget")
			iv.closeEnv(victimPool, victim)
		}
	}
}

func (iv *Invoker) reapLoop() {
	defer iv.wg.Done()
	every := iv.opts.KeepWarm / 4
	if every > 30*time.Second {
		every = 30 * time.Second
	}
	if every < 10*time.Millisecond {
		every = 10 * time.Millisecond
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-iv.stop:
			return
		case now := <-tk.C:
			iv.Reap(now)
		}
	}
}

// Reap closes environments idle since before now minus the keep-warm period.
func (iv *Invoker) Reap(now time.Time) {
	cutoff := now.Add(-iv.opts.KeepWarm)
	iv.mu.Lock()
	pools := make([]*pool, 0, len(iv.pools))
	for _, p := range iv.pools {
		pools = append(pools, p)
	}
	iv.mu.Unlock()
	for _, p := range pools {
		p.mu.Lock()
		var old []*slot
		keep := p.idle[:0]
		for _, e := range p.idle {
			if !e.pinned && e.lastUsed.Before(cutoff) {
				old = append(old, e)
			} else {
				keep = append(keep, e)
			}
		}
		p.idle = keep
		p.mu.Unlock()
		for _, e := range old {
			iv.log.Debug("reap environment", "function", p.function)
			iv.closeEnv(p, e)
		}
	}
}

// Provision keeps n initialised environments of version v ahead of
// traffic (provisioned concurrency): it starts the missing ones with
// AWS_LAMBDA_INITIALIZATION_TYPE provisioned-concurrency and waits for their
// INIT; they are used like any idle environment but never reaped or
// evicted. A smaller n releases the surplus to normal reaping.
func (iv *Invoker) Provision(ctx context.Context, v *Version, n int) error {
	p, err := iv.pool(v)
	if err != nil {
		return err
	}
	pv := *v
	pv.InitType = "provisioned-concurrency"
	for {
		p.mu.Lock()
		if p.pinned >= n || p.retired {
			// Release the surplus (idle ones now; busy ones keep their pin
			// until a later Provision call finds them idle).
			for _, e := range p.idle {
				if p.pinned <= n {
					break
				}
				if e.pinned {
					e.pinned = false
					p.pinned--
				}
			}
			p.mu.Unlock()
			return nil
		}
		p.live++
		p.pinned++
		p.mu.Unlock()
		iv.reserveMemory(p.memoryMB)
		env, err := iv.starter.Start(ctx, &pv)
		if err != nil {
			iv.mu.Lock()
			iv.memoryMB -= p.memoryMB
			iv.mu.Unlock()
			p.mu.Lock()
			p.live--
			p.pinned--
			p.mu.Unlock()
			return fmt.Errorf("provision %s:%s: %w", v.Config.FunctionName, v.Config.Version, err)
		}
		p.release(iv, &slot{env: env, pinned: true}, true)
	}
}

// Stats are counts of environments, for tests and the console.
type Stats struct {
	Live, Idle, Provisioned int
	MemoryMB                int
}

// Stats reports environment counts for one function ("" = all).
func (iv *Invoker) Stats(function string) Stats {
	var s Stats
	iv.mu.Lock()
	defer iv.mu.Unlock()
	for _, p := range iv.pools {
		if function != "" && p.function != function {
			continue
		}
		p.mu.Lock()
		s.Live += p.live
		s.Idle += len(p.idle)
		s.Provisioned += p.pinned
		s.MemoryMB += p.live * p.memoryMB
		p.mu.Unlock()
	}
	return s
}

// Close stops the reaper and closes every environment; in-flight
// invocations finish first with their environments closed on release.
func (iv *Invoker) Close() error {
	iv.mu.Lock()
	if iv.closed {
		iv.mu.Unlock()
		return nil
	}
	iv.closed = true
	pools := iv.pools
	iv.pools = map[string]*pool{}
	iv.mu.Unlock()
	close(iv.stop)
	iv.wg.Wait()
	for _, p := range pools {
		iv.retire(p)
	}
	return nil
}

// pool holds the environments of one function version configuration.
type pool struct {
	key      string
	function string
	memoryMB int

	mu      sync.Mutex
	idle    []*slot // oldest first; handed out newest first (warmest)
	live    int     // started and not yet closed
	pinned  int     // provisioned environments among live
	retired bool
}

type slot struct {
	env      Env
	lastUsed time.Time
	pinned   bool // provisioned: never reaped or evicted
}

// take removes e from the idle list; false if someone else took it.
func (p *pool) take(e *slot) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == e {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

func (p *pool) acquire(ctx context.Context, iv *Invoker, v *Version) (*slot, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		e := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return e, nil
	}
	p.live++
	p.mu.Unlock()
	iv.reserveMemory(p.memoryMB)
	env, err := iv.starter.Start(context.WithoutCancel(ctx), v)
	if err != nil {
		iv.mu.Lock()
		iv.memoryMB -= p.memoryMB
		iv.mu.Unlock()
		p.mu.Lock()
		p.live--
		p.mu.Unlock()
		var le *lambda.Error
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, lambda.ServiceError(fmt.Sprintf("start environment: %v", err))
	}
	return &slot{env: env}, nil
}

func (p *pool) release(iv *Invoker, e *slot, alive bool) {
	p.mu.Lock()
	if alive && !p.retired {
		e.lastUsed = time.Now()
		p.idle = append(p.idle, e)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	iv.closeEnv(p, e)
}

// poolKey identifies everything that shapes an environment of a version.
func poolKey(c *lambda.FunctionConfiguration) string {
	shape := struct {
		Sha, Runtime, Handler string
		Mem, Timeout          int
		Env                   *lambda.Environment
		Layers                []lambda.Layer
		Ephemeral             *lambda.EphemeralStorage
		Arch                  []string
		Logging               *lambda.LoggingConfig
	}{c.CodeSha256, c.Runtime, c.Handler, c.MemorySize, c.Timeout, c.Environment, c.Layers, c.EphemeralStorage, c.Architectures, c.LoggingConfig}
	b, _ := json.Marshal(shape)
	sum := sha256.Sum256(b)
	return c.FunctionName + ":" + c.Version + ":" + hex.EncodeToString(sum[:8])
}

// NewTraceID returns an X-Ray trace header for an untraced invocation
// (Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0).
func NewTraceID() string {
	// Trace ids need uniqueness, not secrecy: the runtime's fast generator
	// spares a getrandom call per invocation.
	var rnd [24]byte
	for i := 0; i < len(rnd); i += 8 {
		binary.LittleEndian.PutUint64(rnd[i:], mathrand.Uint64())
	}
	b := make([]byte, 0, 72)
	b = append(b, "Root=1-"...)
	b = fmt.Appendf(b, "%08x", time.Now().Unix())
	b = append(b, '-')
	b = hex.AppendEncode(b, rnd[:12])
	b = append(b, ";Parent="...)
	b = hex.AppendEncode(b, rnd[12:20])
	b = append(b, ";Sampled=0"...)
	return string(b)
}
