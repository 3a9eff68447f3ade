package api_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// awsCLI runs the real AWS CLI against the test server.
type awsCLI struct {
	t   *testing.T
	bin string
	env []string
	url string
}

func newAWSCLI(t *testing.T, s *server) *awsCLI {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed; skipping the AWS CLI end-to-end test")
	}
	home := t.TempDir()
	return &awsCLI{t: t, bin: bin, url: s.srv.URL, env: append(os.Environ(),
		"HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION="+region, "AWS_REGION="+region, "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	)}
}

// run executes `aws lambda <args>` and returns stdout, stderr and the exit code.
func (a *awsCLI) run(args ...string) (string, string, int) {
	a.t.Helper()
	cmd := exec.CommandContext(a.t.Context(), a.bin, append([]string{"--endpoint-url", a.url, "--output", "json", "lambda"}, args...)...)
	cmd.Env = a.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		a.t.Fatalf("aws %v: %v", args, err)
	}
	// CLI v2 notes retries in error lines ("... operation (reached max
	// retries: 0): message"); v1 does not. Compare the AWS part only.
	return out.String(), reRetryNote.ReplaceAllString(errb.String(), ""), code
}

var reRetryNote = regexp.MustCompile(` \(reached max retries: \d+\)`)

func (a *awsCLI) json(v any, args ...string) {
	a.t.Helper()
	out, errOut, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws lambda %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			a.t.Fatalf("aws lambda %s: output %q: %v", args[0], out, err)
		}
	}
}

func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the AWS CLI many times")
	}
	s := startServer(t, t.TempDir(), nil)
	aws := newAWSCLI(t, s)
	zipPath := filepath.Join(t.TempDir(), "fn.zip")
	if err := os.WriteFile(zipPath, handlerZip(t), 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	for _, name := range []string{"cli-a", "cli-b"} {
		aws.json(&cfg, "create-function", "--function-name", name, "--runtime", "python3.12", "--role", role,
			"--handler", "handler.handler", "--zip-file", "fileb://"+zipPath, "--environment", "Variables={GREETING=hi}")
		if cfg["State"] != "Pending" || cfg["FunctionName"] != name {
			t.Fatalf("create-function output = %v", cfg)
		}
	}
	aws.json(nil, "wait", "function-active-v2", "--function-name", "cli-a")
	var got struct {
		Configuration map[string]any
		Code          map[string]any
	}
	aws.json(&got, "get-function", "--function-name", "arn:aws:lambda:us-east-1:000000000000:function:cli-a")
	if got.Configuration["State"] != "Active" || got.Code["RepositoryType"] != "S3" {
		t.Fatalf("get-function = %+v", got)
	}

	var page struct {
		Functions []map[string]any
		NextToken string
	}
	aws.json(&page, "list-functions", "--max-items", "1")
	if len(page.Functions) != 1 || page.Functions[0]["FunctionName"] != "cli-a" || page.NextToken == "" {
		t.Fatalf("list-functions page 1 = %+v", page)
	}
	aws.json(&page, "list-functions", "--max-items", "1", "--starting-token", page.NextToken)
	if len(page.Functions) != 1 || page.Functions[0]["FunctionName"] != "cli-b" {
		t.Fatalf("list-functions page 2 = %+v", page)
	}

	aws.json(&cfg, "update-function-configuration", "--function-name", "cli-a", "--timeout", "10", "--memory-size", "256")
	if cfg["LastUpdateStatus"] != "InProgress" {
		t.Fatalf("update-function-configuration = %v", cfg)
	}
	aws.json(nil, "wait", "function-updated-v2", "--function-name", "cli-a")
	aws.json(&cfg, "update-function-code", "--function-name", "cli-a", "--zip-file", "fileb://"+zipPath)
	aws.json(nil, "wait", "function-updated-v2", "--function-name", "cli-a")
	aws.json(&cfg, "get-function-configuration", "--function-name", "cli-a")
	if cfg["Timeout"] != float64(10) || cfg["MemorySize"] != float64(256) || cfg["LastUpdateStatus"] != "Successful" {
		t.Fatalf("get-function-configuration = %v", cfg)
	}
	var acc map[string]map[string]any
	aws.json(&acc, "get-account-settings")
	if acc["AccountUsage"]["FunctionCount"] != float64(2) {
		t.Fatalf("get-account-settings = %v", acc)
	}

	_, errOut, code := aws.run("create-function", "--function-name", "cli-bad", "--runtime", "cobol", "--role", role,
		"--handler", "h", "--zip-file", "fileb://"+zipPath)
	if code == 0 || !strings.Contains(errOut, "An error occurred (InvalidParameterValueException) when calling the CreateFunction operation: Value cobol at 'runtime' failed to satisfy constraint") {
		t.Fatalf("bad runtime: exit %d, stderr %s", code, errOut)
	}
	aws.json(nil, "delete-function", "--function-name", "cli-a")
	_, errOut, code = aws.run("get-function", "--function-name", "cli-a")
	if code == 0 || !strings.Contains(errOut, "An error occurred (ResourceNotFoundException) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:cli-a") {
		t.Fatalf("get deleted: exit %d, stderr %s", code, errOut)
	}
}
