package lambda

import (
	"errors"
	"strings"
	"testing"
)

func TestParseFunctionName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		namespaced bool
		want       FunctionRef
		wantType   string
	}{
		{name: "bare", in: "my-fn", want: FunctionRef{Name: "my-fn"}},
		{name: "bare with qualifier", in: "my-fn:prod", want: FunctionRef{Name: "my-fn", Qualifier: "prod"}},
		{name: "latest", in: "my-fn:$LATEST", want: FunctionRef{Name: "my-fn", Qualifier: "$LATEST"}},
		{name: "partial arn", in: "123456789012:function:f", want: FunctionRef{Account: "123456789012", Name: "f"}},
		{name: "partial arn qualified", in: "123456789012:function:f:3", want: FunctionRef{Account: "123456789012", Name: "f", Qualifier: "3"}},
		{name: "full arn", in: "arn:aws:lambda:us-east-1:000000000000:function:f", want: FunctionRef{Region: "us-east-1", Account: "000000000000", Name: "f"}},
		{name: "full arn qualified", in: "arn:aws:lambda:eu-west-2:000000000000:function:f:$LATEST", want: FunctionRef{Region: "eu-west-2", Account: "000000000000", Name: "f", Qualifier: "$LATEST"}},
		{name: "incomplete arn", in: "arn:aws:lambda:us-east-1:111111111111:function", want: FunctionRef{Region: "us-east-1", Account: "111111111111", Name: "function"}},
		{name: "namespaced dot", in: "f.x", namespaced: true, want: FunctionRef{Name: "f.x"}},
		{name: "dot not allowed in RE_FN", in: "f.x", wantType: ErrTypeValidation},
		{name: "invalid chars", in: "invalid:function:name", wantType: ErrTypeValidation},
		{name: "bad account", in: "arn:aws:lambda:us-east-1:123400000000@function:myfn", namespaced: true, wantType: ErrTypeValidation},
		{name: "missing region", in: "arn:aws:lambda::111111111111:function:f", wantType: ErrTypeValidation},
		{name: "multiple qualifiers", in: "arn:aws:lambda:us-east-1:111111111111:function:f:1:2", wantType: ErrTypeValidation},
		{name: "empty", in: "", wantType: ErrTypeValidation},
		{name: "too long", in: strings.Repeat("a", 141), wantType: ErrTypeValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFunctionName(tc.in, tc.namespaced)
			if tc.wantType != "" {
				var le *Error
				if !errors.As(err, &le) || le.Type != tc.wantType {
					t.Fatalf("ParseFunctionName(%q) err = %v, want %s", tc.in, err, tc.wantType)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseFunctionName(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseFunctionNameMessage(t *testing.T) {
	t.Parallel()
	_, err := ParseFunctionName("invalid:function:name", false)
	want := `1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	var le *Error
	if !errors.As(err, &le) || le.Message != want {
		t.Fatalf("message = %v\nwant %s", err, want)
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ref      FunctionRef
		q        string
		wantQ    string
		wantType string
		wantMsg  string
	}{
		{name: "query qualifier", ref: FunctionRef{Name: "f"}, q: "1", wantQ: "1"},
		{name: "same qualifier", ref: FunctionRef{Name: "f", Qualifier: "1"}, q: "1", wantQ: "1"},
		{name: "mismatch", ref: FunctionRef{Name: "f", Qualifier: "$LATEST"}, q: "1", wantType: ErrTypeInvalidParameterValue, wantMsg: MsgQualifierMismatch},
		{name: "other region", ref: FunctionRef{Region: "ap-southeast-1", Name: "f"}, wantType: ErrTypeResourceNotFound, wantMsg: "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')"},
		{name: "other account", ref: FunctionRef{Account: "111111111111", Name: "f"}, wantType: ErrTypeAccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.ref.Scope("us-east-1", "000000000000", tc.q)
			if tc.wantType != "" {
				var le *Error
				if !errors.As(err, &le) || le.Type != tc.wantType || (tc.wantMsg != "" && le.Message != tc.wantMsg) {
					t.Fatalf("Scope() err = %v, want %s %q", err, tc.wantType, tc.wantMsg)
				}
				return
			}
			if err != nil || got.Qualifier != tc.wantQ {
				t.Fatalf("Scope() = %+v, %v, want qualifier %q", got, err, tc.wantQ)
			}
		})
	}
}

func TestValidateQualifier(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"$LATEST", "1", "prod", "$LATEST.PUBLISHED"} {
		if err := ValidateQualifier(ok); err != nil {
			t.Errorf("ValidateQualifier(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a:b", strings.Repeat("a", 129)} {
		if err := ValidateQualifier(bad); err == nil {
			t.Errorf("ValidateQualifier(%q) = nil, want error", bad)
		}
	}
}

func TestViolationsMessage(t *testing.T) {
	t.Parallel()
	var v Violations
	v.Add("r1", "role", ConstraintPattern(PatternRole))
	want := `1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	if got := v.Message(); got != want {
		t.Fatalf("Message() = %s\nwant %s", got, want)
	}
	v.Add("x", "handler", ConstraintMaxLen(128))
	if got := v.Message(); !strings.HasPrefix(got, "2 validation errors detected: ") || !strings.Contains(got, "; Value 'x'") {
		t.Fatalf("Message() = %s", got)
	}
}

// FuzzParseFunctionName checks the parser never panics and that whatever it
// accepts round-trips through the ARN builder.
func FuzzParseFunctionName(f *testing.F) {
	for _, s := range []string{"f", "f:1", "123456789012:function:f", "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", "arn:aws:lambda::1:function:f", ":::", "f.x"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, ns bool) {
		ref, err := ParseFunctionName(s, ns)
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Type != ErrTypeValidation {
				t.Fatalf("ParseFunctionName(%q) err = %v, want ValidationException", s, err)
			}
			return
		}
		if ref.Name == "" {
			t.Fatalf("ParseFunctionName(%q) accepted an empty name", s)
		}
		arn := QualifiedFunctionARN("us-east-1", "123456789012", ref.Name, ref.Qualifier)
		if len(arn) > MaxNSFunctionParamLen {
			return
		}
		back, err := ParseFunctionName(arn, true)
		if err != nil || back.Name != ref.Name || back.Qualifier != ref.Qualifier {
			t.Fatalf("round trip of %q via %q = %+v, %v", s, arn, back, err)
		}
	})
}
