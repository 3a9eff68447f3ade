package runtimes

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/runtimeapi"
)

// nodeError is the body AWS's Node runtime posts for an error.
type nodeError struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Trace        []string `json:"trace"`
}

func startNode(t *testing.T, dir, handler string, env map[string]string) *runtimeProc {
	return startRuntime(t, procSpec{id: "nodejs20.x", taskDir: testdata(t, "node", dir), handler: handler, env: env})
}

func TestNodeHello(t *testing.T) {
	t.Parallel()
	want := `{"statusCode":200,"body":"\"Hello from Lambda!\""}`
	for _, tt := range []struct{ name, dir, handler string }{
		{"cjs", "cjs", "index.handler"},
		{"mjs", "mjs", "index.handler"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, tt.dir, tt.handler, nil)
			ev := p.invoke(invocation{payload: `{"key1":"value1"}`})
			if ev.Kind != runtimeapi.EventResponse || string(ev.Body) != want {
				t.Errorf("hello = %v %s, want %s", ev.Kind, ev.Body, want)
			}
		})
	}
}

func TestNodeEcho(t *testing.T) {
	t.Parallel()
	payload := `{"a":[1,2.5,"xé",null,true],"b":{"c":-1000}}`
	for _, tt := range []struct{ name, dir, handler, want string }{
		{"cjs", "cjs", "index.echo", payload},
		{"mjs", "mjs", "index.echo", payload},
		{"package type module", "pkgesm", "index.echo", `{"event":` + payload + `,"esm":true,"requestId":"ID"}`},
		{"undefined is null", "cjs", "index.undef", `null`},
		{"nested export", "cjs", "index.nested.deeper.fn", `"nested ok"`},
		{"subdirectory", "cjs", "sub/dir/handler.run", `{"where":"sub/dir/handler.js"}`},
		{"vendored dependency", "cjs", "index.deps", `"vendored module"`},
		{"callback", "cjs", "index.callback", `{"via":"callback","got":` + payload + `}`},
		{"sync handler without callback", "cjs", "index.syncNoReturn", `null`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, tt.dir, tt.handler, nil)
			id := newRequestID()
			ev := p.invoke(invocation{id: id, payload: payload})
			want := strings.ReplaceAll(tt.want, `"ID"`, `"`+id+`"`)
			if ev.Kind != runtimeapi.EventResponse || string(ev.Body) != want {
				t.Errorf("%s = %v %s, want %s", tt.handler, ev.Kind, ev.Body, want)
			}
		})
	}
}

func TestNodeContextAndEnv(t *testing.T) {
	t.Parallel()
	p := startNode(t, "cjs", "index.context", map[string]string{"CUSTOM_VAR": "custom value"})
	id := newRequestID()
	trace := "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
	ev := p.invoke(invocation{
		id: id, payload: `{}`, trace: trace,
		clientContext: `{"client":{"installation_id":"inst-1"},"custom":{"k":"v"},"env":{}}`,
		cognito:       `{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}`,
	})
	var got map[string]any
	if err := json.Unmarshal(ev.Body, &got); err != nil {
		t.Fatalf("context = %s: %v", ev.Body, err)
	}
	task := testdata(t, "node", "cjs")
	rtDir := registry(t).RuntimeDir("nodejs20.x")
	optDir, _ := got["nodePath"].(string)
	optDir = strings.TrimSuffix(strings.SplitN(optDir, ":", 2)[0], "/nodejs/node20/node_modules")
	want := map[string]any{
		"awsRequestId":                   id,
		"functionName":                   "fn",
		"functionVersion":                "$LATEST",
		"invokedFunctionArn":             "arn:aws:lambda:us-east-1:000000000000:function:fn",
		"memoryLimitInMB":                "128",
		"logGroupName":                   "/aws/lambda/fn",
		"logStreamName":                  "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef",
		"remainingPositive":              true,
		"identity":                       map[string]any{"cognitoIdentityId": "cid", "cognitoIdentityPoolId": "pool"},
		"clientContext":                  map[string]any{"client": map[string]any{"installation_id": "inst-1"}, "custom": map[string]any{"k": "v"}, "env": map[string]any{}},
		"callbackWaitsForEmptyEventLoop": true,
		"traceEnv":                       trace,
		"executionEnv":                   "AWS_Lambda_nodejs20.x",
		"customVar":                      "custom value",
		"nodePath":                       optDir + "/nodejs/node20/node_modules:" + optDir + "/nodejs/node_modules:" + rtDir + "/node_modules:" + rtDir + ":" + task,
		"cwd":                            task,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("context:\n got %v\nwant %v", got, want)
	}
}

func TestNodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, dir, handler string
		errType, message   string
		traceHead          string
	}{
		{"cjs throw", "cjs", "index.fail", "Error", "some_error_msg", "Error: some_error_msg"},
		{"mjs throw", "mjs", "index.fail", "Error", "esm failure", "Error: esm failure"},
		{"callback error", "cjs", "index.callbackError", "Error", "callback failure", "Error: callback failure"},
		{"thrown string", "cjs", "index.failString", "string", "just a string", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, tt.dir, tt.handler, nil)
			id := newRequestID()
			ev := p.invoke(invocation{id: id, payload: `{}`})
			if ev.Kind != runtimeapi.EventError {
				t.Fatalf("event = %v %s, want error", ev.Kind, ev.Body)
			}
			var e nodeError
			decodeStrict(t, ev.Body, &e)
			if e.ErrorType != tt.errType || e.ErrorMessage != tt.message {
				t.Errorf("error = %s, want type %q message %q", ev.Body, tt.errType, tt.message)
			}
			if tt.traceHead == "" {
				if e.Trace == nil || len(e.Trace) != 0 {
					t.Errorf("trace = %#v, want []", e.Trace)
				}
			} else if len(e.Trace) < 2 || e.Trace[0] != tt.traceHead || !strings.HasPrefix(e.Trace[1], "    at ") {
				t.Errorf("trace = %q, want %q then stack frames", e.Trace, tt.traceHead)
			}
			// Logged as AWS does, and the runtime keeps serving.
			out := p.waitOutput("Invoke Error")
			if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t` + id + `\tERROR\tInvoke Error \t\{"errorType":"`).MatchString(out) {
				t.Errorf("invoke error log:\n%q", out)
			}
			if ev := p.invoke(invocation{payload: `{}`}); ev.Kind != runtimeapi.EventError {
				t.Errorf("second invoke = %v, want error again", ev.Kind)
			}
		})
	}
}

func TestNodeWarmState(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, dir string }{{"cjs", "cjs"}, {"esm", "pkgesm"}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, tt.dir, "index.warm", nil)
			for i := 1; i <= 3; i++ {
				if got := string(p.invoke(invocation{payload: `{}`}).Body); got != string(rune('0'+i)) {
					t.Fatalf("invoke %d = %s, want %d", i, got, i)
				}
			}
		})
	}
}

func TestNodeConsole(t *testing.T) {
	t.Parallel()
	p := startNode(t, "cjs", "index.logs", nil)
	id := newRequestID()
	if ev := p.invoke(invocation{id: id, payload: `{}`}); string(ev.Body) != `"logged"` {
		t.Fatalf("logs = %s", ev.Body)
	}
	out := p.waitOutput("debugging")
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t`
	for _, re := range []string{
		`(?m)^` + ts + `undefined\tINFO\tinit: module loaded$`,
		`(?m)^` + ts + id + `\tINFO\thello from console\.log$`,
		`(?m)^` + ts + id + `\tINFO\tinfo \{ a: 1 \}$`,
		`(?m)^` + ts + id + `\tWARN\tmulti\rline$`,
		`(?m)^` + ts + id + `\tERROR\tan error$`,
		`(?m)^` + ts + id + `\tDEBUG\tdebugging$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%q", re, out)
		}
	}
}

func TestNodeArea(t *testing.T) {
	t.Parallel()
	p := startNode(t, "cjs", "index.area", nil)
	id := newRequestID()
	ev := p.invoke(invocation{id: id, payload: `{"length": 6, "width": 7}`})
	if got, want := string(ev.Body), `"{\"area\":42}"`; got != want {
		t.Errorf("area = %s, want %s", got, want)
	}
	p.waitOutput(id + "\tINFO\tCloudWatch log group: /aws/lambda/fn\n")
}

func TestNodeCallbackWaitsForEmptyEventLoop(t *testing.T) {
	t.Parallel()
	// callbackWaitsForEmptyEventLoop=true (default): the result is posted
	// only once the timer the handler left behind has run.
	p := startNode(t, "cjs", "index.callbackWaits", nil)
	if ev := p.invoke(invocation{payload: `{}`}); string(ev.Body) != `"first"` {
		t.Fatalf("callbackWaits = %s", ev.Body)
	}
	if out := p.out.String(); !strings.Contains(out, "\tINFO\ttimer fired\n") {
		t.Errorf("response posted before the event loop was empty; output:\n%q", out)
	}

	// false: posted at once although a 60 s timer is pending (the invoke
	// would otherwise outlast the harness's wait limit).
	r := startNode(t, "cjs", "index.callbackNoWait", nil)
	if ev := r.invoke(invocation{payload: `{}`}); string(ev.Body) != `"did not wait"` {
		t.Fatalf("callbackNoWait = %s", ev.Body)
	}
	if ev := r.invoke(invocation{payload: `{"x":1}`}); string(ev.Body) != `"did not wait"` {
		t.Fatalf("second callbackNoWait = %s", ev.Body)
	}
}

func TestNodeProcessErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		handler, errType, message string
		code                      int
	}{
		{"index.uncaught", "Error", "thrown later", 129},
		{"index.rejection", "Runtime.UnhandledPromiseRejection", "Error: nobody catches me", 128},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, "cjs", tt.handler, nil)
			ev := p.invoke(invocation{payload: `{}`})
			var e nodeError
			decodeStrict(t, ev.Body, &e)
			if ev.Kind != runtimeapi.EventError || e.ErrorType != tt.errType || e.ErrorMessage != tt.message {
				t.Errorf("%s = %v %s, want error %s: %s", tt.handler, ev.Kind, ev.Body, tt.errType, tt.message)
			}
			if code := p.waitExit(); code != tt.code {
				t.Errorf("exit code = %d, want %d", code, tt.code)
			}
		})
	}
}

func TestNodeInitErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, handler, errType, message string
	}{
		{"missing module", "nope.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'nope'\nRequire stack:\n- BOOTSTRAP"},
		{"missing dependency", "missingdep.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'no-such-dependency-anywhere'\nRequire stack:\n- DIR/missingdep.js\n- BOOTSTRAP"},
		{"missing handler", "ok.nothere", "Runtime.HandlerNotFound", "ok.nothere is undefined or not exported"},
		{"not a function", "ok.notFn", "Runtime.HandlerNotFound", "ok.notFn is not a function"},
		{"malformed", "nodot", "Runtime.MalformedHandlerName", "Bad handler"},
		{"relative path", "../x.handler", "Runtime.MalformedHandlerName", "'../x.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names."},
		{"syntax error", "syntax.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token '}'"},
		{"throw at init", "initthrow.handler", "Error", "init went wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, "err", tt.handler, nil)
			ev, ok := p.next()
			if !ok || ev.Kind != runtimeapi.EventInitError {
				t.Fatalf("event = %v (ok=%v) %s, want init error", ev.Kind, ok, ev.Body)
			}
			want := strings.ReplaceAll(tt.message, "BOOTSTRAP", registry(t).RuntimeDir("nodejs20.x")+"/bootstrap.cjs")
			want = strings.ReplaceAll(want, "DIR", testdata(t, "node", "err"))
			var e nodeError
			decodeStrict(t, ev.Body, &e)
			if ev.ErrorType != tt.errType || e.ErrorType != tt.errType || e.ErrorMessage != want {
				t.Errorf("init error = %s (header %q), want type %q message %q", ev.Body, ev.ErrorType, tt.errType, want)
			}
			if len(e.Trace) == 0 || !strings.HasPrefix(e.Trace[0], tt.errType+": ") {
				t.Errorf("trace = %q, want it to start with %q", e.Trace, tt.errType+": ")
			}
			if code := p.waitExit(); code != 129 {
				t.Errorf("exit code = %d, want 129", code)
			}
			if !regexp.MustCompile(`(?m)^\S+Z\tundefined\tERROR\tUncaught Exception \t\{"errorType":"` + regexp.QuoteMeta(tt.errType) + `"`).MatchString(p.out.String()) {
				t.Errorf("init error log:\n%q", p.out.String())
			}
		})
	}
}

func TestNodeJSONLogs(t *testing.T) {
	t.Parallel()
	p := startNode(t, "cjs", "index.logs", map[string]string{"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"})
	id := newRequestID()
	p.invoke(invocation{id: id, payload: `{}`})
	out := p.waitOutput(`"an error"`)
	if strings.Contains(out, "debugging") {
		t.Errorf("DEBUG logged although AWS_LAMBDA_LOG_LEVEL=INFO:\n%s", out)
	}
	ts := `"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`
	for _, re := range []string{
		`(?m)^\{` + ts + `,"level":"INFO","requestId":"` + id + `","message":"hello from console.log"\}$`,
		`(?m)^\{` + ts + `,"level":"INFO","requestId":"` + id + `","message":"info \{ a: 1 \}"\}$`,
		`(?m)^\{` + ts + `,"level":"WARN","requestId":"` + id + `","message":"multi\\nline"\}$`,
		`(?m)^\{` + ts + `,"level":"INFO","message":"init: module loaded"\}$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}

	f := startNode(t, "cjs", "index.fail", map[string]string{"AWS_LAMBDA_LOG_FORMAT": "json"})
	id = newRequestID()
	f.invoke(invocation{id: id, payload: `{}`})
	out = f.waitOutput(`"level":"ERROR"`)
	re := regexp.MustCompile(`(?m)^\{` + ts + `,"level":"ERROR","requestId":"` + id + `","message":\{"errorType":"Error","errorMessage":"some_error_msg","stackTrace":\["Error: some_error_msg",`)
	if !re.MatchString(out) {
		t.Errorf("JSON invoke error line does not match %s:\n%s", re, out)
	}
}

func TestNodeResponseStreaming(t *testing.T) {
	t.Parallel()
	tests := []struct {
		handler     string
		kind        runtimeapi.EventKind
		body        string
		contentType string
	}{
		{"index.plain", runtimeapi.EventResponse, `hello ID {"a":1}`, "text/plain"},
		{"index.http", runtimeapi.EventResponse, `{"statusCode":201,"headers":{"x-a":"b"}}` + "\x00\x00\x00\x00\x00\x00\x00\x00body", "application/vnd.awslambda.http-integration-response"},
		{"index.failEarly", runtimeapi.EventError, `{"errorType":"Error","errorMessage":"stream broke","trace":["Error: stream broke",`, ""},
		{"index.unfinished", runtimeapi.EventError, `{"errorType":"string","errorMessage":"Response stream is not finished.","trace":[]}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			p := startNode(t, "stream", tt.handler, nil)
			id := newRequestID()
			ev := p.invoke(invocation{id: id, payload: `{"a":1}`})
			want := strings.ReplaceAll(tt.body, "ID", id)
			if ev.Kind != tt.kind || !strings.HasPrefix(string(ev.Body), want) {
				t.Errorf("%s = %v %q, want %v %q", tt.handler, ev.Kind, ev.Body, tt.kind, want)
			}
			if tt.contentType != "" && ev.ContentType != tt.contentType {
				t.Errorf("content type = %q, want %q", ev.ContentType, tt.contentType)
			}
			// The environment keeps serving.
			if ev2 := p.invoke(invocation{payload: `{"a":2}`}); ev2.Kind != tt.kind {
				t.Errorf("second invoke = %v %s", ev2.Kind, ev2.Body)
			}
		})
	}
}

// TestNode24CallbackHandlers: nodejs24.x rejects callback handlers at INIT,
// as AWS's Node 24 client does; async handlers still work.
func TestNode24CallbackHandlers(t *testing.T) {
	t.Parallel()
	p := startRuntime(t, procSpec{id: "nodejs24.x", taskDir: testdata(t, "node", "cjs"), handler: "index.callback"})
	ev, ok := p.next()
	if !ok || ev.Kind != runtimeapi.EventInitError || ev.ErrorType != "Runtime.CallbackHandlerDeprecated" ||
		!strings.HasPrefix(string(ev.Body), `{"errorType":"Runtime.CallbackHandlerDeprecated","errorMessage":"ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24.`) {
		t.Fatalf("init = %v (ok=%v) %q %s", ev.Kind, ok, ev.ErrorType, ev.Body)
	}
	if !strings.Contains(p.out.String(), "\tundefined\tERROR\tInit Error \t{") {
		t.Errorf("init error log:\n%s", p.out.String())
	}
	q := startRuntime(t, procSpec{id: "nodejs24.x", taskDir: testdata(t, "node", "cjs"), handler: "index.echo"})
	if ev := q.invoke(invocation{payload: `{"a":1}`}); string(ev.Body) != `{"a":1}` {
		t.Errorf("async handler on nodejs24.x = %s", ev.Body)
	}
}

// TestNodeUnsettledTopLevelAwait: a module whose top-level await never
// settles ends INIT with exit status 13, as under AWS's ESM entry point.
func TestNodeUnsettledTopLevelAwait(t *testing.T) {
	t.Parallel()
	p := startNode(t, "err", "tla.handler", nil)
	if ev, ok := p.next(); ok {
		t.Fatalf("got %v %s, want the process to exit", ev.Kind, ev.Body)
	}
	if code := p.waitExit(); code != 13 {
		t.Errorf("exit code = %d, want 13", code)
	}
}

// TestNodeAsyncNeverSettles: an async handler whose promise is still pending
// when the event loop empties fails with Runtime.NodeJsExit (AWS docs, Node
// 18+); the environment keeps serving.
func TestNodeAsyncNeverSettles(t *testing.T) {
	t.Parallel()
	p := startNode(t, "cjs", "index.neverSettles", nil)
	for range 2 {
		ev := p.invoke(invocation{payload: `{}`})
		var e nodeError
		decodeStrict(t, ev.Body, &e)
		if ev.Kind != runtimeapi.EventError || e.ErrorType != "Runtime.NodeJsExit" || !strings.Contains(e.ErrorMessage, "Promise that was never settled") {
			t.Errorf("never-settling handler = %v %s", ev.Kind, ev.Body)
		}
	}
}
