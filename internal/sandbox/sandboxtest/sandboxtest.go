// Package sandboxtest is the conformance suite every sandbox.Runner
// implementation runs: starting a process with its environment, working
// directory and output, Listen reachability from inside, Wait's exit causes
// (code, signal, start failure), Destroy killing descendants, Freeze/Thaw,
// the Lambda paths (code, merged layers with later layers winning, writable
// tmp) and peak memory.
//
// The processes it runs are /bin/sh and bash scripts, so both must be
// reachable inside the environment.
//
// It imports only the standard library and internal/sandbox.
package sandboxtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// Options describe the implementation under test.
type Options struct {
	// NewRunner returns a fresh Runner; the suite closes it.
	NewRunner func(t *testing.T) sandbox.Runner
	// KillsSessionLeavers: Destroy also kills descendants that left the
	// process group and session (setsid). Namespaced sandboxes must.
	KillsSessionLeavers bool
}

// waitLimit bounds every wait for something that must happen; it is a
// deadlock guard, not a performance assertion.
const waitLimit = 20 * time.Second

var ids atomic.Int64

func newID() string {
	return "sbt" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "x" + itoa(int(ids.Add(1)))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

type suite struct {
	t    *testing.T
	opts Options
}

// Run runs the conformance suite.
func Run(t *testing.T, opts Options) {
	s := suite{t: t, opts: opts}
	t.Run("ExitCode", s.exitCode)
	t.Run("Signaled", s.signaled)
	t.Run("StartFailure", s.startFailure)
	t.Run("EnvDirOutput", s.envDirOutput)
	t.Run("ListenReachable", s.listenReachable)
	t.Run("DestroyKillsDescendants", s.destroyKillsDescendants)
	t.Run("FreezeThaw", s.freezeThaw)
	t.Run("Paths", s.paths)
	t.Run("Stats", s.stats)
	t.Run("RunnerCloseDestroys", s.runnerClose)
}

func (s suite) create(t *testing.T, spec sandbox.Spec) (sandbox.Runner, sandbox.Env) {
	t.Helper()
	r := s.opts.NewRunner(t)
	t.Cleanup(func() { r.Close() })
	if spec.ID == "" {
		spec.ID = newID()
	}
	if spec.TaskDir == "" {
		spec.TaskDir = t.TempDir()
	}
	if spec.MemoryMB == 0 {
		spec.MemoryMB = 128
	}
	if spec.TmpMB == 0 {
		spec.TmpMB = 512
	}
	if spec.Hostname == "" {
		spec.Hostname = "sandboxtest"
	}
	env, err := r.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("Create(%+v) = %v", spec, err)
	}
	t.Cleanup(func() { env.Destroy() })
	return r, env
}

func sh(script string, out io.Writer, env ...string) sandbox.Process {
	return sandbox.Process{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, env...), Stdout: out, Stderr: out}
}

func bash(script string, out io.Writer, env ...string) sandbox.Process {
	p := sh(script, out, env...)
	p.Path = "/bin/bash"
	p.Args = []string{"bash", "-c", script}
	return p
}

func wait(t *testing.T, env sandbox.Env) sandbox.Exit {
	t.Helper()
	select {
	case <-env.Done():
	case <-time.After(waitLimit):
		t.Fatalf("process did not exit")
	}
	return env.Wait()
}

func (s suite) exitCode(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	if err := env.Start(sh("exit 3", io.Discard)); err != nil {
		t.Fatal(err)
	}
	ex := wait(t, env)
	if ex.Code != 3 || ex.Signal != 0 || ex.OOMKilled || ex.Err != nil || ex.String() != "exit status 3" {
		t.Fatalf("Wait() = %+v (%s), want exit status 3", ex, ex)
	}
	// Wait may be called again, concurrently.
	got := make(chan sandbox.Exit, 2)
	go func() { got <- env.Wait() }()
	go func() { got <- env.Wait() }()
	for range 2 {
		if again := <-got; again.Code != 3 {
			t.Fatalf("second Wait() = %+v", again)
		}
	}
	if err := env.Start(sh("exit 0", io.Discard)); err == nil {
		t.Fatalf("second Start() = nil, want error")
	}
}

func (s suite) signaled(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := env.Start(sh("echo up; exec sleep 1000", pw)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if line, err := bufio.NewReader(pr).ReadString('\n'); err != nil || line != "up\n" {
		t.Fatalf("read = %q, %v", line, err)
	}
	if err := env.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("Signal() = %v", err)
	}
	ex := wait(t, env)
	if ex.Signal != syscall.SIGKILL || ex.String() != "signal: killed" || ex.OOMKilled {
		t.Fatalf("Wait() = %+v (%s), want signal: killed", ex, ex)
	}

	_, env2 := s.create(t, sandbox.Spec{})
	if err := env2.Start(sh("kill -SEGV $$", io.Discard)); err != nil {
		t.Fatal(err)
	}
	if ex := wait(t, env2); ex.String() != "signal: segmentation fault" {
		t.Fatalf("Wait() = %+v (%s), want signal: segmentation fault", ex, ex)
	}
}

func (s suite) startFailure(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	err := env.Start(sandbox.Process{Path: "/nonexistent/bootstrap", Args: []string{"/nonexistent/bootstrap"}})
	if err == nil {
		t.Fatalf("Start(missing) = nil, want error")
	}
	select {
	case <-env.Done():
		if ex := env.Wait(); ex.Err == nil {
			t.Fatalf("Wait() after failed start = %+v, want Err", ex)
		}
	default:
		// An implementation may report start failures only from Start.
	}
	if err := env.Destroy(); err != nil {
		t.Fatalf("Destroy() = %v", err)
	}
	if err := env.Destroy(); err != nil {
		t.Fatalf("second Destroy() = %v", err)
	}
}

func (s suite) envDirOutput(t *testing.T) {
	task := t.TempDir()
	if err := os.WriteFile(filepath.Join(task, "code.txt"), []byte("code"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, env := s.create(t, sandbox.Spec{TaskDir: task})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	p := sh(`echo "$MYVAR"; pwd; cat code.txt; echo; echo err >&2`, pw, "MYVAR=hello world")
	p.Dir = env.Paths().TaskRoot
	if err := env.Start(p); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	out, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	want := "hello world\n" + env.Paths().TaskRoot + "\ncode\nerr\n"
	if string(out) != want {
		t.Fatalf("output = %q, want %q", out, want)
	}
	if ex := wait(t, env); ex.Code != 0 {
		t.Fatalf("Wait() = %+v", ex)
	}
}

func (s suite) listenReachable(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	ln, err := env.Listen()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		accepted <- line
	}()
	if err := env.Start(bash(`echo "hello from inside" >/dev/tcp/${ADDR%:*}/${ADDR##*:}`, io.Discard, "ADDR="+ln.Addr().String())); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-accepted:
		if got != "hello from inside\n" {
			t.Fatalf("received %q", got)
		}
	case <-time.After(waitLimit):
		t.Fatalf("no connection from inside")
	}
	if ex := wait(t, env); ex.Code != 0 {
		t.Fatalf("Wait() = %+v", ex)
	}
}

// destroyKillsDescendants uses the output pipe as the witness: it reaches EOF
// only when every process holding it is dead.
func (s suite) destroyKillsDescendants(t *testing.T) {
	script := `sleep 1000 & (sleep 1000 &) ; echo up; wait`
	if s.opts.KillsSessionLeavers {
		script = `sleep 1000 & (sleep 1000 &) ; setsid sleep 1000 & echo up; wait`
	}
	_, env := s.create(t, sandbox.Spec{})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := env.Start(sh(script, pw)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	br := bufio.NewReader(pr)
	if line, err := br.ReadString('\n'); err != nil || line != "up\n" {
		t.Fatalf("read = %q, %v", line, err)
	}
	if err := env.Destroy(); err != nil {
		t.Fatalf("Destroy() = %v", err)
	}
	eof := make(chan error, 1)
	go func() { _, err := io.ReadAll(br); eof <- err }()
	select {
	case <-eof:
	case <-time.After(waitLimit):
		t.Fatalf("descendants still hold the output pipe after Destroy")
	}
	if ex := wait(t, env); ex.Signal != syscall.SIGKILL {
		t.Fatalf("Wait() after Destroy = %+v", ex)
	}
}

func (s suite) freezeThaw(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	ln, err := env.Listen()
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			conns <- c
		}
	}()
	script := `exec 3<>/dev/tcp/${ADDR%:*}/${ADDR##*:}; while read -r line <&3; do echo "got $line" >&3; done`
	if err := env.Start(bash(script, io.Discard, "ADDR="+ln.Addr().String())); err != nil {
		t.Fatal(err)
	}
	var c net.Conn
	select {
	case c = <-conns:
	case <-time.After(waitLimit):
		t.Fatalf("no connection from inside")
	}
	defer c.Close()
	replies := make(chan string, 4)
	go func() {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				close(replies)
				return
			}
			replies <- line
		}
	}()
	ask := func(q string) {
		if _, err := io.WriteString(c, q+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-replies:
			if got != want {
				t.Fatalf("reply = %q, want %q", got, want)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no reply %q", want)
		}
	}
	ask("1")
	expect("got 1\n")
	if err := env.Freeze(); err != nil {
		t.Fatalf("Freeze() = %v", err)
	}
	ask("2")
	// A frozen environment must not answer. This bounded wait can only fail
	// if freezing is broken.
	select {
	case got := <-replies:
		t.Fatalf("frozen environment replied %q", got)
	case <-time.After(200 * time.Millisecond):
	}
	if err := env.Thaw(); err != nil {
		t.Fatalf("Thaw() = %v", err)
	}
	expect("got 2\n")
	// Destroy works on a frozen environment too.
	if err := env.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := env.Destroy(); err != nil {
		t.Fatalf("Destroy(frozen) = %v", err)
	}
	wait(t, env)
}

func (s suite) paths(t *testing.T) {
	task, l1, l2 := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(task, "handler.txt", "task")
	write(l1, "a", "layer1")
	write(l1, "lib/b", "layer1")
	write(l2, "a", "layer2")
	write(l2, "lib/c", "layer2")
	_, env := s.create(t, sandbox.Spec{TaskDir: task, LayerDirs: []string{l1, l2}})
	p := env.Paths()
	for name, v := range map[string]string{"TaskRoot": p.TaskRoot, "Opt": p.Opt, "RuntimeDir": p.RuntimeDir, "Tmp": p.Tmp} {
		if !filepath.IsAbs(v) {
			t.Fatalf("Paths().%s = %q, want absolute", name, v)
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	script := `cat "$T/handler.txt"; echo; cat "$O/a"; echo; cat "$O/lib/b"; echo; cat "$O/lib/c"; echo; echo tmpdata > "$TMPD/f" && cat "$TMPD/f"`
	if err := env.Start(sh(script, pw, "T="+p.TaskRoot, "O="+p.Opt, "TMPD="+p.Tmp)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	out, _ := io.ReadAll(pr)
	if want := "task\nlayer2\nlayer1\nlayer2\ntmpdata\n"; string(out) != want {
		t.Fatalf("output = %q, want %q", out, want)
	}
	if ex := wait(t, env); ex.Code != 0 {
		t.Fatalf("Wait() = %+v", ex)
	}
	// The code directory is shared and must survive Destroy.
	if err := env.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(task, "handler.txt"), filepath.Join(l1, "a"), filepath.Join(l2, "lib/c")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("Destroy removed shared file: %v", err)
		}
	}
}

func (s suite) stats(t *testing.T) {
	_, env := s.create(t, sandbox.Spec{})
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	if err := env.Start(sh("echo up; exec sleep 1000", pw)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if line, _ := bufio.NewReader(pr).ReadString('\n'); line != "up\n" {
		t.Fatalf("read %q", line)
	}
	if st := env.Stats(); st.PeakMemoryBytes == 0 {
		t.Fatalf("Stats() = %+v, want a peak", st)
	}
}

func (s suite) runnerClose(t *testing.T) {
	r, env := s.create(t, sandbox.Spec{})
	if err := env.Start(sh("exec sleep 1000", io.Discard)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Runner.Close() = %v", err)
	}
	if ex := wait(t, env); ex.Signal != syscall.SIGKILL {
		t.Fatalf("Wait() after Runner.Close = %+v", ex)
	}
}
