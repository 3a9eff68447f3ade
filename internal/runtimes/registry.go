package runtimes

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

//go:embed python/bootstrap.py python/lambdad_bootstrap.py node/bootstrap.cjs
var bootstraps embed.FS

// Family directories under the registry's runtime dir; each is mounted as
// /var/runtime (LAMBDA_RUNTIME_DIR) for the runtimes of that language.
const (
	pythonDir = "python"
	nodeDir   = "nodejs"

	pythonBootstrap = "bootstrap.py"
	pythonClient    = "lambdad_bootstrap.py"
	nodeBootstrap   = "bootstrap.cjs"
)

// managed lists the managed runtime identifiers lambdad serves, with the
// interpreter version each one wants.
var managed = []struct {
	id      string
	lang    string // "python" or "node"
	version string // "3.12" for python, "20" for node
}{
	{"python3.8", "python", "3.8"},
	{"python3.9", "python", "3.9"},
	{"python3.10", "python", "3.10"},
	{"python3.11", "python", "3.11"},
	{"python3.12", "python", "3.12"},
	{"python3.13", "python", "3.13"},
	{"python3.14", "python", "3.14"},
	{"nodejs18.x", "node", "18"},
	{"nodejs20.x", "node", "20"},
	{"nodejs22.x", "node", "22"},
	{"nodejs24.x", "node", "24"},
}

var providedIDs = []string{"provided.al2023", "provided.al2"}

// Registry maps runtime identifiers to the runtimes this host can serve. It
// is built once at start-up (detection runs interpreters, which takes tens
// of milliseconds) and is read-only afterwards, so safe for concurrent use.
type Registry struct {
	dir      string
	runtimes map[string]Runtime
	missing  map[string]error // managed ids the host cannot serve
	notes    []string
}

// runtimeFiles are the embedded files and where WriteRuntimeDir puts them.
var runtimeFiles = []struct{ sub, name, src string }{
	{pythonDir, pythonBootstrap, "python/bootstrap.py"},
	{pythonDir, pythonClient, "python/lambdad_bootstrap.py"},
	{nodeDir, nodeBootstrap, "node/bootstrap.cjs"},
}

// WriteRuntimeDir writes the embedded bootstraps under dir: dir/python for
// the python3.x runtimes and dir/nodejs for the nodejs*.x ones. The files
// are left read-only (0444, directories 0555) as /var/runtime is for the
// function; existing files are replaced atomically.
func WriteRuntimeDir(dir string) error {
	written := map[string]bool{}
	for _, f := range runtimeFiles {
		d := filepath.Join(dir, f.sub)
		if err := writeFile(d, f.name, f.src); err != nil {
			return fmt.Errorf("write runtime dir: %w", err)
		}
		written[d] = true
	}
	for d := range written {
		if err := os.Chmod(d, 0o555); err != nil {
			return fmt.Errorf("write runtime dir: %w", err)
		}
	}
	return nil
}

func writeFile(d, name, src string) error {
	data, err := bootstraps.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(d, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d, ".bootstrap-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o444)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(d, name)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// precompile compiles the python runtime client to bytecode with each
// interpreter (one __pycache__ entry per version): the entry script imports
// it, so cold starts load bytecode instead of compiling ~600 lines (several
// ms of a ~25 ms start). A failure only costs that time; it is reported as
// a note.
func (r *Registry) precompile(h host, interps []Interpreter) {
	d := filepath.Join(r.dir, pythonDir)
	cache := filepath.Join(d, "__pycache__")
	if err := errors.Join(os.Chmod(d, 0o755), os.MkdirAll(cache, 0o755), os.Chmod(cache, 0o755)); err != nil {
		r.notes = append(r.notes, fmt.Sprintf("python bootstrap not precompiled: %v", err))
		return
	}
	src := filepath.Join(d, pythonClient)
	errs := make([]error, len(interps))
	var wg sync.WaitGroup
	for i, in := range interps {
		wg.Go(func() {
			_, errs[i] = h.run(in.Path, "-c", "import py_compile,sys;py_compile.compile(sys.argv[1],doraise=True)", src)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			r.notes = append(r.notes, fmt.Sprintf("python bootstrap not precompiled for %s: %v", interps[i].Path, err))
		}
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		os.Chmod(filepath.Join(cache, e.Name()), 0o444)
	}
	if err := errors.Join(os.Chmod(cache, 0o555), os.Chmod(d, 0o555)); err != nil {
		r.notes = append(r.notes, fmt.Sprintf("python runtime dir permissions: %v", err))
	}
}

// NewRegistry writes the bootstraps under runtimeDir (see WriteRuntimeDir)
// and finds the host's interpreters. overrides maps a runtime id to an
// interpreter path ("python3.12" → "/usr/bin/python3.12"); an override of an
// unknown id or a path that is not a working interpreter is an error. Without
// an override each id gets the interpreter of exactly its version, else the
// nearest available version (reported by Notes), else it is unavailable
// (Lookup and Check say which interpreter is missing).
func NewRegistry(overrides map[string]string, runtimeDir string) (*Registry, error) {
	return newRegistry(overrides, runtimeDir, realHost())
}

func newRegistry(overrides map[string]string, runtimeDir string, h host) (*Registry, error) {
	abs, err := filepath.Abs(runtimeDir)
	if err != nil {
		return nil, fmt.Errorf("new runtime registry: %w", err)
	}
	if err := WriteRuntimeDir(abs); err != nil {
		return nil, fmt.Errorf("new runtime registry: %w", err)
	}
	r := &Registry{dir: abs, runtimes: map[string]Runtime{}, missing: map[string]error{}}
	for _, id := range providedIDs {
		r.runtimes[id] = Provided(id)
	}

	var errs []error
	known := map[string]bool{}
	for _, m := range managed {
		known[m.id] = true
	}
	for id := range overrides {
		if !known[id] {
			errs = append(errs, fmt.Errorf("runtime override %s: unknown managed runtime (known: %s)", id, strings.Join(managedIDs(), ", ")))
		}
	}

	pythons := map[string]Interpreter{} // minor → exact interpreter
	var nodes []Interpreter
	nodesDone := false
	for _, m := range managed {
		if p, ok := overrides[m.id]; ok {
			in, err := r.resolveOverride(h, m.lang, m.version, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("runtime override %s=%s: %w", m.id, p, err))
				continue
			}
			r.add(m.id, m.lang, in)
			r.notes = append(r.notes, fmt.Sprintf("%s: %s (%s, configured)", m.id, in.Path, in.Version))
			continue
		}
		switch m.lang {
		case "python":
			if _, done := pythons[m.version]; !done {
				if in, ok := h.findPython(m.version); ok {
					pythons[m.version] = in
				}
			}
		case "node":
			if !nodesDone {
				nodes, nodesDone = h.findNodes(), true
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new runtime registry: %w", errors.Join(errs...))
	}

	var pyList []Interpreter
	for _, in := range pythons {
		pyList = append(pyList, in)
	}
	for _, m := range managed {
		if _, ok := overrides[m.id]; ok {
			continue
		}
		switch m.lang {
		case "python":
			if in, ok := pythons[m.version]; ok {
				r.add(m.id, m.lang, in)
				r.notes = append(r.notes, fmt.Sprintf("%s: %s (%s)", m.id, in.Path, in.Version))
			} else if in, ok := nearest(pyList, minorOf(m.version), func(i Interpreter) int { return minorOf(i.Version) }); ok {
				r.add(m.id, m.lang, in)
				r.notes = append(r.notes, fmt.Sprintf("%s: %s (%s; no python%s found, nearest version used)", m.id, in.Path, in.Version, m.version))
			} else {
				r.missing[m.id] = fmt.Errorf("%w: %s needs python%s, and no python3 interpreter was found on this host (searched $PATH, /usr/local/bin, /usr/bin, ~/.pyenv/versions; configure one with %s=/path/to/python%s)",
					ErrUnavailable, m.id, m.version, m.id, m.version)
			}
		case "node":
			want, _ := strconv.Atoi(m.version)
			var exact []Interpreter
			for _, n := range nodes {
				if major(n.Version) == want {
					exact = append(exact, n)
				}
			}
			if len(exact) > 0 {
				sort.Slice(exact, func(i, j int) bool { return versionLess(exact[j].Version, exact[i].Version) })
				r.add(m.id, m.lang, exact[0])
				r.notes = append(r.notes, fmt.Sprintf("%s: %s (v%s)", m.id, exact[0].Path, exact[0].Version))
			} else if in, ok := nearest(nodes, want, func(i Interpreter) int { return major(i.Version) }); ok {
				r.add(m.id, m.lang, in)
				r.notes = append(r.notes, fmt.Sprintf("%s: %s (v%s; no node %s found, nearest version used)", m.id, in.Path, in.Version, m.version))
			} else {
				r.missing[m.id] = fmt.Errorf("%w: %s needs node %s, and no node interpreter was found on this host (searched $PATH, /usr/local/bin, /usr/bin, ~/.nvm/versions/node; configure one with %s=/path/to/node)",
					ErrUnavailable, m.id, m.version, m.id)
			}
		}
	}
	var pyInterps []Interpreter
	seen := map[string]bool{}
	for _, rt := range r.runtimes {
		if p, ok := rt.(*python); ok && !seen[p.interp.Path] {
			seen[p.interp.Path] = true
			pyInterps = append(pyInterps, p.interp)
		}
	}
	sort.Slice(pyInterps, func(i, j int) bool { return pyInterps[i].Path < pyInterps[j].Path })
	r.precompile(h, pyInterps)
	return r, nil
}

// resolveOverride checks a configured interpreter and resolves it to its
// real binary.
func (r *Registry) resolveOverride(h host, lang, version, path string) (Interpreter, error) {
	if !isExecutable(path) {
		return Interpreter{}, fmt.Errorf("not an executable file")
	}
	switch lang {
	case "python":
		in, err := h.resolvePython(path)
		if err != nil {
			return Interpreter{}, err
		}
		if minorOf(in.Version) < 0 || major(in.Version) != 3 {
			return Interpreter{}, fmt.Errorf("not a python3 interpreter (version %q)", in.Version)
		}
		return in, nil
	default:
		in, err := h.resolveNode(path)
		if err != nil {
			return Interpreter{}, err
		}
		if major(in.Version) == 0 {
			return Interpreter{}, fmt.Errorf("not a node interpreter (version %q)", in.Version)
		}
		return in, nil
	}
}

func (r *Registry) add(id, lang string, in Interpreter) {
	if lang == "python" {
		r.runtimes[id] = &python{id: id, interp: in}
	} else {
		r.runtimes[id] = &node{id: id, interp: in}
	}
}

func managedIDs() []string {
	ids := make([]string, len(managed))
	for i, m := range managed {
		ids[i] = m.id
	}
	return ids
}

// Lookup returns the runtime for id. An unknown id, or a managed runtime
// whose interpreter the host lacks, is an error wrapping ErrUnavailable
// whose text names what is missing.
func (r *Registry) Lookup(id string) (Runtime, error) {
	if rt, ok := r.runtimes[id]; ok {
		return rt, nil
	}
	if err, ok := r.missing[id]; ok {
		return nil, err
	}
	return nil, fmt.Errorf("%w: runtime %s is not supported by lambdad (supported: %s, %s)",
		ErrUnavailable, id, strings.Join(managedIDs(), ", "), strings.Join(providedIDs, ", "))
}

// Check reports whether id can be served: nil, or Lookup's error (for
// CreateFunction, whose function then goes to State Failed with the error's
// text as StateReason).
func (r *Registry) Check(id string) error {
	_, err := r.Lookup(id)
	return err
}

// Available lists, sorted, the runtime ids this host can serve.
func (r *Registry) Available() []string {
	ids := make([]string, 0, len(r.runtimes))
	for id := range r.runtimes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Notes describes, one line per managed runtime that can be served, which
// interpreter serves it and whether it is a substitute version; for the
// start-up message.
func (r *Registry) Notes() []string { return append([]string(nil), r.notes...) }

// HostPaths lists the install directories of the interpreters in use that
// lie outside the system directories (/usr, /etc, /bin, /sbin, /lib*), e.g.
// /root/.pyenv/versions/3.12.1: a sandbox that hides the rest of the host
// must make them visible, read-only at the same path, for Launch's command to
// run (sandbox.NamespacedOptions.HostPaths). Sorted, without duplicates.
func (r *Registry) HostPaths() []string {
	var out []string
	for _, rt := range r.runtimes {
		var in Interpreter
		switch v := rt.(type) {
		case *python:
			in = v.interp
		case *node:
			in = v.interp
		default:
			continue
		}
		root := filepath.Dir(filepath.Dir(in.Path)) // <prefix>/bin/python3.12 → <prefix>
		if underSystemDir(root) {
			continue
		}
		if !slices.Contains(out, root) {
			out = append(out, root)
		}
	}
	sort.Strings(out)
	return out
}

func underSystemDir(p string) bool {
	if p == "/" {
		return true
	}
	for _, d := range []string{"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// RuntimeDir returns the host directory to expose as /var/runtime
// (LAMBDA_RUNTIME_DIR) for runtime id, or "" for provided.* and unknown ids.
func (r *Registry) RuntimeDir(id string) string {
	for _, m := range managed {
		if m.id == id {
			if m.lang == "python" {
				return filepath.Join(r.dir, pythonDir)
			}
			return filepath.Join(r.dir, nodeDir)
		}
	}
	return ""
}
