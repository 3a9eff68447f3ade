package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to the whole front end: it must not
// panic, findings must be *Problems, and a spec that loads must respect the
// ranges the validator promises.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		spec, _, err := Parse("testdata/fuzz.yml", src, Options{
			Getenv:     func(k string) string { return map[string]string{"A": "a"}[k] },
			InstanceID: "fuzz",
		})
		if err != nil {
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range joined.Unwrap() {
					var p *Problem
					if !errors.As(e, &p) || p.Code == "" {
						t.Fatalf("finding %v is not a coded *Problem", e)
					}
				}
			}
			return
		}
		if spec == nil || spec.Service == "" || spec.Stage == "" {
			t.Fatalf("Parse succeeded without service/stage: %+v", spec)
		}
		for _, fn := range spec.Functions {
			if fn.Name == "" || fn.MemorySize < 128 || fn.MemorySize > 10240 || fn.Timeout < 1 || fn.Timeout > 900 ||
				fn.EphemeralStorageSize < 512 || fn.EphemeralStorageSize > 10240 || len(fn.Layers) > maxLayers {
				t.Fatalf("function %+v breaks a promised range", fn)
			}
		}
	})
}
