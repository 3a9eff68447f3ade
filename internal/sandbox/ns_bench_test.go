package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// phases are the durations of one start, each from the beginning.
type phases struct{ created, started, ready time.Duration }

// startToReady creates an environment, starts a bash runtime that connects
// to its Runtime API and says HELLO, and returns how long that took until
// the listener read the HELLO. Destroy is not timed.
func startToReady(r Runner, i int, taskDir string) (ph phases, err error) {
	t0 := time.Now()
	e, err := r.Create(context.Background(), Spec{ID: fmt.Sprintf("bench%d", i), TaskDir: taskDir, MemoryMB: 512, TmpMB: 64})
	if err != nil {
		return ph, err
	}
	defer func() {
		if derr := e.Destroy(); err == nil {
			err = derr
		}
	}()
	ph.created = time.Since(t0)
	ln, err := e.Listen()
	if err != nil {
		return ph, err
	}
	defer ln.Close()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	err = e.Start(Process{
		Path: "/usr/bin/bash",
		Args: []string{"bash", "-c", `exec 3<>/dev/tcp/$H/$P; echo HELLO >&3; read -r x <&3`},
		Env:  []string{"H=" + host, "P=" + port},
		Dir:  e.Paths().TaskRoot, Stdout: io.Discard, Stderr: io.Discard,
	})
	if err != nil {
		return ph, err
	}
	ph.started = time.Since(t0)
	c, err := ln.Accept()
	if err != nil {
		return ph, err
	}
	defer c.Close()
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "HELLO\n" {
		return ph, fmt.Errorf("runtime said %q, %v", line, err)
	}
	ph.ready = time.Since(t0)
	return ph, nil
}

func mustStartToReady(b *testing.B, r Runner, i int, taskDir string) phases {
	ph, err := startToReady(r, i, taskDir)
	if err != nil {
		b.Fatal(err)
	}
	return ph
}

// BenchmarkStartToReady interleaves plain-process and namespaced starts of
// the same runtime and reports both means and their ratio.
func BenchmarkStartToReady(b *testing.B) {
	ns := newTestRunner(b, NamespacedOptions{Logger: slog.New(slog.DiscardHandler)})
	plain, err := NewPlain(PlainOptions{BaseDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { plain.Close() })
	task := taskDir(b, nil)
	var tp, tn, nc, ns2 []time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		tp = append(tp, mustStartToReady(b, plain, i, task).ready)
		ph := mustStartToReady(b, ns, i, task)
		tn, nc, ns2 = append(tn, ph.ready), append(nc, ph.created), append(ns2, ph.started)
		i++
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pp, pn := median(tp), median(tn)
	b.ReportMetric(ms(pp), "plain-p50-ms")
	b.ReportMetric(ms(pn), "namespaced-p50-ms")
	b.ReportMetric(ms(median(nc)), "ns-created-p50-ms")
	b.ReportMetric(ms(median(ns2)), "ns-started-p50-ms")
	b.ReportMetric(float64(pn)/float64(pp), "p50-ratio")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkFreezeThaw is one Freeze plus one Thaw of an idle environment
// (cgroup freezer, waiting until FROZEN).
func BenchmarkFreezeThaw(b *testing.B) {
	n := newTestRunner(b, NamespacedOptions{Logger: slog.New(slog.DiscardHandler)})
	s := startScript(b, n, Spec{}, `exec sleep 1000`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.env.Freeze(); err != nil {
			b.Fatal(err)
		}
		if err := s.env.Thaw(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateDestroy is the cost of an environment that never starts:
// cgroup creation with limits, network namespace with its listener(s), and
// their removal; with and without the egress proxy listener.
func BenchmarkCreateDestroy(b *testing.B) {
	for _, egress := range []bool{false, true} {
		b.Run(fmt.Sprintf("egress=%v", egress), func(b *testing.B) {
			n := newTestRunner(b, NamespacedOptions{EgressProxy: egress, Logger: slog.New(slog.DiscardHandler)})
			i := 0
			for b.Loop() {
				e, err := n.Create(context.Background(), Spec{ID: "cd" + strconv.Itoa(i), MemoryMB: 128, TmpMB: 16})
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Destroy(); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkBurst starts a burst of environments concurrently, each until its
// runtime reached the Runtime API (and destroys them), and reports
// environments per second.
func BenchmarkBurst(b *testing.B) {
	const burst = 20 // small: the benchmark host is shared
	n := newTestRunner(b, NamespacedOptions{Logger: slog.New(slog.DiscardHandler)})
	task := taskDir(b, nil)
	var total time.Duration
	round := 0
	for b.Loop() {
		t0 := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, burst)
		for j := range burst {
			wg.Go(func() { _, errs[j] = startToReady(n, round*burst+j, task) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		round++
	}
	b.ReportMetric(float64(burst*round)/total.Seconds(), "envs/s")
}
