package runtimes

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// copyExecutable puts a copy of a real binary (not a script) at path.
func copyExecutable(t *testing.T, path string) {
	t.Helper()
	src, err := exec0()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// exec0 is a small real binary of this host.
func exec0() (string, error) {
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("no /bin/true")
}

func writeScript(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexec false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func removableRuntimeDir(t *testing.T) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return dir
}

func TestRegistryFakeHost(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "home")
	bin := filepath.Join(root, "bin")
	shims := filepath.Join(root, "shims")
	// pyenv install of 3.11 and 3.9, a shim for 3.13 whose real binary is
	// elsewhere, node 22 on PATH, nothing else.
	copyExecutable(t, filepath.Join(home, ".pyenv/versions/3.11.4/bin/python3.11"))
	copyExecutable(t, filepath.Join(home, ".pyenv/versions/3.9.2/bin/python3.9"))
	copyExecutable(t, filepath.Join(home, ".pyenv/versions/3.9.10/bin/python3.9"))
	writeScript(t, filepath.Join(shims, "python3.13"))
	real313 := filepath.Join(root, "real", "python3.13")
	copyExecutable(t, real313)
	copyExecutable(t, filepath.Join(bin, "node"))

	var (
		mu  sync.Mutex // run is called concurrently (precompile)
		ran []string
	)
	h := host{
		getenv: func(k string) string {
			switch k {
			case "HOME":
				return home
			case "PATH":
				return shims + ":" + bin
			}
			return ""
		},
		run: func(path string, args ...string) (string, error) {
			mu.Lock()
			ran = append(ran, filepath.Base(path)+" "+strings.Join(args, " "))
			mu.Unlock()
			switch {
			case path == filepath.Join(shims, "python3.13"):
				return real313 + "\n3.13.1\n", nil
			case filepath.Base(path) == "node" && args[0] == "--version":
				return "v22.3.0\n", nil
			}
			return "", errors.New("exit status 1")
		},
	}
	reg, err := newRegistry(nil, removableRuntimeDir(t), h)
	if err != nil {
		t.Fatalf("newRegistry: %v", err)
	}
	want := []string{"nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "provided.al2", "provided.al2023", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14", "python3.8", "python3.9"}
	if got := reg.Available(); !reflect.DeepEqual(got, want) {
		t.Errorf("Available() = %v, want %v", got, want)
	}
	interp := func(id string) Interpreter {
		rt, err := reg.Lookup(id)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", id, err)
		}
		return rt.(interface{ Interpreter() Interpreter }).Interpreter()
	}
	for id, want := range map[string]Interpreter{
		"python3.9":  {filepath.Join(home, ".pyenv/versions/3.9.10/bin/python3.9"), "3.9.10"},
		"python3.10": {filepath.Join(home, ".pyenv/versions/3.11.4/bin/python3.11"), "3.11.4"}, // tie: the newer
		"python3.11": {filepath.Join(home, ".pyenv/versions/3.11.4/bin/python3.11"), "3.11.4"},
		"python3.12": {real313, "3.13.1"},
		"python3.13": {real313, "3.13.1"},
		"nodejs18.x": {filepath.Join(bin, "node"), "22.3.0"},
		"nodejs22.x": {filepath.Join(bin, "node"), "22.3.0"},
	} {
		if got := interp(id); got != want {
			t.Errorf("%s served by %v, want %v", id, got, want)
		}
	}
	// <prefix>/bin/python3.X → <prefix>; root/real/python3.13 and root/bin/node → root.
	wantHost := []string{filepath.Join(home, ".pyenv/versions/3.11.4"), filepath.Join(home, ".pyenv/versions/3.9.10"), root}
	slices.Sort(wantHost)
	if got := reg.HostPaths(); !reflect.DeepEqual(got, wantHost) {
		t.Errorf("HostPaths() = %q, want %q", got, wantHost)
	}
	if got := reg.RuntimeDir("python3.12"); got != filepath.Join(reg.dir, "python") {
		t.Errorf("RuntimeDir(python3.12) = %q", got)
	}
	if got := reg.RuntimeDir("python3.99"); got != "" {
		t.Errorf("RuntimeDir(python3.99) = %q, want \"\"", got)
	}
	notes := strings.Join(reg.Notes(), "\n")
	for _, s := range []string{"python3.12: " + real313 + " (3.13.1; no python3.12 found, nearest version used)", "nodejs22.x: " + filepath.Join(bin, "node") + " (v22.3.0)\n"} {
		if !strings.Contains(notes+"\n", s) {
			t.Errorf("Notes() missing %q:\n%s", s, notes)
		}
	}
	// The shim was run once (to find its real binary); binaries named
	// python3.X are run only to precompile the bootstrap, once each.
	var compiled []string
	for _, r := range ran {
		if strings.Contains(r, "py_compile") {
			compiled = append(compiled, strings.Fields(r)[0])
			continue
		}
		if strings.HasPrefix(r, "python3.9") || strings.HasPrefix(r, "python3.11") {
			t.Errorf("ran %q: binaries named python3.X need no run to learn their version", r)
		}
	}
	slices.Sort(compiled)
	if want := []string{"python3.11", "python3.13", "python3.9"}; !slices.Equal(compiled, want) {
		t.Errorf("precompiled with %v, want %v", compiled, want)
	}
}

func TestRegistryNothingInstalled(t *testing.T) {
	root := t.TempDir()
	h := host{
		getenv: func(k string) string {
			if k == "HOME" {
				return root
			}
			return ""
		},
		run: func(string, ...string) (string, error) { return "", errors.New("not found") },
	}
	// No $PATH, no system directories, an empty home: nothing to find.
	reg, err := newRegistry(nil, removableRuntimeDir(t), h)
	if err != nil {
		t.Fatalf("newRegistry: %v", err)
	}
	for _, id := range []string{"provided.al2023", "provided.al2"} {
		if err := reg.Check(id); err != nil {
			t.Errorf("Check(%s) = %v, want nil", id, err)
		}
		if d := reg.RuntimeDir(id); d != "" {
			t.Errorf("RuntimeDir(%s) = %q, want \"\"", id, d)
		}
	}
	err = reg.Check("java21")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "runtime java21 is not supported") {
		t.Errorf("Check(java21) = %v, want ErrUnavailable naming it", err)
	}
	for id, want := range map[string]string{
		"nodejs20.x": "nodejs20.x needs node 20, and no node interpreter was found on this host",
		"python3.12": "python3.12 needs python3.12, and no python3 interpreter was found on this host",
	} {
		_, err := reg.Lookup(id)
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), want) {
			t.Errorf("Lookup(%s) = %v, want ErrUnavailable containing %q", id, err, want)
		}
		if reg.RuntimeDir(id) == "" {
			t.Errorf("RuntimeDir(%s) = \"\", want the runtime dir even when unavailable", id)
		}
	}
	if got, want := reg.Available(), []string{"provided.al2", "provided.al2023"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Available() = %v, want %v", got, want)
	}
}

func TestRegistryOverrides(t *testing.T) {
	real := registry(t)
	rt, err := real.Lookup("python3.12")
	if err != nil {
		t.Skipf("no python on this host: %v", err)
	}
	py := rt.(*python).interp

	reg, err := NewRegistry(map[string]string{"python3.9": py.Path}, removableRuntimeDir(t))
	if err != nil {
		t.Fatalf("NewRegistry(override): %v", err)
	}
	rt9, err := reg.Lookup("python3.9")
	if err != nil {
		t.Fatal(err)
	}
	if got := rt9.(*python).interp.Path; got != py.Path {
		t.Errorf("python3.9 override served by %s, want %s", got, py.Path)
	}
	if !slices.ContainsFunc(reg.Notes(), func(s string) bool {
		return strings.HasPrefix(s, "python3.9: "+py.Path) && strings.HasSuffix(s, ", configured)")
	}) {
		t.Errorf("Notes() = %q, want the configured override", reg.Notes())
	}

	for _, tt := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"unknown id", map[string]string{"python2.7": py.Path}, "runtime override python2.7: unknown managed runtime"},
		{"missing file", map[string]string{"python3.12": "/nonexistent/python3.12"}, "runtime override python3.12=/nonexistent/python3.12: not an executable file"},
		{"not python", map[string]string{"python3.12": mustTrue(t)}, "runtime override python3.12=" + mustTrue(t)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(tt.overrides, removableRuntimeDir(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRegistry(%v) = %v, want error containing %q", tt.overrides, err, tt.want)
			}
		})
	}
}

func mustTrue(t *testing.T) string {
	p, err := exec0()
	if err != nil {
		t.Skip(err)
	}
	return p
}

func TestRegistryRealHostResolvesRealBinaries(t *testing.T) {
	reg := registry(t)
	for _, id := range reg.Available() {
		rt, err := reg.Lookup(id)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", id, err)
		}
		ip, ok := rt.(interface{ Interpreter() Interpreter })
		if !ok {
			continue
		}
		in := ip.Interpreter()
		if !filepath.IsAbs(in.Path) || !isExecutable(in.Path) || isScript(in.Path) || strings.Contains(in.Path, "/shims/") {
			t.Errorf("%s served by %q: want a real executable binary, never a shim", id, in.Path)
		}
	}
	t.Logf("available: %v\n%s", reg.Available(), strings.Join(reg.Notes(), "\n"))
	// The python client is precompiled for every python serving a runtime.
	if slices.ContainsFunc(reg.Notes(), func(s string) bool { return strings.Contains(s, "not precompiled") }) {
		t.Errorf("Notes() report a failed precompile: %q", reg.Notes())
	}
	if rt, err := reg.Lookup("python3.12"); err == nil {
		in := rt.(*python).interp
		tag := "cpython-" + strings.ReplaceAll(in.Version[:strings.LastIndex(in.Version+".", ".")], ".", "")
		if parts := strings.Split(in.Version, "."); len(parts) >= 2 {
			tag = "cpython-" + parts[0] + parts[1]
		}
		pyc := filepath.Join(reg.RuntimeDir("python3.12"), "__pycache__", "lambdad_bootstrap."+tag+".pyc")
		if _, err := os.Stat(pyc); err != nil {
			t.Errorf("precompiled bootstrap: %v", err)
		}
	}
}

func TestWriteRuntimeDir(t *testing.T) {
	dir := removableRuntimeDir(t)
	for range 2 { // rewriting over the read-only result works
		if err := WriteRuntimeDir(dir); err != nil {
			t.Fatalf("WriteRuntimeDir: %v", err)
		}
	}
	for _, f := range []string{"python/bootstrap.py", "python/lambdad_bootstrap.py", "nodejs/bootstrap.cjs"} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o444 {
			t.Errorf("%s mode = %v, want 0444", f, fi.Mode().Perm())
		}
		want, _ := bootstraps.ReadFile(map[string]string{"python/bootstrap.py": "python/bootstrap.py", "python/lambdad_bootstrap.py": "python/lambdad_bootstrap.py", "nodejs/bootstrap.cjs": "node/bootstrap.cjs"}[f])
		if got, _ := os.ReadFile(filepath.Join(dir, f)); string(got) != string(want) {
			t.Errorf("%s differs from the embedded bootstrap", f)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "python"))
	if len(entries) != 2 {
		t.Errorf("python dir holds %d entries, want only the two bootstrap files (no temp files left)", len(entries))
	}
}

func TestLaunch(t *testing.T) {
	paths := sandbox.Paths{TaskRoot: "/var/task", Opt: "/opt", RuntimeDir: "/var/runtime", Tmp: "/tmp"}
	py := &python{id: "python3.12", interp: Interpreter{Path: "/usr/bin/python3.12", Version: "3.12"}}
	l, err := py.Launch("lambda_function.lambda_handler", paths, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Launch{
		Path: "/usr/bin/python3.12",
		Args: []string{"/usr/bin/python3.12", "-B", "/var/runtime/bootstrap.py", "/opt"},
		Env:  map[string]string{"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "PYTHONPATH": "/var/runtime"},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("python Launch = %+v, want %+v", l, want)
	}

	nd := &node{id: "nodejs20.x", interp: Interpreter{Path: "/usr/bin/node", Version: "20.1.0"}}
	l, err = nd.Launch("index.handler", paths, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want = Launch{
		Path: "/usr/bin/node",
		Args: []string{"/usr/bin/node", "/var/runtime/bootstrap.cjs"},
		Env: map[string]string{
			"AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
			// SPEC §2.3, as observed on AWS.
			"NODE_PATH": "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task",
		},
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("node Launch = %+v, want %+v", l, want)
	}
}
