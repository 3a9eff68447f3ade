package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const base = "/2018-06-01/runtime/"

type harness struct {
	t   *testing.T
	s   *Server
	url string
	c   *http.Client
}

func start(t *testing.T) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(slog.New(slog.NewTextHandler(t.Output(), nil)))
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve() = %v", err)
		}
	})
	return &harness{t: t, s: s, url: "http://" + ln.Addr().String(), c: &http.Client{}}
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(method, path, ct string, body io.Reader, hdr map[string]string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.url+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// nextAsync issues GET /next in the background.
func (h *harness) nextAsync() <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		resp, err := h.c.Get(h.url + base + "invocation/next")
		if err != nil {
			ch <- reply{status: -1, body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- reply{resp.StatusCode, resp.Header, string(b)}
	}()
	return ch
}

func (h *harness) event(want EventKind) Event {
	h.t.Helper()
	select {
	case ev := <-h.s.Events():
		if ev.Kind != want {
			h.t.Fatalf("event = %v (%+v), want %v", ev.Kind, ev, want)
		}
		return ev
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no %v event", want)
	}
	return Event{}
}

func (h *harness) noEvent() {
	h.t.Helper()
	select {
	case ev := <-h.s.Events():
		h.t.Fatalf("unexpected event %v", ev.Kind)
	default:
	}
}

// invoke makes the runtime ready (if needed) and delivers one invocation,
// returning the /next reply.
func (h *harness) invoke(inv *Invocation, first bool) reply {
	h.t.Helper()
	ch := h.nextAsync()
	if first {
		h.event(EventReady)
	}
	if err := h.s.Deliver(inv); err != nil {
		h.t.Fatalf("Deliver() = %v", err)
	}
	return <-ch
}

func wantAPIError(t *testing.T, r reply, status int, typ, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d (%s), want %d", r.status, r.body, status)
	}
	var e struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	if e.ErrorType != typ || e.ErrorMessage != msg {
		t.Fatalf("error = %q %q, want %q %q", e.ErrorType, e.ErrorMessage, typ, msg)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

func TestNextHeadersAndResponse(t *testing.T) {
	h := start(t)
	deadline := time.UnixMilli(1700000000123)
	r := h.invoke(&Invocation{
		RequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", Payload: []byte(`{"a":1}`), Deadline: deadline,
		InvokedARN: "arn:aws:lambda:us-east-1:000000000000:function:f", TraceID: "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
		ClientContext: `{"custom":{"k":"v"}}`, TenantID: "tenant-1",
	}, true)
	if r.status != 200 || r.body != `{"a":1}` {
		t.Fatalf("/next = %d %q", r.status, r.body)
	}
	want := map[string]string{
		"Content-Type":                        "application/json",
		"Lambda-Runtime-Aws-Request-Id":       "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
		"Lambda-Runtime-Deadline-Ms":          "1700000000123",
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
		"Lambda-Runtime-Trace-Id":             "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0",
		"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
		"Lambda-Runtime-Aws-Tenant-Id":        "tenant-1",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, ok := r.header["Lambda-Runtime-Cognito-Identity"]; ok {
		t.Errorf("Cognito header present without identity")
	}
	resp := h.do("POST", base+"invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response", "application/json", strings.NewReader(`"ok"`), nil)
	if resp.status != 202 || resp.body != `{"status":"OK"}` {
		t.Fatalf("/response = %d %q", resp.status, resp.body)
	}
	ev := h.event(EventResponse)
	if string(ev.Body) != `"ok"` || ev.RequestID != "8476a536-e9f4-11e8-9739-2dfe598c3fcd" {
		t.Fatalf("event = %+v", ev)
	}
	ch := h.nextAsync()
	ev = h.event(EventDone)
	if ev.RequestID != "8476a536-e9f4-11e8-9739-2dfe598c3fcd" {
		t.Fatalf("done id = %q", ev.RequestID)
	}
	if err := h.s.Deliver(&Invocation{RequestID: "id2", Payload: []byte(`{}`), Deadline: deadline, CognitoIdentity: `{"cognitoIdentityId":"x","cognitoIdentityPoolId":"y"}`}); err != nil {
		t.Fatal(err)
	}
	r = <-ch
	if r.header.Get("Lambda-Runtime-Aws-Request-Id") != "id2" || r.header.Get("Lambda-Runtime-Cognito-Identity") == "" {
		t.Fatalf("second /next headers = %v", r.header)
	}
	if _, ok := r.header["Lambda-Runtime-Client-Context"]; ok {
		t.Errorf("Client-Context header present without context")
	}
	if _, ok := r.header["Lambda-Runtime-Aws-Tenant-Id"]; ok {
		t.Errorf("Tenant-Id header present without tenant")
	}
}

func TestStateRules(t *testing.T) {
	h := start(t)
	// No invocation yet: /response is a refused transition from Started.
	r := h.do("POST", base+"invocation/x/response", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeStartedState to InvocationResponse failed for runtime. Error: State transition is not allowed")

	first := h.invoke(&Invocation{RequestID: "id1", Payload: []byte(`{"n":1}`)}, true)
	// Repeated /next while Running renders the same event.
	again := h.do("GET", base+"invocation/next", "", nil, nil)
	if again.status != 200 || again.body != first.body || again.header.Get(HeaderRequestID) != "id1" {
		t.Fatalf("repeated /next = %d %q %v", again.status, again.body, again.header)
	}
	// Delivering while running is refused.
	if err := h.s.Deliver(&Invocation{RequestID: "id9"}); !errors.Is(err, ErrBusy) {
		t.Fatalf("Deliver while running = %v, want ErrBusy", err)
	}
	// Wrong id: 400 before the state check.
	r = h.do("POST", base+"invocation/nope/response", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 400, "InvalidRequestID", "Invalid request ID")
	r = h.do("POST", base+"invocation/nope/error", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 400, "InvalidRequestID", "Invalid request ID")
	h.noEvent()

	r = h.do("POST", base+"invocation/id1/response", "", strings.NewReader("1"), nil)
	if r.status != 202 {
		t.Fatalf("/response = %d", r.status)
	}
	h.event(EventResponse)
	r = h.do("POST", base+"invocation/id1/response", "", strings.NewReader("2"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed")
	r = h.do("POST", base+"invocation/id1/error", "", strings.NewReader("2"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeResponseSentState to InvocationErrorResponse failed for runtime. Error: State transition is not allowed")
	r = h.do("POST", base+"init/error", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeResponseSentState to InitError failed for runtime. Error: State transition is not allowed")
	h.noEvent()

	// Back to /next: Done; then answers for the finished id are refused.
	ch := h.nextAsync()
	h.event(EventDone)
	r = h.do("POST", base+"invocation/id1/error", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeReadyState to InvocationErrorResponse failed for runtime. Error: State transition is not allowed")
	r = h.do("POST", base+"invocation/other/response", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 400, "InvalidRequestID", "Invalid request ID")

	// /error after /error is refused with the error-response transition.
	if err := h.s.Deliver(&Invocation{RequestID: "id2", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	<-ch
	r = h.do("POST", base+"invocation/id2/error", "application/json", strings.NewReader(`{"errorMessage":"boom","errorType":"errorString"}`), nil)
	if r.status != 202 {
		t.Fatalf("/error = %d %s", r.status, r.body)
	}
	ev := h.event(EventError)
	if string(ev.Body) != `{"errorMessage":"boom","errorType":"errorString"}` || ev.ErrorType != "" {
		t.Fatalf("error event = %+v", ev)
	}
	r = h.do("POST", base+"invocation/id2/response", "", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed")
}

func TestInitError(t *testing.T) {
	h := start(t)
	body := `{"errorMessage":"Runtime startup fails","errorType":"Exception","requestId":"","stackTrace":["x"]}`
	r := h.do("POST", base+"init/error", "application/json", strings.NewReader(body), map[string]string{HeaderErrorType: "Runtime.Unknown"})
	if r.status != 202 || r.body != `{"status":"OK"}` {
		t.Fatalf("/init/error = %d %q", r.status, r.body)
	}
	ev := h.event(EventInitError)
	if string(ev.Body) != body || ev.ErrorType != "Runtime.Unknown" {
		t.Fatalf("event = %+v", ev)
	}
	r = h.do("POST", base+"init/error", "application/json", strings.NewReader(body), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeInitErrorState to InitError failed for runtime. Error: State transition is not allowed")
}

func TestInitErrorAfterNext(t *testing.T) {
	h := start(t)
	ch := h.nextAsync()
	h.event(EventReady)
	r := h.do("POST", base+"init/error", "application/json", strings.NewReader("{}"), nil)
	wantAPIError(t, r, 403, "InvalidStateTransition", "State transition from RuntimeReadyState to InitError failed for runtime. Error: State transition is not allowed")
	h.s.Close()
	if got := <-ch; got.status != 500 && got.status != -1 {
		t.Fatalf("/next after Close = %d", got.status)
	}
	if err := h.s.Deliver(&Invocation{RequestID: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Deliver after Close = %v", err)
	}
}

func TestErrorCauseStripped(t *testing.T) {
	h := start(t)
	h.invoke(&Invocation{RequestID: "id1", Payload: []byte(`{}`)}, true)
	r := h.do("POST", base+"invocation/id1/error", "application/vnd.aws.lambda.error.cause+json",
		strings.NewReader(`{"errorMessage":"m","errorType":"T","stackTrace":["a"],"errorCause":{"paths":[],"working_directory":"/","exceptions":[]}}`),
		map[string]string{HeaderErrorType: "Function.T"})
	if r.status != 202 {
		t.Fatalf("status %d", r.status)
	}
	ev := h.event(EventError)
	if string(ev.Body) != `{"errorMessage":"m","errorType":"T","stackTrace":["a"]}` || ev.ErrorType != "Function.T" {
		t.Fatalf("event = %q %q", ev.Body, ev.ErrorType)
	}
}

func TestPayloadLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		chunked bool
		want    EventKind
	}{
		{"at limit", MaxResponseBytes, false, EventResponse},
		{"over limit", MaxResponseBytes + 1, false, EventTooLarge},
		{"at limit chunked", MaxResponseBytes, true, EventResponse},
		{"over limit chunked", MaxResponseBytes + 1, true, EventTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t)
			h.invoke(&Invocation{RequestID: "id1", Payload: []byte(`{}`)}, true)
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("a"), tc.size))
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: chunked encoding
			}
			r := h.do("POST", base+"invocation/id1/response", "", body, nil)
			ev := h.event(tc.want)
			if tc.want == EventTooLarge {
				wantAPIError(t, r, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes).")
				return
			}
			if r.status != 202 || len(ev.Body) != tc.size {
				t.Fatalf("status %d, body %d bytes", r.status, len(ev.Body))
			}
		})
	}
}

func TestChunkedWithTrailers(t *testing.T) {
	h := start(t)
	h.invoke(&Invocation{RequestID: "id1", Payload: []byte(`{}`)}, true)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", h.url+base+"invocation/id1/response", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Trailer = http.Header{HeaderErrorType: nil, HeaderErrorBody: nil}
	go func() {
		pw.Write([]byte("partial"))
		req.Trailer.Set(HeaderErrorType, "Function.ReadError")
		req.Trailer.Set(HeaderErrorBody, "eyJlcnJvck1lc3NhZ2UiOiJyZWFkIGZhaWxlZCIsImVycm9yVHlwZSI6IlJlYWRFcnJvciJ9")
		pw.Close()
	}()
	resp, err := h.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	ev := h.event(EventError)
	if string(ev.Body) != `{"errorMessage":"read failed","errorType":"ReadError"}` || ev.ErrorType != "Function.ReadError" {
		t.Fatalf("event = %q %q", ev.Body, ev.ErrorType)
	}

	// A chunked body with declared but empty trailers is a plain response.
	ch := h.nextAsync()
	h.event(EventDone)
	h.s.Deliver(&Invocation{RequestID: "id2", Payload: []byte(`{}`)})
	<-ch
	pr, pw = io.Pipe()
	req, _ = http.NewRequest("POST", h.url+base+"invocation/id2/response", pr)
	req.Trailer = http.Header{HeaderErrorType: nil}
	go func() { pw.Write([]byte("streamed")); pw.Close() }()
	resp, err = h.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ev := h.event(EventResponse); string(ev.Body) != "streamed" {
		t.Fatalf("body %q", ev.Body)
	}
}

func TestRoutingAndUnsupported(t *testing.T) {
	h := start(t)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/2018-06-01/runtime/nope", 404, "404 page not found\n"},
		{"GET", "/", 404, "404 page not found\n"},
		{"POST", base + "invocation/next", 405, ""},
		{"GET", base + "invocation/x/response", 405, ""},
		{"POST", "/2020-01-01/extension/register", 404, ""},
		{"GET", "/2020-01-01/extension/event/next", 404, ""},
		{"PUT", "/2022-07-01/telemetry", 202, `{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}`},
		{"PUT", "/2020-08-15/logs", 202, `{"errorMessage":"Logs API is not supported","errorType":"Logs.NotSupported"}`},
		{"POST", base + "invocation/x/response", 403, ""},
		{"POST", base + "invocation/x/response", 400, `{"errorMessage":"Invalid function response mode","errorType":"InvalidFunctionResponseMode"}`},
	} {
		hdr := map[string]string{}
		if tc.status == 400 {
			h.invoke(&Invocation{RequestID: "x"}, true)
			hdr[HeaderResponseMode] = "buffered-ish"
		}
		r := h.do(tc.method, tc.path, "", strings.NewReader("{}"), hdr)
		if r.status != tc.status || (tc.body != "" && r.body != tc.body) {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, r.status, r.body, tc.status, tc.body)
		}
	}
}

// FuzzRouter drives random request sequences through the handler: it must
// never panic or deadlock, and every answer must be a known status.
func FuzzRouter(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, []byte("{}"))
	f.Add([]byte{1, 1, 0, 2, 2, 3, 5, 9, 200}, []byte(`{"errorCause":1}`))
	f.Fuzz(func(t *testing.T, ops []byte, body []byte) {
		s := New(slog.New(slog.DiscardHandler))
		defer s.Close()
		stop := make(chan struct{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for {
				select {
				case <-s.Events():
				case <-stop:
					return
				}
			}
		}()
		h := s.Handler()
		ids := []string{"a", "b", "", "%2F"}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		methods := []string{"GET", "POST", "PUT", "DELETE"}
		for i, op := range ops {
			var path string
			switch op % 8 {
			case 0:
				path = base + "invocation/next"
			case 1:
				path = base + "invocation/" + ids[int(op>>3)%len(ids)] + "/response"
			case 2:
				path = base + "invocation/" + ids[int(op>>3)%len(ids)] + "/error"
			case 3:
				path = base + "init/error"
			case 4:
				_ = s.Deliver(&Invocation{RequestID: ids[int(op>>3)%2], Payload: body})
				continue
			case 5:
				path = "/2022-07-01/telemetry"
			case 6:
				path = "/" + string(body)
			case 7:
				path = base + "invocation/" + string(body) + "/response"
			}
			req, err := http.NewRequestWithContext(cancelled, methods[(int(op)+i)%len(methods)], "http://x", bytes.NewReader(body))
			if err != nil {
				continue
			}
			req.URL.Path = path
			if op&0x40 != 0 {
				req.Header.Set("Content-Type", "application/vnd.aws.lambda.error.cause+json")
			}
			if op&0x80 != 0 {
				req.Header.Set(HeaderResponseMode, string(body))
			}
			rec := newRecorder()
			h.ServeHTTP(rec, req)
			switch rec.status {
			case 0, 200, 202, 301, 307, 308, 400, 403, 404, 405, 413, 500:
			default:
				t.Fatalf("%s %q = %d", req.Method, path, rec.status)
			}
		}
		close(stop)
		<-drained
	})
}

// recorder is a minimal ResponseWriter (httptest is avoided to keep the fuzz
// loop lean).
type recorder struct {
	h      http.Header
	status int
}

func newRecorder() *recorder { return &recorder{h: http.Header{}} }

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return len(b), nil
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

// BenchmarkNextResponse measures the Runtime API round trip over loopback:
// Deliver → the runtime's pending /next → POST /response → /next again.
func BenchmarkNextResponse(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := New(slog.New(slog.DiscardHandler))
	go s.Serve(ln)
	defer s.Close()
	url := "http://" + ln.Addr().String() + base + "invocation/"
	c := &http.Client{}
	go func() { // the runtime loop
		for {
			resp, err := c.Get(url + "next")
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return
			}
			id := resp.Header.Get(HeaderRequestID)
			resp, err = c.Post(url+id+"/response", "application/json", strings.NewReader(`{"ok":true}`))
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	if ev := <-s.Events(); ev.Kind != EventReady {
		b.Fatalf("first event %v", ev.Kind)
	}
	inv := &Invocation{RequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", Payload: []byte(`{"hello":"world"}`), Deadline: time.Now().Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Deliver(inv); err != nil {
			b.Fatal(err)
		}
		if ev := <-s.Events(); ev.Kind != EventResponse {
			b.Fatalf("event %v", ev.Kind)
		}
		if ev := <-s.Events(); ev.Kind != EventDone {
			b.Fatalf("event %v", ev.Kind)
		}
	}
}
