package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// PlainOptions configure the plain-process Runner.
type PlainOptions struct {
	// BaseDir holds one directory per environment (its /tmp and merged
	// /opt). It is created if missing.
	BaseDir string
	// CPUAffinity starts each runtime on CPUsFor(MemoryMB) of the host's
	// CPUs (Lambda's compute in proportion to memory), the least used.
	CPUAffinity bool
	Logger      *slog.Logger
}

// Plain runs environments as ordinary host processes: no namespaces, no
// resource limits (MemoryMB is recorded only), the Lambda paths are real host
// directories (Paths), and the Runtime API listens on 127.0.0.1, so it is
// reachable by any local process. Each runtime runs in its own process group
// with SIGKILL as parent-death signal; Destroy kills the group. Descendants
// that leave the group (setsid) are not tracked. Freeze/Thaw send
// SIGSTOP/SIGCONT to the group. Peak memory is the runtime process's peak RSS.
type Plain struct {
	opts   PlainOptions
	placer *cpuPlacer // nil: every runtime may use every CPU

	mu     sync.Mutex
	envs   map[*plainEnv]struct{}
	closed bool
}

var _ Runner = (*Plain)(nil)

// NewPlain returns a plain-process Runner.
func NewPlain(opts PlainOptions) (*Plain, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BaseDir == "" {
		return nil, errors.New("new plain sandbox runner: empty base dir")
	}
	abs, err := filepath.Abs(opts.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("new plain sandbox runner: %w", err)
	}
	opts.BaseDir = abs
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("new plain sandbox runner: %w", err)
	}
	p := &Plain{opts: opts, envs: make(map[*plainEnv]struct{})}
	if opts.CPUAffinity {
		p.placer = newCPUPlacer()
	}
	return p, nil
}

// Name is "none".
func (p *Plain) Name() string { return "none" }

// Create prepares the environment's directories: a private tmp dir, and /opt
// as the single layer dir or a symlink farm merging several (later layers
// win).
func (p *Plain) Create(ctx context.Context, spec Spec) (Env, error) {
	if spec.ID == "" || spec.ID != filepath.Base(spec.ID) || spec.ID == "." || spec.ID == ".." {
		return nil, fmt.Errorf("create plain sandbox %q: invalid id", spec.ID)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create plain sandbox %s: %w", spec.ID, err)
	}
	dir := filepath.Join(p.opts.BaseDir, spec.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create plain sandbox %s: %w", spec.ID, err)
	}
	e := &plainEnv{runner: p, dir: dir, memoryMB: spec.MemoryMB, done: make(chan struct{}), logger: p.opts.Logger.With("env_id", spec.ID)}
	fail := func(err error) (Env, error) {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create plain sandbox %s: %w", spec.ID, err)
	}
	e.paths.TaskRoot = spec.TaskDir
	if e.paths.TaskRoot == "" {
		e.paths.TaskRoot = filepath.Join(dir, "task")
		if err := os.Mkdir(e.paths.TaskRoot, 0o755); err != nil {
			return fail(err)
		}
	}
	e.paths.RuntimeDir = spec.RuntimeDir
	if e.paths.RuntimeDir == "" {
		e.paths.RuntimeDir = filepath.Join(dir, "runtime")
		if err := os.Mkdir(e.paths.RuntimeDir, 0o755); err != nil {
			return fail(err)
		}
	}
	e.paths.Tmp = filepath.Join(dir, "tmp")
	if err := os.Mkdir(e.paths.Tmp, 0o777); err != nil {
		return fail(err)
	}
	switch len(spec.LayerDirs) {
	case 1:
		e.paths.Opt = spec.LayerDirs[0]
	default:
		e.paths.Opt = filepath.Join(dir, "opt")
		if err := os.Mkdir(e.paths.Opt, 0o755); err != nil {
			return fail(err)
		}
		for _, l := range spec.LayerDirs {
			if err := plainLinkTree(l, e.paths.Opt); err != nil {
				return fail(err)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create plain sandbox %s: runner closed", spec.ID)
	}
	p.envs[e] = struct{}{}
	return e, nil
}

// plainLinkTree mirrors src into dst as directories and symlinks, replacing
// entries an earlier layer created.
func plainLinkTree(src, dst string) error {
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
				if err := os.Remove(target); err != nil {
					return err
				}
			}
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			return nil
		}
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		return os.Symlink(path, target)
	})
}

// Close destroys every live environment.
func (p *Plain) Close() error {
	p.mu.Lock()
	p.closed = true
	envs := make([]*plainEnv, 0, len(p.envs))
	for e := range p.envs {
		envs = append(envs, e)
	}
	p.mu.Unlock()
	var errs []error
	for _, e := range envs {
		errs = append(errs, e.Destroy())
	}
	return errors.Join(errs...)
}

type plainEnv struct {
	runner *Plain
	dir    string
	paths  Paths
	logger *slog.Logger

	memoryMB int

	mu        sync.Mutex
	ln        net.Listener
	cmd       *exec.Cmd
	placed    *placement // the runtime's CPUs; released by Destroy
	started   bool
	destroyed bool

	done    chan struct{}
	exit    Exit
	peakKB  atomic.Uint64
	hwmAt   atomic.Int64 // unix nanos of the last VmHWM read
	rssAt   atomic.Int64 // unix nanos of the last statm read
	destroy sync.Once
	derr    error
}

func (e *plainEnv) Paths() Paths { return e.paths }

func (e *plainEnv) Listen() (net.Listener, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ln != nil {
		return nil, errors.New("listen: already listening")
	}
	if e.destroyed {
		return nil, errors.New("listen: environment destroyed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	e.ln = ln
	return ln, nil
}

func (e *plainEnv) Start(p Process) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return errors.New("start runtime: already started")
	}
	if e.destroyed {
		return errors.New("start runtime: environment destroyed")
	}
	e.started = true
	cmd := &exec.Cmd{
		Path:   p.Path,
		Args:   p.Args,
		Env:    p.Env,
		Dir:    p.Dir,
		Stdout: p.Stdout,
		Stderr: p.Stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
		// Bounds Wait when a descendant keeps a non-file Stdout open.
		WaitDelay: 100 * time.Millisecond,
	}
	e.placed = e.runner.placer.take(e.memoryMB)
	if err := startPlaced(e.placed, cmd.Start); err != nil {
		e.exit = Exit{Code: -1, Err: err}
		close(e.done)
		return fmt.Errorf("start runtime: %w", err)
	}
	e.cmd = cmd
	go e.wait(cmd)
	return nil
}

func (e *plainEnv) wait(cmd *exec.Cmd) {
	err := cmd.Wait()
	ex := Exit{Code: -1}
	if st := cmd.ProcessState; st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				ex.Signal = ws.Signal()
			case ws.Exited():
				ex.Code = ws.ExitStatus()
			}
		}
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > 0 {
			e.notePeak(uint64(ru.Maxrss))
		}
	} else if err != nil {
		ex.Err = err
	}
	e.exit = ex
	close(e.done)
}

func (e *plainEnv) notePeak(kb uint64) {
	for {
		old := e.peakKB.Load()
		if kb <= old || e.peakKB.CompareAndSwap(old, kb) {
			return
		}
	}
}

func (e *plainEnv) pid() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cmd == nil || e.cmd.Process == nil {
		return 0
	}
	return e.cmd.Process.Pid
}

func (e *plainEnv) Signal(sig os.Signal) error {
	pid := e.pid()
	if pid == 0 {
		return errors.New("signal runtime: not started")
	}
	select {
	case <-e.done:
		return os.ErrProcessDone
	default:
	}
	if err := e.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("signal runtime: %w", err)
	}
	return nil
}

// group signals the runtime's process group; a group that no longer exists
// is not an error.
func (e *plainEnv) group(sig syscall.Signal) error {
	pid := e.pid()
	if pid == 0 {
		return nil
	}
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

func (e *plainEnv) Freeze() error {
	if err := e.group(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("freeze: %w", err)
	}
	return nil
}

func (e *plainEnv) Thaw() error {
	if err := e.group(syscall.SIGCONT); err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	return nil
}

func (e *plainEnv) Wait() Exit {
	<-e.done
	return e.exit
}

func (e *plainEnv) Done() <-chan struct{} { return e.done }

// plainHWMInterval bounds how often Stats reads the costly
// /proc/<pid>/status; in between it samples the cheap current RSS.
const plainHWMInterval = time.Second

// plainRSSInterval bounds the current-RSS samples in between (a /proc read
// per invocation costs more than the rest of the warm path's bookkeeping).
const plainRSSInterval = 100 * time.Millisecond

// Stats reports the peak RSS of the runtime process (VmHWM while it runs,
// read at most once per second and complemented by the current RSS in
// between; ru_maxrss after it exited).
func (e *plainEnv) Stats() Stats {
	select {
	case <-e.done:
	default:
		if pid := e.pid(); pid != 0 {
			now := time.Now().UnixNano()
			if last := e.hwmAt.Load(); now-last >= int64(plainHWMInterval) && e.hwmAt.CompareAndSwap(last, now) {
				if kb, ok := plainVmHWM(pid); ok {
					e.notePeak(kb)
				}
			} else if last := e.rssAt.Load(); now-last >= int64(plainRSSInterval) && e.rssAt.CompareAndSwap(last, now) {
				if kb, ok := plainRSS(pid); ok {
					e.notePeak(kb)
				}
			}
		}
	}
	return Stats{PeakMemoryBytes: e.peakKB.Load() * 1024}
}

var plainPageKB = uint64(os.Getpagesize() / 1024)

// plainRSS is the current resident set of pid in kB (/proc/<pid>/statm).
func plainRSS(pid int) (uint64, bool) {
	var buf [128]byte
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, false
	}
	n, _ := f.Read(buf[:])
	f.Close()
	fields := bytes.Fields(buf[:n])
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(string(fields[1]), 10, 64)
	return pages * plainPageKB, err == nil
}

func plainVmHWM(pid int) (uint64, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))
			n, err := strconv.ParseUint(string(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// Destroy kills the process group, waits for the runtime to be reaped,
// closes the listener and removes the environment's directory.
func (e *plainEnv) Destroy() error {
	e.destroy.Do(func() {
		e.mu.Lock()
		e.destroyed = true
		started := e.cmd != nil
		ln := e.ln
		placed := e.placed
		e.placed = nil
		e.mu.Unlock()
		defer e.runner.placer.release(placed)
		var errs []error
		if started {
			if err := e.group(syscall.SIGKILL); err != nil {
				errs = append(errs, fmt.Errorf("kill: %w", err))
			}
			<-e.done
			// The leader may have exited before its group; kill stragglers.
			_ = e.group(syscall.SIGKILL)
		}
		if ln != nil {
			_ = ln.Close()
		}
		if err := os.RemoveAll(e.dir); err != nil {
			errs = append(errs, err)
		}
		e.runner.mu.Lock()
		delete(e.runner.envs, e)
		e.runner.mu.Unlock()
		if err := errors.Join(errs...); err != nil {
			e.derr = fmt.Errorf("destroy plain sandbox: %w", err)
		}
	})
	return e.derr
}
