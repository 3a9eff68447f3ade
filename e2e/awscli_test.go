package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsCLIv2 finds an AWS CLI v2 binary (Debian's awscli package installs it
// as /usr/bin/aws; a pyenv shim may shadow it with v1 on PATH).
func awsCLIv2(t *testing.T) string {
	t.Helper()
	for _, cand := range []string{"/usr/bin/aws", "/usr/local/bin/aws", "aws"} {
		bin, err := exec.LookPath(cand)
		if err != nil {
			continue
		}
		out, _ := exec.Command(bin, "--version").CombinedOutput()
		if strings.HasPrefix(string(out), "aws-cli/2") {
			return bin
		}
	}
	t.Skip("AWS CLI v2 not installed (Debian package awscli; .ci/run installs it)")
	return ""
}

func TestAWSCLIInvoke(t *testing.T) {
	bin := awsCLIv2(t)
	s := startServer(t, t.TempDir(), nil)
	home := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "c"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "k"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"--endpoint-url", s.d.URL(), "--output", "json", "lambda"}, args...)...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fn.zip")
	os.WriteFile(zipPath, goZip, 0o644)
	if out, errs, code := run("create-function", "--function-name", "cli-go", "--runtime", "provided.al2023", "--handler", "bootstrap",
		"--role", role, "--zip-file", "fileb://"+zipPath); code != 0 || !strings.Contains(out, `"State": "Pending"`) {
		t.Fatalf("create-function: %d %s %s", code, out, errs)
	}
	if _, errs, code := run("wait", "function-active-v2", "--function-name", "cli-go"); code != 0 {
		t.Fatalf("wait function-active-v2: %d %s", code, errs)
	}
	outFile := filepath.Join(dir, "out.json")
	out, errs, code := run("invoke", "--function-name", "cli-go", "--payload", `{"from":"cli"}`, "--cli-binary-format", "raw-in-base64-out", "--log-type", "Tail", outFile)
	if code != 0 {
		t.Fatalf("invoke: %d %s", code, errs)
	}
	var meta struct {
		StatusCode      int
		LogResult       string
		ExecutedVersion string
		FunctionError   string
	}
	if err := json.Unmarshal([]byte(out), &meta); err != nil {
		t.Fatalf("invoke output %q: %v", out, err)
	}
	body, _ := os.ReadFile(outFile)
	tail, _ := base64.StdEncoding.DecodeString(meta.LogResult)
	if meta.StatusCode != 200 || meta.ExecutedVersion != "$LATEST" || string(body) != `{"from":"cli"}` || !reReport.Match(tail) {
		t.Errorf("invoke = %+v body %s tail:\n%s", meta, body, tail)
	}
	// A function error: exit 0 from the CLI, FunctionError in the output.
	out, _, code = run("invoke", "--function-name", "cli-go", "--payload", `{"action":"error","msg":"nope"}`, "--cli-binary-format", "raw-in-base64-out", outFile)
	body, _ = os.ReadFile(outFile)
	if code != 0 || !strings.Contains(out, `"FunctionError": "Unhandled"`) || string(body) != `{"errorMessage":"nope","errorType":"errorString"}` {
		t.Errorf("error invoke: %d %s %s", code, out, body)
	}
	// Not found: the CLI shows AWS's error.
	_, errs, code = run("invoke", "--function-name", "missing", outFile)
	if code == 0 || !strings.Contains(errs, "ResourceNotFoundException") || !strings.Contains(errs, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing") {
		t.Errorf("missing function: %d %s", code, errs)
	}
}
