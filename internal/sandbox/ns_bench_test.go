package sandbox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"
)

// startToReady creates an environment, starts a bash runtime that connects
// to its Runtime API and says HELLO, and returns how long that took until
// the listener read the HELLO. Destroy is not timed.
func startToReady(b *testing.B, r Runner, i int, taskDir string) time.Duration {
	t0 := time.Now()
	e, err := r.Create(context.Background(), Spec{ID: fmt.Sprintf("bench%d", i), TaskDir: taskDir, MemoryMB: 512, TmpMB: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := e.Destroy(); err != nil {
			b.Fatal(err)
		}
	}()
	ln, err := e.Listen()
	if err != nil {
		b.Fatal(err)
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
		b.Fatal(err)
	}
	c, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "HELLO\n" {
		b.Fatalf("runtime said %q, %v", line, err)
	}
	return time.Since(t0)
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
	var tp, tn time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		tp += startToReady(b, plain, i, task)
		tn += startToReady(b, ns, i, task)
		i++
	}
	n := float64(i)
	b.ReportMetric(float64(tp.Microseconds())/n/1000, "plain-ms")
	b.ReportMetric(float64(tn.Microseconds())/n/1000, "namespaced-ms")
	b.ReportMetric(float64(tn)/float64(tp), "ratio")
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
// cgroup creation with limits, network namespace with its listener, and
// their removal.
func BenchmarkCreateDestroy(b *testing.B) {
	n := newTestRunner(b, NamespacedOptions{Logger: slog.New(slog.DiscardHandler)})
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
}
