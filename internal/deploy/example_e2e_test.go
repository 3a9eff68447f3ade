package deploy_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/deploy"
	"github.com/lambdad/lambdad/sdk/client"
)

// TestDeployExample deploys examples/ (written for AWS: a Go, a Python and
// a Node function, and a Python layer) unchanged, invokes each function
// (the Python one imports its helper from the layer at /opt/python),
// changes the layer, checks that the plan publishes a new layer version and
// points the function at it, applies, redeploys without a change, deploys
// a second stage sharing the layer version, and removes one stage, then the
// other, with the layer versions no function uses.
func TestDeployExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function and runs python and node")
	}
	requireTools(t, "go", "python3", "node")
	cnt := &counter{calls: map[string]int{}, next: http.DefaultTransport}
	c := client.New(startServer(t), client.WithHTTPClient(&http.Client{Transport: cnt}))
	dir := copyDir(t, filepath.Join("..", "..", "examples"))

	p := planFor(t, c, dir)
	if len(p.Refusals) > 0 {
		t.Fatalf("plan of examples/ refused: %v", p.Refusals)
	}
	if s := p.Summary; s.Create != 4 || s.Changes() != 4 {
		t.Fatalf("first plan = %+v, want 4 creates (a layer and 3 functions)", s)
	}
	apply(t, c, p)
	if got := invoke(t, c, "example-dev-hello", `{"name":"Ada"}`); got["message"] != "Hello, Ada!" || got["stage"] != "dev" {
		t.Errorf("hello = %v", got)
	}
	if got := invoke(t, c, "example-dev-greet", `{"name":"Bo"}`); got["message"] != "Hello, Bo!" || got["function"] != "example-dev-greet" {
		t.Errorf("greet = %v", got)
	}
	if got := invoke(t, c, "example-dev-count", `{"text":"to be or not"}`); got["count"] != 4.0 || got["unit"] != "words" {
		t.Errorf("count = %v", got)
	}

	// A new layer version: published, and greet moves to it.
	helper := filepath.Join(dir, "layers", "common", "python", "greeting.py")
	if err := os.WriteFile(helper, []byte("def greet(greeting, name):\n    return f\"{greeting}, {name}!!\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = planFor(t, c, dir)
	var text bytes.Buffer
	deploy.RenderText(&text, p)
	ch := changes(p)
	if len(ch) != 2 || ch[0].Kind != deploy.KindLayer || ch[1].Key != "greet" || len(ch[1].Diffs) != 1 || ch[1].Diffs[0].Path != "layers[0]" {
		t.Fatalf("plan after a layer change:\n%s", text.String())
	}
	if !strings.Contains(text.String(), "<common:next-version>") {
		t.Errorf("plan does not show the pending layer version:\n%s", text.String())
	}
	apply(t, c, p)
	if got := invoke(t, c, "example-dev-greet", `{"name":"Bo"}`); got["message"] != "Hello, Bo!!" {
		t.Errorf("greet with the new layer = %v", got)
	}
	f, err := c.GetFunctionConfiguration(t.Context(), "example-dev-greet")
	if err != nil || len(f.Layers) != 1 || !strings.HasSuffix(f.Layers[0].Arn, ":layer:common:2") {
		t.Errorf("greet layers = %+v (%v), want common version 2", f, err)
	}

	p = planFor(t, c, dir)
	if p.Summary.Changes() != 0 || p.Summary.UploadBytes != 0 {
		t.Fatalf("redeploy plans %d changes: %+v", p.Summary.Changes(), changes(p))
	}
	cnt.take()
	apply(t, c, p)
	if got := cnt.take(); got["CreateFunction"]+got["UpdateFunctionCode"]+got["UpdateFunctionConfiguration"] != 0 || got["POST /2018-10-31/layers/common/versions"] != 0 {
		t.Errorf("no-op redeploy calls: %v", got)
	}

	// A second stage: its own functions (greeting from params.prod), the
	// same layer version (same content).
	p = planForStage(t, c, dir, "prod")
	if s := p.Summary; s.Create != 3 || s.Same != 1 || s.Changes() != 3 {
		t.Fatalf("prod plan = %+v, want 3 function creates and the layer unchanged", s)
	}
	apply(t, c, p)
	if got := invoke(t, c, "example-prod-greet", `{"name":"Cy"}`); got["message"] != "Good day, Cy!!" {
		t.Errorf("prod greet = %v", got)
	}

	// Removing dev leaves prod and the layer version prod uses.
	remove := func(stage string) {
		t.Helper()
		st, err := deploy.ReadServiceState(t.Context(), c, "example", stage)
		if err != nil {
			t.Fatal(err)
		}
		if deleted, err := deploy.Remove(t.Context(), c, st, "example", stage, &bytes.Buffer{}); err != nil || len(deleted) != 3 {
			t.Fatalf("Remove(%s) = %v, %v", stage, deleted, err)
		}
	}
	remove("dev")
	if n, err := deploy.RemoveLayers(t.Context(), c, []string{"common"}, &bytes.Buffer{}); err != nil || n != 1 {
		t.Errorf("RemoveLayers after removing dev = %d, %v; want version 1 deleted, version 2 (used by prod) kept", n, err)
	}
	if got := invoke(t, c, "example-prod-greet", `{"name":"Cy"}`); got["message"] != "Good day, Cy!!" {
		t.Errorf("prod greet after removing dev = %v", got)
	}
	remove("prod")
	if n, err := deploy.RemoveLayers(t.Context(), c, []string{"common"}, &bytes.Buffer{}); err != nil || n != 1 {
		t.Errorf("RemoveLayers after removing prod = %d, %v; want version 2 deleted", n, err)
	}
	if vs, err := c.ListLayerVersions(t.Context(), "common"); err != nil || len(vs) != 0 {
		t.Errorf("layer versions after remove = %v, %v", vs, err)
	}
	if fs, err := c.ListFunctions(t.Context()); err != nil || len(fs) != 0 {
		t.Errorf("functions after removing both stages: %d, %v", len(fs), err)
	}
}
