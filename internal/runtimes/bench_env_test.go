package runtimes_test

import (
	"slices"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/environment"
)

// BenchmarkWarmInvoke measures a warm invocation of an echo function through
// internal/environment (plain sandbox): Invoke → event handed to the
// runtime's /next → /response → the runtime's next /next. It reports p50 and
// p99 (issue #4's target: warm p50 ≤ 2× floor B of perf-floors.md, ~0.33 ms
// on this machine kind; the plain sandbox freezes and thaws the environment
// around every invoke, as lambdad does).
func BenchmarkWarmInvoke(b *testing.B) {
	for _, bc := range []struct{ id, dir, handler string }{
		{"python3.12", "bench/python", "echo.handler"},
		{"nodejs20.x", "bench/node", "index.handler"},
	} {
		b.Run(bc.id, func(b *testing.B) {
			s := startEnvB(b, envCase{id: bc.id, task: tdB(b, bc.dir), handler: bc.handler})
			payload := []byte(`{"hello":"world"}`)
			if res, err := s.env.Invoke(b.Context(), environment.Invocation{Payload: payload}); err != nil || string(res.Payload) != `{"hello": "world"}` && string(res.Payload) != `{"hello":"world"}` {
				b.Fatalf("warm-up invoke = %s, %v", res.Payload, err)
			}
			var ds []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				res, err := s.env.Invoke(b.Context(), environment.Invocation{Payload: payload})
				ds = append(ds, time.Since(t0))
				if err != nil || res.FunctionError != "" {
					b.Fatalf("invoke = %s, %v", res.Payload, err)
				}
			}
			slices.Sort(ds)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
			b.ReportMetric(ms(ds[len(ds)*99/100]), "p99-ms")
		})
	}
}
