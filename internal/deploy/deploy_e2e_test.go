package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/daemon"
	"github.com/lambdad/lambdad/internal/deploy"
	"github.com/lambdad/lambdad/internal/manifest"
	"github.com/lambdad/lambdad/sdk/client"
)

// startServer starts a real lambdad in-process (plain-process isolation,
// host interpreters) and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Isolation = "none"
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := daemon.Start(t.Context(), cfg, log)
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

// counter counts API calls by operation.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
	next  http.RoundTripper
}

var (
	reCode   = regexp.MustCompile(`^/2015-03-31/functions/[^/]+/code/?$`)
	reConfig = regexp.MustCompile(`^/2015-03-31/functions/[^/]+/configuration/?$`)
	reFunc   = regexp.MustCompile(`^/2015-03-31/functions/[^/]+/?$`)
)

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	op := r.Method + " " + r.URL.Path
	switch p := r.URL.Path; {
	case r.Method == "POST" && strings.TrimSuffix(p, "/") == "/2015-03-31/functions":
		op = "CreateFunction"
	case r.Method == "PUT" && reCode.MatchString(p):
		op = "UpdateFunctionCode"
	case r.Method == "PUT" && reConfig.MatchString(p):
		op = "UpdateFunctionConfiguration"
	case r.Method == "DELETE" && reFunc.MatchString(p):
		op = "DeleteFunction"
	}
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// take returns the counts so far and resets them.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.calls
	c.calls = map[string]int{}
	return m
}

// copyDir copies the service directory src to a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
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

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
}

// goBuilder builds offline from the module cache.
func goBuilder() *deploy.GoBuilder {
	return &deploy.GoBuilder{Env: append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")}
}

// planFor loads, packs and plans the service in dir.
func planFor(t *testing.T, c *client.Client, dir string) *deploy.Plan {
	t.Helper()
	return planForStage(t, c, dir, "")
}

// planForStage is planFor with --stage stage ("" for the file's).
func planForStage(t *testing.T, c *client.Client, dir, stage string) *deploy.Plan {
	t.Helper()
	opts := manifest.Options{Stage: stage, Getenv: func(string) string { return "" }}
	if stage != "" {
		opts.Options = map[string]string{"stage": stage}
	}
	spec, _, err := manifest.Load(filepath.Join(dir, "serverless.yml"), opts)
	if err != nil {
		t.Fatalf("load manifest: %v", err)
	}
	pkgs, err := deploy.Pack(t.Context(), spec, deploy.PackOptions{GoBuild: goBuilder()})
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	st, err := deploy.ReadState(t.Context(), c, spec)
	if err != nil {
		t.Fatalf("read state: %v", err)
	}
	p, err := deploy.NewPlan(spec, pkgs, st)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return p
}

func apply(t *testing.T, c *client.Client, p *deploy.Plan) string {
	t.Helper()
	var progress bytes.Buffer
	if err := deploy.Apply(t.Context(), c, p, &progress); err != nil {
		t.Fatalf("apply: %v\n%s", err, progress.String())
	}
	return progress.String()
}

func invoke(t *testing.T, c *client.Client, name, payload string) map[string]any {
	t.Helper()
	out, err := c.Invoke(t.Context(), client.InvokeInput{FunctionName: name, Payload: []byte(payload)})
	if err != nil {
		t.Fatalf("Invoke(%s): %v", name, err)
	}
	if out.FunctionError != "" {
		t.Fatalf("Invoke(%s): function error %s: %s", name, out.FunctionError, out.Payload)
	}
	var m map[string]any
	if err := json.Unmarshal(out.Payload, &m); err != nil {
		t.Fatalf("Invoke(%s) payload %s: %v", name, out.Payload, err)
	}
	return m
}

func changes(p *deploy.Plan) []deploy.Step {
	var out []deploy.Step
	for _, s := range p.Steps {
		if s.Op != deploy.OpSame {
			out = append(out, s)
		}
	}
	return out
}

// TestDeployLifecycle deploys a Go, a Python and a Node function to a real
// server, invokes them, changes one function's memory and another's code,
// checks the plan shows exactly those two changes, applies it, deploys
// again without a change or an upload, and removes the service.
func TestDeployLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function and runs python and node")
	}
	requireTools(t, "go", "python3", "node")
	cnt := &counter{calls: map[string]int{}, next: http.DefaultTransport}
	c := client.New(startServer(t), client.WithHTTPClient(&http.Client{Transport: cnt}))
	dir := copyDir(t, filepath.Join("testdata", "e2e"))

	// First deploy: three creates.
	p := planFor(t, c, dir)
	if len(p.Refusals) > 0 {
		t.Fatalf("plan refused: %v", p.Refusals)
	}
	if s := p.Summary; s.Create != 3 || s.Changes() != 3 {
		t.Fatalf("first plan summary = %+v, want 3 creates", s)
	}
	cnt.take()
	apply(t, c, p)
	if got := cnt.take(); got["CreateFunction"] != 3 || got["UpdateFunctionCode"] != 0 {
		t.Errorf("first apply calls = %v, want 3 CreateFunction", got)
	}
	if got := invoke(t, c, "e2esvc-dev-hello", `{"name":"Ada"}`); got["lang"] != "go" || got["hello"] != "Ada" || got["stage"] != "dev" {
		t.Errorf("hello = %v", got)
	}
	if got := invoke(t, c, "e2esvc-dev-greet", `{"name":"Bo"}`); got["greeting"] != "Hello, Bo" {
		t.Errorf("greet = %v", got)
	}
	if got := invoke(t, c, "e2esvc-dev-count", `{"text":"one two three"}`); got["count"] != 3.0 {
		t.Errorf("count = %v", got)
	}
	for _, name := range []string{"e2esvc-dev-hello", "e2esvc-dev-greet", "e2esvc-dev-count"} {
		f, err := c.GetFunction(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Tags[deploy.TagService] != "e2esvc" || f.Tags[deploy.TagStage] != "dev" {
			t.Errorf("%s tags = %v, want service and stage tags", name, f.Tags)
		}
		if f.Configuration.State != "Active" {
			t.Errorf("%s state = %s, want Active", name, f.Configuration.State)
		}
	}

	// Function-level settings.
	if rc, err := c.GetFunctionConcurrency(t.Context(), "e2esvc-dev-greet"); err != nil || rc == nil || *rc != 5 {
		t.Errorf("greet reserved concurrency = %v, %v; want 5", rc, err)
	}
	eic, err := c.GetFunctionEventInvokeConfig(t.Context(), "e2esvc-dev-count")
	if err != nil || eic == nil || eic.MaximumRetryAttempts == nil || *eic.MaximumRetryAttempts != 0 ||
		eic.DestinationConfig == nil || eic.DestinationConfig.OnFailure == nil || !strings.HasSuffix(eic.DestinationConfig.OnFailure.Destination, ":function:e2esvc-dev-greet") {
		t.Errorf("count event invoke config = %+v, %v", eic, err)
	}
	if f, err := c.GetFunction(t.Context(), "e2esvc-dev-hello"); err != nil || f.Tags["tier"] != "gold" {
		t.Errorf("hello tags = %v, %v", f.Tags, err)
	}

	// Change greet's memory and count's code.
	yml := filepath.Join(dir, "serverless.yml")
	b, _ := os.ReadFile(yml)
	b = bytes.Replace(b, []byte("    runtime: python3.12\n"), []byte("    runtime: python3.12\n    memorySize: 256\n"), 1)
	if err := os.WriteFile(yml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	js := "exports.handler = async (event) => ({ lang: \"node\", count: (event.text || \"\").split(/\\s+/).filter(Boolean).length, version: 2 });\n"
	if err := os.WriteFile(filepath.Join(dir, "count.js"), []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	p = planFor(t, c, dir)
	ch := changes(p)
	if len(ch) != 2 || p.Summary.Update != 2 || p.Summary.Same != 1 {
		t.Fatalf("plan after edits: %d changes, summary %+v, want 2 updates", len(ch), p.Summary)
	}
	for _, s := range ch {
		switch s.Key {
		case "greet":
			if len(s.Diffs) != 1 || s.Diffs[0] != (deploy.Diff{Path: "memorySize", Kind: deploy.DiffUpdate, Old: "128", New: "256"}) || s.Code.Status != deploy.CodeUnchanged {
				t.Errorf("greet step = %+v (code %+v), want only memorySize 128→256", s.Diffs, s.Code)
			}
		case "count":
			if len(s.Diffs) != 0 || s.Code.Status != deploy.CodeChanged {
				t.Errorf("count step = %+v (code %+v), want only a code change", s.Diffs, s.Code)
			}
		default:
			t.Errorf("unexpected change of %s: %+v", s.Key, s)
		}
	}
	var text bytes.Buffer
	deploy.RenderText(&text, p)
	for _, want := range []string{"~ memorySize: 128 → 256", "~ code: ", "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete, 1 unchanged"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("rendered plan lacks %q:\n%s", want, text.String())
		}
	}
	cnt.take()
	apply(t, c, p)
	if got := cnt.take(); got["UpdateFunctionCode"] != 1 || got["UpdateFunctionConfiguration"] != 1 || got["CreateFunction"] != 0 {
		t.Errorf("second apply calls = %v, want 1 UpdateFunctionCode and 1 UpdateFunctionConfiguration", got)
	}
	if got := invoke(t, c, "e2esvc-dev-count", `{"text":"a b"}`); got["version"] != 2.0 || got["count"] != 2.0 {
		t.Errorf("count after code update = %v", got)
	}
	if f, err := c.GetFunctionConfiguration(t.Context(), "e2esvc-dev-greet"); err != nil || f.MemorySize != 256 {
		t.Errorf("greet memory = %v (%v), want 256", f, err)
	}

	// The same files again: nothing to do, nothing uploaded.
	p = planFor(t, c, dir)
	if n := p.Summary.Changes(); n != 0 || p.Summary.UploadBytes != 0 {
		t.Fatalf("plan of an applied service: %d changes, %d bytes to upload: %+v", n, p.Summary.UploadBytes, changes(p))
	}
	cnt.take()
	apply(t, c, p)
	got := cnt.take()
	for _, op := range []string{"CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration", "DeleteFunction"} {
		if got[op] != 0 {
			t.Errorf("no-op apply made %d %s calls", got[op], op)
		}
	}

	// Remove.
	st, err := deploy.ReadServiceState(t.Context(), c, "e2esvc", "dev")
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := deploy.Remove(t.Context(), c, st, "e2esvc", "dev", &bytes.Buffer{})
	if err != nil || len(deleted) != 3 {
		t.Fatalf("Remove = %v, %v; want 3 functions", deleted, err)
	}
	all, err := c.ListFunctions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Errorf("functions after remove: %d", len(all))
	}
}
