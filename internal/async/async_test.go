package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

var reTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// checkRecord compares a destination event with the exact bytes AWS's
// record has (key order included), after checking the timestamp format.
func checkRecord(t *testing.T, got []byte, want string) {
	t.Helper()
	var r struct {
		Timestamp string `json:"timestamp"`
	}
	if err := json.Unmarshal(got, &r); err != nil {
		t.Fatalf("record %s: %v", got, err)
	}
	if !reTimestamp.MatchString(r.Timestamp) {
		t.Errorf("record timestamp %q, want ISO 8601 with ms and Z", r.Timestamp)
	}
	want = strings.Replace(want, "TIMESTAMP", r.Timestamp, 1)
	if string(got) != want {
		t.Errorf("record =\n%s\nwant\n%s", got, want)
	}
}

func receive(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for a destination event")
		return nil
	}
}

func TestEnqueueRunsFunctionOnce(t *testing.T) {
	e := newEnv(t, nil)
	done := make(chan invoke.Call, 1)
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		done <- *c
		return &invoke.Outcome{Payload: []byte(`"ok"`), Alive: true}, nil
	})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{"k":1}`)
	var c invoke.Call
	select {
	case c = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("function never ran")
	}
	if c.RequestID != rid || string(c.Payload) != `{"k":1}` || c.InvokedARN != "arn:aws:lambda:us-east-1:123456789012:function:f" || c.TraceID == "" {
		t.Errorf("call = %+v, want request id %s, payload {\"k\":1}, unqualified invoked ARN", c, rid)
	}
	// The event is acknowledged: the work queue drains.
	waitFor(t, "queue to drain", 10*time.Second, func() bool {
		st, err := e.js.Stream(context.Background(), StreamName)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
	if n := len(e.runner.callsOf("f")); n != 1 {
		t.Errorf("function ran %d times, want 1", n)
	}
}

func TestEnqueueErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.set("f", ok("null"))
	e.runner.set("pending", ok("null"))
	e.runner.state["pending"] = lambda.StatePending
	tests := []struct {
		name    string
		fn      string
		payload []byte
		status  int
		typ     string
		msg     string
	}{
		{"missing function", "nope", []byte("{}"), 404, lambda.ErrTypeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"},
		{"payload over 1 MB", "f", []byte(`"` + strings.Repeat("a", lambda.MaxAsyncPayloadBytes-1) + `"`), 413, lambda.ErrTypeRequestTooLarge, "Request must be smaller than 1048576 bytes for the Invoke operation"},
		{"pending function", "pending", []byte("{}"), 409, lambda.ErrTypeResourceConflict, "The operation cannot be performed at this time. The function is currently in the following state: Pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: tt.fn, Payload: tt.payload, RequestID: newRequestID(), InvocationType: lambda.InvocationEvent})
			var le *lambda.Error
			if !errors.As(err, &le) || le.Status != tt.status || le.Type != tt.typ || le.Message != tt.msg {
				t.Fatalf("Enqueue(%s) = %v, want %d %s %q", tt.fn, err, tt.status, tt.typ, tt.msg)
			}
		})
	}
	// Exactly 1 MB is accepted.
	p := []byte(`"` + strings.Repeat("a", lambda.MaxAsyncPayloadBytes-2) + `"`)
	if _, err := e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: p, RequestID: newRequestID()}); err != nil {
		t.Fatalf("Enqueue(1 MB) = %v, want 202", err)
	}
}

func TestDuplicateRequestIDIsStoredOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.set("f", ok("null"))
	rid := newRequestID()
	for range 3 {
		if _, err := e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: []byte("{}"), RequestID: rid}); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := e.js.Stream(context.Background(), StreamName)
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("queue holds %d events for one request id, want 1", info.State.Msgs)
	}
}

func TestRetriesExhaustedSameRequestIDAndRecord(t *testing.T) {
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", failing())
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{"message":"m-1"}`)
	got := receive(t, dest)
	calls := e.runner.callsOf("f")
	if len(calls) != 3 {
		t.Fatalf("function ran %d times, want 1 + MaximumRetryAttempts(2) = 3", len(calls))
	}
	for i, c := range calls {
		if c.RequestID != rid {
			t.Errorf("attempt %d request id = %s, want %s", i+1, c.RequestID, rid)
		}
	}
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":3},"requestPayload":{"message":"m-1"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":`+fmt.Sprintf(pyError, rid)+`}`)

	// The failed event is also on the built-in DLQ.
	var dls []DeadLetter
	waitFor(t, "dead letter", 10*time.Second, func() bool {
		var err error
		dls, err = e.svc.DLQList(context.Background(), "f")
		return err == nil && len(dls) == 1
	})
	dl := dls[0]
	if dl.RequestID != rid || dl.Condition != CondRetriesExhausted || dl.ApproximateInvokeCount != 3 || dl.Error != "Exception: intentional failure" || string(dl.Payload) != `{"message":"m-1"}` || dl.FunctionError != "Unhandled" {
		t.Errorf("dead letter = %+v", dl)
	}
}

func TestMaximumRetryAttemptsZero(t *testing.T) {
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", failing())
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(0), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{"raise_error":1}`)
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"RetriesExhausted","approximateInvokeCount":1},"requestPayload":{"raise_error":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":`+fmt.Sprintf(pyError, rid)+`}`)
	if n := len(e.runner.callsOf("f")); n != 1 {
		t.Errorf("function ran %d times, want 1", n)
	}
}

func TestOnSuccessRecord(t *testing.T) {
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", ok(`{"hello":"world","val":5}`))
	e.runner.set("dest", recorder(dest))
	// A qualified invocation: the config and the record use the alias.
	e.configs.put("f", "live", &EventInvokeConfig{DestinationConfig: &DestinationConfig{
		OnSuccess: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := newRequestID()
	if _, err := e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Qualifier: "live", Payload: []byte(`{"mode":"success"}`), RequestID: rid}); err != nil {
		t.Fatal(err)
	}
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:live","condition":"Success","approximateInvokeCount":1},"requestPayload":{"mode":"success"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":{"hello":"world","val":5}}`)
	// The destination invocation has a request id of its own.
	calls := e.runner.callsOf("dest")
	if len(calls) != 1 || calls[0].RequestID == rid || calls[0].RequestID == "" {
		t.Errorf("destination calls = %+v, want one with its own request id", calls)
	}
}

func TestEventAgeExceededLookAhead(t *testing.T) {
	// As AWS's test_maxeventage: with 60 s max age and a 2 min retry delay
	// the first failure is abandoned at once (EventAgeExceeded, count 1).
	e := newEnv(t, func(d *Deps) { d.RetryDelays = []time.Duration{2 * time.Minute} })
	dest := make(chan []byte, 4)
	e.runner.set("f", failing())
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumEventAgeInSeconds: intp(60), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{"message":"m"}`)
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"EventAgeExceeded","approximateInvokeCount":1},"requestPayload":{"message":"m"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":`+fmt.Sprintf(pyError, rid)+`}`)
}

func TestEventAgeExceededAfterRetry(t *testing.T) {
	// The event was retried once (its last error travels with it), then
	// waited past its age: the record carries the last response and
	// approximateInvokeCount 1 + 1 retry = 2, as AWS's single_retry case.
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", failing())
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumEventAgeInSeconds: intp(60), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	rid := newRequestID()
	resp := fmt.Appendf(nil, pyError, rid)
	// An event accepted 61 s ago (the daemon was down) after two attempts.
	ev := &event{RequestID: rid, Function: "f", InvokedARN: "arn:aws:lambda:us-east-1:123456789012:function:f",
		Enqueued: time.Now().Add(-61 * time.Second), TraceID: invoke.NewTraceID(), Attempts: 2,
		Payload: []byte(`{"message":"m"}`), LastResponse: resp, LastFunctionError: "Unhandled", LastExecutedVersion: "$LATEST"}
	if err := e.svc.publish(context.Background(), ev, rid); err != nil {
		t.Fatal(err)
	}
	e.svc.Start()
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"EventAgeExceeded","approximateInvokeCount":2},"requestPayload":{"message":"m"},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"responsePayload":`+string(resp)+`}`)
	if n := len(e.runner.callsOf("f")); n != 0 {
		t.Errorf("expired event ran %d times, want 0", n)
	}
}

func TestExpiredWhileThrottled(t *testing.T) {
	// Never ran: the record has no responseContext/responsePayload.
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", ok("null"))
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumEventAgeInSeconds: intp(60), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	rid := newRequestID()
	ev := &event{RequestID: rid, Function: "f", InvokedARN: "x", Enqueued: time.Now().Add(-61 * time.Second), TraceID: "t", Payload: []byte(`{}`)}
	if err := e.svc.publish(context.Background(), ev, rid); err != nil {
		t.Fatal(err)
	}
	e.svc.Start()
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"EventAgeExceeded","approximateInvokeCount":0},"requestPayload":{}}`)
}

func TestThrottledEventWaitsAndSucceeds(t *testing.T) {
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	var throttles atomic.Int32
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		if throttles.Add(1) <= 4 {
			return nil, lambda.TooManyRequests(lambda.ReasonReservedFunctionConcurrentInvocationLimit, lambda.MsgRateExceeded, 0)
		}
		return &invoke.Outcome{Payload: []byte(`"done"`), Alive: true}, nil
	})
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(0), DestinationConfig: &DestinationConfig{
		OnSuccess: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{}`)
	got := receive(t, dest)
	// Throttles consume no attempts even with MaximumRetryAttempts 0.
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"Success","approximateInvokeCount":1},"requestPayload":{},"responseContext":{"statusCode":200,"executedVersion":"$LATEST"},"responsePayload":"done"}`)
	if n := throttles.Load(); n != 5 {
		t.Errorf("function tried %d times, want 4 throttles + 1 success", n)
	}
}

func TestSystemErrorsDoNotConsumeAttempts(t *testing.T) {
	e := newEnv(t, nil)
	var n atomic.Int32
	done := make(chan struct{})
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		if n.Add(1) <= 3 {
			return nil, lambda.ServiceError("start environment: boom")
		}
		close(done)
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	})
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(0)})
	e.svc.Start()
	e.enqueue(t, "f", `{}`)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("event not delivered after system errors (%d tries)", n.Load())
	}
}

func TestUnhostedDestinationsGoToDLQ(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.set("ok", ok(`{"r":1}`))
	e.runner.set("bad", failing())
	e.configs.put("ok", "$LATEST", &EventInvokeConfig{DestinationConfig: &DestinationConfig{
		OnSuccess: &Destination{Destination: "arn:aws:sqs:us-east-1:123456789012:q"},
	}})
	e.configs.put("bad", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(0), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:events:us-east-1:123456789012:event-bus/b"},
	}})
	e.configs.dlt["bad"] = "arn:aws:sqs:us-east-1:123456789012:dlq"
	e.svc.Start()
	okID := e.enqueue(t, "ok", `{"a":1}`)
	badID := e.enqueue(t, "bad", `{"b":2}`)

	var okDL, badDL []DeadLetter
	waitFor(t, "dead letters", 10*time.Second, func() bool {
		okDL, _ = e.svc.DLQList(context.Background(), "ok")
		badDL, _ = e.svc.DLQList(context.Background(), "bad")
		return len(okDL) == 1 && len(badDL) == 2
	})
	s := okDL[0]
	if s.RequestID != okID || s.Condition != CondSuccess || s.Destination != "arn:aws:sqs:us-east-1:123456789012:q" || len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "(sqs)") {
		t.Errorf("success record entry = %+v", s)
	}
	var rec Record
	if err := json.Unmarshal(s.Record, &rec); err != nil || rec.RequestContext.Condition != CondSuccess || string(rec.ResponsePayload) != `{"r":1}` {
		t.Errorf("success record = %s (%v)", s.Record, err)
	}
	// One entry holds the record for the EventBridge destination, the
	// other the failed event itself with the DeadLetterConfig note.
	var sawRecord, sawEvent bool
	for _, dl := range badDL {
		if dl.RequestID != badID || dl.Condition != CondRetriesExhausted {
			t.Errorf("failure entry = %+v", dl)
		}
		switch {
		case dl.Record != nil:
			sawRecord = dl.Destination == "arn:aws:events:us-east-1:123456789012:event-bus/b"
		default:
			sawEvent = dl.DeadLetterTarget == "arn:aws:sqs:us-east-1:123456789012:dlq" && len(dl.Notes) == 1 && string(dl.Payload) == `{"b":2}`
		}
	}
	if !sawRecord || !sawEvent {
		t.Errorf("failure entries = %+v, want the EventBridge record and the event with its DLQ note", badDL)
	}
	all, err := e.svc.DLQList(context.Background(), "")
	if err != nil || len(all) != 3 {
		t.Errorf("DLQList(all) = %d entries, %v; want 3", len(all), err)
	}
}

func TestDLQGetAndRedrive(t *testing.T) {
	e := newEnv(t, nil)
	var fail atomic.Bool
	fail.Store(true)
	okRuns := make(chan string, 4)
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		if fail.Load() {
			return failing()(ctx, c)
		}
		okRuns <- c.RequestID
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	})
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(0)})
	e.svc.Start()
	r1 := e.enqueue(t, "f", `{"n":1}`)
	r2 := e.enqueue(t, "f", `{"n":2}`)
	var dls []DeadLetter
	waitFor(t, "two dead letters", 10*time.Second, func() bool {
		dls, _ = e.svc.DLQList(context.Background(), "f")
		return len(dls) == 2
	})
	got, err := e.svc.DLQGet(context.Background(), dls[0].ID)
	if err != nil || got.RequestID != dls[0].RequestID || got.ID != dls[0].ID {
		t.Fatalf("DLQGet(%s) = %+v, %v", dls[0].ID, got, err)
	}
	if _, err := e.svc.DLQGet(context.Background(), "999"); !errors.Is(err, ErrDeadLetterNotFound) {
		t.Errorf("DLQGet(999) = %v, want ErrDeadLetterNotFound", err)
	}
	fail.Store(false)
	// Redrive one by id, then the rest.
	n, err := e.svc.DLQRedrive(context.Background(), "f", []string{dls[0].ID})
	if err != nil || n != 1 {
		t.Fatalf("DLQRedrive(one) = %d, %v", n, err)
	}
	first := <-okRuns
	n, err = e.svc.DLQRedrive(context.Background(), "f", nil)
	if err != nil || n != 1 {
		t.Fatalf("DLQRedrive(all) = %d, %v", n, err)
	}
	second := <-okRuns
	if got := map[string]bool{first: true, second: true}; !got[r1] || !got[r2] {
		t.Errorf("redriven request ids %s %s, want %s %s", first, second, r1, r2)
	}
	if left, err := e.svc.DLQList(context.Background(), "f"); err != nil || len(left) != 0 {
		t.Errorf("DLQ after redrive = %d entries, %v", len(left), err)
	}
}

func TestQueueFullIs429(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.QueueBytes = 8 << 10 })
	e.runner.set("f", ok("null"))
	var err error
	accepted := 0
	for range 100 {
		_, err = e.svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: []byte(`{"pad":"` + strings.Repeat("x", 500) + `"}`), RequestID: newRequestID()})
		if err != nil {
			break
		}
		accepted++
	}
	var le *lambda.Error
	if !errors.As(err, &le) || le.Status != 429 || le.Type != lambda.ErrTypeTooManyRequests {
		t.Fatalf("Enqueue on a full queue = %v after %d accepted, want 429 TooManyRequestsException", err, accepted)
	}
	if accepted == 0 {
		t.Fatal("nothing accepted before the queue was full")
	}
	// Draining the queue makes room again.
	e.svc.Start()
	waitFor(t, "queue to drain", 20*time.Second, func() bool { return len(e.runner.callsOf("f")) == accepted })
	e.enqueue(t, "f", `{}`)
}

func TestCloseHandsBackInFlight(t *testing.T) {
	dir := t.TempDir()
	js := openJS(t, dir)
	runner, configs := newFakeRunner(), newFakeConfigs()
	started := make(chan struct{}, 1)
	runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		started <- struct{}{}
		<-ctx.Done() // a function that outlives the shutdown deadline
		return nil, lambda.ServiceError("invoke: " + ctx.Err().Error())
	})
	d := Deps{JS: js, Runner: runner, Configs: configs, Region: testRegion, AccountID: testAccount, Workers: 1, AckWait: time.Minute}
	svc, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	rid := newRequestID()
	if _, err := svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: []byte(`{}`), RequestID: rid}); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // deadline already passed: hand back at once
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A new service (as after a restart) gets the event right away, not
	// after the one-minute AckWait.
	done := make(chan string, 1)
	runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		done <- c.RequestID
		return &invoke.Outcome{Payload: []byte("null")}, nil
	})
	svc2, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	svc2.Start()
	defer svc2.Close(context.Background())
	select {
	case got := <-done:
		if got != rid {
			t.Errorf("redelivered request id %s, want %s", got, rid)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("handed-back event was not redelivered")
	}
}

func TestLongInvocationIsNotRedelivered(t *testing.T) {
	// AckWait 300ms, the function runs three times as long: heartbeats
	// keep the event from being redelivered to another worker.
	e := newEnv(t, func(d *Deps) { d.AckWait = 300 * time.Millisecond })
	var runs atomic.Int32
	done := make(chan struct{})
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		runs.Add(1)
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
		close(done)
		return &invoke.Outcome{Payload: []byte("null")}, nil
	})
	e.svc.Start()
	e.enqueue(t, "f", `{}`)
	<-done
	waitFor(t, "queue to drain", 10*time.Second, func() bool {
		st, _ := e.js.Stream(context.Background(), StreamName)
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
	if n := runs.Load(); n != 1 {
		t.Errorf("function ran %d times, want 1", n)
	}
}

func TestDelayedEventsDoNotBlockTheQueue(t *testing.T) {
	// One worker; many events of a throttled function wait out a long
	// backoff. Another function's event must still run promptly.
	e := newEnv(t, func(d *Deps) { d.Workers = 1; d.BackoffMin, d.BackoffMax = time.Hour, time.Hour })
	var throttled atomic.Int32
	e.runner.set("busy", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		throttled.Add(1)
		return nil, lambda.TooManyRequests(lambda.ReasonReservedFunctionConcurrentInvocationLimit, lambda.MsgRateExceeded, 0)
	})
	done := make(chan struct{})
	e.runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		close(done)
		return &invoke.Outcome{Payload: []byte("null")}, nil
	})
	for range 10 {
		e.enqueue(t, "busy", `{}`)
	}
	e.svc.Start()
	waitFor(t, "every busy event to be throttled once", 20*time.Second, func() bool { return throttled.Load() == 10 })
	e.enqueue(t, "f", `{}`)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("events waiting for a retry blocked the queue")
	}
}

func TestRedrivenEventFailingAgainIsKept(t *testing.T) {
	// Within the dedupe window, a redriven event that fails again must
	// retry, reach its destination and land on the DLQ again: nothing of
	// its second life may be mistaken for a duplicate of the first.
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", failing())
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{MaximumRetryAttempts: intp(1), DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{}`)
	receive(t, dest)
	var dls []DeadLetter
	waitFor(t, "dead letter", 10*time.Second, func() bool {
		dls, _ = e.svc.DLQList(context.Background(), "f")
		return len(dls) == 1
	})
	firstID := dls[0].ID
	if n, err := e.svc.DLQRedrive(context.Background(), "f", nil); err != nil || n != 1 {
		t.Fatalf("DLQRedrive = %d, %v", n, err)
	}
	receive(t, dest)
	waitFor(t, "second dead letter", 10*time.Second, func() bool {
		dls, _ = e.svc.DLQList(context.Background(), "f")
		return len(dls) == 1 && dls[0].ID != firstID
	})
	calls := e.runner.callsOf("f")
	if len(calls) != 4 {
		t.Errorf("function ran %d times, want 2 lives × 2 attempts", len(calls))
	}
	for _, c := range calls {
		if c.RequestID != rid {
			t.Errorf("request id %s, want %s", c.RequestID, rid)
		}
	}
}

func TestZeroReservedConcurrencyFailsWithoutRunning(t *testing.T) {
	e := newEnv(t, nil)
	dest := make(chan []byte, 4)
	e.runner.set("f", ok("null"))
	e.runner.rc["f"] = 0
	e.runner.set("dest", recorder(dest))
	e.configs.put("f", "$LATEST", &EventInvokeConfig{DestinationConfig: &DestinationConfig{
		OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:dest"},
	}})
	e.svc.Start()
	rid := e.enqueue(t, "f", `{"z":0}`)
	got := receive(t, dest)
	checkRecord(t, got, `{"version":"1.0","timestamp":"TIMESTAMP","requestContext":{"requestId":"`+rid+`","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","condition":"ZeroReservedConcurrency","approximateInvokeCount":0},"requestPayload":{"z":0}}`)
	if n := len(e.runner.callsOf("f")); n != 0 {
		t.Errorf("function ran %d times, want 0", n)
	}
}

func TestCloseFinishesInFlight(t *testing.T) {
	dir := t.TempDir()
	js := openJS(t, dir)
	runner, configs := newFakeRunner(), newFakeConfigs()
	started, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	runner.set("f", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		if runs.Add(1) == 1 {
			close(started)
		}
		<-release
		return &invoke.Outcome{Payload: []byte("null")}, nil
	})
	d := Deps{JS: js, Runner: runner, Configs: configs, Region: testRegion, AccountID: testAccount, Workers: 2, AckWait: time.Minute}
	svc, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	if _, err := svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: []byte(`{}`), RequestID: newRequestID()}); err != nil {
		t.Fatal(err)
	}
	<-started
	closed := make(chan error, 1)
	go func() { closed <- svc.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an invocation was running", err)
	default:
	}
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	// No worker or heartbeat goroutine outlives Close.
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"async.(*Service).work", "async.(*Service).run"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("goroutine in %s still running after Close", fn)
		}
	}
	// The finished event was acknowledged before Close returned.
	st, err := js.Stream(context.Background(), StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil || info.State.Msgs != 0 {
		t.Fatalf("queue after Close holds %d events (%v), want 0", info.State.Msgs, err)
	}
	// Enqueue still works after Close; the event waits for the next start.
	if _, err := svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "f", Payload: []byte(`{}`), RequestID: newRequestID()}); err != nil {
		t.Fatalf("Enqueue after Close = %v", err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("function ran %d times, want 1", n)
	}
}

func TestMalformedMessageIsQuarantined(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.js.Publish(context.Background(), "async.f.$LATEST", []byte(`{"stray":true}`)); err != nil {
		t.Fatal(err)
	}
	e.svc.Start()
	var dls []DeadLetter
	waitFor(t, "quarantined entry", 10*time.Second, func() bool {
		dls, _ = e.svc.DLQList(context.Background(), "")
		return len(dls) == 1
	})
	if dls[0].Function != "_unknown" || string(dls[0].Payload) != `{"stray":true}` || len(dls[0].Notes) != 1 || dls[0].Error == "" {
		t.Errorf("quarantined entry = %+v", dls[0])
	}
	waitFor(t, "queue to drain", 10*time.Second, func() bool {
		st, _ := e.js.Stream(context.Background(), StreamName)
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
}

func TestRetryIsScheduledAfterDelay(t *testing.T) {
	// After a function error the event is republished with the attempt
	// count and a Not-Before of RetryDelays[0] later, and waits for it.
	e := newEnv(t, func(d *Deps) { d.RetryDelays = []time.Duration{time.Hour} })
	e.runner.set("f", failing())
	e.svc.Start()
	before := time.Now()
	rid := e.enqueue(t, "f", `{}`)
	waitFor(t, "first attempt", 10*time.Second, func() bool { return len(e.runner.callsOf("f")) == 1 })
	st, err := e.js.Stream(context.Background(), StreamName)
	if err != nil {
		t.Fatal(err)
	}
	var ev *event
	waitFor(t, "the retry to be queued", 10*time.Second, func() bool {
		m, err := st.GetLastMsgForSubject(context.Background(), "async.f.$LATEST")
		if err != nil {
			return false
		}
		ev, err = decodeEvent(m.Header, m.Data)
		return err == nil && ev.Attempts == 1
	})
	if ev.RequestID != rid || ev.NotBefore.Before(before.Add(time.Hour)) || ev.LastFunctionError != "Unhandled" || string(ev.Payload) != `{}` || !strings.Contains(string(ev.LastResponse), rid) {
		t.Errorf("queued retry = %+v, want attempt 1 not before %v with the last error", ev, before.Add(time.Hour))
	}
}
