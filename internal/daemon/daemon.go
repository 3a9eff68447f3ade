// Package daemon is lambdad serve's composition root: it builds every
// subsystem from a config.Config, starts them in order (backbone, store,
// runtimes, sandbox, code cache, logs, invoker, control plane, HTTP API),
// undoes a partial start-up on failure, and stops them in reverse order.
//
// It is the only package that wires concrete implementations together.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/lambdad/lambdad/internal/api"
	"github.com/lambdad/lambdad/internal/async"
	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/codecache"
	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/environment"
	"github.com/lambdad/lambdad/internal/extapi"
	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/logstore"
	"github.com/lambdad/lambdad/internal/runtimes"
	"github.com/lambdad/lambdad/internal/sandbox"
	"github.com/lambdad/lambdad/internal/store"
)

// Daemon is a running lambdad server.
type Daemon struct {
	cfg config.Config
	log *slog.Logger

	bb       *backbone.Backbone
	store    *store.Store
	registry *runtimes.Registry
	runner   sandbox.Runner
	code     *codecache.Cache
	logs     *logstore.Store
	invoker  *invoke.Invoker
	control  *control.Service
	async    *async.Service
	eic      *eventInvokeConfigs
	prov     *provisioner
	ln       net.Listener
	srv      *http.Server
	baseURL  string

	// undo holds the stop functions of started subsystems, in start order.
	undo []func()

	watchCancel context.CancelFunc
	wg          sync.WaitGroup
	serveErr    chan error
}

// Start builds and starts every subsystem and binds the API listener. On
// error everything already started is stopped again.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Daemon, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, log: log, serveErr: make(chan error, 1)}
	if err := d.start(ctx); err != nil {
		d.stopAll()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) start(ctx context.Context) (err error) {
	cfg, log := d.cfg, d.log
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	d.bb, err = backbone.Open(ctx, backbone.Options{DataDir: dataDir, URL: cfg.NATSURL, Logger: log.With("component", "backbone")})
	if err != nil {
		return err
	}
	d.push(func() { d.bb.Close() })

	d.store, err = store.New(ctx, d.bb.JetStream())
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}

	d.registry, err = runtimes.NewRegistry(cfg.Runtimes, filepath.Join(dataDir, "runtime"))
	if err != nil {
		return fmt.Errorf("runtimes: %w", err)
	}
	log.Info("runtimes available", "runtimes", strings.Join(d.registry.Available(), " "))
	for _, n := range d.registry.Notes() {
		log.Debug("runtime", "note", n)
	}

	d.runner, err = newRunner(cfg, dataDir, d.registry.HostPaths(), log)
	if err != nil {
		return err
	}
	d.push(func() { d.runner.Close() })

	d.code, err = codecache.New(filepath.Join(dataDir, "code"), d.store.Code)
	if err != nil {
		return err
	}

	d.logs, err = logstore.New(ctx, d.bb.Conn(), d.bb.JetStream(), logstore.Options{MaxAge: cfg.LogRetention})
	if err != nil {
		return err
	}
	// Environments closed later still write their last lines: those are
	// published at once after this flush.
	d.push(func() { d.logs.Close() })

	d.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Addr, err)
	}
	d.push(func() { d.ln.Close() })
	d.baseURL = "http://" + d.ln.Addr().String()

	// The invoker exists before the control plane so that the store's write
	// hooks can keep its cache exact from the first write on.
	res := &resolver{region: cfg.Region, account: cfg.AccountID}
	d.invoker = invoke.New(res,
		&starter{d: d}, invoke.Options{
			ConcurrencyLimit: cfg.ConcurrencyLimit,
			KeepWarm:         cfg.KeepWarm,
			MemoryBudgetMB:   cfg.MemoryBudgetMB,
			Logger:           log.With("component", "invoke"),
		})
	d.push(func() { d.invoker.Close() })
	d.eic = newEventInvokeConfigs(d.store, nil)
	d.store.SetWriteHooks(store.WriteHooks{
		Before: d.invoker.BeginChange,
		After: func(name string) {
			d.invoker.EndChange(name)
			d.eic.invalidate(name)
		},
	})
	d.control = control.New(control.Deps{
		Store:            d.store,
		Region:           cfg.Region,
		AccountID:        cfg.AccountID,
		Logger:           log.With("component", "control"),
		ConcurrencyLimit: cfg.ConcurrencyLimit,
		BaseURL:          func() string { return d.baseURL },
		CheckRuntime:     d.registry.Check,
	})
	d.push(d.control.Close)
	res.control = d.control
	d.eic.read = d.control.EventInvokeConfig

	d.async, err = async.New(ctx, async.Deps{
		JS:          d.bb.JetStream(),
		Runner:      d.invoker,
		Configs:     d.eic,
		Region:      cfg.Region,
		AccountID:   cfg.AccountID,
		RetryDelays: cfg.AsyncRetryDelays,
		QueueBytes:  cfg.AsyncQueueBytes,
		Workers:     cfg.AsyncWorkers,
		Logger:      log.With("component", "async"),
	})
	if err != nil {
		return err
	}
	d.async.Start()
	d.push(func() {
		// Hand back what cannot finish in time; it is redelivered after a
		// restart (at least once).
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.async.Close(sctx); err != nil {
			log.Warn("stop async workers", "err", err)
		}
	})

	d.prov = newProvisioner(d)
	if err := d.watch(ctx); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/lambdad/v1/", extapi.New(extapi.Deps{
		Logs:   d.logs,
		DLQ:    d.async,
		Logger: log.With("component", "extapi"),
		Capabilities: extapi.Capabilities{
			Version:   Version(),
			Isolation: d.runner.Name(),
			Runtimes:  d.registry.Available(),
			Features:  []string{"functions", "invoke", "logs", "async", "dlq", "versions", "aliases", "layers", "concurrency", "event-invoke-config", "tags"},
		},
	}))
	mux.Handle("/", api.New(api.Deps{Control: d.control, Invoker: dispatcher{sync: d.invoker, async: d.async}, Logger: log.With("component", "api")}))
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.srv.Serve(d.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.serveErr <- err
		}
	}()
	log.Info("lambdad listening", "addr", d.ln.Addr().String(), "data_dir", dataDir,
		"isolation", d.runner.Name(), "region", cfg.Region, "account", cfg.AccountID)
	return nil
}

// Version is lambdad's version: the module version stamped by the build, or
// "dev".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// newRunner picks the sandbox implementation for cfg.Isolation.
func newRunner(cfg config.Config, dataDir string, hostPaths []string, log *slog.Logger) (sandbox.Runner, error) {
	plain := func() (sandbox.Runner, error) {
		return sandbox.NewPlain(sandbox.PlainOptions{BaseDir: filepath.Join(dataDir, "envs"), CPUAffinity: cfg.FunctionCPUs == "memory", Logger: log.With("component", "sandbox")})
	}
	if cfg.Isolation == "none" {
		log.Warn("isolation disabled: functions run as plain processes with lambdad's privileges", "isolation", "none")
		return plain()
	}
	ns, err := sandbox.NewNamespaced(sandbox.NamespacedOptions{
		Prefix:        sandboxPrefix(dataDir),
		HostPaths:     hostPaths,
		EgressProxy:   cfg.FunctionNetwork == "proxy",
		SharedNetwork: cfg.FunctionNetwork == "host",
		CPUAffinity:   cfg.FunctionCPUs == "memory",
		Logger:        log.With("component", "sandbox"),
	})
	if err == nil {
		return ns, nil
	}
	if cfg.Isolation == "namespaced" {
		return nil, fmt.Errorf("isolation namespaced: %w", err)
	}
	log.Warn("namespaced isolation unavailable, running functions as plain processes", "reason", err.Error())
	return plain()
}

// sandboxPrefix derives a per-data-dir prefix so two daemons on different
// data dirs never share sandbox resources.
func sandboxPrefix(dataDir string) string {
	h := uint32(2166136261)
	for i := 0; i < len(dataDir); i++ {
		h = (h ^ uint32(dataDir[i])) * 16777619
	}
	return fmt.Sprintf("lambdad-%08x", h)
}

// watch invalidates the invoker's cache on every function change.
func (d *Daemon) watch(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.watchCancel = cancel
	changes, err := d.store.WatchFunctions(wctx)
	if err != nil {
		cancel()
		return err
	}
	d.push(func() { cancel() })
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.prov.loop(wctx)
	}()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for name := range changes {
			_, _, err := d.store.Function(wctx, name)
			d.invoker.Invalidate(name, errors.Is(err, store.ErrNotFound))
			d.eic.invalidate(name)
			d.prov.changed(name)
		}
	}()
	return nil
}

func (d *Daemon) push(f func()) { d.undo = append(d.undo, f) }

// Addr is the API's bound address (host:port).
func (d *Daemon) Addr() string { return d.ln.Addr().String() }

// URL is the API's base URL.
func (d *Daemon) URL() string { return d.baseURL }

// Invoker exposes the invoker (tests, benchmarks).
func (d *Daemon) Invoker() *invoke.Invoker { return d.invoker }

// Logs exposes the function log store.
func (d *Daemon) Logs() *logstore.Store { return d.logs }

// Isolation names the sandbox in use ("namespaced" or "none").
func (d *Daemon) Isolation() string { return d.runner.Name() }

// Wait blocks until ctx is done or the server fails.
func (d *Daemon) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-d.serveErr:
		return err
	}
}

// Stop shuts the server down: no new requests, in-flight ones finish
// within the deadline of ctx, then every subsystem stops in reverse order.
func (d *Daemon) Stop(ctx context.Context) error {
	var err error
	if d.srv != nil {
		err = d.srv.Shutdown(ctx)
		if err != nil {
			d.srv.Close()
		}
	}
	d.stopAll()
	return err
}

func (d *Daemon) stopAll() {
	for i := len(d.undo) - 1; i >= 0; i-- {
		d.undo[i]()
	}
	d.undo = nil
	d.wg.Wait()
}

// resolver adapts the control plane to invoke.Resolver.
type resolver struct {
	control         *control.Service
	region, account string
}

func (r *resolver) Resolve(ctx context.Context, name, qualifier string) (*invoke.Target, error) {
	it, err := r.control.ResolveInvokeTarget(ctx, name, qualifier)
	if err != nil {
		return nil, err
	}
	t := &invoke.Target{
		Config:              *it.Primary.Config,
		Layers:              layerShas(it.Primary.Layers),
		InvokedARN:          it.InvokedARN,
		ReservedConcurrency: it.ReservedConcurrency,
	}
	if it.Additional != nil {
		t.Additional = &invoke.Version{Config: *it.Additional.Config, Layers: layerShas(it.Additional.Layers)}
		t.AdditionalWeight = it.AdditionalWeight
	}
	return t, nil
}

func layerShas(ls []lambda.LayerCode) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.CodeSha256
	}
	return out
}

// starter cold-starts environments: code from the cache, the runtime from
// the registry, the sandbox from the runner.
type starter struct{ d *Daemon }

func (s *starter) Start(ctx context.Context, v *invoke.Version) (invoke.Env, error) {
	d := s.d
	c := &v.Config
	rt, err := d.registry.Lookup(c.Runtime)
	if err != nil {
		return nil, lambda.Conflict(fmt.Sprintf("The function could not be started: %v", err))
	}
	taskDir, err := d.code.Dir(ctx, c.CodeSha256)
	if err != nil {
		return nil, fmt.Errorf("code of %s: %w", c.FunctionName, err)
	}
	layerDirs := make([]string, len(v.Layers))
	for i, sha := range v.Layers {
		if layerDirs[i], err = d.code.Dir(ctx, sha); err != nil {
			return nil, fmt.Errorf("layer %d of %s: %w", i+1, c.FunctionName, err)
		}
	}
	cfg := environment.Config{
		LayerDirs:    layerDirs,
		InitType:     v.InitType,
		FreezeDelay:  d.cfg.FreezeDelay,
		FunctionName: c.FunctionName,
		Version:      c.Version,
		Runtime:      rt,
		Handler:      c.Handler,
		MemoryMB:     c.MemorySize,
		Timeout:      time.Duration(c.Timeout) * time.Second,
		EphemeralMB:  512,
		TaskDir:      taskDir,
		RuntimeDir:   d.registry.RuntimeDir(c.Runtime),
		Region:       d.cfg.Region,
		AccountID:    d.cfg.AccountID,
		Logs:         d.logs,
		Logger:       d.log.With("function", c.FunctionName, "version", c.Version),
	}
	if c.EphemeralStorage != nil {
		cfg.EphemeralMB = c.EphemeralStorage.Size
	}
	if c.Environment != nil {
		cfg.Env = c.Environment.Variables
	}
	if c.LoggingConfig != nil && c.LoggingConfig.LogGroup != "" {
		cfg.LogGroup = c.LoggingConfig.LogGroup
	}
	env, err := environment.Start(ctx, cfg, d.runner)
	if err != nil {
		return nil, err
	}
	return envAdapter{env}, nil
}

// envAdapter adapts an environment.Env to invoke.Env.
type envAdapter struct{ e *environment.Env }

func (a envAdapter) Invoke(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
	res, err := a.e.Invoke(ctx, environment.Invocation{
		RequestID:     c.RequestID,
		Payload:       c.Payload,
		InvokedARN:    c.InvokedARN,
		ClientContext: string(c.ClientContext),
		TraceID:       c.TraceID,
		Tail:          c.Tail,
	})
	if errors.Is(err, environment.ErrDead) {
		return nil, fmt.Errorf("%w: %v", invoke.ErrEnvDead, err)
	}
	if err != nil {
		return nil, err
	}
	return &invoke.Outcome{Payload: res.Payload, FunctionError: res.FunctionError, LogTail: res.LogTail, Alive: res.Alive}, nil
}

func (a envAdapter) Close() error { return a.e.Close() }
