package async

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
)

func TestValidate(t *testing.T) {
	dest := func(s, f string) *DestinationConfig {
		dc := &DestinationConfig{}
		if s != "-" {
			dc.OnSuccess = &Destination{Destination: s}
		}
		if f != "-" {
			dc.OnFailure = &Destination{Destination: f}
		}
		return dc
	}
	tests := []struct {
		name string
		cfg  EventInvokeConfig
		typ  string // "" = valid
		msg  string
	}{
		{"retries 0", EventInvokeConfig{MaximumRetryAttempts: intp(0)}, "", ""},
		{"age 60", EventInvokeConfig{MaximumEventAgeInSeconds: intp(60)}, "", ""},
		{"age 21600", EventInvokeConfig{MaximumEventAgeInSeconds: intp(21600)}, "", ""},
		{"empty OnSuccess", EventInvokeConfig{DestinationConfig: dest("", "-")}, "", ""},
		{"sqs and lambda", EventInvokeConfig{DestinationConfig: dest("arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:lambda:us-east-1:123456789012:function:other")}, "", ""},
		{"sns s3 events", EventInvokeConfig{DestinationConfig: dest("arn:aws:sns:us-east-1:123456789012:t", "arn:aws:events:us-east-1:123456789012:event-bus/default")}, "", ""},
		{"nothing set", EventInvokeConfig{}, lambda.ErrTypeInvalidParameterValue, MsgNothingSet},
		{"retries 3", EventInvokeConfig{MaximumRetryAttempts: intp(3)}, lambda.ErrTypeValidation,
			"1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2"},
		{"retries -1 and age 59", EventInvokeConfig{MaximumRetryAttempts: intp(-1), MaximumEventAgeInSeconds: intp(59)}, lambda.ErrTypeValidation,
			"2 validation errors detected: Value '-1' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value greater than or equal to 0; Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"},
		{"age 21601", EventInvokeConfig{MaximumEventAgeInSeconds: intp(21601)}, lambda.ErrTypeValidation,
			"1 validation error detected: Value '21601' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600"},
		// Recorded AWS answers (test_lambda_eventinvokeconfig_exceptions).
		{"bad arn pattern", EventInvokeConfig{DestinationConfig: dest("-", "arn:aws:_-/!lambda:us-east-1:123456789012:function:f")}, lambda.ErrTypeValidation,
			`1 validation error detected: Value 'arn:aws:_-/!lambda:us-east-1:123456789012:function:f' at 'destinationConfig.onFailure.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: $|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)`},
		{"iam service", EventInvokeConfig{DestinationConfig: dest("arn:aws:iam:us-east-1:123456789012:function:f", "-")}, lambda.ErrTypeInvalidParameterValue,
			"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:iam:us-east-1:123456789012:function:f), onFailure=null) is invalid."},
		{"itself", EventInvokeConfig{DestinationConfig: dest("arn:aws:lambda:us-east-1:123456789012:function:f", "-")}, lambda.ErrTypeInvalidParameterValue, MsgSelfDestination},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate("f")
			if tt.typ == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var le *lambda.Error
			if !errors.As(err, &le) || le.Type != tt.typ || le.Message != tt.msg || le.Status != 400 {
				t.Fatalf("Validate() = %v\nwant %s: %s", err, tt.typ, tt.msg)
			}
		})
	}
}

func TestValidateLambdaDestinationExists(t *testing.T) {
	e := newEnv(t, nil)
	e.runner.set("f", ok("null"))
	e.runner.set("other", ok("null"))
	good := &EventInvokeConfig{DestinationConfig: &DestinationConfig{OnSuccess: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:other"}}}
	if err := e.svc.ValidateEventInvokeConfig(context.Background(), "f", good); err != nil {
		t.Errorf("ValidateEventInvokeConfig(existing) = %v", err)
	}
	bad := &EventInvokeConfig{DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:lambda:us-east-1:123456789012:function:doesnotexist"}}}
	err := e.svc.ValidateEventInvokeConfig(context.Background(), "f", bad)
	var le *lambda.Error
	if !errors.As(err, &le) || le.Message != "The destination ARN arn:aws:lambda:us-east-1:123456789012:function:doesnotexist is invalid." {
		t.Errorf("ValidateEventInvokeConfig(missing) = %v", err)
	}
}

func TestConfigJSON(t *testing.T) {
	c := EventInvokeConfig{FunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", MaximumRetryAttempts: intp(0)}
	c.Stamp(time.UnixMilli(1573686021479))
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST","MaximumRetryAttempts":0,"LastModified":1573686021.479,"DestinationConfig":{"OnSuccess":{},"OnFailure":{}}}`
	if string(b) != want {
		t.Errorf("json = %s\nwant %s", b, want)
	}
	var back EventInvokeConfig
	if err := json.Unmarshal([]byte(`{"MaximumEventAgeInSeconds":120,"DestinationConfig":{"OnSuccess":{"Destination":"arn:aws:sqs:us-east-1:123456789012:q"}}}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.MaxAge() != 2*time.Minute || back.Retries() != 2 || back.OnSuccess() != "arn:aws:sqs:us-east-1:123456789012:q" || back.OnFailure() != "" {
		t.Errorf("decoded = %+v", back)
	}
}

func TestMerge(t *testing.T) {
	base := EventInvokeConfig{MaximumEventAgeInSeconds: intp(60), DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:sqs:us-east-1:123456789012:q"}}}
	got := base.Merge(EventInvokeConfig{MaximumRetryAttempts: intp(1), DestinationConfig: &DestinationConfig{OnSuccess: &Destination{Destination: "arn:aws:sns:us-east-1:123456789012:t"}}})
	if got.MaxAge() != time.Minute || got.Retries() != 1 || got.OnFailure() != "arn:aws:sqs:us-east-1:123456789012:q" || got.OnSuccess() != "arn:aws:sns:us-east-1:123456789012:t" {
		t.Errorf("Merge = %+v", got)
	}
	if base.DestinationConfig.OnSuccess != nil {
		t.Error("Merge modified its receiver")
	}
}
