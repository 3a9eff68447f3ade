package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/cli"
	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/daemon"
	"github.com/lambdad/lambdad/sdk/client"
)

// startDeployServer starts a real lambdad in-process and returns its URL.
func startDeployServer(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Isolation = "none"
	d, err := daemon.Start(t.Context(), cfg, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatalf("start lambdad: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 30*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stop lambdad: %v", err)
		}
	})
	return d.URL()
}

// copyService copies a test service directory of internal/deploy.
func copyService(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "deploy", "testdata", "plan", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if rel == "live.json" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type result struct {
	code     int
	out, err string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(t.Context(), args, cli.Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb}, func(string) string { return "" })
	return result{code, out.String(), errb.String()}
}

func countFunctions(t *testing.T, c *client.Client) int {
	t.Helper()
	fs, err := c.ListFunctions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(fs)
}

// TestDeployCommands drives deploy, info and remove as a user would: plan
// only, a refused confirmation without a terminal, --yes, a no-op
// redeploy, JSON plan and info, remove, and a refused plan.
func TestDeployCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python and node functions")
	}
	for _, tool := range []string{"python3", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	url := startDeployServer(t)
	c := client.New(url)
	dir := copyService(t, "create")
	yml := filepath.Join(dir, "serverless.yml")
	base := []string{"-c", yml, "--endpoint", url}
	cmd := func(name string, extra ...string) []string { return append(append([]string{name}, base...), extra...) }

	r := run(t, "", cmd("deploy", "--plan")...)
	if r.code != 0 || !strings.Contains(r.out, "Plan: 2 to create, 0 to update") || !strings.Contains(r.out, "+   function   svc-dev-api") {
		t.Fatalf("deploy --plan = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	if n := countFunctions(t, c); n != 0 {
		t.Fatalf("deploy --plan created %d functions", n)
	}

	r = run(t, "y\n", cmd("deploy")...)
	if r.code != 1 || !strings.Contains(r.err, "stdin is not a terminal") || !strings.Contains(r.err, "--yes") {
		t.Fatalf("deploy without a terminal = %d\nstderr:\n%s", r.code, r.err)
	}
	if n := countFunctions(t, c); n != 0 {
		t.Fatalf("unconfirmed deploy created %d functions", n)
	}

	r = run(t, "", cmd("deploy", "--plan", "--expect-no-changes")...)
	if r.code != 1 || !strings.Contains(r.err, "the plan has 2 change(s) and --expect-no-changes is set") {
		t.Fatalf("deploy --plan --expect-no-changes before any deploy = %d\nstderr:\n%s", r.code, r.err)
	}

	// /dev/null is a character device but answers nothing.
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var out0, err0 bytes.Buffer
	if code := cli.Run(t.Context(), cmd("deploy"), cli.Stdio{In: devnull, Out: &out0, Err: &err0}, func(string) string { return "" }); code != 1 || !strings.Contains(err0.String(), "no answer on stdin") {
		t.Fatalf("deploy with stdin %s = %d\nstderr:\n%s", os.DevNull, code, err0.String())
	}
	if n := countFunctions(t, c); n != 0 {
		t.Fatalf("unanswered deploy created %d functions", n)
	}

	r = run(t, "", cmd("deploy", "--yes")...)
	if r.code != 0 {
		t.Fatalf("deploy --yes = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"✓ function svc-dev-api created", "✓ function svc-dev-worker created", "✔ Service svc deployed to stage dev", "svc-dev-worker  Active"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("deploy --yes output lacks %q:\n%s", want, r.out)
		}
	}
	out, err := c.Invoke(t.Context(), client.InvokeInput{FunctionName: "svc-dev-api", Payload: []byte(`{"k":"v"}`)})
	if err != nil || string(out.Payload) != `{"k": "v"}` && string(out.Payload) != `{"k":"v"}` {
		t.Errorf("Invoke(svc-dev-api) = %s, %v", out.Payload, err)
	}

	r = run(t, "", cmd("deploy")...)
	if r.code != 0 || !strings.Contains(r.out, "No changes to deploy") {
		t.Errorf("second deploy = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}

	r = run(t, "", cmd("deploy", "--plan", "--expect-no-changes")...)
	if r.code != 0 {
		t.Errorf("deploy --plan --expect-no-changes after deploy = %d\nstderr:\n%s", r.code, r.err)
	}

	// deploy -f: one function only.
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("def handler(event, context):\n    return {'v': 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yml, bytes.Replace(b, []byte("timeout: 30"), []byte("timeout: 20"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", cmd("deploy", "-f", "api", "--yes")...)
	if r.code != 0 || !strings.Contains(r.out, "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 unchanged") || strings.Contains(r.out, "svc-dev-worker   update") {
		t.Fatalf("deploy -f api = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	if out, err := c.Invoke(t.Context(), client.InvokeInput{FunctionName: "svc-dev-api"}); err != nil || !strings.Contains(string(out.Payload), `"v": 2`) {
		t.Errorf("api after deploy -f = %s, %v", out.Payload, err)
	}
	if f, err := c.GetFunctionConfiguration(t.Context(), "svc-dev-worker"); err != nil || f.Timeout != 30 {
		t.Errorf("worker timeout after deploy -f api = %d, %v; want 30 (untouched)", f.Timeout, err)
	}
	if r = run(t, "", cmd("deploy", "-f", "nope", "--plan")...); r.code != 1 || !strings.Contains(r.err, `no function "nope"`) {
		t.Errorf("deploy -f nope = %d\nstderr:\n%s", r.code, r.err)
	}
	r = run(t, "", cmd("deploy", "--yes")...)
	if r.code != 0 || !strings.Contains(r.out, "1 to update") || !strings.Contains(r.out, "~ timeout: 30 → 20") {
		t.Fatalf("deploy after deploy -f = %d\nstdout:\n%s", r.code, r.out)
	}

	r = run(t, "", cmd("deploy", "--plan", "--json")...)
	var plan struct {
		SchemaVersion int `json:"schemaVersion"`
		Summary       struct {
			Same int `json:"same"`
		} `json:"summary"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.out), &plan) != nil || plan.SchemaVersion != 1 || plan.Summary.Same != 2 {
		t.Errorf("deploy --plan --json = %d, %+v\nstdout:\n%s", r.code, plan, r.out)
	}

	r = run(t, "", cmd("info")...)
	if r.code != 0 || !strings.Contains(r.out, "service: svc") || !strings.Contains(r.out, "svc-dev-api") || !strings.Contains(r.out, "256 MB") {
		t.Errorf("info = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	r = run(t, "", "info", "--service", "svc", "--json", "--endpoint", url)
	var info struct {
		Functions []struct {
			Name    string `json:"name"`
			State   string `json:"state"`
			Version string `json:"version"`
		} `json:"functions"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.out), &info) != nil || len(info.Functions) != 2 || info.Functions[0].State != "Active" || info.Functions[0].Version != "2" {
		t.Errorf("info --json = %d, %+v\nstdout:\n%s", r.code, info, r.out)
	}

	r = run(t, "", cmd("remove")...)
	if r.code != 0 || !strings.Contains(r.out, "removed (2 functions, 0 layer versions)") {
		t.Errorf("remove = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	if n := countFunctions(t, c); n != 0 {
		t.Errorf("%d functions left after remove", n)
	}
	r = run(t, "", cmd("remove")...)
	if r.code != 0 || !strings.Contains(r.out, "Nothing to remove") {
		t.Errorf("second remove = %d\nstdout:\n%s", r.code, r.out)
	}

	refused := filepath.Join(copyService(t, "refused"), "serverless.yml")
	r = run(t, "", "deploy", "--yes", "-c", refused, "--endpoint", url)
	if r.code != 1 || !strings.Contains(r.err, "cannot deploy svc") || !strings.Contains(r.out, "Cannot deploy (nothing will be changed)") {
		t.Errorf("refused deploy = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
	if n := countFunctions(t, c); n != 0 {
		t.Errorf("refused deploy created %d functions", n)
	}
}
