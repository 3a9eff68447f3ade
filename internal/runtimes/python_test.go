package runtimes

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/runtimeapi"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// pyError is the body AWS's Python runtime posts for an error.
type pyError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	RequestID    *string  `json:"requestId"`
	StackTrace   []string `json:"stackTrace"`
}

func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func startPython(t *testing.T, handler string, env map[string]string) *runtimeProc {
	return startRuntime(t, procSpec{id: "python3.12", taskDir: testdata(t, "python"), optDir: testdata(t, "opt"), handler: handler, env: env})
}

func TestPythonEchoAllVersions(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14"} {
		t.Run(id, func(t *testing.T) {
			p := startRuntime(t, procSpec{id: id, taskDir: testdata(t, "python"), optDir: testdata(t, "opt"), handler: "lambda_function.echo"})
			payload := `{"a": [1, 2.5, "x\u00e9", null, true], "b": {"c": -1e3}}`
			ev := p.invoke(invocation{payload: payload})
			if ev.Kind != runtimeapi.EventResponse {
				t.Fatalf("event = %v %s, want response", ev.Kind, ev.Body)
			}
			var got, want any
			json.Unmarshal(ev.Body, &got)
			json.Unmarshal([]byte(payload), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("echo = %s, want %s", ev.Body, payload)
			}
			if ev.ContentType != "application/json" {
				t.Errorf("content type = %q, want application/json", ev.ContentType)
			}
			// python3.12 keeps non-ASCII characters; the others escape them,
			// as awslambdaric does.
			wantRaw := `"x\u00e9"`
			if id == "python3.12" {
				wantRaw = `"xé"`
			}
			if !strings.Contains(string(ev.Body), wantRaw) {
				t.Errorf("echo = %s, want it to contain %s", ev.Body, wantRaw)
			}
		})
	}
}

func TestPythonConsoleHello(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.lambda_handler", nil)
	ev := p.invoke(invocation{payload: `{"key1":"value1","key2":"value2","key3":"value3"}`})
	if got, want := string(ev.Body), `{"statusCode": 200, "body": "\"Hello from Lambda!\""}`; got != want {
		t.Errorf("hello = %s, want %s", got, want)
	}
}

func TestPythonContextAndEnv(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.context_fields", map[string]string{"CUSTOM_VAR": "custom value"})
	id := newRequestID()
	trace := "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
	ev := p.invoke(invocation{
		id:            id,
		payload:       `{}`,
		trace:         trace,
		clientContext: `{"client":{"installation_id":"inst-1"},"custom":{"k":"v"},"env":{}}`,
		cognito:       `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
	})
	if ev.Kind != runtimeapi.EventResponse {
		t.Fatalf("event = %v %s", ev.Kind, ev.Body)
	}
	var got map[string]any
	json.Unmarshal(ev.Body, &got)
	task := testdata(t, "python")
	want := map[string]any{
		"aws_request_id":         id,
		"function_name":          "fn",
		"function_version":       "$LATEST",
		"invoked_function_arn":   "arn:aws:lambda:us-east-1:000000000000:function:fn",
		"memory_limit_in_mb":     "128",
		"log_group_name":         "/aws/lambda/fn",
		"log_stream_name":        "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef",
		"remaining_positive":     true,
		"identity_id":            "cid",
		"identity_pool_id":       "pool",
		"client_custom":          map[string]any{"k": "v"},
		"client_installation_id": "inst-1",
		"trace_env":              trace,
		"execution_env":          "AWS_Lambda_python3.12",
		"custom_var":             "custom value",
		"task_root":              task,
		"cwd":                    task,
		"sys_path_head": []any{
			task,
			testdata(t, "opt") + "/python/lib/python3.12/site-packages",
			testdata(t, "opt") + "/python",
			registry(t).RuntimeDir("python3.12"),
		},
		"version": "3.12",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("context fields:\n got %v\nwant %v", got, want)
	}
}

func TestPythonHandlerError(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.fail", nil)
	id := newRequestID()
	ev := p.invoke(invocation{id: id, payload: `{}`})
	if ev.Kind != runtimeapi.EventError {
		t.Fatalf("event = %v %s, want error", ev.Kind, ev.Body)
	}
	// Shape of aws-recorded test_lambda_handler_error.
	var e pyError
	decodeStrict(t, ev.Body, &e)
	wantTrace := []string{"  File \"" + testdata(t, "python") + "/lambda_function.py\", line 51, in fail\n    raise Exception(\"Handler fails\")\n"}
	if e.ErrorMessage != "Handler fails" || e.ErrorType != "Exception" || e.RequestID == nil || *e.RequestID != id || !reflect.DeepEqual(e.StackTrace, wantTrace) {
		t.Errorf("error body = %s\nwant message/type/requestId/stackTrace = Handler fails/Exception/%s/%q", ev.Body, id, wantTrace)
	}
	if ev.ErrorType != "" {
		t.Errorf("error type header = %q, want none (awslambdaric sends it on init errors only)", ev.ErrorType)
	}
	// The runtime logs the error in AWS's format and keeps serving.
	out := p.waitOutput("[ERROR] Exception: Handler fails\rTraceback (most recent call last):\r\u00a0\u00a0File")
	if !strings.Contains(out, "\u00a0\u00a0\u00a0\u00a0raise Exception(\"Handler fails\")\n") {
		t.Errorf("error log line missing the indented source line:\n%q", out)
	}
	if ev := p.invoke(invocation{payload: `{}`}); ev.Kind != runtimeapi.EventError {
		t.Errorf("second invoke = %v, want error again", ev.Kind)
	}
}

func TestPythonWarmStateAndLogs(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.warm", nil)
	for i := 1; i <= 3; i++ {
		ev := p.invoke(invocation{payload: `{}`})
		if got := string(ev.Body); got != string(rune('0'+i)) {
			t.Fatalf("invoke %d = %s, want %d (module state must persist)", i, got, i)
		}
	}
	if n := strings.Count(p.out.String(), "init: module imported"); n != 1 {
		t.Errorf("module imported %d times, want once", n)
	}
}

func TestPythonLogging(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.logs", nil)
	id := newRequestID()
	ev := p.invoke(invocation{id: id, payload: `{}`})
	if string(ev.Body) != "null" {
		t.Errorf("None result = %s, want null", ev.Body)
	}
	out := p.waitOutput("multi\nline")
	for _, re := range []string{
		`(?m)^init: module imported$`,
		`(?m)^hello from print$`,
		`(?m)^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\tinfo from logging$`,
		`(?m)^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\tmulti\nline$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%q", re, out)
		}
	}
}

func TestPythonArea(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.area", nil)
	id := newRequestID()
	ev := p.invoke(invocation{id: id, payload: `{"length": 6, "width": 7}`})
	if got, want := string(ev.Body), `"{\"area\": 42}"`; got != want {
		t.Errorf("area = %s, want %s", got, want)
	}
	out := p.waitOutput("CloudWatch logs group")
	if !strings.Contains(out, "The area is 42\n") || !regexp.MustCompile(`\[INFO\]\t\S+Z\t`+id+`\tCloudWatch logs group: /aws/lambda/fn\n`).MatchString(out) {
		t.Errorf("area logs:\n%q", out)
	}
}

func TestPythonResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, handler string
		kind          runtimeapi.EventKind
		body          string
		contentType   string
	}{
		{"subdirectory", "pkg/sub/mod.handler", runtimeapi.EventResponse, `{"where": "pkg.sub.mod"}`, "application/json"},
		{"vendored and layer deps", "lambda_function.deps", runtimeapi.EventResponse, `{"mylib": "vendored mylib", "layerlib": "layer lib"}`, "application/json"},
		{"decimal", "lambda_function.decimal_result", runtimeapi.EventResponse, `{"n": 1.50, "i": 7}`, "application/json"},
		{"bytes", "lambda_function.raw_bytes", runtimeapi.EventResponse, "\x00raw", "application/unknown"},
		{"not serializable", "lambda_function.not_serializable", runtimeapi.EventError,
			`{"errorMessage": "Unable to marshal response: Object of type set is not JSON serializable", "errorType": "Runtime.MarshalError", "requestId": "ID", "stackTrace": []}`, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startPython(t, tt.handler, nil)
			id := newRequestID()
			ev := p.invoke(invocation{id: id, payload: `{}`})
			want := strings.ReplaceAll(tt.body, `"ID"`, `"`+id+`"`)
			if ev.Kind != tt.kind || string(ev.Body) != want || ev.ContentType != tt.contentType {
				t.Errorf("%s = %v %q (%s), want %v %q (%s)", tt.handler, ev.Kind, ev.Body, ev.ContentType, tt.kind, want, tt.contentType)
			}
		})
	}
}

func TestPythonUnmarshalError(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.echo", nil)
	id := newRequestID()
	ev := p.invoke(invocation{id: id, payload: `{"a": `})
	want := `{"errorMessage": "Unable to unmarshal input: Expecting value: line 1 column 7 (char 6)", "errorType": "Runtime.UnmarshalError", "requestId": "` + id + `", "stackTrace": []}`
	if ev.Kind != runtimeapi.EventError || string(ev.Body) != want {
		t.Errorf("bad JSON event = %v %s, want error %s", ev.Kind, ev.Body, want)
	}
}

func TestPythonInitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, handler, errType, message string
		trace                           func(t *testing.T, trace []string)
	}{
		{"missing module", "nope.handler", "Runtime.ImportModuleError", "Unable to import module 'nope': No module named 'nope'", nil},
		{"import error inside module", "import_error.handler", "Runtime.ImportModuleError",
			"Unable to import module 'import_error': No module named 'this_module_does_not_exist_anywhere'", nil},
		{"missing handler", "ok.nothere", "Runtime.HandlerNotFound", "Handler 'nothere' missing on module 'ok'", nil},
		{"malformed handler", "nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)", nil},
		{"builtin module", "sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module", nil},
		{"syntax error", "syntax_error.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'syntax_error': expected ':' (syntax_error.py, line 1)",
			func(t *testing.T, trace []string) {
				want := []string{"  File \"" + testdata(t, "pyerr") + "/syntax_error.py\" Line 1\n    def handler(event, context)\n"}
				if !reflect.DeepEqual(trace, want) {
					t.Errorf("stackTrace = %q, want %q", trace, want)
				}
			}},
		{"exception at import", "lambda_runtime_error.handler", "Exception", "Runtime startup fails",
			// aws-recorded test_lambda_runtime_error: importlib frames first,
			// the user's module last.
			func(t *testing.T, trace []string) {
				if len(trace) < 2 || !strings.Contains(trace[0], "importlib/__init__.py\", line ") || !strings.Contains(trace[0], ", in import_module\n    return _bootstrap._gcd_import(name[level:], package, level)\n") {
					t.Errorf("stackTrace[0] = %q, want the importlib.import_module frame", trace)
				}
				want := "  File \"" + testdata(t, "pyerr") + "/lambda_runtime_error.py\", line 1, in <module>\n    raise Exception(\"Runtime startup fails\")\n"
				if len(trace) == 0 || trace[len(trace)-1] != want {
					t.Errorf("last frame = %q, want %q", trace, want)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startRuntime(t, procSpec{id: "python3.12", taskDir: testdata(t, "pyerr"), handler: tt.handler})
			ev, ok := p.next()
			if !ok || ev.Kind != runtimeapi.EventInitError {
				t.Fatalf("event = %v (ok=%v) %s, want init error", ev.Kind, ok, ev.Body)
			}
			if ev.ErrorType != tt.errType {
				t.Errorf("Lambda-Runtime-Function-Error-Type = %q, want %q", ev.ErrorType, tt.errType)
			}
			var e pyError
			decodeStrict(t, ev.Body, &e)
			if e.ErrorType != tt.errType || e.ErrorMessage != tt.message || e.RequestID == nil || *e.RequestID != "" {
				t.Errorf("init error = %s, want type %q message %q requestId \"\"", ev.Body, tt.errType, tt.message)
			}
			if tt.trace != nil {
				tt.trace(t, e.StackTrace)
			} else if e.StackTrace == nil || len(e.StackTrace) != 0 {
				t.Errorf("stackTrace = %#v, want []", e.StackTrace)
			}
			if code := p.waitExit(); code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			out := p.out.String()
			if !regexp.MustCompile(`(?m)^\[WARNING\]\t\S+Z\t\tLAMBDA_WARNING: Unhandled exception\. `).MatchString(out) ||
				!strings.Contains(out, "[ERROR] "+tt.errType+": "+tt.message+"\rTraceback (most recent call last):") {
				t.Errorf("init error log lines:\n%q", out)
			}
		})
	}
}

func TestPythonExitInHandler(t *testing.T) {
	t.Parallel()
	p := startPython(t, "lambda_function.exit_now", nil)
	if err := p.api.Deliver(&runtimeapi.Invocation{RequestID: newRequestID(), Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if ev, ok := p.next(); ok {
		t.Fatalf("got %v %s, want the process to exit", ev.Kind, ev.Body)
	}
	if code := p.waitExit(); code != 0 {
		t.Errorf("exit code = %d, want 0 (sys.exit(0) must not be swallowed)", code)
	}
}

func TestPythonJSONLogs(t *testing.T) {
	t.Parallel()
	p := startPython(t, "levels.handler", map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"})
	id := newRequestID()
	p.invoke(invocation{id: id, payload: `{}`})
	out := p.waitOutput(`"level": "WARNING"`)
	if strings.Contains(out, "info from logging") {
		t.Errorf("INFO logged although AWS_LAMBDA_LOG_LEVEL=WARN:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^hello from print$`).MatchString(out) {
		t.Errorf("print output must stay raw:\n%s", out)
	}
	re := regexp.MustCompile(`(?m)^\{"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "level": "WARNING", "message": "multi\\nline", "logger": "root", "requestId": "` + id + `"\}$`)
	if !re.MatchString(out) {
		t.Errorf("JSON warning line does not match %s:\n%s", re, out)
	}

	f := startPython(t, "lambda_function.fail", map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON"})
	id = newRequestID()
	f.invoke(invocation{id: id, payload: `{}`})
	out = f.waitOutput(`"level": "ERROR"`)
	re = regexp.MustCompile(`(?m)^\{"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "level": "ERROR", "errorMessage": "Handler fails", "errorType": "Exception", "requestId": "` + id + `", "stackTrace": \["  File `)
	if !re.MatchString(out) {
		t.Errorf("JSON error line does not match %s:\n%s", re, out)
	}
}

// TestPythonReconnectsStaleConnection: a Runtime API that drops idle
// keep-alive connections (the runtime's socket dies while it is frozen, for
// instance) must not kill the runtime: it reconnects once.
func TestPythonReconnectsStaleConnection(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	rt, err := reg.Lookup("python3.12")
	if err != nil {
		t.Skip(err)
	}
	events := make(chan string, 2)
	events <- "1"
	events <- "2"
	responses := make(chan string, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case ev := <-events:
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-"+ev)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"n":` + ev + `}`))
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"OK"}`))
		responses <- r.PathValue("id") + " " + string(b)
	})
	srv := httptest.NewUnstartedServer(mux)
	// Close every connection as soon as it goes idle after a response.
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateIdle {
			c.Close()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	task := testdata(t, "bench", "python")
	paths := sandbox.Paths{TaskRoot: task, Opt: t.TempDir(), RuntimeDir: reg.RuntimeDir("python3.12"), Tmp: t.TempDir()}
	l, err := rt.Launch("echo.handler", paths, task, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(l.Path, l.Args[1:]...)
	cmd.Dir = task
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"), "_HANDLER=echo.handler", "LAMBDA_TASK_ROOT=" + task}
	f, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := outFile{f}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, want := range []string{`req-1 {"n": 1}`, `req-2 {"n": 2}`} {
		select {
		case got := <-responses:
			if got != want {
				t.Errorf("response = %q, want %q", got, want)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no response %q; runtime output:\n%s", want, out.String())
		}
	}
}

// TestLargePayloads: events far larger than one socket read, which the
// Runtime API sends chunked, round-trip intact in both runtimes.
func TestLargePayloads(t *testing.T) {
	t.Parallel()
	big := `{"s":"` + strings.Repeat("aé€😀", 200000) + `","n":[` + strings.TrimSuffix(strings.Repeat("1.5,", 50000), ",") + `]}`
	var want any
	if err := json.Unmarshal([]byte(big), &want); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ id, dir, handler string }{
		{"python3.12", "python", "lambda_function.echo"},
		{"python3.9", "python", "lambda_function.echo"},
		{"nodejs20.x", "node/cjs", "index.echo"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			p := startRuntime(t, procSpec{id: tt.id, taskDir: testdata(t, strings.Split(tt.dir, "/")...), optDir: testdata(t, "opt"), handler: tt.handler})
			for range 2 {
				ev := p.invoke(invocation{payload: big})
				var got any
				if err := json.Unmarshal(ev.Body, &got); err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("echo of %d bytes: %v %d bytes back (%v)", len(big), ev.Kind, len(ev.Body), err)
				}
			}
		})
	}
}
