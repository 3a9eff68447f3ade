package deploy_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/deploy"
	"github.com/lambdad/lambdad/sdk/client"
)

// TestDriftAndConcurrentChange checks that a plan is made against what the
// server runs (an out-of-band change shows as a diff back to the file; a
// function deleted by hand is created again), and that a change made
// between plan and apply fails the apply instead of being overwritten.
func TestDriftAndConcurrentChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server")
	}
	requireTools(t, "python3", "node")
	c := client.New(startServer(t))
	dir := copyDir(t, filepath.Join("testdata", "plan", "create"))
	apply(t, c, planFor(t, c, dir))

	// Out-of-band: memory changed, a function deleted.
	mem := 512
	if _, err := c.PatchFunctionConfiguration(t.Context(), "svc-dev-api", client.ConfigurationPatch{MemorySize: &mem}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitUpdated(t.Context(), "svc-dev-api"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteFunction(t.Context(), "svc-dev-worker"); err != nil {
		t.Fatal(err)
	}
	p := planFor(t, c, dir)
	ch := changes(p)
	if len(ch) != 2 || ch[0].Name != "svc-dev-api" || ch[0].Op != deploy.OpUpdate || len(ch[0].Diffs) != 1 ||
		ch[0].Diffs[0] != (deploy.Diff{Path: "memorySize", Kind: deploy.DiffUpdate, Old: "512", New: "256"}) ||
		ch[1].Name != "svc-dev-worker" || ch[1].Op != deploy.OpCreate {
		var b bytes.Buffer
		deploy.RenderText(&b, p)
		t.Fatalf("plan after drift:\n%s", b.String())
	}

	// Someone changes api after the plan: apply must not overwrite it.
	timeout := 9
	if _, err := c.PatchFunctionConfiguration(t.Context(), "svc-dev-api", client.ConfigurationPatch{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitUpdated(t.Context(), "svc-dev-api"); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	err := deploy.Apply(t.Context(), c, p, &progress)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Type != "PreconditionFailedException" {
		t.Fatalf("Apply after a concurrent change = %v, want PreconditionFailedException\n%s", err, progress.String())
	}
	f, err := c.GetFunctionConfiguration(t.Context(), "svc-dev-api")
	if err != nil || f.MemorySize != 512 || f.Timeout != 9 {
		t.Errorf("api after the refused apply: memory %d timeout %d (%v), want the concurrent change kept", f.MemorySize, f.Timeout, err)
	}
	if !strings.Contains(progress.String(), "✗ function svc-dev-api") {
		t.Errorf("progress does not show the failed step:\n%s", progress.String())
	}

	// Planning again converges.
	apply(t, c, planFor(t, c, dir))
	if p := planFor(t, c, dir); p.Summary.Changes() != 0 {
		t.Errorf("plan after converging: %+v", changes(p))
	}

	// A function with its own name is found by its tags once it leaves
	// the file.
	yml := filepath.Join(dir, "serverless.yml")
	orig, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	extra := "  custom:\n    name: my-own-name\n    handler: app.handler\n    package:\n      patterns: [app.py]\n"
	if err := os.WriteFile(yml, append(bytes.Clone(orig), extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	apply(t, c, planFor(t, c, dir))
	if _, err := c.GetFunction(t.Context(), "my-own-name"); err != nil {
		t.Fatalf("custom-named function: %v", err)
	}
	if err := os.WriteFile(yml, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	p = planFor(t, c, dir)
	if ch := changes(p); len(ch) != 1 || ch[0].Op != deploy.OpDelete || ch[0].Name != "my-own-name" {
		t.Fatalf("plan after removing the custom-named function: %+v", ch)
	}
	apply(t, c, p)
	if _, err := c.GetFunction(t.Context(), "my-own-name"); !client.IsNotFound(err) {
		t.Errorf("custom-named function after its delete: %v", err)
	}
}

// TestApplyRefusedPlan checks that a plan with refusals changes nothing.
func TestApplyRefusedPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server")
	}
	c := client.New(startServer(t))
	dir := copyDir(t, filepath.Join("testdata", "plan", "refused"))
	p := planFor(t, c, dir)
	if len(p.Refusals) == 0 {
		t.Fatal("plan of testdata/plan/refused has no refusals")
	}
	if err := deploy.Apply(t.Context(), c, p, &bytes.Buffer{}); !errors.Is(err, deploy.ErrRefused) {
		t.Fatalf("Apply = %v, want ErrRefused", err)
	}
	if fs, err := c.ListFunctions(t.Context()); err != nil || len(fs) != 0 {
		t.Errorf("functions after a refused apply: %d (%v)", len(fs), err)
	}
}

// TestProvisionedConcurrency checks provisionedConcurrency as the
// Serverless Framework does it: a "provisioned" alias on the latest
// published version carrying the provisioned concurrency, moved to each
// new version, and removed with the setting.
func TestProvisionedConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server")
	}
	requireTools(t, "python3")
	c := client.New(startServer(t))
	dir := copyDir(t, filepath.Join("testdata", "provisioned"))
	p := planFor(t, c, dir)
	if len(p.Refusals) > 0 {
		t.Fatalf("refused: %v", p.Refusals)
	}
	apply(t, c, p)
	check := func(version string, n int) {
		t.Helper()
		a, err := c.GetAlias(t.Context(), "prov-dev-api", deploy.ProvisionedAlias)
		if err != nil || a.FunctionVersion != version {
			t.Fatalf("alias = %+v, %v; want version %s", a, err, version)
		}
		pc, err := c.GetProvisionedConcurrencyConfig(t.Context(), "prov-dev-api", deploy.ProvisionedAlias)
		if err != nil || pc == nil || pc.RequestedProvisionedConcurrentExecutions != n {
			t.Fatalf("provisioned concurrency = %+v, %v; want %d", pc, err, n)
		}
	}
	check("1", 1)
	if p := planFor(t, c, dir); p.Summary.Changes() != 0 {
		t.Fatalf("replan after apply: %+v", changes(p))
	}

	yml := filepath.Join(dir, "serverless.yml")
	edit := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(yml)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(yml, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("memorySize: 128", "memorySize: 256")
	edit("provisionedConcurrency: 1", "provisionedConcurrency: 2")
	p = planFor(t, c, dir)
	ch := changes(p)
	want := []deploy.Diff{
		{Path: "aliases.provisioned", Kind: deploy.DiffUpdate, Old: "1", New: "<next-version>"},
		{Path: "memorySize", Kind: deploy.DiffUpdate, Old: "128", New: "256"},
		{Path: "provisionedConcurrency", Kind: deploy.DiffUpdate, Old: "1", New: "2"},
	}
	if len(ch) != 1 || !slices.Equal(ch[0].Diffs, want) || !ch[0].Publish {
		t.Fatalf("plan = %+v, want diffs %+v and a publish", ch, want)
	}
	apply(t, c, p)
	check("2", 2)

	edit("    provisionedConcurrency: 2\n", "")
	p = planFor(t, c, dir)
	if ch := changes(p); len(ch) != 1 || !changedPath(ch[0].Diffs, "provisionedConcurrency", deploy.DiffDelete) || !changedPath(ch[0].Diffs, "aliases.provisioned", deploy.DiffDelete) {
		t.Fatalf("plan without provisionedConcurrency = %+v", ch)
	}
	apply(t, c, p)
	if _, err := c.GetAlias(t.Context(), "prov-dev-api", deploy.ProvisionedAlias); !client.IsNotFound(err) {
		t.Errorf("alias after removing provisionedConcurrency: %v, want not found", err)
	}
	if p := planFor(t, c, dir); p.Summary.Changes() != 0 {
		t.Fatalf("replan after removal: %+v", changes(p))
	}
}

func changedPath(diffs []deploy.Diff, path, kind string) bool {
	for _, d := range diffs {
		if d.Path == path && d.Kind == kind {
			return true
		}
	}
	return false
}

// TestReplaceOnArchitectureChange checks that an architecture change
// replaces the function (deleted, then created with the new architecture).
func TestReplaceOnArchitectureChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real server")
	}
	requireTools(t, "python3")
	c := client.New(startServer(t))
	dir := copyDir(t, filepath.Join("testdata", "provisioned"))
	yml := filepath.Join(dir, "serverless.yml")
	b, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("    provisionedConcurrency: 1\n"), []byte("    architecture: arm64\n"), 1)
	if err := os.WriteFile(yml, b, 0o644); err != nil {
		t.Fatal(err)
	}
	apply(t, c, planFor(t, c, dir))
	if err := os.WriteFile(yml, bytes.Replace(b, []byte("arm64"), []byte("x86_64"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	p := planFor(t, c, dir)
	ch := changes(p)
	if len(ch) != 1 || ch[0].Op != deploy.OpReplace || !slices.Equal(ch[0].ReplaceReasons, []string{"architecture arm64→x86_64"}) {
		t.Fatalf("plan after an architecture change: %+v", ch)
	}
	apply(t, c, p)
	f, err := c.GetFunctionConfiguration(t.Context(), "prov-dev-api")
	if err != nil || !slices.Equal(f.Architectures, []string{"x86_64"}) {
		t.Fatalf("architectures after replace = %v, %v", f.Architectures, err)
	}
	if got := invoke(t, c, "prov-dev-api", "{}"); got["ok"] != true {
		t.Errorf("invoke after replace = %v", got)
	}
	if p := planFor(t, c, dir); p.Summary.Changes() != 0 {
		t.Errorf("replan after replace: %+v", changes(p))
	}
}
