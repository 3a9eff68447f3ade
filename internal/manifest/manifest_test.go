package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// caseHeader is the optional first line of a golden case:
//
//	# test: {"stage": "prod", "env": {"X": "1"}, "options": {"foo": "bar"}}
type caseHeader struct {
	Stage         string            `json:"stage"`
	Region        string            `json:"region"`
	Options       map[string]string `json:"options"`
	Env           map[string]string `json:"env"`
	IgnoreAWSOnly []string          `json:"ignoreAwsOnly"`
}

func caseOptions(t *testing.T, src []byte) Options {
	t.Helper()
	var h caseHeader
	first, _, _ := strings.Cut(string(src), "\n")
	if j, ok := strings.CutPrefix(first, "# test:"); ok {
		if err := json.Unmarshal([]byte(j), &h); err != nil {
			t.Fatalf("bad test header %q: %v", first, err)
		}
	}
	return Options{
		Stage: h.Stage, Region: h.Region, Options: h.Options, IgnoreAWSOnly: h.IgnoreAWSOnly,
		Getenv:     func(k string) string { return h.Env[k] },
		InstanceID: "test-instance-id",
	}
}

// render is the golden form of a Load result: the spec as JSON, or the
// error text, followed by the warnings.
func render(spec *Spec, warns []Warning, err error) string {
	var b bytes.Buffer
	if err != nil {
		b.WriteString("error:\n")
		for _, line := range strings.Split(err.Error(), "\n") {
			b.WriteString("  " + line + "\n")
		}
	} else {
		j, jerr := json.MarshalIndent(spec, "", "  ")
		if jerr != nil {
			return "marshal: " + jerr.Error()
		}
		b.WriteString("spec:\n")
		b.Write(j)
		b.WriteString("\n")
	}
	if len(warns) > 0 {
		b.WriteString("warnings:\n")
		for _, w := range warns {
			b.WriteString("  " + w.String() + "\n")
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := render(Load(file, caseOptions(t, src)))
			golden := strings.TrimSuffix(file, ".yml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/manifest -update)", err)
			}
			if got != string(want) {
				t.Errorf("Load(%s) differs from %s:\n%s", file, golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff shows the first differing lines of want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s\n--- full output ---\n%s", i+1, wl, gl, got)
		}
	}
	return "(equal lines, different bytes)"
}

// TestProblemsAreJoined checks that every finding comes back as a *Problem
// with a position, not as one flattened string.
func TestProblemsAreJoined(t *testing.T) {
	src := []byte("service: svc\nprovider:\n  name: aws\n  runtime: provided.al2023\n  memorySiz: 256\nfunctions:\n  a:\n    handler: x\n    timout: 3\n")
	_, _, err := Parse("serverless.yml", src, Options{})
	if err == nil {
		t.Fatal("Parse succeeded, want two unknown-key problems")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not join problems", err)
	}
	var lines []int
	for _, e := range joined.Unwrap() {
		var p *Problem
		if !errors.As(e, &p) {
			t.Fatalf("finding %v is not a *Problem", e)
		}
		if p.Code != CodeUnknownKey {
			t.Errorf("finding %v has code %s, want %s", p, p.Code, CodeUnknownKey)
		}
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[5 9]" {
		t.Errorf("problem lines = %v, want [5 9]", lines)
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"memorySize", "timeout", "handler", "environment"}
	for _, tc := range []struct{ in, want string }{
		{"memorySiz", "memorySize"},
		{"memorysize", "memorySize"},
		{"timout", "timeout"},
		{"enviroment", "environment"},
		{"zzzzzz", ""},
	} {
		if got := suggest(tc.in, cands); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAliasBomb checks that a "billion laughs" document is refused instead
// of expanded.
func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		src += name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	_, _, err := Parse("bomb.yml", []byte(src), Options{})
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than") {
		t.Fatalf("Parse(alias bomb) = %v, want an expansion limit error", err)
	}
}

func TestResolve(t *testing.T) {
	got, err := Resolve("testdata/vars_self.yml", Options{Stage: "prod"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	custom, _ := got["custom"].(map[string]any)
	if custom["table"] != "selfref-prod-table" {
		t.Errorf("custom.table = %v, want selfref-prod-table", custom["table"])
	}
	if mem := got["provider"].(map[string]any)["memorySize"]; mem != int64(512) {
		t.Errorf("provider.memorySize = %#v, want int64(512)", mem)
	}
	if _, err := Resolve("testdata/vars_cycle.yml", Options{}); err == nil || !strings.Contains(err.Error(), "variable cycle") {
		t.Errorf("Resolve(cycle) = %v, want a cycle error", err)
	}
}
