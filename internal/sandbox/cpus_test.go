package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestCPUsFor(t *testing.T) {
	for _, c := range []struct{ mb, want int }{{128, 1}, {1769, 1}, {1770, 2}, {3008, 2}, {10240, 6}} {
		if got := CPUsFor(c.mb); got != c.want {
			t.Errorf("CPUsFor(%d) = %d, want %d", c.mb, got, c.want)
		}
	}
}

func TestCPUPlacerSpreadsAndReleases(t *testing.T) {
	p := &cpuPlacer{cpus: []int{0, 1, 2, 3}, load: make([]int, 4)}
	var got []int
	var pls []*placement
	for range 8 {
		pl := p.take(128)
		pls = append(pls, pl)
		got = append(got, p.cpus[pl.idx[0]])
	}
	if fmt.Sprint(p.load) != "[2 2 2 2]" {
		t.Fatalf("8 one-CPU environments on 4 CPUs: load %v (CPUs %v)", p.load, got)
	}
	if pl := p.take(4000); len(pl.idx) != 3 || p.load[pl.idx[0]] != 3 {
		t.Fatalf("a 4000 MB function: %v", pl.idx)
	} else {
		p.release(pl)
	}
	if p.take(10240) != nil {
		t.Fatal("a function wanting every CPU got a mask")
	}
	for _, pl := range pls {
		p.release(pl)
	}
	if fmt.Sprint(p.load) != "[0 0 0 0]" {
		t.Fatalf("load after release: %v", p.load)
	}
	var nilPlacer *cpuPlacer
	if nilPlacer.take(128) != nil {
		t.Fatal("nil placer placed")
	}
}

// TestPlainCPUAffinity: a 128 MB function's runtime sees one CPU (from its
// first instruction: the mask is inherited at fork), and the daemon
// thread's own mask is left as it was.
func TestPlainCPUAffinity(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to place")
	}
	r, err := NewPlain(PlainOptions{BaseDir: t.TempDir(), CPUAffinity: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e, err := r.Create(context.Background(), Spec{ID: "aff", MemoryMB: 128, TmpMB: 512})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.Start(Process{Path: "/bin/sh", Args: []string{"sh", "-c", "grep Cpus_allowed_list /proc/self/status"}, Stdout: &out, Stderr: &out}); err != nil {
		t.Fatal(err)
	}
	<-e.Done()
	list := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out.String()), "Cpus_allowed_list:"))
	if strings.ContainsAny(list, ",-") || list == "" {
		t.Errorf("runtime's CPUs = %q, want exactly one", list)
	}
	var m cpuMask
	if err := schedGetaffinity(&m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for cpu := 0; cpu < len(m)*64; cpu++ {
		if m.has(cpu) {
			n++
		}
	}
	if n != runtime.NumCPU() {
		t.Errorf("the test thread is left with %d CPUs, want %d", n, runtime.NumCPU())
	}
	if err := e.Destroy(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.placer.load) != fmt.Sprint(make([]int, len(r.placer.cpus))) {
		t.Errorf("load after Destroy: %v", r.placer.load)
	}
}

// TestNamespacedCPUAffinity: the sandbox's processes (the runtime under
// the sandbox init) get CPUsFor(MemoryMB) CPUs.
func TestNamespacedCPUAffinity(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: nothing to place")
	}
	n := newTestRunner(t, NamespacedOptions{CPUAffinity: true})
	s := startScript(t, n, Spec{MemoryMB: 128}, `grep Cpus_allowed_list /proc/self/status`)
	if ex := s.env.Wait(); ex.Code != 0 {
		t.Fatalf("exit %v: %s", ex, s.stderr)
	}
	list := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s.stdout.String()), "Cpus_allowed_list:"))
	if strings.ContainsAny(list, ",-") || list == "" {
		t.Errorf("runtime's CPUs = %q, want exactly one", list)
	}
}
