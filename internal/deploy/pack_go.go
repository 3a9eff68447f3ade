package deploy

import (
	"bytes"
	"context"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/lambdad/lambdad/internal/manifest"
)

// GoBuilder compiles a Go main package into the `bootstrap` executable of a
// provided.* function (GOOS=linux, GOARCH from the function's architecture,
// CGO_ENABLED=0, -tags lambda.norpc, -trimpath, no VCS stamp), so the same
// sources give byte-identical binaries and the same CodeSha256.
type GoBuilder struct {
	// Go is the go command; empty means "go" on PATH.
	Go string
	// Env is the build environment before GOOS, GOARCH and CGO_ENABLED are
	// set; nil means os.Environ().
	Env []string
}

// isGoHandler reports whether fn is a provided.* function whose handler
// names a directory holding a Go main package.
func isGoHandler(dir string, fn manifest.Function) bool {
	if !strings.HasPrefix(fn.Runtime, "provided") {
		return false
	}
	pkgDir := filepath.Join(dir, filepath.FromSlash(fn.Handler))
	st, err := os.Stat(pkgDir)
	if err != nil || !st.IsDir() {
		return false
	}
	p, err := build.ImportDir(pkgDir, 0)
	return err == nil && p.Name == "main"
}

// Build compiles fn.Handler (a main package directory relative to dir) and
// returns a zip holding only `bootstrap`. The artifact's Handler is the
// function key, which the runtime passes as _HANDLER.
func (g *GoBuilder) Build(ctx context.Context, dir string, fn manifest.Function) (*Artifact, error) {
	goarch := "amd64"
	if fn.Architecture == "arm64" {
		goarch = "arm64"
	}
	tmp, err := os.MkdirTemp("", "lambdad-gobuild-")
	if err != nil {
		return nil, fmt.Errorf("go build %s: %w", fn.Handler, err)
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	pkg := "./" + strings.TrimPrefix(filepath.ToSlash(filepath.Clean(fn.Handler)), "./")
	goCmd := g.Go
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags=-s -w -buildid=", "-o", out, pkg)
	cmd.Dir = dir
	env := g.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env[:len(env):len(env)], "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s (GOOS=linux GOARCH=%s): %w\n%s", pkg, goarch, err, strings.TrimSpace(stderr.String()))
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	a, err := buildZip([]zipEntry{{name: "bootstrap", data: bin, mode: 0o755}})
	if err != nil {
		return nil, err
	}
	a.Handler = fn.Key
	return a, nil
}
