package sandbox_test

import (
	"testing"

	"github.com/lambdad/lambdad/internal/sandbox"
	"github.com/lambdad/lambdad/internal/sandbox/sandboxtest"
)

func TestPlainConformance(t *testing.T) {
	sandboxtest.Run(t, sandboxtest.Options{
		NewRunner: func(t *testing.T) sandbox.Runner {
			r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
	})
}

func TestPlainRejectsBadID(t *testing.T) {
	r, err := sandbox.NewPlain(sandbox.PlainOptions{BaseDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, id := range []string{"", "..", "a/b"} {
		if _, err := r.Create(t.Context(), sandbox.Spec{ID: id}); err == nil {
			t.Errorf("Create(id %q) = nil error", id)
		}
	}
}
