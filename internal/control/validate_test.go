package control

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/lambda"
)

func TestEnvironmentLimitMeasuresRequestOrder(t *testing.T) {
	e := newEnv(t, t.TempDir(), nil)
	big := strings.Repeat("x", 4096)
	body := `{"FunctionName":"env","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r","Handler":"h.h",` +
		`"Code":{"ZipFile":"` + base64.StdEncoding.EncodeToString(zipOf(t, map[string]string{"a": "b"})) + `"},` +
		`"Environment":{"Variables":{"SMALL_VAR":"ok","LARGE_VAR":"` + big + `"}}}`
	var in CreateFunctionInput
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateFunction(t.Context(), &in)
	wantErr(t, err, lambda.ErrTypeInvalidParameterValue,
		`Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {"SMALL_VAR":"ok","LARGE_VAR":"`+big+`"}`)

	// Just under the limit succeeds: {"A1":"..."} is 4096 bytes.
	ok := strings.Repeat("y", 4096-len(`{"A1":""}`))
	in2 := createInput("env2", zipOf(t, map[string]string{"a": "b"}))
	in2.Environment = &Environment{Variables: &OrderedVars{Keys: []string{"A1"}, Map: map[string]string{"A1": ok}}}
	if _, err := e.svc.CreateFunction(t.Context(), in2); err != nil {
		t.Fatalf("4096-byte environment rejected: %v", err)
	}
	in2.FunctionName = "env3"
	in2.Environment.Variables.Map["A1"] += "y"
	_, err = e.svc.CreateFunction(t.Context(), in2)
	wantErr(t, err, lambda.ErrTypeInvalidParameterValue, "")

	// Bad keys are a ValidationException listing them.
	in3 := createInput("env4", zipOf(t, map[string]string{"a": "b"}))
	in3.Environment = &Environment{Variables: &OrderedVars{Keys: []string{"1BAD"}, Map: map[string]string{"1BAD": "v"}}}
	_, err = e.svc.CreateFunction(t.Context(), in3)
	wantErr(t, err, lambda.ErrTypeValidation, "1 validation error detected: Value '{1BAD=v}' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
}

func TestLoggingConfigTransitions(t *testing.T) {
	e := newEnv(t, t.TempDir(), nil)
	ctx := t.Context()
	c, err := e.svc.CreateFunction(ctx, createInput("logs", zipOf(t, map[string]string{"a": "b"})))
	if err != nil {
		t.Fatal(err)
	}
	if *c.LoggingConfig != (lambda.LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/logs"}) {
		t.Fatalf("default LoggingConfig = %+v", *c.LoggingConfig)
	}
	steps := []struct {
		in   lambda.LoggingConfig
		want lambda.LoggingConfig
	}{
		{lambda.LoggingConfig{LogFormat: "JSON"}, lambda.LoggingConfig{LogFormat: "JSON", ApplicationLogLevel: "INFO", SystemLogLevel: "INFO", LogGroup: "/aws/lambda/logs"}},
		{lambda.LoggingConfig{ApplicationLogLevel: "DEBUG"}, lambda.LoggingConfig{LogFormat: "JSON", ApplicationLogLevel: "DEBUG", SystemLogLevel: "INFO", LogGroup: "/aws/lambda/logs"}},
		{lambda.LoggingConfig{LogFormat: "Text", LogGroup: "cool_lambda"}, lambda.LoggingConfig{LogFormat: "Text", LogGroup: "cool_lambda"}},
	}
	for i, st := range steps {
		waitFor(t, "settled", func() bool {
			g, _ := e.svc.GetFunctionConfiguration(ctx, "logs", "")
			return g.State == lambda.StateActive && g.LastUpdateStatus == lambda.UpdateSuccessful
		})
		lc := st.in
		u, err := e.svc.UpdateFunctionConfiguration(ctx, &UpdateFunctionConfigurationInput{FunctionName: "logs", LoggingConfig: &lc})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if *u.LoggingConfig != st.want {
			t.Fatalf("step %d: LoggingConfig = %+v, want %+v", i, *u.LoggingConfig, st.want)
		}
	}
}
