package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const crashHelperEnv = "LAMBDAD_SBX_CRASH_HELPER"

// TestNamespacedCrashHelper is the "daemon" that TestNamespacedSweepAfterCrash
// kills with SIGKILL. It only runs as that test's child process.
func TestNamespacedCrashHelper(t *testing.T) {
	if os.Getenv(crashHelperEnv) == "" {
		t.Skip("helper process for TestNamespacedSweepAfterCrash")
	}
	n, err := NewNamespaced(NamespacedOptions{Prefix: os.Getenv("LBD_PREFIX"), StateDir: os.Getenv("LBD_STATE")})
	if err != nil {
		t.Fatal(err)
	}
	var pids []string
	for i, freeze := range []bool{true, false} {
		s := startScript(t, n, Spec{ID: fmt.Sprintf("crash%d", i)}, `setsid sleep 1000 & exec sleep 1000`)
		waitFor(t, "processes", func() bool { p, _ := s.env.pids(); return len(p) == 3 })
		if freeze {
			if err := s.env.Freeze(); err != nil {
				t.Fatal(err)
			}
		}
		p, _ := s.env.pids()
		for _, pid := range p {
			pids = append(pids, strconv.Itoa(pid))
		}
		if !freeze {
			pids = append(pids, "running")
		}
	}
	fmt.Printf("ready %s\n", strings.Join(pids, " "))
	// Block until killed.
	bufio.NewReader(os.Stdin).ReadString('\n')
	t.Fatal("crash helper was not killed")
}

func TestNamespacedSweepAfterCrash(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("namespaced sandbox tests need root")
	}
	prefix, state := "lbdtest-"+randToken(t), t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNamespacedCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1", "LBD_PREFIX="+prefix, "LBD_STATE="+state)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var frozenPids, runningPids []int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "ready ")
		if !ok {
			if strings.Contains(sc.Text(), "SKIP") {
				cmd.Wait()
				t.Skipf("crash helper skipped: %s", sc.Text())
			}
			continue
		}
		f := strings.Fields(rest)
		for i, s := range f {
			if s == "running" {
				runningPids = append(runningPids, toInts(t, f[3:i])...)
				break
			}
			if i < 3 {
				frozenPids = append(frozenPids, toInts(t, []string{s})...)
			}
		}
		break
	}
	if len(frozenPids) != 3 || len(runningPids) != 3 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("crash helper reported frozen %v running %v", frozenPids, runningPids)
	}
	// The daemon crashes.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// Pdeathsig: the running environment dies with its daemon, daemonised
	// grandchild included (the PID namespace goes with its init).
	waitFor(t, "running environment to die with its daemon", func() bool {
		for _, pid := range runningPids {
			if !processGone(pid) {
				return false
			}
		}
		return true
	})
	survivors := 0
	for _, pid := range frozenPids {
		if !processGone(pid) {
			survivors++
		}
	}
	t.Logf("%d processes of the frozen environment survived the daemon (cgroup v1 freezer defers SIGKILL)", survivors)

	// The next start-up sweeps.
	n := newTestRunner(t, NamespacedOptions{Prefix: prefix, StateDir: state})
	// The sweep returns once the cgroups are empty; a killed task leaves its
	// cgroup early in exit, so wait for the exits to finish.
	waitFor(t, "swept processes to exit", func() bool {
		for _, pid := range frozenPids {
			if !processGone(pid) {
				return false
			}
		}
		return true
	})
	for _, p := range n.cg.parents {
		ents, err := os.ReadDir(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() {
				t.Errorf("cgroup %s survived the sweep", filepath.Join(p, e.Name()))
			}
		}
	}
}

func toInts(t *testing.T, ss []string) []int {
	t.Helper()
	var out []int
	for _, s := range ss {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("parse pid %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}
