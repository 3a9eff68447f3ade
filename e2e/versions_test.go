package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/config"
)

// The AWS developer guide's walk-through: publish versions, point an alias
// at one, shift a share of traffic to a canary, invoke through each form.
func TestVersionsAndWeightedAlias(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := context.Background()
	in := goFunction("canary")
	in.Environment = &types.Environment{Variables: map[string]string{"VV": "one"}}
	in.Publish = true
	s.createActive(t, in)
	if _, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("canary"), Environment: &types.Environment{Variables: map[string]string{"VV": "two"}},
	}); err != nil {
		t.Fatal(err)
	}
	w := awslambda.NewFunctionUpdatedV2Waiter(s.client, func(o *awslambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("canary")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	v2, err := s.client.PublishVersion(ctx, &awslambda.PublishVersionInput{FunctionName: aws.String("canary")})
	if err != nil || aws.ToString(v2.Version) != "2" {
		t.Fatalf("PublishVersion = %v, %v", v2, err)
	}
	envOf := func(out *awslambda.InvokeOutput) string {
		var m map[string]string
		json.Unmarshal(out.Payload, &m)
		return m["VV"] + "@" + m["AWS_LAMBDA_FUNCTION_VERSION"]
	}
	if got := envOf(s.invoke(t, "canary", `{"action":"env"}`, func(in *awslambda.InvokeInput) { in.Qualifier = aws.String("1") })); got != "one@1" {
		t.Errorf("version 1 ran %s", got)
	}
	if got := envOf(s.invoke(t, "canary:2", `{"action":"env"}`)); got != "two@2" {
		t.Errorf("canary:2 ran %s", got)
	}
	if _, err := s.client.CreateAlias(ctx, &awslambda.CreateAliasInput{
		FunctionName: aws.String("canary"), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.2}},
	}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		out := s.invoke(t, "canary", `{"action":"ctx"}`, func(in *awslambda.InvokeInput) { in.Qualifier = aws.String("live") })
		counts[aws.ToString(out.ExecutedVersion)]++
		if i == 0 {
			var c struct{ ARN string }
			json.Unmarshal(out.Payload, &c)
			if c.ARN != "arn:aws:lambda:us-east-1:000000000000:function:canary:live" {
				t.Errorf("invoked ARN through the alias = %q", c.ARN)
			}
		}
	}
	// 20% of 300: mean 60, sd ~6.9; 25..95 is a 5-sd band.
	if counts["1"]+counts["2"] != n || counts["2"] < 25 || counts["2"] > 95 {
		t.Errorf("weighted alias split = %v, want about 20%% on version 2", counts)
	}
}

func TestLayersAtOpt(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := context.Background()
	layerZip := zipFiles(map[string]zipEntry{
		"python/greeting.py":                    {[]byte("WORD = 'from a layer'\n"), 0o644},
		"nodejs/node_modules/greeting/index.js": {[]byte("module.exports = 'from a node layer';\n"), 0o644},
		"bin/hello.sh":                          {[]byte("#!/bin/sh\necho layer-bin\n"), 0o755},
	})
	lv, err := s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{
		LayerName: aws.String("shared"), Content: &types.LayerVersionContentInput{ZipFile: layerZip},
		CompatibleRuntimes: []types.Runtime{types.RuntimePython312, types.RuntimeNodejs20x},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(lv.LayerVersionArn)
	code := zipFiles(map[string]zipEntry{
		"app.py":   {[]byte("import greeting, subprocess\ndef handler(e, c):\n    return [greeting.WORD, subprocess.check_output(['hello.sh']).decode().strip()]\n"), 0o644},
		"index.js": {[]byte("exports.handler = async () => require('greeting');\n"), 0o644},
	})
	for _, f := range []struct{ name, runtime, handler string }{{"lpy", "python3.12", "app.handler"}, {"lnode", "nodejs20.x", "index.handler"}} {
		s.createActive(t, &awslambda.CreateFunctionInput{FunctionName: aws.String(f.name), Runtime: types.Runtime(f.runtime), Handler: aws.String(f.handler),
			Code: &types.FunctionCode{ZipFile: code}, Layers: []string{arn}})
	}
	if out := s.invoke(t, "lpy", `{}`); string(out.Payload) != `["from a layer", "layer-bin"]` {
		t.Errorf("python with layer = %s", out.Payload)
	}
	if out := s.invoke(t, "lnode", `{}`); string(out.Payload) != `"from a node layer"` {
		t.Errorf("node with layer = %s", out.Payload)
	}
	// A custom runtime whose bootstrap comes from a layer.
	blv, err := s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{LayerName: aws.String("goruntime"), Content: &types.LayerVersionContentInput{ZipFile: goZip}})
	if err != nil {
		t.Fatal(err)
	}
	s.createActive(t, &awslambda.CreateFunctionInput{FunctionName: aws.String("lgo"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("x"),
		Code: &types.FunctionCode{ZipFile: zipFiles(map[string]zipEntry{"README": {[]byte("code lives in the layer"), 0o644}})}, Layers: []string{aws.ToString(blv.LayerVersionArn)}})
	if out := s.invoke(t, "lgo", `{"via":"opt"}`); string(out.Payload) != `{"via":"opt"}` {
		t.Errorf("bootstrap from /opt = %s", out.Payload)
	}
}

func TestReservedConcurrencyThrottles(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := context.Background()
	s.createActive(t, goFunction("capped"))
	if _, err := s.client.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("capped"), ReservedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	// The invoker learns of the reservation through the store watch.
	waitFor(t, func() bool {
		got, err := s.client.GetFunctionConcurrency(ctx, &awslambda.GetFunctionConcurrencyInput{FunctionName: aws.String("capped")})
		return err == nil && aws.ToInt32(got.ReservedConcurrentExecutions) == 2
	})
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("capped"), Payload: []byte(`{"action":"sleep","ms":1500}`)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	throttled := 0
	for err := range errs {
		var tmr *types.TooManyRequestsException
		if errors.As(err, &tmr) && tmr.Reason == types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
			throttled++
		} else if err != nil {
			t.Errorf("invoke: %v", err)
		}
	}
	if throttled != 1 {
		t.Errorf("%d of 3 parallel invokes throttled, want 1 (reserved concurrency 2)", throttled)
	}
	if _, err := s.client.PutFunctionConcurrency(ctx, &awslambda.PutFunctionConcurrencyInput{FunctionName: aws.String("capped"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		_, err := s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("capped"), Payload: []byte(`{}`)})
		var tmr *types.TooManyRequestsException
		return errors.As(err, &tmr)
	})
}

func TestProvisionedConcurrency(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := context.Background()
	in := goFunction("prov")
	in.Publish = true
	s.createActive(t, in)
	if _, err := s.client.PutProvisionedConcurrencyConfig(ctx, &awslambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("prov"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(2),
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		got, err := s.client.GetProvisionedConcurrencyConfig(ctx, &awslambda.GetProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")})
		return err == nil && got.Status == types.ProvisionedConcurrencyStatusEnumReady && aws.ToInt32(got.AllocatedProvisionedConcurrentExecutions) == 2
	})
	if st := s.d.Invoker().Stats("prov"); st.Provisioned != 2 || st.Live != 2 {
		t.Errorf("before the first invoke Stats = %+v, want 2 provisioned environments", st)
	}
	out := s.invoke(t, "prov", `{"action":"env"}`, withTail, func(in *awslambda.InvokeInput) { in.Qualifier = aws.String("1") })
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if m := reReport.FindStringSubmatch(string(tail)); m == nil || m[2] != "" {
		t.Errorf("first invoke of a provisioned environment: REPORT missing or has Init Duration:\n%s", tail)
	}
	var env map[string]string
	json.Unmarshal(out.Payload, &env)
	if env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "provisioned-concurrency" {
		t.Errorf("AWS_LAMBDA_INITIALIZATION_TYPE = %q", env["AWS_LAMBDA_INITIALIZATION_TYPE"])
	}
	if st := s.d.Invoker().Stats("prov"); st.Live != 2 {
		t.Errorf("after invoke Stats = %+v: a cold start happened despite provisioned environments", st)
	}
}

// OnSuccess / OnFailure destinations receive AWS's invocation record.
func TestAsyncDestinations(t *testing.T) {
	s := startServer(t, t.TempDir(), func(c *config.Config) {
		c.AsyncRetryDelays = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
	})
	ctx := context.Background()
	s.createActive(t, goFunction("src"))
	s.createActive(t, &awslambda.CreateFunctionInput{FunctionName: aws.String("dest"), Runtime: types.RuntimePython312, Handler: aws.String("d.handler"),
		Code: &types.FunctionCode{ZipFile: zipFiles(map[string]zipEntry{"d.py": {[]byte("import json\ndef handler(e, c):\n    print('RECORD ' + json.dumps(e))\n"), 0o644}})}})
	destARN := "arn:aws:lambda:us-east-1:000000000000:function:dest"
	if _, err := s.client.PutFunctionEventInvokeConfig(ctx, &awslambda.PutFunctionEventInvokeConfigInput{
		FunctionName: aws.String("src"), MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(destARN)}, OnFailure: &types.OnFailure{Destination: aws.String(destARN)}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{"action":"count"}`, `{"action":"error","msg":"bad"}`} {
		if _, err := s.client.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String("src"), InvocationType: types.InvocationTypeEvent, Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	type record struct {
		Version        string `json:"version"`
		Timestamp      string `json:"timestamp"`
		RequestContext struct {
			RequestID              string `json:"requestId"`
			FunctionArn            string `json:"functionArn"`
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  json.RawMessage `json:"requestPayload"`
		ResponseContext struct {
			StatusCode      int    `json:"statusCode"`
			ExecutedVersion string `json:"executedVersion"`
			FunctionError   string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload json.RawMessage `json:"responsePayload"`
	}
	recs := map[string]record{}
	waitFor(t, func() bool {
		for _, line := range s.logLines(t, "dest") {
			if rest, ok := strings.CutPrefix(line, "RECORD "); ok {
				var r record
				if err := json.Unmarshal([]byte(rest), &r); err != nil {
					t.Fatalf("record %q: %v", rest, err)
				}
				recs[r.RequestContext.Condition] = r
			}
		}
		return len(recs) == 2
	})
	ok, bad := recs["Success"], recs["RetriesExhausted"]
	if ok.Version != "1.0" || ok.RequestContext.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:src:$LATEST" ||
		ok.RequestContext.ApproximateInvokeCount != 1 || string(ok.RequestPayload) != `{"action": "count"}` && string(ok.RequestPayload) != `{"action":"count"}` ||
		ok.ResponseContext.StatusCode != 200 || ok.ResponseContext.ExecutedVersion != "$LATEST" || ok.ResponseContext.FunctionError != "" || string(ok.ResponsePayload) != "1" {
		t.Errorf("success record = %+v payload %s response %s", ok, ok.RequestPayload, ok.ResponsePayload)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", ok.Timestamp); err != nil {
		t.Errorf("record timestamp %q: %v", ok.Timestamp, err)
	}
	if bad.ResponseContext.FunctionError != "Unhandled" || !strings.Contains(string(bad.ResponsePayload), `"errorMessage": "bad"`) && !strings.Contains(string(bad.ResponsePayload), `"errorMessage":"bad"`) {
		t.Errorf("failure record = %+v response %s", bad, bad.ResponsePayload)
	}
}
