// Package environment runs one Lambda execution environment: a sandbox with
// the function's runtime process, its Runtime API server, its log stream, and
// the state machine that delivers one invocation at a time and turns what the
// runtime does (answers, crashes, overruns) into AWS's results (SPEC §2).
//
//	Start ──► INIT (runtime launched; ready at its first /next, ≤ InitTimeout,
//	  │        after which INIT continues inside the first invoke)
//	  ▼
//	IDLE (frozen) ──Invoke──► INVOKE (thawed; event handed to /next) ──► IDLE
//	                              │ response/error then the runtime's next /next
//	                              │ timeout, runtime exit, init failure
//	                              ▼
//	                           DEAD (sandbox destroyed; Alive() false)
//	Close: SHUTDOWN from any state (SIGKILL, no extensions), then DEAD.
//
// It imports the standard library and internal/{sandbox,runtimes,runtimeapi,logs}.
package environment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/runtimeapi"
	"github.com/lambdad/lambdad/internal/runtimes"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// DefaultInitTimeout is AWS's INIT limit for on-demand environments.
const DefaultInitTimeout = 10 * time.Second

// ErrDead is returned by Invoke on an environment that timed out, crashed,
// failed INIT or was closed; the caller should start another one.
var ErrDead = errors.New("execution environment is dead")

// Credentials are given to the runtime as AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// LogValue redacts the secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Config describes the function version an environment runs.
type Config struct {
	FunctionName string
	Version      string // executed version: "$LATEST" or "N"
	Runtime      runtimes.Runtime
	Handler      string
	MemoryMB     int
	Timeout      time.Duration // per-invocation limit
	EphemeralMB  int           // /tmp size
	Env          map[string]string
	TaskDir      string   // host dir of the unpacked code (read-only, shared)
	LayerDirs    []string // host dirs of unpacked layers, in order
	RuntimeDir   string   // host dir of a managed runtime's files, or ""
	Region       string
	AccountID    string
	InitType     string // AWS_LAMBDA_INITIALIZATION_TYPE; default "on-demand"
	LogGroup     string // default /aws/lambda/<FunctionName>
	Credentials  Credentials
	// InitTimeout bounds how long Start waits for INIT; default 10 s.
	InitTimeout time.Duration
	// FreezeDelay defers freezing an idle environment: an invocation that
	// arrives within it finds the environment still running and saves the
	// freeze/thaw pair (a few hundred µs). 0 freezes as soon as the runtime
	// is back in /next, as AWS does.
	FreezeDelay time.Duration
	Logs        logs.Sink
	Logger      *slog.Logger
}

// Invocation is one synchronous invoke.
type Invocation struct {
	RequestID       string // lower-case UUID; generated when empty
	Payload         []byte // the event, exactly as the runtime receives it
	InvokedARN      string // the ARN as invoked; the unqualified ARN when empty
	ClientContext   string // decoded client context JSON, or ""
	CognitoIdentity string // JSON, or ""
	TraceID         string // X-Ray header; generated when empty
	TenantID        string // tenant isolation id, or ""
	Tail            bool   // collect the log tail
}

// Result is the outcome of one invocation. A failing function is a result,
// not a Go error.
type Result struct {
	Payload []byte
	// FunctionError is "Unhandled" when Payload is an error, else "".
	FunctionError string
	// ErrorType is the error type for logs and metrics: the platform's
	// (Sandbox.Timedout, Runtime.ExitError, ...) or the runtime's
	// Lambda-Runtime-Function-Error-Type header; "" on success.
	ErrorType string
	LogTail   []byte // last 4096 bytes of START…REPORT when Tail
	// Duration is the REPORT duration (event hand-off to the runtime's next
	// /next, or to the failure); for a success answered without Tail it is
	// the time to the answer, since Invoke returns before the runtime is
	// back in /next.
	Duration        time.Duration
	InitDuration    time.Duration // on the first invoke of a cold environment
	MaxMemoryUsedMB int
	// Alive reports whether the environment can serve another invocation.
	// For a success answered without Tail it is a prediction: a runtime
	// that dies before its next /next makes the next Invoke return ErrDead.
	Alive bool
}

// Env is one execution environment. Invoke and Close are safe for concurrent
// use; invocations are serialised.
type Env struct {
	cfg    Config
	id     string
	logger *slog.Logger
	sbx    sandbox.Env
	api    *runtimeapi.Server
	logcap *logs.Capture
	stream string
	arn    string

	serveDone chan struct{}
	started   time.Time
	// sem is held by the goroutine driving the environment: Start, then one
	// invocation at a time (possibly finishing detached after its caller
	// left), then teardown.
	sem chan struct{}

	// Guarded by sem.
	ready      bool
	frozen     bool
	initDur    time.Duration
	reportInit bool
	initFail   *failure

	// detached is an invocation answered early (Invoke has returned) that
	// completes when the runtime is back in /next (the Runtime API's hook
	// finishes it on the runtime's own request: no goroutine of its own),
	// exits (exitWatch) or overruns its deadline (an AfterFunc). Whoever
	// takes it from dmu finishes it.
	dmu      sync.Mutex
	detached *call
	// events are the Runtime API's events the hook did not consume; sent
	// under dmu, so detach finds any that came before it.
	events chan runtimeapi.Event

	dead     atomic.Bool
	closing  atomic.Bool
	teardown sync.Once
}

// failure is a platform error to report (message without the RequestId
// prefix) or a runtime-posted body to pass through.
type failure struct {
	errType string
	message string // platform message; "" when body is set
	body    []byte // runtime init/error body, verbatim
}

// ID is the environment's id (also its sandbox id).
func (e *Env) ID() string { return e.id }

// LogStream is the environment's log stream name.
func (e *Env) LogStream() string { return e.stream }

// Alive reports whether the environment can serve invocations.
func (e *Env) Alive() bool { return !e.dead.Load() }

// Start creates an environment with runner and launches the runtime: it binds
// the Runtime API listener first, computes the Lambda variables, starts the
// runtime and waits up to InitTimeout for its first /next. A runtime that
// fails INIT (missing bootstrap, init/error, exit) still yields an Env: its
// first Invoke reports the failure as AWS does. Errors are platform faults
// (sandbox creation, unavailable runtime, ctx done).
func Start(ctx context.Context, cfg Config, runner sandbox.Runner) (*Env, error) {
	if cfg.Runtime == nil {
		return nil, errors.New("start environment: no runtime")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.InitType == "" {
		cfg.InitType = "on-demand"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second // Lambda's default
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.LogGroup == "" {
		cfg.LogGroup = logs.GroupName(cfg.FunctionName)
	}
	if cfg.Logs == nil {
		cfg.Logs = discardSink{}
	}
	if cfg.Credentials == (Credentials{}) {
		cfg.Credentials = Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "lambdad"}
	}
	id := randomHex(8)
	now := time.Now()
	e := &Env{
		cfg:       cfg,
		id:        id,
		logger:    cfg.Logger.With("function", cfg.FunctionName, "version", cfg.Version, "env_id", id),
		stream:    logs.StreamName(now, cfg.Version),
		arn:       "arn:aws:lambda:" + cfg.Region + ":" + cfg.AccountID + ":function:" + cfg.FunctionName,
		serveDone: make(chan struct{}),
		sem:       make(chan struct{}, 1),
		events:    make(chan runtimeapi.Event, 16),
	}
	e.sem <- struct{}{}
	defer func() { <-e.sem }()

	sbx, err := runner.Create(ctx, sandbox.Spec{
		ID: id, TaskDir: cfg.TaskDir, LayerDirs: cfg.LayerDirs, RuntimeDir: cfg.RuntimeDir,
		TmpMB: cfg.EphemeralMB, MemoryMB: cfg.MemoryMB, Hostname: hostname(id),
	})
	if err != nil {
		return nil, fmt.Errorf("start environment %s: %w", id, err)
	}
	e.sbx = sbx
	fail := func(err error) (*Env, error) {
		e.dead.Store(true)
		e.shutdown()
		return nil, fmt.Errorf("start environment %s: %w", id, err)
	}
	e.logcap, err = logs.NewCapture(cfg.Logs, cfg.LogGroup, e.stream)
	if err != nil {
		return fail(err)
	}
	ln, err := sbx.Listen()
	if err != nil {
		return fail(err)
	}
	e.api = runtimeapi.New(e.logger)
	e.api.SetHook(e.onRuntimeEvent)
	go func() {
		defer close(e.serveDone)
		if err := e.api.Serve(ln); err != nil {
			e.logger.Debug("runtime api stopped", "err", err)
		}
	}()

	paths := sbx.Paths()
	launch, err := cfg.Runtime.Launch(cfg.Handler, paths, cfg.TaskDir, cfg.LayerDirs)
	if errors.Is(err, runtimes.ErrInvalidEntrypoint) {
		e.initFail = &failure{errType: errInvalidEntrypoint, message: strings.TrimPrefix(err.Error(), runtimes.ErrInvalidEntrypoint.Error()+": ")}
		e.logger.Warn("invalid entrypoint", "err", err)
		return e, nil
	}
	if err != nil {
		return fail(fmt.Errorf("launch runtime %s: %w", cfg.Runtime.ID(), err))
	}
	// Managed runtimes honour AWS_LAMBDA_EXEC_WRAPPER, as on AWS.
	if w := cfg.Env["AWS_LAMBDA_EXEC_WRAPPER"]; w != "" && launch.Env["AWS_EXECUTION_ENV"] != "" {
		launch = runtimes.ExecWrapper(launch, w)
	}
	env := lambdaVars(varsInput{
		cfg: &e.cfg, paths: paths, runtimeAPI: ln.Addr().String(),
		logGroup: cfg.LogGroup, logStream: e.stream, runtimeEnv: launch.Env,
	})
	e.started = time.Now()
	err = sbx.Start(sandbox.Process{
		Path: launch.Path, Args: launch.Args, Env: env, Dir: paths.TaskRoot,
		Stdout: e.logcap.Output(), Stderr: e.logcap.Output(),
	})
	if err != nil {
		// Exec failures (not executable, wrong format) are the function's
		// fault: Runtime.InvalidEntrypoint with the exec error's text.
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Error()
		}
		e.initFail = &failure{errType: errInvalidEntrypoint, message: msg}
		e.logger.Warn("runtime start failed", "err", err)
		return e, nil
	}
	e.logger.Info("cold start")
	go e.exitWatch()

	t := time.NewTimer(cfg.InitTimeout)
	defer t.Stop()
	c := &call{phase: phInit}
	for c.phase == phInit && !e.ready {
		select {
		case ev := <-e.events:
			e.onInitEvent(c, ev)
		case <-sbx.Done():
			e.onInitExit(c)
		case <-t.C:
			// Suppressed init: INIT goes on inside the first invoke.
			e.logger.Warn("init exceeded limit; continuing in first invoke", "limit", cfg.InitTimeout)
			return e, nil
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	if e.ready {
		e.idle()
	}
	return e, nil
}

// idle freezes the environment now, or after FreezeDelay unless an
// invocation takes it first. The caller holds sem.
func (e *Env) idle() {
	if e.cfg.FreezeDelay <= 0 {
		e.freezeLocked()
		return
	}
	time.AfterFunc(e.cfg.FreezeDelay, func() {
		select {
		case e.sem <- struct{}{}:
		default:
			return // an invocation holds it: it is not idle
		}
		if !e.dead.Load() && !e.closing.Load() {
			e.freezeLocked()
		}
		<-e.sem
	})
}

// freezeLocked freezes the sandbox; the caller holds sem.
func (e *Env) freezeLocked() {
	if e.frozen {
		return
	}
	if err := e.sbx.Freeze(); err != nil {
		e.logger.Error("freeze environment", "err", err)
		return
	}
	e.frozen = true
}

// Invoke delivers one invocation and waits for its outcome. If ctx ends
// first, Invoke returns ctx's error at once; the invocation continues in the
// background up to its deadline, its result is discarded, and the environment
// stays usable (the next Invoke waits for it). A dead environment returns
// ErrDead.
func (e *Env) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", e.id, ctx.Err())
	}
	if e.dead.Load() || e.closing.Load() {
		<-e.sem
		return Result{}, fmt.Errorf("invoke %s: %w", e.id, ErrDead)
	}
	if err := ctx.Err(); err != nil {
		<-e.sem
		return Result{}, fmt.Errorf("invoke %s: %w", e.id, err)
	}
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if inv.InvokedARN == "" {
		inv.InvokedARN = e.arn
	}
	if inv.TraceID == "" {
		inv.TraceID = newTraceID()
	}
	c := &call{inv: inv, start: time.Now(), phase: phInit}
	c.deadline = c.start.Add(e.cfg.Timeout)
	c.timer = time.NewTimer(e.cfg.Timeout)
	e.logcap.BeginTail()
	e.logcap.PlatformLater(logs.StartLine(inv.RequestID, e.cfg.Version))
	if e.initFail != nil {
		e.fail(c, e.initFail)
		e.complete(c)
		return c.res, nil
	}
	if e.frozen {
		if err := e.sbx.Thaw(); err != nil {
			e.logger.Error("thaw environment", "err", err)
		}
		e.frozen = false
	}
	switch e.run(c, ctx.Done(), !inv.Tail) {
	case runCancelled:
		go func() {
			e.run(c, nil, false)
			e.complete(c)
			e.logger.Debug("abandoned invocation finished", "request_id", inv.RequestID)
		}()
		return Result{}, fmt.Errorf("invoke %s: %w", e.id, ctx.Err())
	case runAnswered:
		// Answer the caller now; END/REPORT and the freeze follow when the
		// runtime is back in /next. The next Invoke waits for that.
		res := c.res
		res.Duration = time.Since(c.handoff)
		res.MaxMemoryUsedMB = peakMB(e.sbx.Stats())
		res.Alive = true
		e.detach(c)
		return res, nil
	}
	e.complete(c)
	return c.res, nil
}

// detach hands c, answered, to whichever of the runtime's next /next, its
// exit or the deadline comes first (see Env.detached).
func (e *Env) detach(c *call) {
	c.timer.Stop()
	e.dmu.Lock()
	e.detached = c
	c.deadlineFn = time.AfterFunc(time.Until(c.deadline), func() {
		if e.take(c) {
			e.onTimeout(c)
			e.complete(c)
		}
	})
	e.dmu.Unlock()
	// Something the run loop has not seen may have come before detached
	// was set: the runtime's /next (sent on Events, not to the hook) or
	// its exit. Finish c the undetached way then.
	finish := func() {
		c.timer.Reset(time.Until(c.deadline))
		go func() {
			e.run(c, nil, false)
			e.complete(c)
		}()
	}
	select {
	case ev := <-e.events:
		if e.take(c) {
			e.onEvent(c, ev)
			finish()
		}
	case <-e.sbx.Done():
		if e.take(c) {
			finish() // run sees the exit
		}
	default:
	}
}

// take removes c from detached; false when another path took it first.
func (e *Env) take(c *call) bool {
	e.dmu.Lock()
	defer e.dmu.Unlock()
	if e.detached != c {
		return false
	}
	e.detached = nil
	c.deadlineFn.Stop()
	return true
}

// onRuntimeEvent is the Runtime API hook: the runtime's /next after an
// early answer completes the detached invocation right here; every other
// event goes to the loop driving the environment.
func (e *Env) onRuntimeEvent(ev runtimeapi.Event) bool {
	e.dmu.Lock()
	if c := e.detached; c != nil && ev.Kind == runtimeapi.EventDone && ev.RequestID == c.inv.RequestID {
		e.detached = nil
		c.deadlineFn.Stop()
		e.dmu.Unlock()
		e.onEvent(c, ev)
		e.complete(c)
		return true
	}
	defer e.dmu.Unlock()
	select {
	case e.events <- ev:
	default:
		// At most three events (ready, answer, done) are outstanding per
		// invocation; a full buffer means nobody drives this environment.
		e.logger.Error("runtime event dropped", "event", ev.Kind.String(), "request_id", ev.RequestID)
	}
	return true
}

// exitWatch finishes a detached invocation whose runtime exits (a
// Runtime.ExitError after an answer, or Close). An invocation the run loop
// drives sees the exit there.
func (e *Env) exitWatch() {
	<-e.sbx.Done()
	e.dmu.Lock()
	c := e.detached
	e.dmu.Unlock()
	if c != nil && e.take(c) {
		e.onExit(c)
		e.complete(c)
	}
}

type phase uint8

const (
	phInit     phase = iota // waiting for the runtime's first /next
	phRunning               // event delivered, no answer yet
	phAnswered              // answered, waiting for the runtime's next /next
	phDone
)

// call is the state of one invocation.
type call struct {
	inv      Invocation
	start    time.Time
	handoff  time.Time
	deadline time.Time
	timer    *time.Timer
	// deadlineFn replaces timer once the call is detached.
	deadlineFn *time.Timer
	phase      phase
	res        Result
}

type runResult uint8

const (
	runDone      runResult = iota // c is done
	runCancelled                  // the caller left
	runAnswered                   // a success answer arrived (early only)
)

// run drives c until it is done, cancel fires, or (when early) the runtime
// answered successfully.
func (e *Env) run(c *call, cancel <-chan struct{}, early bool) runResult {
	for {
		switch c.phase {
		case phInit:
			if e.ready {
				e.deliver(c)
				continue
			}
		case phAnswered:
			if early && c.res.FunctionError == "" {
				return runAnswered
			}
		case phDone:
			return runDone
		}
		select {
		case ev := <-e.events:
			switch c.phase {
			case phInit:
				e.onInitEvent(c, ev)
			default:
				e.onEvent(c, ev)
			}
		case <-e.sbx.Done():
			if c.phase == phInit {
				e.onInitExit(c)
			} else {
				e.onExit(c)
			}
		case <-c.timer.C:
			e.onTimeout(c)
		case <-cancel:
			return runCancelled
		}
	}
}

func (e *Env) deliver(c *call) {
	c.handoff = time.Now()
	if e.reportInit {
		c.res.InitDuration = e.initDur
		e.reportInit = false
	}
	err := e.api.Deliver(&runtimeapi.Invocation{
		RequestID: c.inv.RequestID, Payload: c.inv.Payload, Deadline: c.deadline,
		InvokedARN: c.inv.InvokedARN, TraceID: c.inv.TraceID,
		ClientContext: c.inv.ClientContext, CognitoIdentity: c.inv.CognitoIdentity, TenantID: c.inv.TenantID,
	})
	if err != nil {
		e.logger.Error("deliver invocation", "request_id", c.inv.RequestID, "err", err)
		e.fail(c, &failure{errType: errSandboxFailure, message: "Sandbox failure: " + err.Error()})
		return
	}
	c.phase = phRunning
}

func (e *Env) onInitEvent(c *call, ev runtimeapi.Event) {
	switch ev.Kind {
	case runtimeapi.EventReady:
		e.ready = true
		e.initDur = time.Since(e.started)
		// Provisioned environments initialise ahead of traffic: AWS's REPORT
		// of their first invocation carries no Init Duration.
		e.reportInit = e.cfg.InitType != "provisioned-concurrency"
	case runtimeapi.EventInitError:
		e.initFail = &failure{errType: ev.ErrorType, body: ev.Body}
		e.logger.Warn("runtime init error", "err", ev.ErrorType)
		if c.inv.RequestID != "" {
			e.fail(c, e.initFail)
		} else {
			c.phase = phDone
		}
	}
}

func (e *Env) onInitExit(c *call) {
	e.initFail = exitFailure(e.sbx.Wait())
	e.logger.Warn("runtime exited during init", "err", e.initFail.message)
	if c.inv.RequestID != "" {
		e.fail(c, e.initFail)
	} else {
		c.phase = phDone
	}
}

func (e *Env) onEvent(c *call, ev runtimeapi.Event) {
	if ev.RequestID != c.inv.RequestID {
		return
	}
	switch ev.Kind {
	case runtimeapi.EventResponse:
		if c.phase == phRunning {
			c.res.Payload = ev.Body
			c.phase = phAnswered
		}
	case runtimeapi.EventError:
		if c.phase == phRunning {
			c.res.Payload = ev.Body
			c.res.FunctionError = functionErrorUnhandled
			c.res.ErrorType = ev.ErrorType
			if c.res.ErrorType == "" {
				c.res.ErrorType = "Function.Unknown"
			}
			c.phase = phAnswered
		}
	case runtimeapi.EventTooLarge:
		if c.phase == phRunning {
			c.res.Payload = mustJSON(tooLargeBody{ErrorMessage: msgResponseTooLarge, ErrorType: errResponseSizeTooLarge})
			c.res.FunctionError = functionErrorUnhandled
			c.res.ErrorType = errResponseSizeTooLarge
			c.phase = phAnswered
		}
	case runtimeapi.EventDone:
		c.res.Duration = time.Since(c.handoff)
		c.res.Alive = true
		c.phase = phDone
	}
}

func (e *Env) onExit(c *call) {
	ex := e.sbx.Wait()
	if e.closing.Load() {
		e.logger.Debug("runtime killed by close", "request_id", c.inv.RequestID)
	} else {
		e.logger.Warn("runtime exited", "request_id", c.inv.RequestID, "err", ex.String())
	}
	if c.phase == phAnswered {
		// Answered, then died (aws-lambda-go exits after a panic): the
		// answer stands; the environment is gone.
		c.res.Duration = time.Since(c.handoff)
		c.res.Alive = false
		c.phase = phDone
		e.dead.Store(true)
		return
	}
	e.fail(c, exitFailure(ex))
}

func (e *Env) onTimeout(c *call) {
	elapsed := time.Since(c.handoffOrStart())
	e.logger.Warn("invocation timed out", "request_id", c.inv.RequestID, "duration", elapsed)
	e.dead.Store(true)
	// Stop the runtime now; its late answers never reach anyone.
	if err := e.sbx.Destroy(); err != nil {
		e.logger.Error("destroy sandbox", "err", err)
	}
	e.logcap.Platform(logs.TimeoutLine(time.Now(), c.inv.RequestID, elapsed))
	if c.phase == phAnswered {
		c.res.Duration = elapsed
		c.phase = phDone
		return
	}
	e.fail(c, &failure{errType: errSandboxTimedout, message: "Task timed out after " + strconv.FormatFloat(e.cfg.Timeout.Seconds(), 'f', 2, 64) + " seconds"})
}

func (c *call) handoffOrStart() time.Time {
	if c.handoff.IsZero() {
		return c.start
	}
	return c.handoff
}

// fail ends c with f and marks the environment dead.
func (e *Env) fail(c *call, f *failure) {
	e.dead.Store(true)
	c.res.FunctionError = functionErrorUnhandled
	c.res.ErrorType = f.errType
	if f.body != nil {
		c.res.Payload = f.body
		if c.res.ErrorType == "" {
			c.res.ErrorType = errRuntimeInitError
		}
	} else {
		c.res.Payload = mustJSON(platformBody{ErrorType: f.errType, ErrorMessage: "RequestId: " + c.inv.RequestID + " Error: " + f.message})
	}
	c.res.Duration = time.Since(c.handoffOrStart())
	c.res.Alive = false
	c.phase = phDone
}

// exitFailure maps a runtime exit to AWS's error.
func exitFailure(ex sandbox.Exit) *failure {
	switch {
	case ex.OOMKilled:
		return &failure{errType: errRuntimeOutOfMemory, message: "Runtime exited with error: " + ex.String()}
	case ex.Err == nil && ex.Signal == 0 && ex.Code == 0:
		return &failure{errType: errRuntimeExitError, message: "Runtime exited without providing a reason"}
	default:
		return &failure{errType: errRuntimeExitError, message: "Runtime exited with error: " + ex.String()}
	}
}

// complete writes END and REPORT, collects the tail, freezes a live
// environment or tears down a dead one, and releases the environment.
func (e *Env) complete(c *call) {
	defer func() { <-e.sem }()
	c.timer.Stop()
	if c.res.Alive {
		// Everything the runtime printed before its /next is in the pipe.
		e.logcap.Sync(100 * time.Millisecond)
	} else {
		e.shutdownSandbox()
		e.logcap.Sync(100 * time.Millisecond)
	}
	c.res.MaxMemoryUsedMB = peakMB(e.sbx.Stats())
	e.logcap.Platform(logs.EndLine(c.inv.RequestID))
	e.logcap.Platform(logs.Report{
		RequestID: c.inv.RequestID, Duration: c.res.Duration, MemoryMB: e.cfg.MemoryMB,
		MaxMemoryUsedMB: c.res.MaxMemoryUsedMB, InitDuration: c.res.InitDuration,
	}.Line())
	tail := e.logcap.EndTail()
	if c.inv.Tail {
		c.res.LogTail = tail
	}
	if c.res.Alive {
		e.idle()
		return
	}
	e.dead.Store(true)
	e.shutdown()
}

func (e *Env) shutdownSandbox() {
	if err := e.sbx.Destroy(); err != nil {
		e.logger.Error("destroy sandbox", "err", err)
	}
}

// shutdown releases everything: sandbox, Runtime API, log capture.
func (e *Env) shutdown() {
	e.teardown.Do(func() {
		if e.sbx != nil {
			e.shutdownSandbox()
		}
		if e.api != nil {
			_ = e.api.Close()
			<-e.serveDone
		}
		if e.logcap != nil {
			_ = e.logcap.Close()
		}
		e.logger.Debug("environment destroyed")
	})
}

// Close shuts the environment down (SIGKILL: no extensions), waiting for an
// in-flight invocation to end (it reports Runtime.ExitError). Idempotent.
func (e *Env) Close() error {
	e.closing.Store(true)
	if e.sbx != nil {
		e.shutdownSandbox()
	}
	e.sem <- struct{}{}
	defer func() { <-e.sem }()
	e.dead.Store(true)
	e.shutdown()
	return nil
}

// peakMB is the peak memory in whole MB, rounded up.
func peakMB(st sandbox.Stats) int {
	return int((st.PeakMemoryBytes + (1<<20 - 1)) >> 20)
}

type platformBody struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
}

type tooLargeBody struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed string structs are marshalled
	}
	return b
}

type discardSink struct{}

func (discardSink) Write(logs.Record) {}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hostname is a Lambda-like host name derived from the environment id:
// "169.254.<a>.<b>".
func hostname(id string) string {
	b, _ := hex.DecodeString(id[:4])
	return "169.254." + strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1]))
}

// newRequestID is a lower-case UUID v4.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// newTraceID is an X-Ray header for an unsampled trace.
func newTraceID() string {
	return "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(12) + ";Parent=" + randomHex(8) + ";Sampled=0"
}
