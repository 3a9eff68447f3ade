package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/lambda"
)

// recordingInvoker is a hand-made fake of internal/invoke's Invoker: it
// records requests and answers with a scripted result.
type recordingInvoker struct {
	mu     sync.Mutex
	reqs   []*lambda.InvokeRequest
	result func(*lambda.InvokeRequest) (*lambda.InvokeResult, error)
}

func (r *recordingInvoker) Invoke(ctx context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.result(req)
}

func (r *recordingInvoker) last() *lambda.InvokeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func TestE2EInvokeParsing(t *testing.T) {
	inv := &recordingInvoker{result: func(req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
		switch req.InvocationType {
		case lambda.InvocationEvent:
			return &lambda.InvokeResult{StatusCode: 202}, nil
		case lambda.InvocationDryRun:
			return &lambda.InvokeResult{StatusCode: 204}, nil
		}
		if string(req.Payload) == `"fail"` {
			return &lambda.InvokeResult{StatusCode: 200, Payload: []byte(`{"errorMessage":"boom","errorType":"Exception"}`), FunctionError: "Unhandled", ExecutedVersion: "$LATEST"}, nil
		}
		if string(req.Payload) == `"throttle"` {
			return nil, lambda.TooManyRequests(lambda.ReasonReservedFunctionConcurrentInvocationLimit, lambda.MsgRateExceeded, 1)
		}
		return &lambda.InvokeResult{StatusCode: 200, Payload: req.Payload, ExecutedVersion: "$LATEST", LogResult: base64.StdEncoding.EncodeToString([]byte("START\nEND\n"))}, nil
	}}
	s := startServer(t, t.TempDir(), inv)
	ctx := t.Context()

	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, err := s.client.Invoke(ctx, &awslambda.InvokeInput{
		FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"), Qualifier: aws.String("$LATEST"),
		Payload: []byte(`{"a":1}`), LogType: types.LogTypeTail, ClientContext: aws.String(cc),
	})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if out.StatusCode != 200 || string(out.Payload) != `{"a":1}` || aws.ToString(out.ExecutedVersion) != "$LATEST" || aws.ToString(out.LogResult) == "" {
		t.Fatalf("Invoke = %+v", out)
	}
	req := inv.last()
	if req.FunctionName != "arn:aws:lambda:us-east-1:000000000000:function:f" || req.Qualifier != "$LATEST" || req.LogType != "Tail" ||
		req.InvocationType != "RequestResponse" || string(req.ClientContext) != `{"custom":{"k":"v"}}` || len(req.RequestID) != 36 {
		t.Fatalf("InvokeRequest = %+v", req)
	}

	out, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`"fail"`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" || out.StatusCode != 200 {
		t.Fatalf("Invoke(fail) = %+v, %v", out, err)
	}
	out, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), InvocationType: types.InvocationTypeEvent})
	if err != nil || out.StatusCode != 202 || string(inv.last().Payload) != "{}" {
		t.Fatalf("Invoke(Event) = %+v, %v, payload %q", out, err, inv.last().Payload)
	}
	out, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Fatalf("Invoke(DryRun) = %+v, %v", out, err)
	}
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`"throttle"`)})
	ae := apiErr(t, err, "TooManyRequestsException", "Rate Exceeded.")
	var tm *types.TooManyRequestsException
	if !errorsAs(ae, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded || aws.ToString(tm.RetryAfterSeconds) != "1" || aws.ToString(tm.Type) != "User" {
		t.Fatalf("throttle = %+v", tm)
	}

	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`{not json`)})
	apiErr(t, err, "InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: invalid character 'n' looking for beginning of object key string")
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), Payload: bytes.Repeat([]byte(" "), lambda.MaxSyncPayloadBytes+1)})
	apiErr(t, err, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`"` + strings.Repeat("x", lambda.MaxAsyncPayloadBytes) + `"`)})
	apiErr(t, err, "RequestTooLargeException", "Request must be smaller than 1048576 bytes for the InvokeFunction operation")
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f"), ClientContext: aws.String("%%%")})
	apiErr(t, err, "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.")
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("f:1"), Qualifier: aws.String("2")})
	apiErr(t, err, "InvalidParameterValueException", lambda.MsgQualifierMismatch)
	_, err = s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123400000000@function:myfn")})
	apiErr(t, err, "ValidationException", `1 validation error detected: Value 'arn:aws:lambda:us-east-1:123400000000@function:myfn' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`)

	// Raw: unknown invocation type; the request ID header equals the one the invoker saw.
	req2, _ := http.NewRequest("POST", s.srv.URL+"/2015-03-31/functions/f/invocations", strings.NewReader(""))
	req2.Header.Set("X-Amz-Invocation-Type", "Bogus")
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["message"] != "1 validation error detected: Value 'Bogus' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]" {
		t.Fatalf("bogus invocation type = %d %v", resp.StatusCode, body)
	}
	resp, err = http.Post(s.srv.URL+"/2015-03-31/functions/f/invocations", "", strings.NewReader(`[1,2]`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("x-amzn-RequestId") != inv.last().RequestID {
		t.Fatalf("request id header %q, invoker saw %q", resp.Header.Get("x-amzn-RequestId"), inv.last().RequestID)
	}
}
