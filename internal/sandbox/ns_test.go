package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe for the output-copying goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func randToken(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newTestRunner starts a namespaced runner with a unique "lbdtest-" prefix
// and checks at cleanup that it left no cgroup behind.
func newTestRunner(t testing.TB, opts NamespacedOptions) *Namespaced {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("namespaced sandbox tests need root")
	}
	if opts.Prefix == "" {
		opts.Prefix = "lbdtest-" + randToken(t)
	}
	if opts.StateDir == "" {
		opts.StateDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	n, err := NewNamespaced(opts)
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("namespaced sandbox unsupported here: %v", err)
	}
	if err != nil {
		t.Fatalf("NewNamespaced: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, p := range n.cg.parents {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cgroup %s left after Close (stat err %v)", p, err)
			}
		}
	})
	return n
}

// taskDir writes files into a fresh world-readable directory.
func taskDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type started struct {
	env    *nsEnv
	stdout *syncBuffer
	stderr *syncBuffer
}

// startScript creates an environment whose runtime is the shell script body
// at /var/task/run.sh, and starts it.
func startScript(t testing.TB, n *Namespaced, spec Spec, script string, env ...string) started {
	t.Helper()
	if spec.ID == "" {
		spec.ID = "e" + randToken(t)
	}
	if spec.TaskDir == "" {
		spec.TaskDir = taskDir(t, map[string]string{"run.sh": script})
	}
	if spec.MemoryMB == 0 {
		spec.MemoryMB = 256
	}
	if spec.TmpMB == 0 {
		spec.TmpMB = 64
	}
	e, err := n.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("Create(%q): %v", spec.ID, err)
	}
	t.Cleanup(func() {
		if err := e.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	s := started{env: e.(*nsEnv), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	err = e.Start(Process{
		Path:   "/bin/sh",
		Args:   []string{"sh", "/var/task/run.sh"},
		Env:    append([]string{"PATH=/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API=" + RuntimeAPIAddr}, env...),
		Dir:    "/var/task",
		Stdout: s.stdout,
		Stderr: s.stderr,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

func TestNamespacedSmoke(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{}, `id; pwd; hostname; cat /proc/self/status | grep -E 'Cap|NoNew'; ls /proc | grep -c '^[0-9]'; ls /; exit 3`)
	ex := s.env.Wait()
	t.Logf("exit %v\nstdout:\n%s\nstderr:\n%s", ex, s.stdout, s.stderr)
	if ex.Code != 3 {
		t.Errorf("exit = %v, want exit status 3", ex)
	}
	if !strings.Contains(s.stdout.String(), "uid=993") {
		t.Errorf("no uid=993")
	}
}

func TestNamespacedPrefixLock(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	_, err := NewNamespaced(NamespacedOptions{Prefix: n.opts.Prefix, StateDir: n.opts.StateDir})
	if err == nil || !strings.Contains(err.Error(), "another daemon") {
		t.Fatalf("second NewNamespaced with prefix %q = %v, want a lock error", n.opts.Prefix, err)
	}
	if _, err := NewNamespaced(NamespacedOptions{Prefix: "Bad/Prefix"}); err == nil {
		t.Errorf("NewNamespaced(bad prefix) = nil error")
	}
}

// The warmer's writes leave lambdad in its own cgroup.
func TestRCUWarmerMovesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to write cgroup.procs")
	}
	w := newRCUWarmer("/sys/fs/cgroup/pids")
	if w == nil {
		t.Skip("no cgroup v1 pids hierarchy at /sys/fs/cgroup/pids")
	}
	before, _ := os.ReadFile("/proc/self/cgroup")
	w.poke()
	w.poke()
	w.close()
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(before) != string(after) {
		t.Errorf("cgroups changed:\n%s\n→\n%s", before, after)
	}
	w.poke() // after close: no goroutine starts
	w.close()
}

func TestFamily(t *testing.T) {
	for in, want := range map[string]string{"lambdad-1f8cdeeb": "lambdad-", "lambdad": "", "a-b-c": "a-b-", "-x": ""} {
		if got := family(in); got != want {
			t.Errorf("family(%q) = %q, want %q", in, got, want)
		}
	}
}

// A crashed daemon of the same family (its state dir and cgroups left,
// nobody holding its lock) is cleaned up by the next daemon to start; a
// live one is not touched.
func TestSweepOrphans(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	state := t.TempDir()
	fam := "lbdorph" + randToken(t) + "-"
	dead, live := fam+"dead", fam+"live"
	other := newTestRunner(t, NamespacedOptions{Prefix: live, StateDir: filepath.Join(state, live)})
	// Fake the leftovers of a crash: state dir with an unlocked lock file
	// and a cgroup parent per hierarchy, all older than 30 s.
	deadDir := filepath.Join(state, dead)
	os.MkdirAll(filepath.Join(deadDir, "root"), 0o755)
	os.WriteFile(filepath.Join(deadDir, "lock"), nil, 0o600)
	var cgs []string
	for _, p := range other.cg.parents {
		d := filepath.Join(filepath.Dir(p), dead)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		cgs = append(cgs, d)
	}
	old := time.Now().Add(-time.Minute)
	os.Chtimes(deadDir, old, old)
	os.Chtimes(filepath.Join(deadDir, "lock"), old, old)
	os.Chtimes(filepath.Join(state, live), old, old)
	os.Chtimes(filepath.Join(state, live, "lock"), old, old)

	newTestRunner(t, NamespacedOptions{Prefix: fam + "new", StateDir: filepath.Join(state, fam+"new")})
	if _, err := os.Stat(deadDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan state dir still there (err %v)", err)
	}
	for _, d := range cgs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("orphan cgroup %s still there", d)
		}
	}
	if _, err := os.Stat(filepath.Join(state, live, "lock")); err != nil {
		t.Errorf("a live daemon's state was swept: %v", err)
	}
	for _, p := range other.cg.parents {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a live daemon's cgroup was swept: %v", err)
		}
	}
}
