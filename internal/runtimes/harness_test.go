package runtimes

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/runtimeapi"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// The harness runs a bootstrap as a real process against the real Runtime
// API server (internal/runtimeapi) on 127.0.0.1:0, without the environment
// machinery: it checks what the runtime process does on the wire.

var (
	registryOnce sync.Once
	testReg      *Registry
	testRegErr   error
)

// registry returns one Registry for the whole test binary (detection runs
// interpreters; there is no need to repeat it per test).
func registry(t testing.TB) *Registry {
	registryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lambdad-runtimes-")
		if err != nil {
			testRegErr = err
			return
		}
		testReg, testRegErr = NewRegistry(nil, dir)
	})
	if testRegErr != nil {
		t.Fatalf("NewRegistry: %v", testRegErr)
	}
	return testReg
}

func TestMain(m *testing.M) {
	code := m.Run()
	dirs := []string{filepath.Join(os.TempDir(), fmt.Sprintf("lambdad-envtest-%d", os.Getpid()))} // env_test.go's
	if testReg != nil {
		dirs = append(dirs, testReg.dir)
	}
	for _, d := range dirs {
		// Runtime dirs are read-only by design; make them removable.
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// outFile is a process's stdout and stderr: a file the child writes to
// directly, so what it wrote before an HTTP request is readable once the
// request has arrived.
type outFile struct{ f *os.File }

func (o outFile) String() string {
	b, err := os.ReadFile(o.f.Name())
	if err != nil {
		return "read output: " + err.Error()
	}
	return string(b)
}

type runtimeProc struct {
	t      testing.TB
	api    *runtimeapi.Server
	cmd    *exec.Cmd
	out    outFile
	exited chan struct{}
	exit   error
	ready  bool
}

type procSpec struct {
	id      string
	taskDir string
	optDir  string
	handler string
	env     map[string]string
	wrapper string // AWS_LAMBDA_EXEC_WRAPPER
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// startRuntime launches runtime spec.id for spec.handler as the environment
// would (same Launch, same Lambda variables), stdout and stderr captured.
func startRuntime(t testing.TB, spec procSpec) *runtimeProc {
	t.Helper()
	reg := registry(t)
	rt, err := reg.Lookup(spec.id)
	if err != nil {
		t.Skipf("runtime %s unavailable: %v", spec.id, err)
	}
	opt := spec.optDir
	if opt == "" {
		opt = t.TempDir()
	}
	paths := sandbox.Paths{TaskRoot: spec.taskDir, Opt: opt, RuntimeDir: reg.RuntimeDir(spec.id), Tmp: t.TempDir()}
	l, err := rt.Launch(spec.handler, paths, spec.taskDir, []string{opt})
	if err != nil {
		t.Fatalf("Launch(%q): %v", spec.handler, err)
	}
	l = ExecWrapper(l, spec.wrapper)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := runtimeapi.New(slog.New(slog.DiscardHandler))
	go api.Serve(ln)

	env := map[string]string{
		"PATH":                            os.Getenv("PATH"),
		"HOME":                            os.Getenv("HOME"),
		"LANG":                            "en_US.UTF-8",
		"TZ":                              ":UTC",
		"AWS_LAMBDA_RUNTIME_API":          ln.Addr().String(),
		"_HANDLER":                        spec.handler,
		"LAMBDA_TASK_ROOT":                paths.TaskRoot,
		"LAMBDA_RUNTIME_DIR":              paths.RuntimeDir,
		"AWS_LAMBDA_FUNCTION_NAME":        "fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/fn",
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_REGION":                      "us-east-1",
		"TMPDIR":                          paths.Tmp,
	}
	for k, v := range l.Env {
		env[k] = v
	}
	for k, v := range spec.env {
		env[k] = v
	}
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		t.Fatal(err)
	}
	out := outFile{f}
	cmd := &exec.Cmd{Path: l.Path, Args: l.Args, Env: envList, Dir: paths.TaskRoot, Stdout: f, Stderr: f}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", l.Path, err)
	}
	p := &runtimeProc{t: t, api: api, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() {
		p.exit = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		f.Close()
		api.Close()
		if t.Failed() {
			t.Logf("runtime output:\n%s", out.String())
		}
	})
	return p
}

const waitLimit = 30 * time.Second

// next waits for the next event other than Done, or for the process to exit
// (ok=false).
func (p *runtimeProc) next() (runtimeapi.Event, bool) {
	p.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case ev := <-p.api.Events():
			if ev.Kind == runtimeapi.EventDone {
				continue
			}
			if ev.Kind == runtimeapi.EventReady {
				p.ready = true
				continue
			}
			return ev, true
		case <-p.exited:
			// Drain anything posted just before the exit.
			select {
			case ev := <-p.api.Events():
				if ev.Kind != runtimeapi.EventDone && ev.Kind != runtimeapi.EventReady {
					return ev, true
				}
			default:
			}
			return runtimeapi.Event{}, false
		case <-deadline.C:
			p.t.Fatalf("no runtime event within %s; output:\n%s", waitLimit, p.out.String())
		}
	}
}

type invocation struct {
	id            string
	payload       string
	clientContext string
	cognito       string
	trace         string
}

// invoke delivers one event and returns what the runtime answered.
func (p *runtimeProc) invoke(inv invocation) runtimeapi.Event {
	p.t.Helper()
	if inv.id == "" {
		inv.id = newRequestID()
	}
	if inv.trace == "" {
		inv.trace = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0"
	}
	err := p.api.Deliver(&runtimeapi.Invocation{
		RequestID:       inv.id,
		Payload:         []byte(inv.payload),
		Deadline:        time.Now().Add(60 * time.Second),
		InvokedARN:      "arn:aws:lambda:us-east-1:000000000000:function:fn",
		TraceID:         inv.trace,
		ClientContext:   inv.clientContext,
		CognitoIdentity: inv.cognito,
	})
	if err != nil {
		p.t.Fatalf("Deliver: %v", err)
	}
	ev, ok := p.next()
	if !ok {
		p.t.Fatalf("runtime exited (%v) instead of answering; output:\n%s", p.exit, p.out.String())
	}
	if ev.RequestID != inv.id {
		p.t.Fatalf("event for request %q, want %q", ev.RequestID, inv.id)
	}
	p.waitDone()
	return ev
}

// waitDone waits until the runtime is back at /next after answering (the
// invocation is complete), or has exited.
func (p *runtimeProc) waitDone() {
	p.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case ev := <-p.api.Events():
			if ev.Kind == runtimeapi.EventDone {
				return
			}
			p.t.Fatalf("unexpected event %v %s while waiting for the runtime's next /next", ev.Kind, ev.Body)
		case <-p.exited:
			return
		case <-deadline.C:
			p.t.Fatalf("runtime did not come back to /next within %s; output:\n%s", waitLimit, p.out.String())
		}
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *runtimeProc) waitExit() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(waitLimit):
		p.t.Fatalf("runtime did not exit; output:\n%s", p.out.String())
	}
	if p.exit == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.exit, &ee) {
		return ee.ExitCode()
	}
	p.t.Fatalf("wait: %v", p.exit)
	return -1
}

// waitOutput polls the captured output until it contains s.
func (p *runtimeProc) waitOutput(s string) string {
	p.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out := p.out.String()
		if strings.Contains(out, s) {
			return out
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("output never contained %q:\n%s", s, out)
		}
		select {
		case <-p.exited:
			out = p.out.String()
			if !strings.Contains(out, s) {
				p.t.Fatalf("runtime exited; output never contained %q:\n%s", s, out)
			}
			return out
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func testdata(t testing.TB, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
