package runtimes

import (
	"fmt"
	"path/filepath"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// python is a python3.x managed runtime: the host interpreter runs the
// embedded bootstrap.py from LAMBDA_RUNTIME_DIR.
type python struct {
	id     string
	interp Interpreter
}

func (p *python) ID() string { return p.id }

// Interpreter reports the host interpreter serving the runtime.
func (p *python) Interpreter() Interpreter { return p.interp }

// Launch starts `<python> -B <runtime dir>/bootstrap.py <opt dir>`. -B keeps
// Python from writing __pycache__ into the code directory, which is shared
// between environments and read-only on AWS. The handler is read from
// _HANDLER, as AWS's bootstrap does.
func (p *python) Launch(handler string, paths sandbox.Paths, taskDir string, optDirs []string) (Launch, error) {
	if p.interp.Path == "" {
		return Launch{}, fmt.Errorf("%w: no interpreter for %s", ErrUnavailable, p.id)
	}
	boot := filepath.Join(paths.RuntimeDir, pythonBootstrap)
	return Launch{
		Path: p.interp.Path,
		Args: []string{p.interp.Path, "-B", boot, paths.Opt},
		Env: map[string]string{
			envExecutionEnv: executionEnvPrefix + p.id,
			envPythonPath:   paths.RuntimeDir,
		},
	}, nil
}
