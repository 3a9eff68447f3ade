package main

import (
	"fmt"
	"slices"
	"time"
)

// samples is a set of latencies of one measurement.
type samples []time.Duration

// pct returns the p-th percentile (0 < p ≤ 100, nearest rank).
func (s samples) pct(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	i := int(float64(len(c))*p/100+0.5) - 1
	i = max(0, min(i, len(c)-1))
	return c[i]
}

func (s samples) p50() time.Duration { return s.pct(50) }
func (s samples) p99() time.Duration { return s.pct(99) }

// ms formats d in milliseconds with a precision that suits its size.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "-"
	case f < 1:
		return fmt.Sprintf("%.3f", f)
	case f < 100:
		return fmt.Sprintf("%.2f", f)
	default:
		return fmt.Sprintf("%.0f", f)
	}
}

// result is one row of the report.
type result struct {
	name    string
	lat     samples
	elapsed time.Duration // wall time of the closed-loop runs (for req/s)
	count   int           // requests completed in elapsed
	errs    int
	extra   string // free-form note printed after the row
	// CPU used by the server process and by its child processes (workers,
	// environments) during the measured requests.
	cpuSelf, cpuKids time.Duration
}

func (r *result) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.count) / r.elapsed.Seconds()
}

func (r *result) add(o *result) {
	r.lat = append(r.lat, o.lat...)
	r.elapsed += o.elapsed
	r.count += o.count
	r.errs += o.errs
	r.cpuSelf += o.cpuSelf
	r.cpuKids += o.cpuKids
}

// cpuPerReq formats the server-side CPU per request in µs.
func (r *result) cpuPerReq() string {
	if r.count == 0 || r.cpuSelf+r.cpuKids == 0 {
		return ""
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(r.count) }
	return fmt.Sprintf("server CPU %.0f µs/req (server process %.0f + workers/envs %.0f)", us(r.cpuSelf+r.cpuKids), us(r.cpuSelf), us(r.cpuKids))
}
