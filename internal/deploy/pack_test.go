package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/manifest"
)

// writeTree creates files (path → content; a path ending in "*" is made
// executable, without the star) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type zipFile struct {
	mode     fs.FileMode
	modified time.Time
	body     string
}

func readZip(t *testing.T, b []byte) (names []string, files map[string]zipFile) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read zip: %v", err)
	}
	files = map[string]zipFile{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = zipFile{mode: f.Mode(), modified: f.Modified.UTC(), body: string(body)}
	}
	return names, files
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		noMatch []string
	}{
		{"*.js", []string{"a.js", ".hidden.js"}, []string{"dir/a.js", "a.jsx"}},
		{"**/*.js", []string{"a.js", "dir/a.js", "d/e/f.js"}, []string{"a.ts"}},
		{"src/**", []string{"src", "src/a", "src/b/c"}, []string{"srcx/a", "other/src/a"}},
		{"a/**/b", []string{"a/b", "a/x/b", "a/x/y/b"}, []string{"a/xb"}},
		{"file?.txt", []string{"file1.txt"}, []string{"file10.txt", "file/.txt"}},
		{"[ab].go", []string{"a.go", "b.go"}, []string{"c.go"}},
		{"[!ab].go", []string{"c.go"}, []string{"a.go"}},
		{"*.{js,json}", []string{"a.js", "a.json"}, []string{"a.ts"}},
		{"{src,lib/{x,y}}/*.py", []string{"src/a.py", "lib/x/a.py", "lib/y/b.py"}, []string{"lib/z/a.py"}},
		{`weird\*name`, []string{"weird*name"}, []string{"weirdXname"}},
		{"a.b", []string{"a.b"}, []string{"aXb"}},
	} {
		m, err := compileGlob(tc.pattern)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tc.pattern, err)
		}
		for _, s := range tc.match {
			if !m(s) {
				t.Errorf("glob %q does not match %q, want a match", tc.pattern, s)
			}
		}
		for _, s := range tc.noMatch {
			if m(s) {
				t.Errorf("glob %q matches %q, want no match", tc.pattern, s)
			}
		}
	}
	for _, bad := range []string{"[abc", "{a,b", `trailing\`} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("compileGlob(%q) succeeded, want an error", bad)
		}
	}
}

func TestZipDirPatternsInOrder(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"handler.js":                  "h",
		"lib/util.js":                 "u",
		"node_modules/dep/index.js":   "d",
		"node_modules/keep/index.js":  "k",
		"tests/a_test.js":             "t",
		"README.md":                   "r",
		".git/HEAD":                   "ref",
		".serverless/old.zip":         "z",
		"docs/guide.md":               "g",
		"docs/important/keep.md":      "i",
		"node_modules/keep/README.md": "kr",
	})
	a, err := ZipDir(root, append(slices.Clone(defaultExcludes),
		"!node_modules/**",
		"node_modules/keep/**",
		"!tests",
		"!**/*.md",
		"docs/important/**",
	))
	if err != nil {
		t.Fatalf("ZipDir: %v", err)
	}
	want := []string{"docs/important/keep.md", "handler.js", "lib/util.js", "node_modules/keep/index.js"}
	names, _ := readZip(t, a.Zip)
	if !slices.Equal(names, want) || !slices.Equal(a.Files, want) {
		t.Errorf("ZipDir entries = %v (Files %v), want %v", names, a.Files, want)
	}
}

func TestZipDirIsDeterministic(t *testing.T) {
	t.Parallel()
	files := map[string]string{"b.txt": "bee", "a/c.txt": "sea", "run.sh*": "#!/bin/sh\necho hi\n"}
	root1 := writeTree(t, files)
	root2 := writeTree(t, files)
	// Different modification times and creation order must not matter.
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(root2, "b.txt"), old, old); err != nil {
		t.Fatal(err)
	}
	a1, err := ZipDir(root1, nil)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := ZipDir(root2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a1.Zip, a2.Zip) || a1.CodeSHA256 != a2.CodeSHA256 {
		t.Fatalf("same files gave different zips: %s vs %s", a1.CodeSHA256, a2.CodeSHA256)
	}
	names, got := readZip(t, a1.Zip)
	if want := []string{"a/c.txt", "b.txt", "run.sh"}; !slices.Equal(names, want) {
		t.Errorf("entries = %v, want sorted %v", names, want)
	}
	for name, f := range got {
		if !f.modified.Equal(zipEpoch) {
			t.Errorf("%s modified = %v, want %v", name, f.modified, zipEpoch)
		}
		wantMode := fs.FileMode(0o644)
		if name == "run.sh" {
			wantMode = 0o755
		}
		if f.mode != wantMode {
			t.Errorf("%s mode = %v, want %v", name, f.mode, wantMode)
		}
	}
	if got["a/c.txt"].body != "sea" {
		t.Errorf("a/c.txt = %q, want %q", got["a/c.txt"].body, "sea")
	}

	// Changing content changes the hash.
	if err := os.WriteFile(filepath.Join(root2, "b.txt"), []byte("BEE"), 0o644); err != nil {
		t.Fatal(err)
	}
	a3, err := ZipDir(root2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a3.CodeSHA256 == a1.CodeSHA256 {
		t.Error("changed content kept the same CodeSHA256")
	}
}

func TestPruned(t *testing.T) {
	ms, err := compilePatterns([]string{"!.git/**", "!node_modules/**", "node_modules/keep/**", "!tmp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{".git", true},
		{".git/objects", true},
		{"node_modules", false}, // a later pattern re-includes part of it
		{"node_modules/keep", false},
		{"tmp", true},
		{"src", false},
	} {
		if got := pruned(ms, tc.dir); got != tc.want {
			t.Errorf("pruned(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
	// An include pattern starting with a wildcard may match anywhere.
	ms, err = compilePatterns([]string{"!.git/**", "**/*.keep"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir  string
		want bool
	}{
		{".git", false},
	} {
		if got := pruned(ms, tc.dir); got != tc.want {
			t.Errorf("pruned(%q) = %v, want %v", tc.dir, got, tc.want)
		}
	}
}

func TestZipDirNothingSelected(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"a.txt": "a"})
	if _, err := ZipDir(root, []string{"!**"}); !errors.Is(err, ErrNoFiles) {
		t.Errorf("ZipDir with everything excluded = %v, want ErrNoFiles", err)
	}
}

func TestZipDirKeepsSymlinks(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{"real.txt": "x"})
	if err := os.Symlink("real.txt", filepath.Join(root, "link.txt")); err != nil {
		t.Skipf("symlinks unavailable: %v", err)
	}
	a, err := ZipDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, got := readZip(t, a.Zip)
	if l := got["link.txt"]; l.mode&fs.ModeSymlink == 0 || l.body != "real.txt" {
		t.Errorf("link.txt = mode %v body %q, want a symlink to real.txt", l.mode, l.body)
	}
}

// loadSpec writes a serverless.yml into dir and loads it.
func loadSpec(t *testing.T, dir, yml string) *manifest.Spec {
	t.Helper()
	p := filepath.Join(dir, "serverless.yml")
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, _, err := manifest.Load(p, manifest.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return spec
}

func TestPackServiceIndividuallyAndArtifact(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"shared.py":      "s",
		"a/handler.py":   "a",
		"b/handler.py":   "b",
		"layer/lib.py":   "l",
		"layer/notes.md": "n",
		".env":           "SECRET=1",
	})
	// A prebuilt artifact.
	pre, err := ZipDir(writeTree(t, map[string]string{"prebuilt.py": "p"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prebuilt.zip"), pre.Zip, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := loadSpec(t, dir, `service: svc
useDotenv: true
package:
  patterns: ['!layer/**', '!*.zip']
provider:
  name: aws
  runtime: python3.12
functions:
  one:
    handler: shared.handler
  two:
    handler: shared.handler
  a:
    handler: a/handler.main
    package:
      individually: true
      patterns: ['!b/**']
  pre:
    handler: prebuilt.main
    package:
      artifact: prebuilt.zip
layers:
  lib:
    path: layer
    package:
      patterns: ['!*.md']
`)
	pk, err := Pack(context.Background(), spec, PackOptions{})
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if pk.Functions["one"] != pk.Functions["two"] {
		t.Error("functions one and two do not share the service artifact")
	}
	if got, want := pk.Functions["one"].Files, []string{"a/handler.py", "b/handler.py", "shared.py"}; !slices.Equal(got, want) {
		t.Errorf("service artifact = %v, want %v (no serverless.yml, .env, layer, zip)", got, want)
	}
	if got, want := pk.Functions["a"].Files, []string{"a/handler.py", "shared.py"}; !slices.Equal(got, want) {
		t.Errorf("individual artifact of a = %v, want %v", got, want)
	}
	if p := pk.Functions["pre"]; p.Path != "prebuilt.zip" || p.CodeSHA256 != pre.CodeSHA256 {
		t.Errorf("prebuilt artifact = %q %s, want prebuilt.zip %s", p.Path, p.CodeSHA256, pre.CodeSHA256)
	}
	if got, want := pk.Layers["lib"].Files, []string{"lib.py"}; !slices.Equal(got, want) {
		t.Errorf("layer artifact = %v, want %v", got, want)
	}
}

func TestPackReportsAllFailures(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{"x.py": "x", "notzip.zip": "plain text"})
	spec := loadSpec(t, dir, `service: svc
provider:
  name: aws
  runtime: python3.12
functions:
  missing:
    handler: x.main
    package:
      artifact: nope.zip
  bad:
    handler: x.main
    package:
      artifact: notzip.zip
`)
	_, err := Pack(context.Background(), spec, PackOptions{})
	if err == nil {
		t.Fatal("Pack succeeded, want errors for both artifacts")
	}
	for _, want := range []string{"package function missing", "package function bad", "not a zip file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Pack error %q does not mention %q", err, want)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Pack error %v does not wrap fs.ErrNotExist for the missing artifact", err)
	}
}

func TestPackBuildsGoHandlers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not on PATH")
	}
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"go.mod":            "module example.com/hello\n\ngo 1.22\n",
		"cmd/hello/main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
		"lib/lib.go":        "package lib\n",
	})
	spec := loadSpec(t, dir, `service: gosvc
provider:
  name: aws
  runtime: provided.al2023
  architecture: arm64
functions:
  hello:
    handler: ./cmd/hello
  lib:
    handler: lib
`)
	gb := &GoBuilder{Go: goBin, Env: append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")}
	pk1, err := Pack(context.Background(), spec, PackOptions{GoBuild: gb})
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	a := pk1.Functions["hello"]
	if !slices.Equal(a.Files, []string{"bootstrap"}) || a.Handler != "hello" {
		t.Fatalf("Go artifact = %v handler %q, want [bootstrap] handler hello", a.Files, a.Handler)
	}
	_, files := readZip(t, a.Zip)
	bin := files["bootstrap"]
	if bin.mode != 0o755 {
		t.Errorf("bootstrap mode = %v, want 0755", bin.mode)
	}
	// An ELF for arm64: e_machine 183 at offset 18.
	if len(bin.body) < 20 || bin.body[:4] != "\x7fELF" || bin.body[18] != 183 {
		t.Errorf("bootstrap is not a linux/arm64 ELF binary")
	}
	// A non-main package is packaged as files, not built.
	if pk1.Functions["lib"].Handler != "" {
		t.Error("a non-main package handler was built")
	}
	pk2, err := Pack(context.Background(), spec, PackOptions{GoBuild: gb})
	if err != nil {
		t.Fatalf("second Pack: %v", err)
	}
	if pk2.Functions["hello"].CodeSHA256 != a.CodeSHA256 {
		t.Errorf("rebuilding unchanged sources changed CodeSHA256: %s → %s", a.CodeSHA256, pk2.Functions["hello"].CodeSHA256)
	}
}
