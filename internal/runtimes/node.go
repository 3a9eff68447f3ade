package runtimes

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// node is a nodejs*.x managed runtime: the host node runs the embedded
// bootstrap.cjs from LAMBDA_RUNTIME_DIR.
type node struct {
	id     string
	interp Interpreter
}

func (n *node) ID() string { return n.id }

// Interpreter reports the host interpreter serving the runtime.
func (n *node) Interpreter() Interpreter { return n.interp }

// Launch starts `<node> <runtime dir>/bootstrap.cjs` with AWS's NODE_PATH
// (/opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:
// /var/runtime/node_modules:/var/runtime:/var/task) mapped onto paths. The
// handler is read from _HANDLER.
func (n *node) Launch(handler string, paths sandbox.Paths, taskDir string, optDirs []string) (Launch, error) {
	if n.interp.Path == "" {
		return Launch{}, fmt.Errorf("%w: no interpreter for %s", ErrUnavailable, n.id)
	}
	ver := strings.TrimSuffix(strings.TrimPrefix(n.id, "nodejs"), ".x")
	nodePath := strings.Join([]string{
		filepath.Join(paths.Opt, "nodejs", "node"+ver, "node_modules"),
		filepath.Join(paths.Opt, "nodejs", "node_modules"),
		filepath.Join(paths.RuntimeDir, "node_modules"),
		paths.RuntimeDir,
		paths.TaskRoot,
	}, ":")
	boot := filepath.Join(paths.RuntimeDir, nodeBootstrap)
	return Launch{
		Path: n.interp.Path,
		Args: []string{n.interp.Path, boot},
		Env: map[string]string{
			envExecutionEnv: executionEnvPrefix + n.id,
			envNodePath:     nodePath,
		},
	}, nil
}
