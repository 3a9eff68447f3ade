package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lambdad/lambdad/internal/sandbox/sbxinit"
)

// NamespacedOptions configure [NewNamespaced].
type NamespacedOptions struct {
	// Prefix names every host resource of this daemon (cgroups under
	// <hierarchy>/<Prefix>, state under StateDir). A daemon started with the
	// same prefix sweeps the leftovers of a crashed previous one; two live
	// daemons cannot share a prefix. Default "lambdad". Lowercase letters,
	// digits, '-' and '_'.
	Prefix string
	// StateDir holds the lock file and the mount point of environment roots.
	// Default /run/<Prefix>.
	StateDir string
	// HostPaths are extra host files or directories made visible read-only
	// at the same path inside every environment, e.g. an interpreter
	// installed under /root/.pyenv/versions/3.12.1 (/root itself is mode 0700
	// on many hosts and is not visible; listing a path below it makes its
	// parents traversable inside). /usr, /etc, /bin, /sbin, /lib* are always
	// visible.
	HostPaths []string
	// UID and GID of the runtime process. Default 993 (AWS's sbx_user1051).
	UID, GID int
	// CPUQuota adds a hard CPU quota of MemoryMB/1769 vCPU (as on AWS) to the
	// proportional shares. It slows cold starts of small functions.
	CPUQuota bool
	// CPUAffinity starts each sandbox on CPUsFor(MemoryMB) of the host's
	// CPUs (Lambda's compute in proportion to memory), the least used.
	CPUAffinity bool
	// SharedNetwork keeps environments in the host's network namespace, so
	// functions have the host's outbound network. Weaker: Listen then binds
	// a host loopback port (127.0.0.1:0), reachable by every local process,
	// other environments included. Default false: private loopback only.
	SharedNetwork bool
	// EgressProxy gives functions outbound network through an HTTP proxy
	// the daemon serves inside each environment at EgressProxyAddr, with
	// HTTP_PROXY/HTTPS_PROXY set (see EgressProxyAddr's file for what can
	// and cannot be reached). Not with SharedNetwork.
	EgressProxy bool
	// Logger receives lifecycle events. Default: discard.
	Logger *slog.Logger
}

const defaultSandboxID = 993

var (
	prefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	envIDRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	// baseHostPaths are visible in every environment when they exist.
	baseHostPaths = []string{"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}
)

// ErrUnsupported reports that the namespaced sandbox cannot work on this
// host or build; the error says why.
var ErrUnsupported = errors.New("namespaced sandbox unsupported")

// Namespaced is the namespaced [Runner] (root only). It is safe for
// concurrent use. What an environment gets:
//
//   - mount, PID, IPC, UTS, cgroup and network namespaces per environment;
//   - a fresh read-only root (tmpfs) holding read-only binds of the host's
//     /usr, /etc and lib dirs plus NamespacedOptions.HostPaths — the rest of
//     the host (/root, /home, /run, /var, /work, ...) is not visible;
//   - /var/task, /var/runtime read-only binds, /opt a read-only overlay of the
//     layers (later wins), /tmp a private tmpfs of TmpMB (charged to the
//     memory limit, unlike Lambda), minimal /dev (null, zero, full, random,
//     urandom), own /proc;
//   - the runtime runs as uid/gid 993 with no capabilities (bounding set
//     empty), no_new_privs, in its own session, cwd as requested;
//   - network: only loopback. The Runtime API listener is 127.0.0.1:9001 in
//     the environment's own namespace; no other environment or host process
//     can reach it. No outbound network by default (NAT would need
//     iptables/nftables, which this runner does not program);
//     NamespacedOptions.EgressProxy adds an HTTP/CONNECT proxy inside each
//     environment (netns_proxy.go lists what it can reach), and
//     NamespacedOptions.SharedNetwork uses the host's network instead
//     (outbound works; the Runtime API is then a host loopback port that
//     other local processes can reach);
//   - cgroup v1 or v2: memory limit = MemoryMB (swap off), CPU shares/weight
//     proportional to MemoryMB (1769 MB = 1 vCPU; hard quota optional), pids
//     limit 1024, freezer, OOM detection, peak memory;
//   - PID 1 is the C init of package sbxinit (reaper, signal forwarder); the
//     daemon spawns it from one dedicated locked OS thread with Pdeathsig
//     SIGKILL, so every environment dies with the daemon. A v1-frozen
//     environment survives daemon death until the next start-up sweep.
//
// The PID-1 helper is C compiled by cgo (package sbxinit), see its doc for why.
type Namespaced struct {
	opts     NamespacedOptions
	log      *slog.Logger
	cg       *cgroupDriver
	warmer   *rcuWarmer // v1 only; nil otherwise
	lock     *os.File
	rootDir  string
	binds    []string    // host paths bound read-only at the same path
	symlinks [][2]string // top-level host symlinks recreated inside
	files    [][2]string // host file -> path inside (passwd, group)
	overlay  bool

	proxy       *egressProxy // nil without EgressProxy
	placer      *cpuPlacer   // nil: every sandbox may use every CPU
	spawn       chan func()
	wg          sync.WaitGroup
	noCloneInto atomic.Bool // clone3 CLONE_INTO_CGROUP refused (v2)

	mu     sync.Mutex
	envs   map[string]*nsEnv
	closed bool
}

var _ Runner = (*Namespaced)(nil)

// NewNamespaced checks that this host can run namespaced sandboxes (root,
// the sandbox init compiled in, namespaces, cgroup v1 or v2 controllers),
// takes the per-prefix lock, sweeps leftovers of a previous crashed run and
// returns the runner. Errors wrap [ErrUnsupported] when the host or build
// cannot do it.
func NewNamespaced(opts NamespacedOptions) (*Namespaced, error) {
	if opts.Prefix == "" {
		opts.Prefix = "lambdad"
	}
	if !prefixRE.MatchString(opts.Prefix) {
		return nil, fmt.Errorf("namespaced sandbox: invalid prefix %q", opts.Prefix)
	}
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join("/run", opts.Prefix)
	}
	if opts.UID == 0 {
		opts.UID = defaultSandboxID
	}
	if opts.GID == 0 {
		opts.GID = defaultSandboxID
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.EgressProxy && opts.SharedNetwork {
		return nil, errors.New("namespaced sandbox: EgressProxy and SharedNetwork are exclusive")
	}
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w: needs linux", ErrUnsupported)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: needs root (euid is %d)", ErrUnsupported, os.Geteuid())
	}
	if !sbxinit.Available() {
		return nil, fmt.Errorf("%w: binary built without cgo, so the sandbox init is missing", ErrUnsupported)
	}
	for _, ns := range []string{"mnt", "pid", "ipc", "uts", "net", "cgroup"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			return nil, fmt.Errorf("%w: no %s namespaces: %w", ErrUnsupported, ns, err)
		}
	}
	cg, err := detectCgroups(opts.Prefix, opts.CPUQuota)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	n := &Namespaced{
		opts:    opts,
		log:     opts.Logger,
		cg:      cg,
		rootDir: filepath.Join(opts.StateDir, "root"),
		spawn:   make(chan func()),
		envs:    map[string]*nsEnv{},
	}
	if opts.EgressProxy {
		n.proxy = newEgressProxy(n.log)
	}
	if opts.CPUAffinity {
		n.placer = newCPUPlacer()
	}
	if !cg.v2 {
		if p := cg.parents["pids"]; p != "" {
			n.warmer = newRCUWarmer(filepath.Dir(p))
		}
	}
	if fsb, err := os.ReadFile("/proc/filesystems"); err == nil {
		n.overlay = strings.Contains(string(fsb), "\toverlay\n")
	}
	if err := n.hostView(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(n.rootDir, 0o755); err != nil {
		return nil, fmt.Errorf("create sandbox state dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(opts.StateDir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sandbox lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("lock %s (another daemon uses prefix %q?): %w", lock.Name(), opts.Prefix, err)
	}
	n.lock = lock
	if err := n.identityFiles(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := n.Sweep(); err != nil {
		lock.Close()
		return nil, err
	}
	if cleaned, err := n.sweepOrphans(); err != nil {
		n.log.Warn("sweep leftovers of other daemons", "err", err)
	} else if cleaned > 0 {
		n.log.Warn("swept leftovers of crashed daemons", "prefixes", cleaned)
	}
	if err := cg.setup(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	// Pdeathsig fires when the thread that forked the sandbox exits, so every
	// sandbox is forked from this one locked thread that lives as long as the
	// runner (shared/reference/sandbox.md §5.2).
	n.wg.Go(func() {
		runtime.LockOSThread()
		for f := range n.spawn {
			f()
		}
	})
	n.log.Info("namespaced sandbox ready", "cgroup", cg.version(), "prefix", opts.Prefix, "overlay", n.overlay)
	return n, nil
}

// hostView computes which host paths environments see.
func (n *Namespaced) hostView() error {
	for _, p := range baseHostPaths {
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("read host symlink %s: %w", p, err)
			}
			n.symlinks = append(n.symlinks, [2]string{p, t})
			continue
		}
		n.binds = append(n.binds, p)
	}
	for _, p := range n.opts.HostPaths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return fmt.Errorf("namespaced sandbox: host path %q is not absolute and clean", p)
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("namespaced sandbox: host path: %w", err)
		}
		n.binds = append(n.binds, p)
	}
	return nil
}

// identityFiles writes /etc/passwd and /etc/group for inside: the host's
// entries plus the sandbox user (sbx_user1051, as on AWS), so that
// getpwuid(993) works for runtimes that look themselves up.
func (n *Namespaced) identityFiles() error {
	user := fmt.Sprintf("sbx_user1051:x:%d:%d::/tmp:/sbin/nologin\n", n.opts.UID, n.opts.GID)
	group := fmt.Sprintf("sbx_user1051:x:%d:\n", n.opts.GID)
	for _, f := range []struct{ name, add string }{{"passwd", user}, {"group", group}} {
		host, err := os.ReadFile(filepath.Join("/etc", f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read host %s: %w", f.name, err)
		}
		var keep []string
		for line := range strings.SplitSeq(string(host), "\n") {
			if line == "" || strings.HasPrefix(line, "sbx_user1051:") {
				continue
			}
			keep = append(keep, line+"\n")
		}
		p := filepath.Join(n.opts.StateDir, f.name)
		if err := os.WriteFile(p, []byte(strings.Join(keep, "")+f.add), 0o644); err != nil {
			return fmt.Errorf("write sandbox %s: %w", f.name, err)
		}
		if err := os.Chmod(p, 0o644); err != nil {
			return fmt.Errorf("write sandbox %s: %w", f.name, err)
		}
		n.files = append(n.files, [2]string{p, filepath.Join("/etc", f.name)})
	}
	return nil
}

// Name is "namespaced".
func (n *Namespaced) Name() string { return "namespaced" }

// CgroupVersion is "v1" or "v2", the cgroup API in use.
func (n *Namespaced) CgroupVersion() string { return n.cg.version() }

// Sweep kills and removes every environment left by a previous daemon with
// the same prefix: processes (including v1-frozen ones, which survive their
// daemon) and cgroups. Mounts, network namespaces and the Runtime API
// sockets need no sweep: none is bound to a host path, so they disappear
// with the last process. NewNamespaced calls it; it must not be called while
// this runner has live environments.
func (n *Namespaced) Sweep() error {
	count, err := n.cg.sweep()
	if err != nil {
		return fmt.Errorf("sweep sandboxes: %w", err)
	}
	if count > 0 {
		n.log.Warn("swept leftover sandboxes", "count", count, "prefix", n.opts.Prefix)
	}
	return nil
}

// Create prepares an environment: its cgroup and its network namespace with
// the Runtime API listener. Nothing runs until Env.Start.
func (n *Namespaced) Create(ctx context.Context, spec Spec) (Env, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	if !envIDRE.MatchString(spec.ID) {
		return nil, fmt.Errorf("create sandbox: invalid id %q", spec.ID)
	}
	if spec.MemoryMB <= 0 || spec.TmpMB <= 0 {
		return nil, fmt.Errorf("create sandbox %s: MemoryMB and TmpMB must be positive", spec.ID)
	}
	dirs := append([]string{spec.TaskDir, spec.RuntimeDir}, spec.LayerDirs...)
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) || strings.ContainsAny(d, ":,\n") {
			return nil, fmt.Errorf("create sandbox %s: directory %q must be absolute without ':' ',' or newline", spec.ID, d)
		}
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("create sandbox %s: directory %q: not a directory (%v)", spec.ID, d, err)
		}
		// The runtime runs as an unprivileged uid: the code must be world
		// readable and traversable.
		if fi.Mode().Perm()&0o005 != 0o005 {
			return nil, fmt.Errorf("create sandbox %s: directory %q has mode %v: uid %d cannot read it", spec.ID, d, fi.Mode().Perm(), n.opts.UID)
		}
	}
	if len(spec.LayerDirs) > 1 && !n.overlay {
		return nil, fmt.Errorf("create sandbox %s: %w: %d layers need overlayfs", spec.ID, ErrUnsupported, len(spec.LayerDirs))
	}

	// The id is reserved (nil entry) while the resources are prepared, and
	// the environment becomes visible to Close only once complete.
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, fmt.Errorf("create sandbox %s: runner closed", spec.ID)
	}
	if _, dup := n.envs[spec.ID]; dup {
		n.mu.Unlock()
		return nil, fmt.Errorf("create sandbox %s: id in use", spec.ID)
	}
	n.envs[spec.ID] = nil
	n.mu.Unlock()
	e, err := n.prepare(spec)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err == nil && n.closed {
		e.release()
		err = errors.New("runner closed")
	}
	if err != nil {
		delete(n.envs, spec.ID)
		return nil, fmt.Errorf("create sandbox %s: %w", spec.ID, err)
	}
	n.envs[spec.ID] = e
	return e, nil
}

// prepare creates the environment's cgroup, OOM watch and network.
func (n *Namespaced) prepare(spec Spec) (*nsEnv, error) {
	e := &nsEnv{n: n, spec: spec, done: make(chan struct{}), log: n.log.With("env_id", spec.ID)}
	// Start the grace period the v1 cgroup attach of Start will need now,
	// in parallel with the rest of the set-up (see rcuWarmer).
	n.warmer.poke()
	cg, err := n.cg.create(spec.ID, spec.MemoryMB)
	if err != nil {
		return nil, err
	}
	e.cg = cg
	if e.oom, err = cg.oomEvents(); err != nil {
		cg.remove()
		return nil, err
	}
	if n.opts.SharedNetwork {
		e.net, err = hostLoopback()
	} else {
		e.net, err = newNetns(n.proxy != nil)
	}
	if err != nil {
		if e.oom != nil {
			e.oom.Close()
		}
		cg.remove()
		return nil, err
	}
	if e.oom != nil {
		e.wg.Go(e.watchOOM)
	}
	if e.net.proxyLn != nil {
		ln := e.net.proxyLn
		e.wg.Go(func() { n.proxy.serve(ln) })
	}
	return e, nil
}

func (n *Namespaced) forget(e *nsEnv) {
	n.mu.Lock()
	if n.envs[e.spec.ID] == e {
		delete(n.envs, e.spec.ID)
	}
	n.mu.Unlock()
}

// Close destroys every live environment, removes the daemon's cgroup
// parents and releases the prefix lock.
func (n *Namespaced) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	envs := make([]*nsEnv, 0, len(n.envs))
	for _, e := range n.envs {
		if e != nil { // nil: still being created; Create undoes it
			envs = append(envs, e)
		}
	}
	n.mu.Unlock()
	var errs []error
	for _, e := range envs {
		errs = append(errs, e.Destroy())
	}
	close(n.spawn)
	n.wg.Wait()
	n.warmer.close()
	if n.proxy != nil {
		errs = append(errs, n.proxy.close())
	}
	errs = append(errs, n.cg.teardown())
	for _, f := range n.files {
		if err := os.Remove(f[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := syscall.Rmdir(n.rootDir); err != nil && !errors.Is(err, syscall.ENOENT) {
		errs = append(errs, fmt.Errorf("remove %s: %w", n.rootDir, err))
	}
	// The state dir goes too (lock file last, while still holding it).
	os.Remove(n.lock.Name())
	errs = append(errs, n.lock.Close())
	if err := os.Remove(n.opts.StateDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", n.opts.StateDir, err))
	}
	return errors.Join(errs...)
}

// nsEnv is one namespaced environment. Lock order: nsEnv.mu before
// Namespaced.mu.
type nsEnv struct {
	n    *Namespaced
	spec Spec
	log  *slog.Logger
	cg   *envCgroup
	net  *envNetns
	oom  *os.File // v1 OOM eventfd, or nil
	// oomSeen: the v1 OOM notification fired.
	oomSeen atomic.Bool
	// lastPeak is the cgroup's peak memory read just before its removal.
	lastPeak atomic.Uint64
	// hwmPeak is the largest VmHWM seen among the processes; hwmAt the unix
	// nanos of the last read.
	hwmPeak atomic.Uint64
	hwmAt   atomic.Int64
	peakAt  atomic.Int64 // unix nanos of the last cgroup peak read
	wg      sync.WaitGroup

	mu        sync.Mutex
	listened  bool
	started   bool
	destroyed bool
	proc      *os.Process // PID 1 of the sandbox (host view)
	placed    *placement  // the sandbox's CPUs; released by Destroy
	cmd       *exec.Cmd
	statusR   *os.File
	exit      Exit
	done      chan struct{}
	destroy   sync.Once
	destroyEr error
}

var _ Env = (*nsEnv)(nil)

// Paths are the AWS paths.
func (e *nsEnv) Paths() Paths {
	return Paths{TaskRoot: "/var/task", Opt: "/opt", RuntimeDir: "/var/runtime", Tmp: "/tmp"}
}

// Listen returns the Runtime API listener, bound to 127.0.0.1:9001 inside
// the environment's network namespace. Closing it is the caller's job;
// Destroy closes it too.
func (e *nsEnv) Listen() (net.Listener, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.destroyed {
		return nil, fmt.Errorf("listen in sandbox %s: destroyed", e.spec.ID)
	}
	if e.listened {
		return nil, fmt.Errorf("listen in sandbox %s: already called", e.spec.ID)
	}
	e.listened = true
	return e.net.ln, nil
}

// Start clones the sandbox init into new namespaces and the environment's
// cgroup; the init builds the filesystem view and execs the runtime. Start
// returns once the runtime has been exec'd, or the setup error.
func (e *nsEnv) Start(p Process) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.destroyed {
		return fmt.Errorf("start sandbox %s: destroyed", e.spec.ID)
	}
	if e.started {
		return fmt.Errorf("start sandbox %s: already started", e.spec.ID)
	}
	if !filepath.IsAbs(p.Path) || len(p.Args) == 0 {
		return fmt.Errorf("start sandbox %s: path %q must be absolute and args non-empty", e.spec.ID, p.Path)
	}
	e.started = true
	e.placed = e.n.placer.take(e.spec.MemoryMB)
	proc, rd, err := e.spawn(p)
	if err != nil {
		e.exit = Exit{Code: -1, Err: err}
		close(e.done)
		return err
	}
	e.proc = proc
	go e.wait(proc, rd)
	return nil
}

// spawn starts the sandbox init. On cgroup v2 the init is born in its
// cgroup (clone3 CLONE_INTO_CGROUP: no migration, no RCU grace period);
// where clone3 is refused (kernel < 5.7, or a seccomp profile such as
// Docker's default), it falls back, once and for the runner's life, to the
// v1 way: the init waits on a sync pipe until the daemon has written its pid
// to cgroup.procs.
func (e *nsEnv) spawn(p Process) (*os.Process, *bufio.Reader, error) {
	useSync := !e.n.cg.v2 || e.n.noCloneInto.Load()
	proc, rd, err := e.spawnOnce(p, useSync)
	if err != nil && !useSync && (errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EPERM)) {
		e.n.noCloneInto.Store(true)
		e.log.Warn("clone into cgroup refused, attaching via cgroup.procs", "err", err)
		return e.spawnOnce(p, true)
	}
	return proc, rd, err
}

func (e *nsEnv) spawnOnce(p Process, useSync bool) (*os.Process, *bufio.Reader, error) {
	n := e.n
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("start sandbox %s: status pipe: %w", e.spec.ID, err)
	}
	defer statusW.Close()
	args := []string{sbxinit.Argv0, "-status", "3"}
	files := []*os.File{statusW}
	var syncW *os.File
	if useSync {
		r, w, err := os.Pipe()
		if err != nil {
			statusR.Close()
			return nil, nil, fmt.Errorf("start sandbox %s: sync pipe: %w", e.spec.ID, err)
		}
		defer r.Close()
		defer w.Close()
		syncW = w
		args = append(args, "-sync", strconv.Itoa(3+len(files)))
		files = append(files, r)
	}
	if e.net.fd >= 0 {
		nfd, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(e.net.fd), syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			statusR.Close()
			return nil, nil, fmt.Errorf("start sandbox %s: dup netns: %w", e.spec.ID, errno)
		}
		netf := os.NewFile(nfd, "netns")
		defer netf.Close()
		args = append(args, "-netns", strconv.Itoa(3+len(files)))
		files = append(files, netf)
	}
	args = append(args, "-root", n.rootDir)
	for _, b := range n.binds {
		args = append(args, "-bind", b)
	}
	for _, l := range n.symlinks {
		args = append(args, "-symlink", l[0], l[1])
	}
	for _, f := range n.files {
		args = append(args, "-file", f[0], f[1])
	}
	if e.spec.TaskDir != "" {
		args = append(args, "-task", e.spec.TaskDir)
	}
	for _, l := range e.spec.LayerDirs {
		args = append(args, "-layer", l)
	}
	if e.spec.RuntimeDir != "" {
		args = append(args, "-runtime", e.spec.RuntimeDir)
	}
	hostname := e.spec.Hostname
	if hostname == "" {
		hostname = e.spec.ID
	}
	dir := p.Dir
	if dir == "" {
		dir = "/var/task"
	}
	args = append(args,
		"-tmp", strconv.Itoa(e.spec.TmpMB),
		"-hostname", hostname,
		"-uid", strconv.Itoa(n.opts.UID),
		"-gid", strconv.Itoa(n.opts.GID),
		"-cwd", dir,
		"--", p.Path)
	args = append(args, p.Args...)
	env := p.Env
	if env == nil {
		env = []string{} // never the daemon's own environment
	}
	if n.proxy != nil {
		env = withProxyEnv(slices.Clip(env))
	}
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       args,
		Env:        env,
		Stdout:     p.Stdout,
		Stderr:     p.Stderr,
		ExtraFiles: files,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC |
				syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if !useSync {
		cgf, err := e.cg.openDir()
		if err != nil {
			statusR.Close()
			return nil, nil, fmt.Errorf("start sandbox %s: %w", e.spec.ID, err)
		}
		defer cgf.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cgf.Fd())
	}
	errc := make(chan error, 1)
	n.spawn <- func() { errc <- startPlaced(e.placed, cmd.Start) }
	err = <-errc
	if err != nil {
		statusR.Close()
		return nil, nil, fmt.Errorf("start sandbox %s: %w", e.spec.ID, err)
	}
	statusW.Close()
	// cmd.Wait (in e.wait) also waits for the output-copying goroutines.
	fail := func(err error) (*os.Process, *bufio.Reader, error) {
		cmd.Process.Kill()
		cmd.Wait()
		statusR.Close()
		return nil, nil, fmt.Errorf("start sandbox %s: %w", e.spec.ID, err)
	}
	if syncW != nil {
		if err := e.cg.attach(cmd.Process.Pid); err != nil {
			return fail(err)
		}
		if _, err := syncW.Write([]byte{1}); err != nil {
			return fail(fmt.Errorf("release sandbox init: %w", err))
		}
	}
	rd := bufio.NewReader(statusR)
	line, err := rd.ReadString('\n')
	if err != nil {
		return fail(fmt.Errorf("sandbox init ended during setup: %w", err))
	}
	line = strings.TrimSuffix(line, "\n")
	if msg, ok := strings.CutPrefix(line, "err "); ok {
		return fail(errors.New(msg))
	}
	pidStr, ok := strings.CutPrefix(line, "ok ")
	if !ok {
		return fail(fmt.Errorf("sandbox init: unexpected status %q", line))
	}
	e.cmd = cmd
	e.statusR = statusR
	e.log.Debug("sandbox started", "pid", cmd.Process.Pid, "runtime_pid", pidStr)
	return cmd.Process, rd, nil
}

// wait collects the runtime's exit: the init reports the runtime's wait
// status and exits; if the init itself was killed (Destroy, SIGKILL, OOM
// group kill on v2) its own status is used.
func (e *nsEnv) wait(proc *os.Process, rd *bufio.Reader) {
	var status *syscall.WaitStatus
	if line, err := rd.ReadString('\n'); err == nil {
		if s, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "exit "); ok {
			if v, err := strconv.Atoi(s); err == nil {
				ws := syscall.WaitStatus(v)
				status = &ws
			}
		}
	}
	werr := e.cmd.Wait()
	e.statusR.Close()
	if status == nil {
		if ps := e.cmd.ProcessState; ps != nil {
			ws, _ := ps.Sys().(syscall.WaitStatus)
			status = &ws
		}
	}
	var exit Exit
	switch {
	case status == nil:
		exit = Exit{Code: -1, Err: fmt.Errorf("wait for sandbox %s: %w", e.spec.ID, werr)}
	case status.Signaled():
		exit = Exit{Code: -1, Signal: status.Signal()}
	default:
		exit = Exit{Code: status.ExitStatus()}
	}
	exit.OOMKilled = e.oomSeen.Load() || e.cg.oomKills() > 0
	e.mu.Lock()
	e.exit = exit
	e.mu.Unlock()
	close(e.done)
	e.log.Debug("sandbox exited", "exit", exit.String(), "oom", exit.OOMKilled)
}

// watchOOM gives cgroup v1 the behaviour of v2's memory.oom.group: when the
// memory limit kills any process of the environment, the whole environment
// is killed, so the runtime's exit reports OOMKilled. It returns after the
// first event, or when Destroy closes the eventfd.
func (e *nsEnv) watchOOM() {
	var b [8]byte
	if _, err := e.oom.Read(b[:]); err != nil {
		return // closed by Destroy (before the cgroup is removed)
	}
	// The notification comes when the cgroup enters OOM, before the kernel
	// counts the kill, so the event itself is the signal.
	e.oomSeen.Store(true)
	e.log.Warn("sandbox out of memory", "memory_mb", e.spec.MemoryMB)
	if err := e.cg.kill(); err != nil {
		e.log.Error("kill sandbox after oom", "err", err)
	}
}

// Signal delivers sig to PID 1 of the sandbox, which forwards catchable
// signals to the runtime. SIGKILL kills the whole environment through its
// cgroup, which also works while it is frozen (a v1-frozen task does not
// die of SIGKILL until thawed, so a plain kill would leave Done open).
// Other signals reach a frozen runtime when it is thawed.
func (e *nsEnv) Signal(sig os.Signal) error {
	e.mu.Lock()
	proc := e.proc
	e.mu.Unlock()
	if proc == nil {
		return fmt.Errorf("signal sandbox %s: not running", e.spec.ID)
	}
	if sig == os.Kill {
		if err := e.cg.kill(); err != nil {
			return fmt.Errorf("signal sandbox %s: %w", e.spec.ID, err)
		}
		return nil
	}
	if err := proc.Signal(sig); err != nil {
		return fmt.Errorf("signal sandbox %s: %w", e.spec.ID, err)
	}
	return nil
}

// Freeze freezes every process of the environment (cgroup freezer) and
// returns once all are frozen. A runtime that exits just as the environment
// freezes is reported (Done, Wait) at Thaw, Signal(SIGKILL) or Destroy,
// because its PID 1 is frozen too.
func (e *nsEnv) Freeze() error {
	if err := e.cg.freeze(); err != nil {
		return fmt.Errorf("freeze sandbox %s: %w", e.spec.ID, err)
	}
	return nil
}

// Thaw resumes a frozen environment.
func (e *nsEnv) Thaw() error {
	if err := e.cg.thaw(); err != nil {
		return fmt.Errorf("thaw sandbox %s: %w", e.spec.ID, err)
	}
	return nil
}

// Wait blocks until the runtime has exited and reports why.
func (e *nsEnv) Wait() Exit {
	<-e.done
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.exit
}

// Done is closed when the runtime has exited (or Start failed, or the
// environment was destroyed before Start).
func (e *nsEnv) Done() <-chan struct{} { return e.done }

// Stats reports the cgroup's memory high-water mark.
// The figure survives Destroy (the last reading before the cgroup went).
func (e *nsEnv) Stats() Stats {
	// The cgroup's high-water mark only grows: reading it at most every
	// 100 ms keeps a file read off most invocations at no loss but a lag.
	now := time.Now().UnixNano()
	if last := e.peakAt.Load(); now-last >= int64(plainRSSInterval) && e.peakAt.CompareAndSwap(last, now) {
		if p := e.cg.peak(); p > e.lastPeak.Load() {
			e.lastPeak.Store(p)
		}
	}
	peak := e.lastPeak.Load()
	// The cgroup charges only pages first touched inside it: file pages an
	// interpreter shares with the host page cache are missing, so its
	// figure can be far below the processes' resident sets. Complement it
	// with the largest VmHWM among the environment's processes, read at
	// most once per second (it costs a /proc read per process).
	now = time.Now().UnixNano()
	if last := e.hwmAt.Load(); now-last >= int64(plainHWMInterval) && e.hwmAt.CompareAndSwap(last, now) {
		if pids, err := e.cg.pids(); err == nil {
			for _, pid := range pids {
				if kb, ok := plainVmHWM(pid); ok && kb*1024 > e.hwmPeak.Load() {
					e.hwmPeak.Store(kb * 1024)
				}
			}
		}
	}
	if h := e.hwmPeak.Load(); h > peak {
		peak = h
	}
	return Stats{PeakMemoryBytes: peak}
}

// Pids lists the host PIDs of every process in the environment.
func (e *nsEnv) pids() ([]int, error) { return e.cg.pids() }

// Destroy kills every process in the environment's cgroup (daemonised
// descendants included), waits for the runtime's exit, and removes the
// cgroup and the daemon's references to the network namespace; the mount
// namespace and its mounts vanish with the last process. Idempotent.
func (e *nsEnv) Destroy() error {
	e.destroy.Do(func() {
		e.mu.Lock()
		e.destroyed = true
		started := e.started
		placed := e.placed
		e.placed = nil
		e.mu.Unlock()
		defer e.n.placer.release(placed)
		var errs []error
		if started {
			if err := e.cg.kill(); err != nil {
				errs = append(errs, err)
				if e.proc != nil {
					e.proc.Kill()
				}
			}
			<-e.done
		} else {
			e.mu.Lock()
			e.exit = Exit{Code: -1, Err: fmt.Errorf("sandbox %s destroyed before start", e.spec.ID)}
			e.mu.Unlock()
			close(e.done)
		}
		if err := e.release(); err != nil {
			errs = append(errs, err)
		}
		e.n.forget(e)
		if err := errors.Join(errs...); err != nil {
			e.destroyEr = fmt.Errorf("destroy sandbox %s: %w", e.spec.ID, err)
		}
	})
	return e.destroyEr
}

// release frees what prepare created; the cgroup must be empty.
func (e *nsEnv) release() error {
	var errs []error
	e.lastPeak.Store(e.cg.peak())
	if e.oom != nil {
		e.oom.Close()
	}
	if err := e.net.close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, err)
	}
	e.wg.Wait() // OOM watch, proxy serving

	if err := e.cg.remove(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
