package sandbox_test

import (
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/lambdad/lambdad/internal/sandbox"
	"github.com/lambdad/lambdad/internal/sandbox/sandboxtest"
)

func TestNamespacedConformance(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("namespaced sandbox needs root")
	}
	var n int
	sandboxtest.Run(t, sandboxtest.Options{
		NewRunner: func(t *testing.T) sandbox.Runner {
			n++
			r, err := sandbox.NewNamespaced(sandbox.NamespacedOptions{
				Prefix:   "lbdtest-conf-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(n),
				StateDir: t.TempDir(),
				Logger:   slog.New(slog.NewTextHandler(t.Output(), nil)),
			})
			if errors.Is(err, sandbox.ErrUnsupported) {
				t.Skipf("namespaced sandbox unsupported here: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		KillsSessionLeavers: true,
	})
}
