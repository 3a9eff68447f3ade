package client_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/api"
	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
	"github.com/lambdad/lambdad/sdk/client"
)

// funcInvoker is a hand-made fake of the invoke package's Invoker.
type funcInvoker func(context.Context, *lambda.InvokeRequest) (*lambda.InvokeResult, error)

func (f funcInvoker) Invoke(ctx context.Context, r *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	return f(ctx, r)
}

func start(t *testing.T, inv api.Invoker) *client.Client {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	bb, err := backbone.Open(t.Context(), backbone.Options{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(t.Context(), bb.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	var base string
	ctl := control.New(control.Deps{Store: st, Region: "us-east-1", AccountID: "000000000000", Logger: log, BaseURL: func() string { return base }})
	srv := httptest.NewServer(api.New(api.Deps{Control: ctl, Invoker: inv, Logger: log}))
	base = srv.URL
	t.Cleanup(func() { srv.Close(); ctl.Close(); bb.Close() })
	return client.New(srv.URL + "/")
}

func zipOf(t *testing.T, content string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("handler.py")
	w.Write([]byte(content))
	zw.Close()
	return buf.Bytes()
}

func TestClientLifecycle(t *testing.T) {
	c := start(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	z := zipOf(t, "v1")
	created, err := c.CreateFunction(ctx, client.CreateFunctionInput{
		FunctionName: "cf", Runtime: "python3.12", Handler: "handler.handler", ZipFile: z,
		MemorySize: 256, Environment: map[string]string{"KEY": "V"}, Tags: map[string]string{"t": "1"},
	})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	if created.State != "Pending" || created.MemorySize != 256 || created.Role != client.DefaultRole {
		t.Fatalf("created = %+v", created)
	}
	active, err := c.WaitActive(ctx, "cf")
	if err != nil || active.LastUpdateStatus != "Successful" {
		t.Fatalf("WaitActive = %+v, %v", active, err)
	}
	got, err := c.GetFunction(ctx, "cf")
	if err != nil || got.Configuration.Environment.Variables["KEY"] != "V" || got.Tags["t"] != "1" || got.Code.RepositoryType != "S3" {
		t.Fatalf("GetFunction = %+v, %v", got, err)
	}
	code, err := c.DownloadCode(ctx, "cf")
	if err != nil || !bytes.Equal(code, z) {
		t.Fatalf("DownloadCode = %d bytes, %v", len(code), err)
	}

	desc := "new"
	up, err := c.UpdateFunctionConfiguration(ctx, "cf", client.UpdateFunctionConfigurationInput{Description: &desc, Timeout: 30, RevisionId: active.RevisionId})
	if err != nil || up.LastUpdateStatus != "InProgress" || up.Timeout != 30 {
		t.Fatalf("UpdateFunctionConfiguration = %+v, %v", up, err)
	}
	if _, err := c.WaitUpdated(ctx, "cf"); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateFunctionCode(ctx, "cf", client.UpdateFunctionCodeInput{ZipFile: zipOf(t, "v2"), RevisionId: active.RevisionId})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Type != "PreconditionFailedException" || ae.StatusCode != 412 || ae.Message != lambda.MsgRevisionMismatch || ae.RequestID == "" {
		t.Fatalf("stale UpdateFunctionCode = %v", err)
	}
	if _, err := c.UpdateFunctionCode(ctx, "cf", client.UpdateFunctionCodeInput{ZipFile: zipOf(t, "v2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitUpdated(ctx, "cf"); err != nil {
		t.Fatal(err)
	}

	for i := range 52 {
		if _, err := c.CreateFunction(ctx, client.CreateFunctionInput{FunctionName: fmt.Sprintf("more-%02d", i), Runtime: "nodejs22.x", Handler: "index.handler", ZipFile: z}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.ListFunctions(ctx)
	if err != nil || len(all) != 53 || all[0].FunctionName != "cf" || all[52].FunctionName != "more-51" {
		t.Fatalf("ListFunctions = %d, %v", len(all), err)
	}
	acc, err := c.GetAccountSettings(ctx)
	if err != nil || acc.AccountUsage.FunctionCount != 53 || acc.AccountLimit.ConcurrentExecutions != 1000 {
		t.Fatalf("GetAccountSettings = %+v, %v", acc, err)
	}

	if err := c.DeleteFunction(ctx, "cf"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFunction(ctx, "cf")
	if !client.IsNotFound(err) || err.Error() != "ResourceNotFoundException (HTTP 404): Function not found: arn:aws:lambda:us-east-1:000000000000:function:cf" {
		t.Fatalf("GetFunction(deleted) = %v", err)
	}
	_, err = c.CreateFunction(ctx, client.CreateFunctionInput{FunctionName: "bad", Runtime: "cobol", Handler: "h", ZipFile: z})
	if !errors.As(err, &ae) || ae.Type != "InvalidParameterValueException" || ae.StatusCode != 400 {
		t.Fatalf("bad runtime = %v", err)
	}
}

func TestClientInvoke(t *testing.T) {
	c := start(t, funcInvoker(func(_ context.Context, r *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
		if r.FunctionName != "f" || r.Qualifier != "$LATEST" || r.LogType != "Tail" || string(r.ClientContext) != `{"x":1}` {
			return nil, lambda.InvalidParameter("unexpected request %+v", r)
		}
		if string(r.Payload) == `"throttle"` {
			return nil, lambda.TooManyRequests(lambda.ReasonConcurrentInvocationLimitExceeded, lambda.MsgRateExceeded, 1)
		}
		return &lambda.InvokeResult{StatusCode: 200, Payload: []byte(`{"ok":true}`), FunctionError: "Unhandled", LogResult: "U1RBUlQ=", ExecutedVersion: "$LATEST"}, nil
	}))
	ctx := t.Context()
	in := client.InvokeInput{FunctionName: "f", Qualifier: "$LATEST", LogType: "Tail", ClientContext: []byte(`{"x":1}`)}
	out, err := c.Invoke(ctx, in)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.StatusCode != 200 || string(out.Payload) != `{"ok":true}` || out.FunctionError != "Unhandled" || out.LogResult != "START" || out.ExecutedVersion != "$LATEST" || out.RequestID == "" {
		t.Fatalf("Invoke = %+v", out)
	}
	in.Payload = []byte(`"throttle"`)
	_, err = c.Invoke(ctx, in)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Type != "TooManyRequestsException" || ae.Reason != "ConcurrentInvocationLimitExceeded" || ae.StatusCode != 429 {
		t.Fatalf("throttled Invoke = %v", err)
	}
}
