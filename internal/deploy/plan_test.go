package deploy_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/deploy"
	"github.com/lambdad/lambdad/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestPlanGolden")

// TestPlanGolden plans each service of testdata/plan/<case>/serverless.yml
// against the live state in live.json and compares the rendered plan (text
// and JSON) with testdata/plan/<case>.golden. In live.json a CodeSha256 of
// "@key" stands for the hash of function key's local package (deployed code
// equal to the local one), and "@layer:key" for layer key's.
func TestPlanGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "plan", "*", "serverless.yml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, yml := range dirs {
		dir := filepath.Dir(yml)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec, _, err := manifest.Load(yml, manifest.Options{Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			pkgs, err := deploy.Pack(t.Context(), spec, deploy.PackOptions{})
			if err != nil {
				t.Fatalf("pack: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "live.json"))
			if err != nil {
				t.Fatal(err)
			}
			var st deploy.State
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatalf("live.json: %v", err)
			}
			for i := range st.Layers {
				c := st.Layers[i].Latest.Content
				if key, ok := strings.CutPrefix(c.CodeSha256, "@layer:"); ok {
					a := pkgs.Layers[key]
					if a == nil {
						t.Fatalf("live.json: no package for %s", c.CodeSha256)
					}
					c.CodeSha256 = a.CodeSHA256
				}
			}
			for i := range st.Functions {
				c := &st.Functions[i].Configuration
				if key, ok := strings.CutPrefix(c.CodeSha256, "@"); ok {
					a := pkgs.Functions[key]
					if a == nil {
						t.Fatalf("live.json: no package for %s", c.CodeSha256)
					}
					c.CodeSha256 = a.CodeSHA256
				}
			}
			p, err := deploy.NewPlan(spec, pkgs, &st)
			if err != nil {
				t.Fatalf("NewPlan: %v", err)
			}
			var got bytes.Buffer
			got.WriteString("== text ==\n")
			if err := deploy.RenderText(&got, p); err != nil {
				t.Fatal(err)
			}
			got.WriteString("== json ==\n")
			if err := deploy.RenderJSON(&got, p); err != nil {
				t.Fatal(err)
			}
			golden := dir + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("plan of %s differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", yml, golden, got.Bytes(), want)
			}
		})
	}
}
