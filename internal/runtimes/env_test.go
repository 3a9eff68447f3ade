package runtimes_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/environment"
	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/runtimes"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// These tests run the embedded bootstraps the way lambdad does: a Registry
// gives the runtime and its runtime dir, internal/environment starts it in a
// plain sandbox with the Lambda variables and its log capture, and the
// results are what Invoke's caller receives.

var (
	envRegOnce sync.Once
	envReg     *runtimes.Registry
	envRegErr  error
	envRegDir  string
)

func envRegistry(t testing.TB) *runtimes.Registry {
	t.Helper()
	envRegOnce.Do(func() {
		// Removed by TestMain (harness_test.go), which knows the name.
		envRegDir = filepath.Join(os.TempDir(), fmt.Sprintf("lambdad-envtest-%d", os.Getpid()))
		envReg, envRegErr = runtimes.NewRegistry(nil, envRegDir)
	})
	if envRegErr != nil {
		t.Fatalf("NewRegistry: %v", envRegErr)
	}
	return envReg
}

type envCase struct {
	id      string
	task    string
	handler string
	layers  []string
	env     map[string]string
	timeout time.Duration
	// namespaced runs the environment in the namespaced sandbox (root
	// only): the Lambda paths are then /var/task, /opt, /var/runtime.
	namespaced bool
}

var nsCount atomic.Int64

func newRunner(t testing.TB, namespaced bool, reg *runtimes.Registry) sandbox.Runner {
	t.Helper()
	if !namespaced {
		r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if os.Geteuid() != 0 {
		t.Skip("namespaced sandbox needs root")
	}
	r, err := sandbox.NewNamespaced(sandbox.NamespacedOptions{
		Prefix:    fmt.Sprintf("lbdrt-%d-%d", os.Getpid(), nsCount.Add(1)),
		StateDir:  t.TempDir(),
		HostPaths: reg.HostPaths(),
	})
	if errors.Is(err, sandbox.ErrUnsupported) {
		t.Skipf("namespaced sandbox unsupported here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type started struct {
	env  *environment.Env
	sink *logs.Memory
}

func startEnv(t *testing.T, c envCase) started { return startEnvB(t, c) }

func startEnvB(t testing.TB, c envCase) started {
	t.Helper()
	reg := envRegistry(t)
	rt, err := reg.Lookup(c.id)
	if err != nil {
		t.Skipf("%s unavailable: %v", c.id, err)
	}
	runner := newRunner(t, c.namespaced, reg)
	t.Cleanup(func() { runner.Close() })
	if c.timeout == 0 {
		c.timeout = 30 * time.Second
	}
	sink := logs.NewMemory()
	e, err := environment.Start(t.Context(), environment.Config{
		FunctionName: "fn", Version: "$LATEST", Runtime: rt, Handler: c.handler,
		MemoryMB: 128, Timeout: c.timeout, EphemeralMB: 512, Env: c.env,
		TaskDir: c.task, LayerDirs: c.layers, RuntimeDir: reg.RuntimeDir(c.id),
		Region: "us-east-1", AccountID: "000000000000", Logs: sink,
		Logger: slog.New(slog.NewTextHandler(output(t), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, runner)
	if err != nil {
		t.Fatalf("environment.Start(%s %s): %v", c.id, c.handler, err)
	}
	t.Cleanup(func() { e.Close() })
	return started{env: e, sink: sink}
}

func (s started) invoke(t *testing.T, inv environment.Invocation) environment.Result {
	t.Helper()
	inv.Tail = true
	res, err := s.env.Invoke(t.Context(), inv)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", inv.Payload, err)
	}
	return res
}

// logText is every log line of the environment so far.
func (s started) logText() string {
	var b strings.Builder
	for _, r := range s.sink.Records() {
		b.Write(r.Message)
		if !strings.HasSuffix(string(r.Message), "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// output is where a test's platform log goes.
func output(t testing.TB) io.Writer {
	if tt, ok := t.(interface{ Output() io.Writer }); ok {
		return tt.Output()
	}
	return io.Discard
}

func td(t *testing.T, parts ...string) string { return tdB(t, parts...) }

func tdB(t testing.TB, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const requestID = "6f1a7f0e-5c1d-4b0a-9d4e-0c3b2a1f0e9d"

func TestEnvPython(t *testing.T) {
	t.Parallel()
	task := td(t, "python")
	base := envCase{id: "python3.12", task: task, layers: []string{td(t, "opt")}, env: map[string]string{"CUSTOM_VAR": "custom value"}}
	with := func(handler string) envCase { c := base; c.handler = handler; return c }

	t.Run("echo and warm state", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, with("lambda_function.echo"))
		res := s.invoke(t, environment.Invocation{Payload: []byte(`{"k":[1,2,{"x":null}]}`)})
		if string(res.Payload) != `{"k": [1, 2, {"x": null}]}` || res.FunctionError != "" || !res.Alive {
			t.Errorf("echo = %s (%q alive=%v)", res.Payload, res.FunctionError, res.Alive)
		}
		w := startEnv(t, with("lambda_function.warm"))
		for i := 1; i <= 3; i++ {
			res := w.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
			if string(res.Payload) != string(rune('0'+i)) {
				t.Fatalf("warm invoke %d = %s", i, res.Payload)
			}
			if (i == 1) != (res.InitDuration > 0) {
				t.Errorf("invoke %d InitDuration = %v; want it on the first only", i, res.InitDuration)
			}
		}
		if n := strings.Count(w.logText(), "init: module imported"); n != 1 {
			t.Errorf("module initialised %d times, want 1", n)
		}
	})

	t.Run("console hello and area", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, with("lambda_function.lambda_handler"))
		res := s.invoke(t, environment.Invocation{Payload: []byte(`{"key1":"value1"}`)})
		if got, want := string(res.Payload), `{"statusCode": 200, "body": "\"Hello from Lambda!\""}`; got != want {
			t.Errorf("hello = %s, want %s", got, want)
		}
		a := startEnv(t, with("lambda_function.area"))
		res = a.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{"length": 6, "width": 7}`)})
		if got, want := string(res.Payload), `"{\"area\": 42}"`; got != want {
			t.Errorf("area = %s, want %s", got, want)
		}
		tail := string(res.LogTail)
		for _, re := range []string{
			`(?m)^START RequestId: ` + requestID + ` Version: \$LATEST$`,
			`(?m)^The area is 42$`,
			`(?m)^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + requestID + `\tCloudWatch logs group: /aws/lambda/fn$`,
			`(?m)^END RequestId: ` + requestID + `$`,
			`(?m)^REPORT RequestId: ` + requestID + `\tDuration: `,
		} {
			if !regexp.MustCompile(re).MatchString(tail) {
				t.Errorf("log tail does not match %s:\n%s", re, tail)
			}
		}
	})

	t.Run("context and environment", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, with("lambda_function.context_fields"))
		res := s.invoke(t, environment.Invocation{
			RequestID: requestID, Payload: []byte(`{}`),
			ClientContext:   `{"client":{"installation_id":"inst-1"},"custom":{"k":"v"},"env":{}}`,
			CognitoIdentity: `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
			TraceID:         "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
		})
		var got map[string]any
		if err := json.Unmarshal(res.Payload, &got); err != nil {
			t.Fatalf("context = %s: %v", res.Payload, err)
		}
		stream, _ := got["log_stream_name"].(string)
		if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(stream) {
			t.Errorf("log_stream_name = %q", stream)
		}
		for k, want := range map[string]any{
			"aws_request_id":         requestID,
			"function_name":          "fn",
			"function_version":       "$LATEST",
			"invoked_function_arn":   "arn:aws:lambda:us-east-1:000000000000:function:fn",
			"memory_limit_in_mb":     "128",
			"log_group_name":         "/aws/lambda/fn",
			"remaining_positive":     true,
			"identity_id":            "cid",
			"identity_pool_id":       "pool",
			"client_custom":          map[string]any{"k": "v"},
			"client_installation_id": "inst-1",
			"trace_env":              "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
			"execution_env":          "AWS_Lambda_python3.12",
			"custom_var":             "custom value",
			"task_root":              task,
			"cwd":                    task,
			"version":                "3.12",
		} {
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s = %#v, want %#v", k, got[k], want)
			}
		}
		head, _ := got["sys_path_head"].([]any)
		if len(head) != 4 || head[0] != task || !strings.HasSuffix(head[1].(string), "/python/lib/python3.12/site-packages") ||
			!strings.HasSuffix(head[2].(string), "/python") || head[3] != envRegistry(t).RuntimeDir("python3.12") {
			t.Errorf("sys.path head = %q, want task root, /opt/python/lib/python3.12/site-packages, /opt/python, runtime dir", head)
		}
	})

	t.Run("handler error", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, with("lambda_function.fail"))
		res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
		// aws-recorded test_lambda_handler_error, with this task root.
		want := `{"errorMessage": "Handler fails", "errorType": "Exception", "requestId": "` + requestID + `", "stackTrace": ["  File \"` + task + `/lambda_function.py\", line 51, in fail\n    raise Exception(\"Handler fails\")\n"]}`
		if string(res.Payload) != want || res.FunctionError != "Unhandled" || !res.Alive {
			t.Errorf("error = %s (%q alive=%v)\nwant %s", res.Payload, res.FunctionError, res.Alive, want)
		}
		if !strings.Contains(string(res.LogTail), "[ERROR] Exception: Handler fails\rTraceback (most recent call last):\r") {
			t.Errorf("log tail:\n%q", res.LogTail)
		}
	})

	t.Run("subdirectory vendored and layer", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, with("pkg/sub/mod.handler"))
		if res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)}); string(res.Payload) != `{"where": "pkg.sub.mod"}` {
			t.Errorf("subdirectory handler = %s", res.Payload)
		}
		d := startEnv(t, with("lambda_function.deps"))
		if res := d.invoke(t, environment.Invocation{Payload: []byte(`{}`)}); string(res.Payload) != `{"mylib": "vendored mylib", "layerlib": "layer lib"}` {
			t.Errorf("deps = %s", res.Payload)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		c := with("slow.handler")
		c.task = td(t, "pyslow")
		c.timeout = time.Second
		s := startEnv(t, c)
		res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
		want := `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: ` + requestID + ` Error: Task timed out after 1.00 seconds"}`
		if string(res.Payload) != want || res.Alive {
			t.Errorf("timeout = %s (alive=%v), want %s", res.Payload, res.Alive, want)
		}
	})
}

func TestEnvPythonInitErrors(t *testing.T) {
	t.Parallel()
	task := td(t, "pyerr")
	for _, tt := range []struct {
		handler, errType, message string
	}{
		{"nope.handler", "Runtime.ImportModuleError", "Unable to import module 'nope': No module named 'nope'"},
		{"ok.nothere", "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'ok'"},
		{"syntax_error.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'syntax_error': expected ':' (syntax_error.py, line 1)"},
		{"lambda_runtime_error.handler", "Exception", "Runtime startup fails"},
	} {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			s := startEnv(t, envCase{id: "python3.12", task: task, handler: tt.handler})
			res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
			var body struct {
				ErrorMessage string   `json:"errorMessage"`
				ErrorType    string   `json:"errorType"`
				RequestID    string   `json:"requestId"`
				StackTrace   []string `json:"stackTrace"`
			}
			if err := json.Unmarshal(res.Payload, &body); err != nil {
				t.Fatalf("payload %s: %v", res.Payload, err)
			}
			if body.ErrorType != tt.errType || body.ErrorMessage != tt.message || body.RequestID != "" || res.FunctionError != "Unhandled" {
				t.Errorf("init error = %s (%q), want %s: %s with requestId \"\"", res.Payload, res.FunctionError, tt.errType, tt.message)
			}
			if res.ErrorType != tt.errType {
				t.Errorf("Result.ErrorType = %q, want %q (from Lambda-Runtime-Function-Error-Type)", res.ErrorType, tt.errType)
			}
			if !strings.Contains(s.logText(), "[ERROR] "+tt.errType+": "+tt.message) {
				t.Errorf("logs:\n%s", s.logText())
			}
		})
	}
}

func TestEnvNode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, dir, handler, payload, want string
	}{
		{"cjs hello", "cjs", "index.handler", `{"key1":"value1"}`, `{"statusCode":200,"body":"\"Hello from Lambda!\""}`},
		{"mjs hello", "mjs", "index.handler", `{"key1":"value1"}`, `{"statusCode":200,"body":"\"Hello from Lambda!\""}`},
		{"cjs echo", "cjs", "index.echo", `{"a":[1,"é"]}`, `{"a":[1,"é"]}`},
		{"mjs echo", "mjs", "index.echo", `{"a":[1,"é"]}`, `{"a":[1,"é"]}`},
		{"package type module", "pkgesm", "index.echo", `{"a":1}`, `{"event":{"a":1},"esm":true,"requestId":"` + requestID + `"}`},
		{"subdirectory", "cjs", "sub/dir/handler.run", `{}`, `{"where":"sub/dir/handler.js"}`},
		{"vendored dependency", "cjs", "index.deps", `{}`, `"vendored module"`},
		{"callback", "cjs", "index.callback", `{"x":1}`, `{"via":"callback","got":{"x":1}}`},
		{"undefined is null", "cjs", "index.undef", `{}`, `null`},
		{"area", "cjs", "index.area", `{"length": 6, "width": 7}`, `"{\"area\":42}"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", tt.dir), handler: tt.handler})
			res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(tt.payload)})
			if string(res.Payload) != tt.want || res.FunctionError != "" || !res.Alive {
				t.Errorf("%s = %s (%q alive=%v), want %s", tt.handler, res.Payload, res.FunctionError, res.Alive, tt.want)
			}
		})
	}

	t.Run("context env and console", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "cjs"), handler: "index.context", env: map[string]string{"CUSTOM_VAR": "custom value"}})
		res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`),
			CognitoIdentity: `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`})
		var got map[string]any
		if err := json.Unmarshal(res.Payload, &got); err != nil {
			t.Fatalf("context = %s: %v", res.Payload, err)
		}
		for k, want := range map[string]any{
			"awsRequestId": requestID, "functionName": "fn", "functionVersion": "$LATEST",
			"invokedFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn", "memoryLimitInMB": "128",
			"logGroupName": "/aws/lambda/fn", "remainingPositive": true, "callbackWaitsForEmptyEventLoop": true,
			"identity":     map[string]any{"cognitoIdentityId": "cid", "cognitoIdentityPoolId": "pool"},
			"executionEnv": "AWS_Lambda_nodejs20.x", "customVar": "custom value", "cwd": td(t, "node", "cjs"),
		} {
			if !reflect.DeepEqual(got[k], want) {
				t.Errorf("%s = %#v, want %#v", k, got[k], want)
			}
		}
		if tr, _ := got["traceEnv"].(string); !strings.HasPrefix(tr, "Root=1-") {
			t.Errorf("_X_AMZN_TRACE_ID = %q, want the invocation's trace header", tr)
		}
		if np, _ := got["nodePath"].(string); !strings.HasSuffix(np, ":"+td(t, "node", "cjs")) || !strings.Contains(np, "/nodejs/node20/node_modules:") {
			t.Errorf("NODE_PATH = %q", np)
		}

		l := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "cjs"), handler: "index.logs"})
		res = l.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
		ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t`
		for _, re := range []string{
			`(?m)^` + ts + requestID + `\tINFO\thello from console\.log$`,
			`(?m)^` + ts + requestID + `\tWARN\tmulti\rline$`,
			`(?m)^` + ts + requestID + `\tERROR\tan error$`,
		} {
			if !regexp.MustCompile(re).MatchString(string(res.LogTail)) {
				t.Errorf("log tail does not match %s:\n%q", re, res.LogTail)
			}
		}
		if !regexp.MustCompile(`(?m)^` + ts + `undefined\tINFO\tinit: module loaded$`).MatchString(l.logText()) {
			t.Errorf("init log line missing:\n%s", l.logText())
		}
	})

	t.Run("warm state", func(t *testing.T) {
		t.Parallel()
		for _, dir := range []string{"cjs", "pkgesm"} {
			s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", dir), handler: "index.warm"})
			for i := 1; i <= 3; i++ {
				if res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)}); string(res.Payload) != string(rune('0'+i)) {
					t.Fatalf("%s warm invoke %d = %s", dir, i, res.Payload)
				}
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct{ dir, handler, errType, message string }{
			{"cjs", "index.fail", "Error", "some_error_msg"},
			{"mjs", "index.fail", "Error", "esm failure"},
		} {
			s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", tt.dir), handler: tt.handler})
			res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
			var body struct {
				ErrorType    string   `json:"errorType"`
				ErrorMessage string   `json:"errorMessage"`
				Trace        []string `json:"trace"`
			}
			dec := json.NewDecoder(strings.NewReader(string(res.Payload)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				t.Fatalf("%s body %s: %v", tt.dir, res.Payload, err)
			}
			if body.ErrorType != tt.errType || body.ErrorMessage != tt.message || len(body.Trace) < 2 ||
				body.Trace[0] != "Error: "+tt.message || res.FunctionError != "Unhandled" || !res.Alive {
				t.Errorf("%s error = %s (%q alive=%v)", tt.dir, res.Payload, res.FunctionError, res.Alive)
			}
			if !strings.Contains(string(res.LogTail), "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\""+tt.message+"\"") {
				t.Errorf("%s log tail:\n%q", tt.dir, res.LogTail)
			}
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "cjs"), handler: "index.slow", timeout: time.Second})
		res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
		want := `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: ` + requestID + ` Error: Task timed out after 1.00 seconds"}`
		if string(res.Payload) != want || res.Alive {
			t.Errorf("timeout = %s (alive=%v), want %s", res.Payload, res.Alive, want)
		}
	})

	t.Run("uncaught exception", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "cjs"), handler: "index.uncaught"})
		res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
		if !strings.HasPrefix(string(res.Payload), `{"errorType":"Error","errorMessage":"thrown later","trace":["Error: thrown later"`) || res.FunctionError != "Unhandled" {
			t.Errorf("uncaught = %s (%q)", res.Payload, res.FunctionError)
		}
	})
}

func TestEnvNodeInitErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ handler, errType, message string }{
		{"nope.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'nope'"},
		{"ok.nothere", "Runtime.HandlerNotFound", "ok.nothere is undefined or not exported"},
		{"syntax.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token '}'"},
	} {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "err"), handler: tt.handler})
			res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
			var body struct {
				ErrorType    string   `json:"errorType"`
				ErrorMessage string   `json:"errorMessage"`
				Trace        []string `json:"trace"`
			}
			if err := json.Unmarshal(res.Payload, &body); err != nil {
				t.Fatalf("payload %s: %v", res.Payload, err)
			}
			if body.ErrorType != tt.errType || !strings.HasPrefix(body.ErrorMessage, tt.message) || len(body.Trace) == 0 ||
				res.FunctionError != "Unhandled" || res.ErrorType != tt.errType {
				t.Errorf("init error = %s (%q %q), want %s: %s", res.Payload, res.FunctionError, res.ErrorType, tt.errType, tt.message)
			}
			if !strings.Contains(s.logText(), "\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\""+tt.errType+"\"") {
				t.Errorf("logs:\n%s", s.logText())
			}
		})
	}
}

// TestEnvNamespaced runs the bootstraps in the namespaced sandbox, where the
// host interpreters are visible only through Registry.HostPaths and the
// Lambda paths are AWS's: error bodies then match aws-recorded byte for byte.
func TestEnvNamespaced(t *testing.T) {
	t.Parallel()
	t.Run("python", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, envCase{id: "python3.12", task: td(t, "python"), layers: []string{td(t, "opt")}, handler: "lambda_function.fail", namespaced: true})
		res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{}`)})
		want := `{"errorMessage": "Handler fails", "errorType": "Exception", "requestId": "` + requestID + `", "stackTrace": ["  File \"/var/task/lambda_function.py\", line 51, in fail\n    raise Exception(\"Handler fails\")\n"]}`
		if string(res.Payload) != want {
			t.Errorf("error = %s\nwant %s", res.Payload, want)
		}
		c := startEnv(t, envCase{id: "python3.12", task: td(t, "python"), layers: []string{td(t, "opt")}, handler: "lambda_function.context_fields", namespaced: true})
		res = c.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
		var got map[string]any
		json.Unmarshal(res.Payload, &got)
		wantHead := []any{"/var/task", "/opt/python/lib/python3.12/site-packages", "/opt/python", "/var/runtime"}
		if !reflect.DeepEqual(got["sys_path_head"], wantHead) || got["cwd"] != "/var/task" {
			t.Errorf("sys.path head = %v cwd = %v, want %v and /var/task", got["sys_path_head"], got["cwd"], wantHead)
		}
		d := startEnv(t, envCase{id: "python3.12", task: td(t, "python"), layers: []string{td(t, "opt")}, handler: "lambda_function.deps", namespaced: true})
		if res := d.invoke(t, environment.Invocation{Payload: []byte(`{}`)}); string(res.Payload) != `{"mylib": "vendored mylib", "layerlib": "layer lib"}` {
			t.Errorf("deps = %s", res.Payload)
		}
	})
	t.Run("python init error", func(t *testing.T) {
		t.Parallel()
		s := startEnv(t, envCase{id: "python3.12", task: td(t, "pyerr"), handler: "lambda_runtime_error.handler", namespaced: true})
		res := s.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
		var body struct {
			StackTrace []string `json:"stackTrace"`
		}
		json.Unmarshal(res.Payload, &body)
		last := "  File \"/var/task/lambda_runtime_error.py\", line 1, in <module>\n    raise Exception(\"Runtime startup fails\")\n"
		if !strings.HasPrefix(string(res.Payload), `{"errorMessage": "Runtime startup fails", "errorType": "Exception", "requestId": "", "stackTrace": ["  File \"`) ||
			len(body.StackTrace) < 2 || body.StackTrace[len(body.StackTrace)-1] != last {
			t.Errorf("init error = %s", res.Payload)
		}
	})
	t.Run("node", func(t *testing.T) {
		t.Parallel()
		for _, dir := range []string{"cjs", "mjs", "pkgesm"} {
			s := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", dir), handler: "index.echo", namespaced: true})
			res := s.invoke(t, environment.Invocation{RequestID: requestID, Payload: []byte(`{"a":1}`)})
			want := `{"a":1}`
			if dir == "pkgesm" {
				want = `{"event":{"a":1},"esm":true,"requestId":"` + requestID + `"}`
			}
			if string(res.Payload) != want {
				t.Errorf("%s echo = %s, want %s", dir, res.Payload, want)
			}
		}
		c := startEnv(t, envCase{id: "nodejs20.x", task: td(t, "node", "cjs"), handler: "index.context", namespaced: true})
		res := c.invoke(t, environment.Invocation{Payload: []byte(`{}`)})
		var got map[string]any
		json.Unmarshal(res.Payload, &got)
		if got["nodePath"] != "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task" {
			t.Errorf("NODE_PATH = %v", got["nodePath"])
		}
	})
}
