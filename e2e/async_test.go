package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/logs"
	"github.com/lambdad/lambdad/internal/logstore"
)

// startLines returns the request ids of every START line of function.
func (s *server) startLines(t *testing.T, function string) []string {
	t.Helper()
	var ids []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.d.Logs().Read(ctx, logstore.Query{Groups: []string{"/aws/lambda/" + function}}, func(r logs.Record) error {
		if rest, ok := strings.CutPrefix(string(r.Message), "START RequestId: "); ok {
			ids = append(ids, strings.Fields(rest)[0])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// logLines returns every stored log line of function.
func (s *server) logLines(t *testing.T, function string) []string {
	t.Helper()
	var lines []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.d.Logs().Read(ctx, logstore.Query{Groups: []string{"/aws/lambda/" + function}}, func(r logs.Record) error {
		lines = append(lines, strings.TrimSuffix(string(r.Message), "\n"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestAsyncInvoke(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AsyncRetryDelays = []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}
	})
	s.createActive(t, goFunction("ev"))

	// Event: 202 once durable, and the function runs.
	out, err := s.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("ev"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"action":"print","lines":["async ran"]}`),
	})
	if err != nil || out.StatusCode != 202 || len(out.Payload) != 0 {
		t.Fatalf("Event invoke = %+v, %v; want 202 with no body", out, err)
	}
	waitFor(t, func() bool { return len(s.startLines(t, "ev")) == 1 })

	// A failing event runs 1 + 2 times with the same request id, then lands
	// in the built-in dead-letter queue, where the CLI lists and redrives it.
	if _, err := s.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("ev"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"action":"error","msg":"always"}`),
	}); err != nil {
		t.Fatal(err)
	}
	var dlqOut string
	waitFor(t, func() bool {
		dlqOut, _, _ = s.cli(t, "dlq", "ls", "ev")
		return strings.Contains(dlqOut, "RetriesExhausted")
	})
	ids := s.startLines(t, "ev")[1:]
	if len(ids) != 3 || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("failing event ran with request ids %v, want the same id 3 times", ids)
	}
	if !strings.Contains(dlqOut, ids[0]) || !strings.Contains(dlqOut, "\t3\t") && !strings.Contains(dlqOut, " 3 ") {
		t.Errorf("dlq ls:\n%s", dlqOut)
	}
	out2, errs, code := s.cli(t, "dlq", "redrive", "ev", "--all")
	if code != 0 || !strings.Contains(out2, "redriven 1 event") {
		t.Fatalf("dlq redrive: %d %s %s", code, out2, errs)
	}
	waitFor(t, func() bool { return len(s.startLines(t, "ev")) == 7 })

	// Payload over 1 MB: RequestTooLargeException.
	_, err = s.client.Invoke(context.Background(), &awslambda.InvokeInput{
		FunctionName: aws.String("ev"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`"` + strings.Repeat("x", 1<<20) + `"`),
	})
	if err == nil || !strings.Contains(err.Error(), "RequestTooLarge") {
		t.Errorf("oversized Event = %v", err)
	}
	// Missing function: 404 right away.
	_, err = s.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("nope"), InvocationType: types.InvocationTypeEvent})
	var nf *types.ResourceNotFoundException
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Errorf("Event to a missing function = %v (%T)", err, nf)
	}
}
