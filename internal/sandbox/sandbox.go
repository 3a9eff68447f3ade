// Package sandbox isolates one execution environment: the process tree that
// runs a function's runtime, its filesystem view (/var/task, /opt, /tmp,
// /var/runtime), its Runtime API reachability, its resource limits and its
// freezing between invocations.
//
// Two implementations satisfy [Runner]: plain processes (any user, or
// --isolation=none) and namespaced sandboxes (root; mount, PID, IPC, UTS and
// network namespaces plus cgroups v1 or v2). The rest of lambdad does not know
// which one runs; only internal/environment and internal/invoke import this
// package.
//
// Lifecycle of an [Env]:
//
//	Runner.Create ──► Env (resources prepared, nothing running)
//	   Env.Listen    the Runtime API listener, reachable from inside only
//	   Env.Start     starts the runtime process (exactly once per Env)
//	   Env.Freeze / Env.Thaw   between / before invocations
//	   Env.Wait      the runtime's exit cause (blocks; safe to call repeatedly)
//	   Env.Destroy   kills every descendant, releases every resource (idempotent)
//
// This package imports only the standard library.
package sandbox

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Spec describes one execution environment to create.
type Spec struct {
	// ID is unique among live environments: a short lowercase token usable in
	// cgroup names, hostnames and directory names.
	ID string
	// TaskDir is the host directory holding the unpacked function code. It is
	// shared, read-only, between environments and must not be modified.
	TaskDir string
	// LayerDirs are host directories of unpacked layers, in the function's
	// order; merged at /opt with later layers winning.
	LayerDirs []string
	// RuntimeDir is the host directory of a managed runtime's bootstrap files
	// (seen as /var/runtime), or "" for provided.* runtimes.
	RuntimeDir string
	// TmpMB is the size of the private /tmp (EphemeralStorage, 512–10240).
	TmpMB int
	// MemoryMB is the memory limit (MemorySize). Plain mode records it only.
	MemoryMB int
	// Hostname is the UTS hostname inside the environment.
	Hostname string
}

// Paths are the Lambda paths as the runtime process sees them. In a namespaced
// sandbox they are the AWS ones (/var/task, /opt, /var/runtime, /tmp); in plain
// mode they are real host directories.
type Paths struct {
	TaskRoot   string // LAMBDA_TASK_ROOT
	Opt        string // merged layers
	RuntimeDir string // LAMBDA_RUNTIME_DIR
	Tmp        string // writable scratch (TMPDIR)
}

// Process is the runtime process to start inside an Env.
type Process struct {
	Path   string   // absolute path as seen inside the environment
	Args   []string // argv including argv[0]
	Env    []string // complete environment, KEY=VALUE
	Dir    string   // working directory as seen inside (normally Paths.TaskRoot)
	Stdout io.Writer
	Stderr io.Writer
}

// Exit is why the runtime process ended.
type Exit struct {
	Code      int            // exit status when it exited normally; -1 otherwise
	Signal    syscall.Signal // the killing signal, or 0
	OOMKilled bool           // killed by the memory limit
	Err       error          // the process could not be started or waited on
}

// String renders the exit the way Go's os/exec does, which is what AWS's
// Runtime.ExitError messages quote: "exit status 1", "signal: killed".
func (e Exit) String() string {
	switch {
	case e.Err != nil:
		return e.Err.Error()
	case e.Signal != 0:
		return "signal: " + e.Signal.String()
	default:
		return fmt.Sprintf("exit status %d", e.Code)
	}
}

// Stats are resource figures of an Env.
type Stats struct {
	// PeakMemoryBytes is the high-water mark of the environment's memory use
	// (cgroup peak when available, else the runtime's peak RSS), or 0 if
	// unknown.
	PeakMemoryBytes uint64
}

// Runner creates execution environments. It is safe for concurrent use.
type Runner interface {
	// Name is "namespaced" or "none".
	Name() string
	// Create prepares an environment; nothing runs until Env.Start.
	Create(ctx context.Context, spec Spec) (Env, error)
	// Close destroys every environment still alive and releases shared
	// resources.
	Close() error
}

// Env is one execution environment. Its methods are safe for concurrent use.
type Env interface {
	// Paths reports the Lambda paths as seen from inside.
	Paths() Paths
	// Listen returns a TCP listener that processes inside the environment
	// reach at ln.Addr().String() (which becomes AWS_LAMBDA_RUNTIME_API), and
	// that other environments cannot reach. Call it once, before Start.
	Listen() (net.Listener, error)
	// Start starts the runtime process. It may be called once.
	Start(p Process) error
	// Signal delivers sig to the runtime process.
	Signal(sig os.Signal) error
	// Freeze stops every process of the environment from running until Thaw.
	// Plain mode may implement it with SIGSTOP/SIGCONT or as a no-op.
	Freeze() error
	// Thaw resumes a frozen environment.
	Thaw() error
	// Wait blocks until the runtime process has exited and reports why. It
	// may be called any number of times, concurrently.
	Wait() Exit
	// Done is closed when the runtime process has exited.
	Done() <-chan struct{}
	// Stats reports resource figures.
	Stats() Stats
	// Destroy kills every process of the environment, daemonised
	// descendants included, and releases every resource. Idempotent.
	Destroy() error
}
