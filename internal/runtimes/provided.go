package runtimes

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// Provided returns the custom runtime with identifier id (provided.al2023 or
// provided.al2): it execs the first existing of /var/task/bootstrap and
// /opt/bootstrap, as AWS's runtime does. Handler is passed through in
// _HANDLER only.
func Provided(id string) Runtime { return provided{id: id} }

type provided struct{ id string }

func (p provided) ID() string { return p.id }

func (p provided) Launch(handler string, paths sandbox.Paths, taskDir string, optDirs []string) (Launch, error) {
	if fi, err := os.Stat(filepath.Join(taskDir, "bootstrap")); err == nil && !fi.IsDir() {
		path := filepath.Join(paths.TaskRoot, "bootstrap")
		return Launch{Path: path, Args: []string{path}}, nil
	}
	// Layers merge in order with later ones winning, so search from the end.
	for i := len(optDirs) - 1; i >= 0; i-- {
		if fi, err := os.Stat(filepath.Join(optDirs[i], "bootstrap")); err == nil && !fi.IsDir() {
			path := filepath.Join(paths.Opt, "bootstrap")
			return Launch{Path: path, Args: []string{path}}, nil
		}
	}
	return Launch{}, fmt.Errorf("%w: Couldn't find valid bootstrap(s): [%s %s]", ErrInvalidEntrypoint,
		filepath.Join(paths.TaskRoot, "bootstrap"), filepath.Join(paths.Opt, "bootstrap"))
}
