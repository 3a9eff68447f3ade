// Package runtimes defines the Lambda runtimes lambdad can serve and how each
// one starts inside an execution environment: provided.al2023/provided.al2
// exec a `bootstrap`, python3.x and nodejs*.x run bootstraps written in this
// project (embedded in the binary) on the host's interpreters.
//
// It imports only the standard library and internal/sandbox (for Paths).
package runtimes

import (
	"errors"

	"github.com/lambdad/lambdad/internal/sandbox"
)

// Launch is how to start a runtime inside an environment.
type Launch struct {
	Path string   // executable as seen inside the environment
	Args []string // argv including argv[0]
	// Env holds runtime-specific variables (AWS_EXECUTION_ENV, PYTHONPATH,
	// NODE_PATH, ...) that the environment merges into the Lambda variables.
	Env map[string]string
}

// ErrInvalidEntrypoint reports that no usable entry point exists; the
// environment turns it into Runtime.InvalidEntrypoint with the error's text.
var ErrInvalidEntrypoint = errors.New("invalid entrypoint")

// ErrUnavailable reports that the host cannot serve the runtime (for example a
// missing interpreter); its text names what is missing.
var ErrUnavailable = errors.New("runtime unavailable on this host")

// Runtime is one runtime identifier's start recipe.
type Runtime interface {
	// ID is the Lambda runtime identifier, e.g. "provided.al2023".
	ID() string
	// Launch computes the command for handler in an environment whose Lambda
	// paths are p. taskDir and optDirs are the host paths of the code and
	// layers, for existence checks of files such as bootstrap. Errors wrap
	// ErrInvalidEntrypoint or ErrUnavailable.
	Launch(handler string, p sandbox.Paths, taskDir string, optDirs []string) (Launch, error)
}
