// Packaging (pack*.go): see doc.go for the package overview.

package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lambdad/lambdad/internal/manifest"
)

// zipEpoch is the modification time of every entry: the earliest time a
// zip (MS-DOS) timestamp can hold, so archives do not depend on when files
// were touched.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// defaultExcludes are left out of every package before the user's patterns
// apply (so a pattern may re-include them), as the Framework does.
var defaultExcludes = []string{
	"!.git/**", "!.gitignore", "!.DS_Store", "!npm-debug.log", "!yarn-*.log",
	"!.serverless/**", "!.serverless_plugins/**",
}

// ErrNoFiles reports that the patterns selected nothing to package.
var ErrNoFiles = errors.New("no file matches the package patterns")

// Artifact is one deployment package.
type Artifact struct {
	// Path is the zip's path for a prebuilt package.artifact; empty when
	// the zip was built here.
	Path string
	Zip  []byte
	// CodeSHA256 is base64(SHA-256(Zip)), the form of Lambda's CodeSha256.
	CodeSHA256 string
	// Files are the entries of a built zip, sorted.
	Files []string
	// Handler, when not empty, replaces the function's handler (a Go main
	// package built into bootstrap runs with the function key as handler).
	Handler string
}

// Packages are the artifacts of a service.
type Packages struct {
	// Functions maps a function key to its artifact; functions sharing the
	// service artifact share one *Artifact.
	Functions map[string]*Artifact
	// Layers maps a layer key (the layers: section) to its artifact.
	Layers map[string]*Artifact
}

// PackOptions tune Pack.
type PackOptions struct {
	// GoBuild compiles Go main packages into bootstrap binaries for
	// provided.* functions whose handler names a main package; nil disables
	// the automatic build (the handler is then packaged as written).
	GoBuild *GoBuilder
}

// Pack builds the artifacts of every function and layer of spec: prebuilt
// package.artifact zips are read as they are; functions with
// package.individually get their own zip (service patterns, then the
// function's); the others share one service zip. provided.* functions whose
// handler is a Go main package are compiled into bootstrap when
// opts.GoBuild is set. All failures are reported at once.
func Pack(ctx context.Context, spec *manifest.Spec, opts PackOptions) (*Packages, error) {
	out := &Packages{Functions: map[string]*Artifact{}, Layers: map[string]*Artifact{}}
	var errs []error
	base := servicePatterns(spec)
	var shared *Artifact
	sharedErr := error(nil)
	for _, fn := range spec.Functions {
		var a *Artifact
		var err error
		switch {
		case fn.Package.Artifact != "":
			a, err = readArtifact(spec.Dir, fn.Package.Artifact)
		case opts.GoBuild != nil && isGoHandler(spec.Dir, fn):
			a, err = opts.GoBuild.Build(ctx, spec.Dir, fn)
		case fn.Package.Individually:
			a, err = ZipDir(spec.Dir, append(slices.Clone(base), fn.Package.Patterns...))
		case spec.Package.Artifact != "":
			if shared == nil && sharedErr == nil {
				shared, sharedErr = readArtifact(spec.Dir, spec.Package.Artifact)
			}
			a, err = shared, sharedErr
		default:
			if shared == nil && sharedErr == nil {
				shared, sharedErr = ZipDir(spec.Dir, base)
			}
			a, err = shared, sharedErr
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("package function %s: %w", fn.Key, err))
			continue
		}
		out.Functions[fn.Key] = a
	}
	for _, l := range spec.Layers {
		var a *Artifact
		var err error
		if l.Package.Artifact != "" {
			a, err = readArtifact(spec.Dir, l.Package.Artifact)
		} else {
			a, err = ZipDir(filepath.Join(spec.Dir, filepath.FromSlash(l.Path)), append(slices.Clone(defaultExcludes), l.Package.Patterns...))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("package layer %s: %w", l.Key, err))
			continue
		}
		out.Layers[l.Key] = a
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// servicePatterns are the default excludes, the manifest itself, .env files
// when useDotenv is set, then the service's package.patterns.
func servicePatterns(spec *manifest.Spec) []string {
	p := slices.Clone(defaultExcludes)
	if spec.File != "" {
		if rel, err := filepath.Rel(spec.Dir, spec.File); err == nil && !strings.HasPrefix(rel, "..") {
			p = append(p, "!"+escapeGlob(filepath.ToSlash(rel)))
		}
	}
	if spec.UseDotenv {
		p = append(p, "!.env*")
	}
	return append(p, spec.Package.Patterns...)
}

// escapeGlob quotes glob metacharacters of a literal path.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]{}\!`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// readArtifact reads a prebuilt zip (relative to dir).
func readArtifact(dir, p string) (*Artifact, error) {
	full := p
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, filepath.FromSlash(p))
	}
	b, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("read artifact: %w", err)
	}
	if _, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err != nil {
		return nil, fmt.Errorf("artifact %s is not a zip file: %w", p, err)
	}
	return &Artifact{Path: p, Zip: b, CodeSHA256: codeSHA256(b)}, nil
}

func codeSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ZipDir zips the files under root selected by patterns: every file is
// included, then each pattern in order includes what it matches, or with a
// leading "!" excludes it (so later patterns override earlier ones). A
// pattern matching a directory applies to everything under it. The zip is
// deterministic: entries sorted by path, timestamps fixed at 1980-01-01,
// modes 0755 for executables and 0644 otherwise; symlinks are kept as
// symlinks. It returns ErrNoFiles when nothing is selected.
func ZipDir(root string, patterns []string) (*Artifact, error) {
	ms, err := compilePatterns(patterns)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && pruned(ms, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if selected(ms, rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %w", root, ErrNoFiles)
	}
	slices.Sort(files)
	entries := make([]zipEntry, 0, len(files))
	for _, rel := range files {
		entries = append(entries, zipEntry{name: rel, src: filepath.Join(root, filepath.FromSlash(rel))})
	}
	return buildZip(entries)
}

// zipEntry is one file of a zip: its content comes from src on disk, or
// from data when src is empty.
type zipEntry struct {
	name string
	src  string
	data []byte
	mode fs.FileMode
}

// buildZip writes entries (already sorted) into a deterministic zip.
func buildZip(entries []zipEntry) (*Artifact, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if err := writeEntry(zw, e); err != nil {
			return nil, fmt.Errorf("zip %s: %w", e.name, err)
		}
		names = append(names, e.name)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	b := buf.Bytes()
	return &Artifact{Zip: b, CodeSHA256: codeSHA256(b), Files: names}, nil
}

func writeEntry(zw *zip.Writer, e zipEntry) error {
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: zipEpoch}
	data := e.data
	mode := e.mode
	if e.src != "" {
		info, err := os.Lstat(e.src)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(e.src)
			if err != nil {
				return err
			}
			data, mode = []byte(filepath.ToSlash(target)), fs.ModeSymlink|0o777
			h.Method = zip.Store
		case info.Mode().IsRegular():
			mode = 0o644
			if info.Mode()&0o100 != 0 {
				mode = 0o755
			}
		default:
			return fmt.Errorf("not a regular file (%s)", info.Mode().Type())
		}
	}
	if mode == 0 {
		mode = 0o644
	}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if data != nil || e.src == "" {
		_, err = w.Write(data)
		return err
	}
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// compiledPattern is one package pattern.
type compiledPattern struct {
	exclude bool
	match   func(string) bool
	// dir is the literal directory the pattern starts with ("" when it
	// starts with a wildcard): it can only match paths under dir.
	dir string
}

func compilePatterns(patterns []string) ([]compiledPattern, error) {
	out := make([]compiledPattern, 0, len(patterns))
	for _, p := range patterns {
		cp := compiledPattern{}
		if strings.HasPrefix(p, "!") {
			cp.exclude, p = true, p[1:]
		}
		p = strings.TrimPrefix(p, "./")
		p = strings.TrimSuffix(p, "/")
		if p == "" {
			return nil, fmt.Errorf("empty package pattern")
		}
		g, err := compileGlob(p)
		if err != nil {
			return nil, fmt.Errorf("package pattern %q: %w", p, err)
		}
		cp.match = g
		lit := p
		if i := strings.IndexAny(p, `*?[{\`); i >= 0 {
			lit = p[:i]
		}
		if i := strings.LastIndexByte(lit, '/'); i >= 0 {
			cp.dir = lit[:i]
		} else if lit == p {
			cp.dir = p // a literal path: itself
		}
		out = append(out, cp)
	}
	return out, nil
}

// selected applies the patterns in order to a slash-separated relative
// path; a pattern that matches one of its parent directories matches it.
func selected(ms []compiledPattern, rel string) bool {
	in := true
	for _, m := range ms {
		if matchPathOrParent(m.match, rel) {
			in = !m.exclude
		}
	}
	return in
}

// pruned reports whether nothing under directory rel can be selected: the
// last pattern matching it excludes it and no later include pattern can
// match under it.
func pruned(ms []compiledPattern, rel string) bool {
	last := -1
	for i, m := range ms {
		if matchPathOrParent(m.match, rel) {
			last = i
		}
	}
	if last < 0 || !ms[last].exclude {
		return false
	}
	for _, m := range ms[last+1:] {
		if !m.exclude && (m.dir == "" || strings.HasPrefix(rel+"/", m.dir+"/") || strings.HasPrefix(m.dir+"/", rel+"/")) {
			return false
		}
	}
	return true
}

func matchPathOrParent(match func(string) bool, rel string) bool {
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if match(p) {
			return true
		}
	}
	return false
}
