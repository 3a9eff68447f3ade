package environment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/runtimes"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// goTaskDir holds the aws-lambda-go test function as "bootstrap".
var goTaskDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "envtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goTaskDir = filepath.Join(dir, "task")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(goTaskDir, "bootstrap"), "./testdata/gofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test function: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type fixture struct {
	t      *testing.T
	runner *sandbox.Plain
	sink   *logs.Memory
	cfg    Config
}

func newFixture(t *testing.T, taskDir string) *fixture {
	t.Helper()
	r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	sink := logs.NewMemory()
	return &fixture{t: t, runner: r, sink: sink, cfg: Config{
		FunctionName: "fn", Version: "$LATEST", Runtime: runtimes.Provided("provided.al2023"),
		Handler: "function.handler", MemoryMB: 128, Timeout: 3 * time.Second, EphemeralMB: 512,
		TaskDir: taskDir, Region: "us-east-1", AccountID: "000000000000",
		Env: map[string]string{"MY_VAR": "v"}, Logs: sink,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}}
}

func (f *fixture) start() *Env {
	f.t.Helper()
	e, err := Start(f.t.Context(), f.cfg, f.runner)
	if err != nil {
		f.t.Fatalf("Start() = %v", err)
	}
	f.t.Cleanup(func() { e.Close() })
	return e
}

func invoke(t *testing.T, e *Env, payload string) Result {
	t.Helper()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: newRequestID(), Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke(%s) error = %v", payload, err)
	}
	return res
}

func wantPlatformError(t *testing.T, res Result, typ, msg string) {
	t.Helper()
	want := `{"errorType":"` + typ + `","errorMessage":"` + msg + `"}`
	if string(res.Payload) != want || res.FunctionError != "Unhandled" || res.ErrorType != typ {
		t.Fatalf("Invoke() = %s (%q %q), want %s", res.Payload, res.FunctionError, res.ErrorType, want)
	}
	if res.Alive {
		t.Fatalf("environment alive after %s", typ)
	}
}

func TestEchoAndWarmReuse(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	res := invoke(t, e, `{"hello":"world"}`)
	if string(res.Payload) != `{"hello":"world"}` || res.FunctionError != "" || !res.Alive {
		t.Fatalf("echo = %+v", res)
	}
	if res.InitDuration <= 0 || res.Duration <= 0 || res.MaxMemoryUsedMB <= 0 {
		t.Fatalf("figures = %+v", res)
	}
	for want := 1; want <= 3; want++ {
		res := invoke(t, e, `{"action":"count"}`)
		if string(res.Payload) != fmt.Sprint(want) || res.InitDuration != 0 {
			t.Fatalf("count #%d = %s (init %v)", want, res.Payload, res.InitDuration)
		}
	}
}

func TestEnvironmentVariables(t *testing.T) {
	f := newFixture(t, goTaskDir)
	f.cfg.Env = map[string]string{
		"MY_VAR": "v", "TZ": "Europe/Paris", "AWS_REGION": "eu-west-9", "_SECRET": "x",
		"AWS_LAMBDA_RUNTIME_API": "evil:1", "_LAMBDA_SERVER_PORT": "1234", "LANG": "C",
	}
	e := f.start()
	var env map[string]string
	if err := json.Unmarshal(invoke(t, e, `{"action":"env"}`).Payload, &env); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"_HANDLER": "function.handler", "LAMBDA_TASK_ROOT": goTaskDir,
		"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
		"AWS_LAMBDA_LOG_STREAM_NAME": e.LogStream(), "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "TZ": "Europe/Paris", "LANG": "C", "MY_VAR": "v",
		"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1:2000",
		"_AWS_XRAY_DAEMON_ADDRESS": "169.254.100.1", "_AWS_XRAY_DAEMON_PORT": "2000",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"_SECRET", "_LAMBDA_SERVER_PORT", "AWS_EXECUTION_ENV"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s present (%q)", k, v)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_RUNTIME_DIR", "PATH", "LD_LIBRARY_PATH"} {
		if env[k] == "" {
			t.Errorf("%s empty", k)
		}
	}
	if api := env["AWS_LAMBDA_RUNTIME_API"]; !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(api) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", api)
	}
	if !regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`).MatchString(e.LogStream()) {
		t.Errorf("log stream = %q", e.LogStream())
	}
	if !strings.HasPrefix(env["_X_AMZN_TRACE_ID"], "Root=1-") {
		t.Errorf("_X_AMZN_TRACE_ID = %q", env["_X_AMZN_TRACE_ID"])
	}
}

func TestLambdaVarsPrecedence(t *testing.T) {
	cfg := &Config{FunctionName: "f", Version: "3", Handler: "h", MemoryMB: 256, Region: "r", InitType: "on-demand",
		Env: map[string]string{"PYTHONPATH": "mine", "PATH": "/custom", "NODE_PATH": "x", "LAMBDA_TASK_ROOT": "/evil"}}
	vars := lambdaVars(varsInput{cfg: cfg, paths: sandbox.Paths{TaskRoot: "/var/task", Opt: "/opt", RuntimeDir: "/var/runtime", Tmp: "/tmp"},
		runtimeAPI: "169.254.100.1:9001", logGroup: "/aws/lambda/f", logStream: "s",
		runtimeEnv: map[string]string{"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "PYTHONPATH": "/var/runtime"}})
	m := map[string]string{}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	for k, v := range map[string]string{
		"PYTHONPATH": "/var/runtime", "PATH": "/custom", "NODE_PATH": "x", "LAMBDA_TASK_ROOT": "/var/task",
		"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "AWS_LAMBDA_FUNCTION_VERSION": "3",
		"LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
	} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	if _, ok := m["TMPDIR"]; ok {
		t.Errorf("TMPDIR set although Tmp is /tmp")
	}
	cfg.Env = nil
	vars = lambdaVars(varsInput{cfg: cfg, paths: sandbox.Paths{TaskRoot: "/var/task", Opt: "/opt", RuntimeDir: "/var/runtime", Tmp: "/tmp"}})
	for _, kv := range vars {
		if strings.HasPrefix(kv, "PATH=") && kv != "PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin" {
			t.Errorf("default %s", kv)
		}
	}
}

func TestInvocationContext(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	before := time.Now()
	res, err := e.Invoke(t.Context(), Invocation{
		RequestID: "6ba4b1b5-cbd3-4d94-8d4b-7f1b1c5b5e4d", Payload: []byte(`{"action":"ctx"}`),
		ClientContext: `{"custom":{"k":"v"}}`, TraceID: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
	})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID, ARN, DeadlineMs, Trace string
		Custom                            map[string]string
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("%s: %v", res.Payload, err)
	}
	if got.RequestID != "6ba4b1b5-cbd3-4d94-8d4b-7f1b1c5b5e4d" || got.ARN != "arn:aws:lambda:us-east-1:000000000000:function:fn" ||
		got.Custom["k"] != "v" || got.Trace != "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0" {
		t.Fatalf("context = %+v", got)
	}
	var ms int64
	fmt.Sscan(got.DeadlineMs, &ms)
	if lo, hi := before.Add(3*time.Second).UnixMilli(), after.Add(3*time.Second).UnixMilli(); ms < lo || ms > hi {
		t.Fatalf("deadline %d not in [%d, %d]", ms, lo, hi)
	}
}

func TestFunctionErrorKeepsEnvironment(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	invoke(t, e, `{"action":"count"}`)
	res := invoke(t, e, `{"action":"error","msg":"some_error_msg"}`)
	if string(res.Payload) != `{"errorMessage":"some_error_msg","errorType":"errorString"}` || res.FunctionError != "Unhandled" || !res.Alive {
		t.Fatalf("error = %s %q alive=%v", res.Payload, res.FunctionError, res.Alive)
	}
	if res := invoke(t, e, `{"action":"count"}`); string(res.Payload) != "2" {
		t.Fatalf("count after error = %s, want 2 (warm)", res.Payload)
	}
}

func TestPanicKillsEnvironment(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	res := invoke(t, e, `{"action":"panic","msg":"boom"}`)
	var body struct {
		ErrorMessage, ErrorType string
		StackTrace              []json.RawMessage
	}
	if err := json.Unmarshal(res.Payload, &body); err != nil || body.ErrorMessage != "boom" || len(body.StackTrace) == 0 {
		t.Fatalf("panic body = %s (%v)", res.Payload, err)
	}
	if res.FunctionError != "Unhandled" || res.Alive || e.Alive() {
		t.Fatalf("panic result = %+v", res)
	}
	if _, err := e.Invoke(t.Context(), Invocation{Payload: []byte(`{}`)}); !errors.Is(err, ErrDead) {
		t.Fatalf("Invoke on dead env = %v, want ErrDead", err)
	}
	// The next invoke cold-starts a new environment.
	e2 := f.start()
	if res := invoke(t, e2, `{"action":"count"}`); string(res.Payload) != "1" || res.InitDuration <= 0 {
		t.Fatalf("after panic = %s", res.Payload)
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t, goTaskDir)
	f.cfg.Timeout = time.Second
	e := f.start()
	id := newRequestID()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{"action":"sleep","ms":60000}`), Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	wantPlatformError(t, res, "Sandbox.Timedout", "RequestId: "+id+" Error: Task timed out after 1.00 seconds")
	if !regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + id + ` Task timed out after \d+\.\d\d seconds\n`).Match(res.LogTail) {
		t.Fatalf("tail lacks the timeout line:\n%s", res.LogTail)
	}
	e2 := f.start()
	if res := invoke(t, e2, `{"action":"sleep","ms":1}`); res.FunctionError != "" || !res.Alive {
		t.Fatalf("after timeout = %s", res.Payload)
	}
}

func TestRuntimeExit(t *testing.T) {
	for _, tc := range []struct {
		code int
		msg  string
	}{
		{1, "Runtime exited with error: exit status 1"},
		{0, "Runtime exited without providing a reason"},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			f := newFixture(t, goTaskDir)
			e := f.start()
			id := newRequestID()
			res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(fmt.Sprintf(`{"action":"exit","code":%d}`, tc.code))})
			if err != nil {
				t.Fatal(err)
			}
			wantPlatformError(t, res, "Runtime.ExitError", "RequestId: "+id+" Error: "+tc.msg)
		})
	}
}

func TestInitExit(t *testing.T) {
	f := newFixture(t, goTaskDir)
	f.cfg.Env = map[string]string{"INIT_MODE": "exit"}
	e := f.start()
	id := newRequestID()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{}`), Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	wantPlatformError(t, res, "Runtime.ExitError", "RequestId: "+id+" Error: Runtime exited with error: exit status 3")
	if _, err := e.Invoke(t.Context(), Invocation{Payload: []byte(`{}`)}); !errors.Is(err, ErrDead) {
		t.Fatalf("second Invoke = %v, want ErrDead", err)
	}
	// Output printed during INIT is in the log stream.
	found := false
	for _, r := range f.sink.Records() {
		found = found || string(r.Message) == "init failing\n"
	}
	if !found {
		t.Fatalf("init output not captured")
	}
}

func writeBootstrap(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInitErrorPassthrough(t *testing.T) {
	body := `{"errorMessage":"Runtime startup fails","errorType":"Exception","requestId":"","stackTrace":["x"]}`
	dir := writeBootstrap(t, "#!/bin/bash\ncurl -sS -X POST -H 'Lambda-Runtime-Function-Error-Type: Runtime.Unknown' -d '"+body+"' \"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error\"\nexit 1\n")
	f := newFixture(t, dir)
	e := f.start()
	res := invoke(t, e, `{}`)
	if string(res.Payload) != body || res.FunctionError != "Unhandled" || res.Alive {
		t.Fatalf("init error = %s %q alive=%v", res.Payload, res.FunctionError, res.Alive)
	}
}

func TestInvalidEntrypoint(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		task := t.TempDir()
		f := newFixture(t, task)
		e := f.start()
		id := newRequestID()
		res, _ := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{}`)})
		opt := "" // plain mode: no layers → an empty merged dir under the env's directory
		var body platformBody
		json.Unmarshal(res.Payload, &body)
		prefix := "RequestId: " + id + " Error: Couldn't find valid bootstrap(s): [" + task + "/bootstrap "
		if body.ErrorType != "Runtime.InvalidEntrypoint" || !strings.HasPrefix(body.ErrorMessage, prefix) || !strings.HasSuffix(body.ErrorMessage, opt+"/bootstrap]") || res.Alive {
			t.Fatalf("missing bootstrap = %s", res.Payload)
		}
	})
	t.Run("not executable", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, dir)
		e := f.start()
		id := newRequestID()
		res, _ := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{}`)})
		wantPlatformError(t, res, "Runtime.InvalidEntrypoint", "RequestId: "+id+" Error: fork/exec "+dir+"/bootstrap: permission denied")
	})
}

func TestPayloadLimits(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	res := invoke(t, e, `{"action":"big","size":6291556}`)
	if len(res.Payload) != 6291556 || res.FunctionError != "" {
		t.Fatalf("at limit: %d bytes, %q", len(res.Payload), res.FunctionError)
	}
	res = invoke(t, e, `{"action":"big","size":6291557}`)
	if string(res.Payload) != `{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}` || res.FunctionError != "Unhandled" {
		t.Fatalf("over limit = %.200s", res.Payload)
	}
	// A large event reaches the function intact.
	e2 := f.start()
	big := `{"data":"` + strings.Repeat("z", 6*1024*1024-20) + `"}`
	if res := invoke(t, e2, big); string(res.Payload) != big {
		t.Fatalf("large event echo: %d bytes", len(res.Payload))
	}
}

func TestClientDisconnectKeepsEnvironment(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	ctx, cancel := context.WithCancel(t.Context())
	changed := f.sink.Changed()
	errc := make(chan error, 1)
	go func() {
		_, err := e.Invoke(ctx, Invocation{Payload: []byte(`{"action":"sleep","ms":300}`)})
		errc <- err
	}()
	// Disconnect once the function is running.
	for !hasMessage(f.sink, "sleeping\n") {
		<-changed
		changed = f.sink.Changed()
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Invoke after cancel = %v", err)
	}
	res := invoke(t, e, `{"action":"count"}`)
	if string(res.Payload) != "2" || !res.Alive {
		t.Fatalf("after disconnect = %s alive=%v, want 2 (the abandoned invoke finished warm)", res.Payload, res.Alive)
	}
}

func hasMessage(m *logs.Memory, msg string) bool {
	for _, r := range m.Records() {
		if string(r.Message) == msg {
			return true
		}
	}
	return false
}

func TestLogLinesAndTail(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	id := newRequestID()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{"action":"print","lines":["hello","world"]}`), Tail: true})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^START RequestId: ` + id + ` Version: \$LATEST\nhello\nworld\nEND RequestId: ` + id +
		`\nREPORT RequestId: ` + id + `\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n$`)
	if !re.Match(res.LogTail) {
		t.Fatalf("tail = %q", res.LogTail)
	}
	// Warm: no Init Duration; records carry group and stream.
	id2 := newRequestID()
	res, _ = e.Invoke(t.Context(), Invocation{RequestID: id2, Payload: []byte(`{}`), Tail: true})
	if !regexp.MustCompile(`\nREPORT RequestId: ` + id2 + `\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t\n$`).Match(res.LogTail) {
		t.Fatalf("warm tail = %q", res.LogTail)
	}
	e.Close()
	for _, r := range f.sink.Records() {
		if r.Group != "/aws/lambda/fn" || r.Stream != e.LogStream() {
			t.Fatalf("record %+v", r)
		}
	}
	if !hasMessage(f.sink, "END RequestId: "+id2+"\n") {
		t.Fatalf("END line missing from the sink")
	}
}

func TestBashTutorialRuntime(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	task, err := filepath.Abs("testdata/bashtutorial")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, task)
	e := f.start()
	for range 2 {
		res, err := e.Invoke(t.Context(), Invocation{Payload: []byte(`{"text":"Hello"}`), Tail: true})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Payload) != `Echoing request: '{"text":"Hello"}'` || res.FunctionError != "" || !res.Alive {
			t.Fatalf("tutorial = %q %q", res.Payload, res.FunctionError)
		}
		if !bytes.Contains(res.LogTail, []byte("{\"text\":\"Hello\"}\n")) {
			t.Fatalf("tail lacks the handler's stderr: %q", res.LogTail)
		}
	}
}

func TestCloseDuringInvoke(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	changed := f.sink.Changed()
	done := make(chan Result, 1)
	go func() {
		res, _ := e.Invoke(context.Background(), Invocation{Payload: []byte(`{"action":"sleep","ms":60000}`)})
		done <- res
	}()
	for !hasMessage(f.sink, "sleeping\n") {
		<-changed
		changed = f.sink.Changed()
	}
	e.Close()
	res := <-done
	if res.ErrorType != "Runtime.ExitError" || res.Alive || e.Alive() {
		t.Fatalf("invoke during Close = %s", res.Payload)
	}
}

// BenchmarkWarmInvoke measures a warm invoke round trip through
// Env.Invoke with the aws-lambda-go echo function.
func BenchmarkWarmInvoke(b *testing.B) {
	r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	e, err := Start(context.Background(), Config{
		FunctionName: "bench", Version: "$LATEST", Runtime: runtimes.Provided("provided.al2023"), Handler: "h",
		MemoryMB: 128, Timeout: 10 * time.Second, TaskDir: goTaskDir, Region: "us-east-1", AccountID: "000000000000", FreezeDelay: time.Millisecond,
	}, r)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	inv := Invocation{RequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", Payload: []byte(`{"hello":"world"}`)}
	b.ReportAllocs()
	for b.Loop() {
		res, err := e.Invoke(context.Background(), inv)
		if err != nil || res.FunctionError != "" {
			b.Fatalf("Invoke = %s, %v", res.Payload, err)
		}
	}
}

// oomRunner reports every runtime exit as an OOM kill, as a memory-limited
// sandbox would.
type oomRunner struct{ sandbox.Runner }

func (r oomRunner) Create(ctx context.Context, spec sandbox.Spec) (sandbox.Env, error) {
	e, err := r.Runner.Create(ctx, spec)
	return oomEnv{e}, err
}

type oomEnv struct{ sandbox.Env }

func (e oomEnv) Wait() sandbox.Exit {
	ex := e.Env.Wait()
	ex.OOMKilled = true
	return ex
}

func TestOutOfMemory(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e, err := Start(t.Context(), f.cfg, oomRunner{f.runner})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	id := newRequestID()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{"action":"kill"}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantPlatformError(t, res, "Runtime.OutOfMemory", "RequestId: "+id+" Error: Runtime exited with error: signal: killed")
}

func TestKilledBySignal(t *testing.T) {
	f := newFixture(t, goTaskDir)
	e := f.start()
	id := newRequestID()
	res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{"action":"kill"}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantPlatformError(t, res, "Runtime.ExitError", "RequestId: "+id+" Error: Runtime exited with error: signal: killed")
}

func TestSuppressedInit(t *testing.T) {
	// INIT outlasts the init limit: Start returns, INIT continues inside the
	// first invoke, whose REPORT carries the whole Init Duration.
	dir := writeBootstrap(t, "#!/bin/bash\nsleep 0.3\nexec "+filepath.Join(goTaskDir, "bootstrap")+"\n")
	f := newFixture(t, dir)
	f.cfg.InitTimeout = 50 * time.Millisecond
	e := f.start()
	res := invoke(t, e, `{"action":"count"}`)
	if string(res.Payload) != "1" || res.InitDuration < 300*time.Millisecond {
		t.Fatalf("suppressed init = %s, init %v", res.Payload, res.InitDuration)
	}

	// An INIT that never finishes times out with the function's timeout.
	f2 := newFixture(t, writeBootstrap(t, "#!/bin/bash\nexec sleep 600\n"))
	f2.cfg.InitTimeout = 10 * time.Millisecond
	f2.cfg.Timeout = 500 * time.Millisecond
	e2 := f2.start()
	id := newRequestID()
	res, err := e2.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantPlatformError(t, res, "Sandbox.Timedout", "RequestId: "+id+" Error: Task timed out after 0.50 seconds")
}

func TestBootstrapFromLayer(t *testing.T) {
	empty := t.TempDir()
	f := newFixture(t, empty)
	f.cfg.LayerDirs = []string{t.TempDir(), goTaskDir}
	e := f.start()
	if res := invoke(t, e, `{"x":1}`); string(res.Payload) != `{"x":1}` {
		t.Fatalf("layer bootstrap = %s", res.Payload)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	f := newFixture(t, goTaskDir)
	e, err := Start(t.Context(), f.cfg, f.runner)
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, e, `{}`)
	invoke(t, e, `{"action":"panic","msg":"x"}`)
	e2, err := Start(t.Context(), f.cfg, f.runner)
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, e2, `{}`)
	e.Close()
	e2.Close()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d > %d\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// stuckSink never accepts a record until released.
type stuckSink struct{ release chan struct{} }

func (s stuckSink) Write(logs.Record) { <-s.release }

func TestLogFloodNeverBlocksInvoke(t *testing.T) {
	f := newFixture(t, goTaskDir)
	sink := stuckSink{release: make(chan struct{})}
	f.cfg.Logs = sink
	e := f.start()
	defer close(sink.release) // runs before the Close cleanup: the capture can drain
	res := invoke(t, e, `{"action":"spam","size":20000000}`)
	if string(res.Payload) != `"spammed"` || !res.Alive {
		t.Fatalf("flood = %s", res.Payload)
	}
	if res := invoke(t, e, `{"action":"count"}`); string(res.Payload) != "1" {
		t.Fatalf("after flood = %s", res.Payload)
	}
}

// BenchmarkColdStart measures Start (sandbox, listener, process, INIT up to
// the first /next) plus the first invoke of the aws-lambda-go function.
func BenchmarkColdStart(b *testing.B) {
	r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cfg := Config{
		FunctionName: "bench", Version: "$LATEST", Runtime: runtimes.Provided("provided.al2023"), Handler: "h",
		MemoryMB: 128, Timeout: 10 * time.Second, TaskDir: goTaskDir, Region: "us-east-1", AccountID: "000000000000",
	}
	inv := Invocation{Payload: []byte(`{"hello":"world"}`)}
	b.ReportAllocs()
	for b.Loop() {
		e, err := Start(context.Background(), cfg, r)
		if err != nil {
			b.Fatal(err)
		}
		if res, err := e.Invoke(context.Background(), inv); err != nil || res.FunctionError != "" {
			b.Fatalf("Invoke = %s, %v", res.Payload, err)
		}
		b.StopTimer()
		e.Close()
		b.StartTimer()
	}
}

// answerThen is a shell runtime that answers its first event "ok" and then,
// per $MODE, exits 3 or hangs instead of coming back to /next.
const answerThen = `#!/bin/sh
set -e
H=$(mktemp)
curl -sS -D "$H" -o /dev/null "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next"
ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | cut -d: -f2 | tr -d '[:space:]')
curl -sS -o /dev/null -X POST -d '"ok"' "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response"
case "$MODE" in
exit) exit 3 ;;
hang) exec sleep 60 ;;
esac
`

// TestAnsweredThenGone: a success is answered at once (Invoke returns
// before the runtime is back in /next); a runtime that then exits or hangs
// still gets its END/REPORT (and the timeout line), and the environment
// is dead for the next Invoke.
func TestAnsweredThenGone(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	for _, mode := range []string{"exit", "hang"} {
		t.Run(mode, func(t *testing.T) {
			task := t.TempDir()
			if err := os.WriteFile(filepath.Join(task, "bootstrap"), []byte(answerThen), 0o755); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, task)
			f.cfg.Timeout = time.Second
			f.cfg.Env = map[string]string{"MODE": mode}
			e := f.start()
			id := newRequestID()
			res, err := e.Invoke(t.Context(), Invocation{RequestID: id, Payload: []byte(`{}`)})
			if err != nil || string(res.Payload) != `"ok"` || res.FunctionError != "" {
				t.Fatalf("Invoke = %+v, %v", res, err)
			}
			// The next invoke waits for the first to finish, then finds
			// the environment dead.
			if _, err := e.Invoke(t.Context(), Invocation{Payload: []byte(`{}`)}); !errors.Is(err, ErrDead) {
				t.Fatalf("second Invoke error = %v, want ErrDead", err)
			}
			if e.Alive() {
				t.Fatal("environment alive")
			}
			if !hasMessage(f.sink, "END RequestId: "+id+"\n") {
				t.Fatal("END line missing")
			}
			timedOut := false
			for _, r := range f.sink.Records() {
				if bytes.Contains(r.Message, []byte(id+" Task timed out after 1.00 seconds")) {
					timedOut = true
				}
			}
			if timedOut != (mode == "hang") {
				t.Fatalf("timeout line written = %v in mode %s", timedOut, mode)
			}
		})
	}
}
