package runtimes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Interpreter is a host interpreter binary chosen for a runtime.
type Interpreter struct {
	// Path is the real binary (symlinks and version-manager shims
	// resolved), so starting it costs no shim.
	Path string
	// Version is what is known of its version: "3.12.1", "3.12", "20.20.2".
	Version string
}

// host is what detection reads from the machine; tests replace it.
type host struct {
	getenv func(string) string
	// run executes an interpreter to learn its real path and version; it
	// returns stdout.
	run func(path string, args ...string) (string, error)
	// sysDirs are searched after $PATH.
	sysDirs []string
}

func realHost() host {
	return host{
		getenv:  os.Getenv,
		sysDirs: []string{"/usr/local/bin", "/usr/bin", "/bin"},
		run: func(path string, args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, path, args...).Output()
			if err != nil {
				return "", fmt.Errorf("run %s: %w", path, err)
			}
			return string(out), nil
		},
	}
}

// isExecutable reports whether path is an executable regular file.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// isScript reports whether path starts with "#!": a version manager's shim
// (pyenv, nodenv, asdf) or a wrapper, which must be run once to find the real
// binary behind it.
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	n, _ := f.Read(b[:])
	return n == 2 && b[0] == '#' && b[1] == '!'
}

// pathDirs returns the directories of $PATH followed by the usual system
// ones, without duplicates.
func (h host) pathDirs() []string {
	var dirs []string
	seen := map[string]bool{}
	for _, d := range append(filepath.SplitList(h.getenv("PATH")), h.sysDirs...) {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		dirs = append(dirs, d)
	}
	return dirs
}

func (h host) homeDirs() []string {
	if d := h.getenv("HOME"); d != "" {
		return []string{d}
	}
	return nil
}

// versionDirs lists version-manager installs under root whose directory name
// (e.g. "3.12.1", "v20.11.0") starts with prefix, newest first.
func versionDirs(root, prefix string) []string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	sort.Slice(names, func(i, j int) bool { return versionLess(names[j], names[i]) })
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(root, n)
	}
	return out
}

// versionLess compares dotted versions numerically ("3.9.18" < "3.10.1").
func versionLess(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea != nil || eb != nil {
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
			continue
		}
		if na != nb {
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

// resolvePython runs a python candidate once to learn the real binary and
// its version; this resolves pyenv shims and wrapper scripts.
func (h host) resolvePython(path string) (Interpreter, error) {
	out, err := h.run(path, "-c", `import sys;print(sys.executable);print("%d.%d.%d"%sys.version_info[:3])`)
	if err != nil {
		return Interpreter{}, err
	}
	lines := strings.Fields(out)
	if len(lines) != 2 || !filepath.IsAbs(lines[0]) {
		return Interpreter{}, fmt.Errorf("resolve %s: unexpected output %q", path, out)
	}
	real, err := filepath.EvalSymlinks(lines[0])
	if err != nil {
		return Interpreter{}, fmt.Errorf("resolve %s: %w", path, err)
	}
	return Interpreter{Path: real, Version: lines[1]}, nil
}

// findPython looks for an interpreter of exactly minor ("3.12"): binaries
// named python3.12 on PATH and in the system directories, then pyenv's
// version directories, then (costly, run last) any shim or wrapper of that
// name and a plain python3 of the right version.
func (h host) findPython(minor string) (Interpreter, bool) {
	name := "python" + minor
	var scripts []string
	for _, d := range h.pathDirs() {
		p := filepath.Join(d, name)
		if !isExecutable(p) {
			continue
		}
		if isScript(p) {
			scripts = append(scripts, p)
			continue
		}
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return Interpreter{Path: real, Version: minor}, true
		}
	}
	roots := []string{}
	if r := h.getenv("PYENV_ROOT"); r != "" {
		roots = append(roots, r)
	}
	for _, home := range h.homeDirs() {
		roots = append(roots, filepath.Join(home, ".pyenv"))
	}
	for _, root := range roots {
		for _, vd := range versionDirs(filepath.Join(root, "versions"), minor+".") {
			p := filepath.Join(vd, "bin", name)
			if isExecutable(p) && !isScript(p) {
				if real, err := filepath.EvalSymlinks(p); err == nil {
					return Interpreter{Path: real, Version: filepath.Base(vd)}, true
				}
			}
		}
	}
	for _, p := range scripts {
		if in, err := h.resolvePython(p); err == nil && strings.HasPrefix(in.Version+".", minor+".") {
			return in, true
		}
	}
	for _, d := range h.pathDirs() {
		p := filepath.Join(d, "python3")
		if !isExecutable(p) {
			continue
		}
		if in, err := h.resolvePython(p); err == nil && strings.HasPrefix(in.Version, minor+".") {
			return in, true
		}
	}
	return Interpreter{}, false
}

// resolveNode learns a node candidate's real binary and version. A binary's
// version comes from `node --version` (which does not boot V8); a script is
// run to print process.execPath.
func (h host) resolveNode(path string) (Interpreter, error) {
	if isScript(path) {
		out, err := h.run(path, "-e", `process.stdout.write(process.execPath+"\n"+process.version+"\n")`)
		if err != nil {
			return Interpreter{}, err
		}
		f := strings.Fields(out)
		if len(f) != 2 || !filepath.IsAbs(f[0]) {
			return Interpreter{}, fmt.Errorf("resolve %s: unexpected output %q", path, out)
		}
		real, err := filepath.EvalSymlinks(f[0])
		if err != nil {
			return Interpreter{}, fmt.Errorf("resolve %s: %w", path, err)
		}
		return Interpreter{Path: real, Version: strings.TrimPrefix(f[1], "v")}, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return Interpreter{}, fmt.Errorf("resolve %s: %w", path, err)
	}
	out, err := h.run(real, "--version")
	if err != nil {
		return Interpreter{}, err
	}
	v := strings.TrimPrefix(strings.TrimSpace(out), "v")
	if v == "" {
		return Interpreter{}, fmt.Errorf("resolve %s: empty version", path)
	}
	return Interpreter{Path: real, Version: v}, nil
}

// findNodes returns every distinct node on the host: `node` on PATH and in
// the system directories, and nvm's installs.
func (h host) findNodes() []Interpreter {
	var cands []string
	for _, d := range h.pathDirs() {
		cands = append(cands, filepath.Join(d, "node"))
	}
	roots := []string{}
	if r := h.getenv("NVM_DIR"); r != "" {
		roots = append(roots, r)
	}
	for _, home := range h.homeDirs() {
		roots = append(roots, filepath.Join(home, ".nvm"))
	}
	for _, root := range roots {
		for _, vd := range versionDirs(filepath.Join(root, "versions", "node"), "v") {
			cands = append(cands, filepath.Join(vd, "bin", "node"))
		}
	}
	var out []Interpreter
	seen := map[string]bool{}
	for _, c := range cands {
		if !isExecutable(c) {
			continue
		}
		if real, err := filepath.EvalSymlinks(c); err == nil && seen[real] {
			continue
		}
		in, err := h.resolveNode(c)
		if err != nil || seen[in.Path] {
			continue
		}
		seen[in.Path] = true
		out = append(out, in)
	}
	return out
}

// major returns the leading number of a version ("20.11.0" → 20, "3.12" → 3).
func major(v string) int {
	n, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	return n
}

// minorOf returns the second number of a version ("3.12.1" → 12).
func minorOf(v string) int {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return -1
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return -1
	}
	return n
}

// nearest picks from cands the one whose key is closest to want, preferring
// the newer one on a tie.
func nearest(cands []Interpreter, want int, key func(Interpreter) int) (Interpreter, bool) {
	best, found, bestDist := Interpreter{}, false, 0
	for _, c := range cands {
		d := key(c) - want
		if d < 0 {
			d = -d
		}
		if !found || d < bestDist || (d == bestDist && key(c) > key(best)) {
			best, found, bestDist = c, true, d
		}
	}
	return best, found
}
