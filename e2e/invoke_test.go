package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/logstore"
)

var reReport = regexp.MustCompile(`REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?\n`)

func TestGoFunction(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, goFunction("echo"))

	// Echo, with the log tail of a cold start.
	out := s.invoke(t, "echo", `{"hello":"world"}`, withTail)
	if string(out.Payload) != `{"hello":"world"}` || out.StatusCode != 200 || out.FunctionError != nil {
		t.Fatalf("echo = %d %q fnerr=%v", out.StatusCode, out.Payload, out.FunctionError)
	}
	if aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Errorf("ExecutedVersion = %q", aws.ToString(out.ExecutedVersion))
	}
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	m := reReport.FindStringSubmatch(string(tail))
	if m == nil || m[2] == "" || !strings.HasPrefix(string(tail), "START RequestId: "+m[1]+" Version: $LATEST\n") || !strings.Contains(string(tail), "END RequestId: "+m[1]+"\n") {
		t.Errorf("cold tail is not START/END/REPORT with Init Duration:\n%s", tail)
	}

	// Warm reuse: module state survives between invokes; no Init Duration.
	first := s.invoke(t, "echo", `{"action":"count"}`)
	second := s.invoke(t, "echo", `{"action":"count"}`, withTail)
	var a, b int
	json.Unmarshal(first.Payload, &a)
	json.Unmarshal(second.Payload, &b)
	if b != a+1 {
		t.Errorf("warm counter %d then %d: environment not reused", a, b)
	}
	tail, _ = base64.StdEncoding.DecodeString(aws.ToString(second.LogResult))
	if m := reReport.FindStringSubmatch(string(tail)); m == nil || m[2] != "" {
		t.Errorf("warm tail REPORT wrong or has Init Duration:\n%s", tail)
	}

	// A handled error comes back as AWS's body with X-Amz-Function-Error.
	out = s.invoke(t, "echo", `{"action":"error","msg":"boom"}`)
	if aws.ToString(out.FunctionError) != "Unhandled" || string(out.Payload) != `{"errorMessage":"boom","errorType":"errorString"}` {
		t.Errorf("error = %v %s", aws.ToString(out.FunctionError), out.Payload)
	}

	// Timeout: Sandbox.Timedout with AWS's exact message, then it works again.
	out = s.invoke(t, "echo", `{"action":"sleep","ms":5000}`)
	var fe struct{ ErrorType, ErrorMessage string }
	json.Unmarshal(out.Payload, &fe)
	want := "Task timed out after 3.00 seconds"
	if aws.ToString(out.FunctionError) != "Unhandled" || fe.ErrorType != "Sandbox.Timedout" || !strings.HasSuffix(fe.ErrorMessage, " Error: "+want) {
		t.Errorf("timeout = %s", out.Payload)
	}
	if out := s.invoke(t, "echo", `{"again":true}`); string(out.Payload) != `{"again":true}` {
		t.Errorf("after timeout = %s", out.Payload)
	}

	// exit(1): Runtime.ExitError.
	out = s.invoke(t, "echo", `{"action":"exit","code":1}`)
	json.Unmarshal(out.Payload, &fe)
	if fe.ErrorType != "Runtime.ExitError" || !strings.HasSuffix(fe.ErrorMessage, "Error: Runtime exited with error: exit status 1") {
		t.Errorf("exit = %s", out.Payload)
	}

	// Client context reaches the function decoded.
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out = s.invoke(t, "echo", `{"action":"ctx"}`, func(in *awslambda.InvokeInput) { in.ClientContext = aws.String(cc) })
	var ctxOut struct {
		RequestID string            `json:"requestId"`
		ARN       string            `json:"arn"`
		Custom    map[string]string `json:"custom"`
	}
	json.Unmarshal(out.Payload, &ctxOut)
	if ctxOut.Custom["k"] != "v" || ctxOut.ARN != "arn:aws:lambda:us-east-1:000000000000:function:echo" {
		t.Errorf("ctx = %s", out.Payload)
	}

	// DryRun: 204, nothing runs.
	out = s.invoke(t, "echo", `{}`, func(in *awslambda.InvokeInput) { in.InvocationType = types.InvocationTypeDryRun })
	if out.StatusCode != 204 {
		t.Errorf("DryRun status = %d", out.StatusCode)
	}

	// Logs were stored on the LOGS stream.
	var lines []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.d.Logs().Read(ctx, logstore.Query{Groups: []string{"/aws/lambda/echo"}}, func(r logs.Record) error {
		lines = append(lines, string(r.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(lines, ""); !strings.Contains(all, "START RequestId:") || !strings.Contains(all, "sleeping\n") {
		t.Errorf("stored logs lack START or function output:\n%s", all)
	}
}

func TestUpdateRetiresEnvironments(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, goFunction("upd"))
	s.invoke(t, "upd", `{"action":"count"}`)
	ctx := context.Background()
	_, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("upd"),
		Environment:  &types.Environment{Variables: map[string]string{"GREETING": "hi"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := awslambda.NewFunctionUpdatedV2Waiter(s.client, func(o *awslambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("upd")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	out := s.invoke(t, "upd", `{"action":"env"}`)
	var env map[string]string
	json.Unmarshal(out.Payload, &env)
	if env["GREETING"] != "hi" {
		t.Errorf("new environment variable not visible: GREETING=%q", env["GREETING"])
	}
	if env["AWS_LAMBDA_FUNCTION_NAME"] != "upd" || env["TZ"] != ":UTC" || env["AWS_LAMBDA_RUNTIME_API"] == "" {
		t.Errorf("Lambda variables wrong: %v", env)
	}
	// The counter restarted: a fresh environment serves the new config.
	out = s.invoke(t, "upd", `{"action":"count"}`)
	if string(out.Payload) != "1" {
		t.Errorf("count after update = %s, want 1 (fresh environment)", out.Payload)
	}
}

func TestBashTutorialRuntime(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, &awslambda.CreateFunctionInput{
		FunctionName: aws.String("bash"),
		Runtime:      types.RuntimeProvidedal2,
		Handler:      aws.String("function.handler"),
		Code:         &types.FunctionCode{ZipFile: bashZip},
	})
	out := s.invoke(t, "bash", `{"text":"Hello"}`, withTail)
	if string(out.Payload) != `Echoing request: '{"text":"Hello"}'` {
		t.Errorf("bash runtime = %q", out.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), `{"text":"Hello"}`+"\n") {
		t.Errorf("the handler's stderr line is missing from the tail:\n%s", tail)
	}
}

func TestParallelAndThrottle(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config.Config) { c.ConcurrencyLimit = 4 })
	s.createActive(t, goFunction("par"))
	const n = 4
	var wg sync.WaitGroup
	results := make(chan string, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := s.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("par"), Payload: []byte(`{"action":"sleep","ms":1500}`)})
			if err != nil {
				results <- "err: " + err.Error()
				return
			}
			results <- string(out.Payload)
		}()
	}
	close(start)
	// While all four run, a fifth is throttled with AWS's error.
	waitFor(t, func() bool { return s.d.Invoker().Busy() == n })
	_, err := s.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("par"), Payload: []byte(`{}`)})
	var tmr *types.TooManyRequestsException
	if !errors.As(err, &tmr) || tmr.Reason != types.ThrottleReasonConcurrentInvocationLimitExceeded || aws.ToString(tmr.Message) != "Rate Exceeded." {
		t.Errorf("5th invoke error = %v, want TooManyRequestsException ConcurrentInvocationLimitExceeded", err)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if !strings.Contains(r, `"slept":1500`) {
			t.Errorf("parallel invoke = %s", r)
		}
	}
	if st := s.d.Invoker().Stats("par"); st.Live != n {
		t.Errorf("live environments = %d, want %d (one per parallel invoke)", st.Live, n)
	}
}

func TestPayloadLimits(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, goFunction("big"))
	// Response exactly at the limit passes; one byte over is AWS's error.
	out := s.invoke(t, "big", `{"action":"big","size":6291556}`)
	if out.FunctionError != nil || len(out.Payload) != 6291556 {
		t.Errorf("response at the limit: fnerr=%v len=%d", aws.ToString(out.FunctionError), len(out.Payload))
	}
	out = s.invoke(t, "big", `{"action":"big","size":6291557}`)
	var fe struct{ ErrorType, ErrorMessage string }
	json.Unmarshal(out.Payload, &fe)
	if fe.ErrorType != "Function.ResponseSizeTooLarge" {
		t.Errorf("response over the limit = %.200s", out.Payload)
	}
	// Request over 6 MB: RequestEntityTooLargeException (413).
	big := `{"pad":"` + strings.Repeat("x", 6*1024*1024) + `"}`
	_, err := s.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("big"), Payload: []byte(big)})
	var tl *types.RequestTooLargeException
	if !errors.As(err, &tl) {
		t.Errorf("oversized request error = %v, want RequestTooLargeException", err)
	}
	// And the function still works.
	if out := s.invoke(t, "big", `{"ok":1}`); string(out.Payload) != `{"ok":1}` {
		t.Errorf("after limits = %s", out.Payload)
	}
}

func TestClientDisconnectMidInvoke(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, goFunction("disc"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("disc"), Payload: []byte(`{"action":"sleep","ms":1000}`)})
	if err == nil {
		t.Fatal("invoke with a 300ms client deadline returned no error")
	}
	// The server is unharmed and the function answers.
	if out := s.invoke(t, "disc", `{"x":1}`); string(out.Payload) != `{"x":1}` {
		t.Errorf("after disconnect = %s", out.Payload)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, nil)
	got := s.createActive(t, goFunction("keep"))
	before := got.Configuration
	s.stop(t)

	s2 := startServer(t, dir, nil)
	after, err := s2.client.GetFunction(context.Background(), &awslambda.GetFunctionInput{FunctionName: aws.String("keep")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(after.Configuration.CodeSha256) != aws.ToString(before.CodeSha256) ||
		aws.ToString(after.Configuration.RevisionId) != aws.ToString(before.RevisionId) {
		t.Errorf("after restart sha/revision = %s/%s, want %s/%s",
			aws.ToString(after.Configuration.CodeSha256), aws.ToString(after.Configuration.RevisionId),
			aws.ToString(before.CodeSha256), aws.ToString(before.RevisionId))
	}
	if out := s2.invoke(t, "keep", `{"r":1}`); string(out.Payload) != `{"r":1}` {
		t.Errorf("invoke after restart = %s", out.Payload)
	}
}

func TestSecondServerOnSameDataDirFails(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir, nil)
	cfg := config.Default()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	_, err := startDaemon(cfg)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second serve on the same data dir: err = %v, want a clear 'in use' error", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatal("condition not met within 20s")
		case <-tick.C:
		}
	}
}

// Once the FunctionUpdatedV2 waiter has seen an update complete, every
// invocation runs the new configuration (no stale cached resolution).
func TestNoStaleConfigAfterUpdate(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	s.createActive(t, goFunction("fresh"))
	ctx := context.Background()
	w := awslambda.NewFunctionUpdatedV2Waiter(s.client, func(o *awslambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 20*time.Millisecond
	})
	for i := 0; i < 15; i++ {
		want := fmt.Sprintf("round-%d", i)
		s.invoke(t, "fresh", `{}`) // keep a warm, cached resolution around
		if _, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String("fresh"), Environment: &types.Environment{Variables: map[string]string{"ROUND": want}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("fresh")}, 30*time.Second); err != nil {
			t.Fatal(err)
		}
		var env map[string]string
		json.Unmarshal(s.invoke(t, "fresh", `{"action":"env"}`).Payload, &env)
		if env["ROUND"] != want {
			t.Fatalf("round %d: invocation after the update completed ran ROUND=%q", i, env["ROUND"])
		}
	}
}
