package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/cli"
)

// lambdadCLI runs the lambdad command line in-process against s.
func (s *server) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "LAMBDAD_ENDPOINT" {
			return s.d.URL()
		}
		return ""
	}
	code := cli.Run(context.Background(), args, cli.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb}, getenv)
	return out.String(), errb.String(), code
}

func TestCLI(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	dir := t.TempDir()
	src := "def handler(event, context):\n    print('hello from python')\n    return {'area': event['length'] * event['width']}\n"
	if err := os.WriteFile(filepath.Join(dir, "area.py"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := s.cli(t, "create", "area", "--runtime", "python3.12", "--handler", "area.handler", "--code", dir, "--memory", "256", "--env", "STAGE=dev")
	if code != 0 || !strings.Contains(out, `"State": "Active"`) || !strings.Contains(out, `"MemorySize": 256`) {
		t.Fatalf("create: code %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = s.cli(t, "functions")
	if code != 0 || !strings.Contains(out, "area") || !strings.Contains(out, "python3.12") {
		t.Fatalf("functions: %d\n%s%s", code, out, errs)
	}
	out, errs, code = s.cli(t, "invoke", "area", `{"length":6,"width":7}`, "--log")
	if code != 0 || strings.TrimSpace(out) != `{"area": 42}` || !strings.Contains(errs, "hello from python") || !strings.Contains(errs, "REPORT RequestId:") {
		t.Fatalf("invoke: %d\nout=%s\nerr=%s", code, out, errs)
	}
	out, errs, code = s.cli(t, "logs", "area")
	if code != 0 || !strings.Contains(out, "hello from python") || !strings.Contains(out, "START RequestId:") {
		t.Fatalf("logs: %d\n%s%s", code, out, errs)
	}
	out, errs, code = s.cli(t, "invoke", "area", `{"length":6}`)
	if code != 1 || !strings.Contains(out, `"errorType": "KeyError"`) {
		t.Fatalf("failing invoke: %d\n%s%s", code, out, errs)
	}
	if _, errs, code = s.cli(t, "create", "bad name", "--runtime", "python3.12", "--handler", "area.handler", "--code", dir); code != 1 || !strings.Contains(errs, "ValidationException") {
		t.Fatalf("invalid create: %d %s", code, errs)
	}
	// Versions, aliases with routing, qualifiers, layers.
	if out, errs, code = s.cli(t, "publish", "area"); code != 0 || !strings.Contains(out, "published area version 1") {
		t.Fatalf("publish: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "alias", "area", "live", "1"); code != 0 || !strings.Contains(out, `"FunctionVersion": "1"`) {
		t.Fatalf("alias: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "invoke", "area", `{"length":2,"width":3}`, "--qualifier", "live"); code != 0 || strings.TrimSpace(out) != `{"area": 6}` {
		t.Fatalf("invoke alias: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "alias", "area", "live", "1", "--weight", "2=0.5"); code != 1 || !strings.Contains(errs, "InvalidParameterValueException") && !strings.Contains(errs, "ResourceNotFoundException") {
		t.Fatalf("alias with a weight on a missing version: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "alias", "area"); code != 0 || !strings.Contains(out, "live") {
		t.Fatalf("alias list: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "layers"); code != 0 || !strings.Contains(out, "LAYER") {
		t.Fatalf("layers: %d %s%s", code, out, errs)
	}
	if out, errs, code = s.cli(t, "delete", "area"); code != 0 {
		t.Fatalf("delete: %d %s%s", code, out, errs)
	}
	if _, errs, code = s.cli(t, "get", "area"); code != 1 || !strings.Contains(errs, "ResourceNotFoundException") {
		t.Fatalf("get after delete: %d %s", code, errs)
	}
}

// In a service directory, invoke -f KEY and logs [KEY] resolve the service
// file's function keys; logs without a name covers the whole service.
func TestCLIServiceNames(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "serverless.yml"), []byte("service: svc\nprovider:\n  name: aws\n  runtime: python3.12\nfunctions:\n  one:\n    handler: h.one\n  two:\n    handler: h.two\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "h.py"), []byte("def one(e, c):\n    print('in one')\n    return 1\ndef two(e, c):\n    print('in two')\n    return 2\n"), 0o644)
	cwd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(cwd) })
	if out, errs, code := s.cli(t, "deploy", "--yes"); code != 0 {
		t.Fatalf("deploy: %d %s %s", code, out, errs)
	}
	for key, want := range map[string]string{"one": "1", "two": "2"} {
		if out, errs, code := s.cli(t, "invoke", "-f", key); code != 0 || strings.TrimSpace(out) != want {
			t.Fatalf("invoke -f %s: %d %q %s", key, code, out, errs)
		}
	}
	out, errs, code := s.cli(t, "logs")
	if code != 0 || !strings.Contains(out, "svc-dev-one in one") || !strings.Contains(out, "svc-dev-two in two") {
		t.Fatalf("logs of the service: %d\n%s%s", code, out, errs)
	}
	out, _, _ = s.cli(t, "logs", "two")
	if !strings.Contains(out, "in two") || strings.Contains(out, "in one") {
		t.Fatalf("logs two:\n%s", out)
	}
}
