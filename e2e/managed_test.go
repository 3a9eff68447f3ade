package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// The AWS console's default functions and the developer guide's area
// example, deployed as a user would.
func TestManagedRuntimes(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	py := zipFiles(map[string]zipEntry{
		"lambda_function.py": {[]byte(`import json

def lambda_handler(event, context):
    # TODO implement
    return {
        'statusCode': 200,
        'body': json.dumps('Hello from Lambda!')
    }
`), 0o644},
		"area.py": {[]byte(`import logging
logger = logging.getLogger()
logger.setLevel("INFO")

def lambda_handler(event, context):
    length = event['length']
    width = event['width']
    area = length * width
    print(f"The area is {area}")
    logger.info(f"CloudWatch logs group: {context.log_group_name}")
    return json_area(area)

def json_area(area):
    return {"area": area}
`), 0o644},
		"wrapper.sh": {[]byte("#!/bin/sh\nexport WRAPPED=yes\nexec \"$@\"\n"), 0o755},
		"env.py":     {[]byte("import os\ndef handler(e, c):\n    return os.environ.get('WRAPPED', 'no')\n"), 0o644},
	})
	node := zipFiles(map[string]zipEntry{
		"index.mjs": {[]byte(`export const handler = async (event) => {
  // TODO implement
  const response = {
    statusCode: 200,
    body: JSON.stringify('Hello from Lambda!'),
  };
  return response;
};
`), 0o644},
		"fail.js": {[]byte("exports.handler = async () => { throw new TypeError('bad input'); };\n"), 0o644},
	})
	for _, f := range []struct {
		name, runtime, handler string
		zip                    []byte
		env                    map[string]string
	}{
		{"py-hello", "python3.12", "lambda_function.lambda_handler", py, nil},
		{"py-area", "python3.12", "area.lambda_handler", py, nil},
		{"py-wrapped", "python3.12", "env.handler", py, map[string]string{"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}},
		{"node-hello", "nodejs20.x", "index.handler", node, nil},
		{"node-fail", "nodejs20.x", "fail.handler", node, nil},
	} {
		in := &awslambda.CreateFunctionInput{FunctionName: aws.String(f.name), Runtime: types.Runtime(f.runtime), Handler: aws.String(f.handler), Code: &types.FunctionCode{ZipFile: f.zip}}
		if f.env != nil {
			in.Environment = &types.Environment{Variables: f.env}
		}
		s.createActive(t, in)
	}
	hello := `{"statusCode": 200, "body": "\"Hello from Lambda!\""}`
	if out := s.invoke(t, "py-hello", `{"key1":"value1"}`); string(out.Payload) != hello {
		t.Errorf("python hello = %s, want %s", out.Payload, hello)
	}
	if out := s.invoke(t, "node-hello", `{"key1":"value1"}`); string(out.Payload) != `{"statusCode":200,"body":"\"Hello from Lambda!\""}` {
		t.Errorf("node hello = %s", out.Payload)
	}
	out := s.invoke(t, "py-area", `{"length": 6, "width": 7}`, withTail)
	if string(out.Payload) != `{"area": 42}` {
		t.Errorf("area = %s", out.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), "The area is 42\n") || !strings.Contains(string(tail), "[INFO]\t") || !strings.Contains(string(tail), "CloudWatch logs group: /aws/lambda/py-area") {
		t.Errorf("area log tail:\n%s", tail)
	}
	if out := s.invoke(t, "py-wrapped", `{}`); string(out.Payload) != `"yes"` {
		t.Errorf("AWS_LAMBDA_EXEC_WRAPPER not applied: %s", out.Payload)
	}
	out = s.invoke(t, "node-fail", `{}`)
	var fe struct {
		ErrorType, ErrorMessage string
		Trace                   []string
	}
	if err := json.Unmarshal(out.Payload, &fe); err != nil || aws.ToString(out.FunctionError) != "Unhandled" || fe.ErrorType != "TypeError" || fe.ErrorMessage != "bad input" || len(fe.Trace) == 0 {
		t.Errorf("node error = %s (%v)", out.Payload, err)
	}
	// A runtime the host cannot serve: CreateFunction succeeds, the
	// function goes to Failed with a reason, Invoke says why.
	_, err := s.client.CreateFunction(context.Background(), &awslambda.CreateFunctionInput{FunctionName: aws.String("j"), Runtime: types.RuntimeJava21, Handler: aws.String("a::b"), Role: aws.String(role), Code: &types.FunctionCode{ZipFile: py}})
	if err != nil {
		t.Fatal(err)
	}
	w := awslambda.NewFunctionActiveV2Waiter(s.client)
	if err := w.Wait(context.Background(), &awslambda.GetFunctionInput{FunctionName: aws.String("j")}, 20e9); err == nil {
		t.Error("java21 function became Active on a host without Java")
	}
	got, _ := s.client.GetFunction(context.Background(), &awslambda.GetFunctionInput{FunctionName: aws.String("j")})
	if got.Configuration.State != types.StateFailed || !strings.Contains(aws.ToString(got.Configuration.StateReason), "java21") {
		t.Errorf("java21 state = %s reason %q", got.Configuration.State, aws.ToString(got.Configuration.StateReason))
	}
	_, err = s.client.Invoke(context.Background(), &awslambda.InvokeInput{FunctionName: aws.String("j")})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) || !strings.Contains(aws.ToString(rc.Message), "Failed") || !strings.Contains(aws.ToString(rc.Message), "java21") {
		t.Errorf("invoke of the java21 function = %v, want a 409 naming the state and the missing runtime", err)
	}
}
