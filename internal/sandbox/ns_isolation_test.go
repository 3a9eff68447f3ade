package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkScript prints "name=value" lines that the test compares.
const checkScript = `
ok() { if "$@" 2>/dev/null; then echo yes; else echo no; fi; }
echo "uid=$(id -u)"
echo "user=$(id -un)"
echo "gid=$(id -g)"
echo "groups=$(id -G)"
echo "cwd=$(pwd)"
echo "hostname=$(hostname)"
echo "capeff=$(awk '/^CapEff/{print $2}' /proc/self/status)"
echo "capbnd=$(awk '/^CapBnd/{print $2}' /proc/self/status)"
echo "nnp=$(awk '/^NoNewPrivs/{print $2}' /proc/self/status)"
echo "hostpid_visible=$(ok test -e /proc/$HOST_PID)"
echo "max_pid=$(ls /proc | grep '^[0-9]*$' | sort -n | tail -1)"
echo "write_task=$(ok touch /var/task/x)"
echo "write_opt=$(ok touch /opt/x)"
echo "write_root=$(ok touch /x)"
echo "write_etc=$(ok touch /etc/x)"
echo "write_usr=$(ok touch /usr/x)"
echo "write_dev=$(ok touch /dev/x)"
echo "write_runtime=$(ok touch /var/runtime/x)"
echo "write_tmp=$(ok touch /tmp/x)"
echo "host_tmp_marker=$(ok test -e /tmp/$MARKER)"
echo "tmp_over_limit=$(ok sh -c 'head -c 17m /dev/zero > /tmp/big')"
rm -f /tmp/big
echo "tmp_under_limit=$(ok sh -c 'head -c 8m /dev/zero > /tmp/small')"
echo "opt_a=$(cat /opt/a)"
echo "opt_b=$(cat /opt/b)"
echo "runtime_file=$(cat /var/runtime/bootstrap)"
echo "root_home=$(ok ls /root)"
echo "work=$(ok ls /work)"
echo "devnull=$(ok sh -c 'echo x > /dev/null')"
echo "python=$(/usr/bin/python3 -c 'print(6*7)')"
echo "setuid_su=$(ok su -c true)"
echo "env_leak=$(ok test -n "$HOME")"
echo "net=$(ok bash -c 'echo x > /dev/tcp/'$HOST_ADDR)"
`

func parseKV(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

func TestNamespacedIsolation(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	marker := "lbdtest-marker-" + randToken(t)
	hostMarker := filepath.Join(os.TempDir(), marker)
	if err := os.WriteFile(hostMarker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(hostMarker) })
	// A host loopback service the environment must not reach.
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostLn.Close()
	hostPort := hostLn.Addr().(*net.TCPAddr).Port

	l1 := taskDir(t, map[string]string{"a": "1", "b": "1"})
	l2 := taskDir(t, map[string]string{"b": "2"})
	rt := taskDir(t, map[string]string{"bootstrap": "rt"})
	s := startScript(t, n, Spec{Hostname: "fn-host", LayerDirs: []string{l1, l2}, RuntimeDir: rt, TmpMB: 16}, checkScript,
		"HOST_PID="+strconv.Itoa(os.Getpid()), "MARKER="+marker, fmt.Sprintf("HOST_ADDR=127.0.0.1/%d", hostPort))
	ex := s.env.Wait()
	if ex.Code != 0 || ex.Err != nil {
		t.Fatalf("check script: %v\nstderr:\n%s", ex, s.stderr)
	}
	got := parseKV(s.stdout.String())
	want := map[string]string{
		"uid": "993", "user": "sbx_user1051", "gid": "993", "groups": "993", "cwd": "/var/task", "hostname": "fn-host",
		"capeff": "0000000000000000", "capbnd": "0000000000000000", "nnp": "1",
		"hostpid_visible": "no",
		"write_task":      "no", "write_opt": "no", "write_root": "no", "write_etc": "no", "write_usr": "no",
		"write_dev": "no", "write_runtime": "no", "write_tmp": "yes",
		"host_tmp_marker": "no", "tmp_over_limit": "no", "tmp_under_limit": "yes",
		"opt_a": "1", "opt_b": "2", "runtime_file": "rt",
		"root_home": "no", "work": "no", "devnull": "yes", "python": "42",
		"setuid_su": "no", "env_leak": "no", "net": "no",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("inside sandbox %s = %q, want %q", k, got[k], w)
		}
	}
	if mp, err := strconv.Atoi(got["max_pid"]); err != nil || mp > 20 {
		t.Errorf("inside sandbox highest visible pid = %q, want a small pid namespace", got["max_pid"])
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
	}
}

// noPendingConn reports whether ln has no connection waiting in its backlog,
// without blocking.
func noPendingConn(t *testing.T, ln net.Listener) bool {
	t.Helper()
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var aerr error
	err = rc.Control(func(fd uintptr) {
		nfd, _, err := syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
		if err == nil {
			syscall.Close(nfd)
		}
		aerr = err
	})
	if err != nil {
		t.Fatal(err)
	}
	return errors.Is(aerr, syscall.EAGAIN)
}

func TestNamespacedRuntimeAPIPrivate(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	type envLn struct {
		s  started
		ln net.Listener
	}
	var envs []envLn
	for _, name := range []string{"a", "b"} {
		id := "rapi" + name + randToken(t)
		e, err := n.Create(context.Background(), Spec{ID: id, TaskDir: taskDir(t, map[string]string{
			"run.sh": `bash -c 'exec 3<>/dev/tcp/127.0.0.1/9001; echo "hello-$ME" >&3; read -r reply <&3; echo "$reply"'`,
		}), MemoryMB: 256, TmpMB: 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Destroy() })
		ln, err := e.Listen()
		if err != nil {
			t.Fatal(err)
		}
		if ln.Addr().String() != RuntimeAPIAddr {
			t.Errorf("Listen().Addr() = %s, want %s", ln.Addr(), RuntimeAPIAddr)
		}
		envs = append(envs, envLn{s: started{env: e.(*nsEnv), stdout: &syncBuffer{}, stderr: &syncBuffer{}}, ln: ln})
	}
	// The host cannot connect to any environment's Runtime API: whatever
	// answers (or not) on the host's loopback Runtime API port, it is not them.
	if c, err := net.Dial("tcp", RuntimeAPIAddr); err == nil {
		c.Close()
	}
	for i, el := range envs {
		if !noPendingConn(t, el.ln) {
			t.Errorf("env %d: a host connection reached its Runtime API", i)
		}
	}
	for i, el := range envs {
		me := string(rune('a' + i))
		err := el.s.env.Start(Process{Path: "/bin/sh", Args: []string{"sh", "/var/task/run.sh"},
			Env: []string{"PATH=/usr/bin", "ME=" + me}, Stdout: el.s.stdout, Stderr: el.s.stderr})
		if err != nil {
			t.Fatal(err)
		}
		c, err := el.ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if want := "hello-" + me + "\n"; line != want {
			t.Errorf("env %s Runtime API got %q, want %q", me, line, want)
		}
		io.WriteString(c, "pong-"+me+"\n")
		c.Close()
		if ex := el.s.env.Wait(); ex.Code != 0 {
			t.Errorf("env %s: %v: %s", me, ex, el.s.stderr)
		}
		if got, want := strings.TrimSpace(el.s.stdout.String()), "pong-"+me; got != want {
			t.Errorf("env %s runtime read %q, want %q", me, got, want)
		}
		// The other environment received nothing.
		if !noPendingConn(t, envs[1-i].ln) {
			t.Errorf("env %s reached the other environment's Runtime API", me)
		}
	}
}

func TestNamespacedExecError(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	e, err := n.Create(context.Background(), Spec{ID: "execerr" + randToken(t), TaskDir: taskDir(t, nil), MemoryMB: 128, TmpMB: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Destroy()
	err = e.Start(Process{Path: "/var/task/missing", Args: []string{"missing"}})
	if err == nil || !strings.Contains(err.Error(), "exec /var/task/missing") {
		t.Fatalf("Start(missing) = %v, want an exec error", err)
	}
	if ex := e.Wait(); ex.Err == nil {
		t.Errorf("Wait() after failed start = %v, want an error", ex)
	}
}

func TestNamespacedSignalForwarded(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{}, `trap 'exit 42' TERM; echo ready; while :; do sleep 1 & wait; done`)
	waitFor(t, "runtime ready", func() bool { return strings.Contains(s.stdout.String(), "ready") })
	if err := s.env.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if ex := s.env.Wait(); ex.Code != 42 {
		t.Errorf("Wait() after SIGTERM = %v, want exit status 42", ex)
	}
}

func TestNamespacedForkBomb(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{MemoryMB: 512}, `exec /usr/bin/python3 -c '
import os, signal, sys
n = 0
try:
    while n < 5000:
        if os.fork() == 0:
            signal.pause()
            os._exit(0)
        n += 1
except OSError as e:
    print("stopped", n, e.errno, flush=True)
    sys.exit(0)
print("unbounded", n, flush=True)
'`)
	ex := s.env.Wait()
	out := strings.Fields(s.stdout.String())
	if len(out) != 3 || out[0] != "stopped" || out[2] != strconv.Itoa(int(syscall.EAGAIN)) {
		t.Fatalf("fork bomb output %q (exit %v, stderr %s), want stopped N EAGAIN", out, ex, s.stderr)
	}
	if forks, _ := strconv.Atoi(out[1]); forks >= pidsMax {
		t.Errorf("fork bomb made %d processes, want < %d", forks, pidsMax)
	}
	t.Logf("fork bomb stopped after %s forks", out[1])
}

func TestNamespacedOOM(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{MemoryMB: 128}, `exec /usr/bin/python3 -c 'b = b"x" * (200 << 20); print("survived")'`)
	ex := s.env.Wait()
	if !ex.OOMKilled || ex.Signal != syscall.SIGKILL {
		t.Errorf("Wait() = %+v (%v), want OOMKilled by SIGKILL; stdout %q stderr %q", ex, ex, s.stdout, s.stderr)
	}
	peak := s.env.Stats().PeakMemoryBytes
	if peak < 100<<20 || peak > 129<<20 {
		t.Errorf("PeakMemoryBytes = %d MiB, want about the 128 MiB limit", peak>>20)
	}
	if err := s.env.Destroy(); err != nil {
		t.Fatal(err)
	}
	if after := s.env.Stats().PeakMemoryBytes; after != peak {
		t.Errorf("PeakMemoryBytes after Destroy = %d, want %d", after, peak)
	}
	// The next environment of the same size works.
	s2 := startScript(t, n, Spec{MemoryMB: 128}, `exec /usr/bin/python3 -c 'b = b"x" * (20 << 20); print("ok")'`)
	if ex := s2.env.Wait(); ex.Code != 0 || ex.OOMKilled || strings.TrimSpace(s2.stdout.String()) != "ok" {
		t.Errorf("second env: %+v stdout %q", ex, s2.stdout)
	}
	if peak := s2.env.Stats().PeakMemoryBytes; peak < 20<<20 {
		t.Errorf("second env PeakMemoryBytes = %d, want >= 20 MiB", peak)
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (a hang guard, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// counter reads the integer a counting runtime keeps in /tmp/c, through
// the sandbox init's root.
func counter(e *nsEnv) (raw []byte, v int, ok bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/c", e.proc.Pid))
	if err != nil {
		return nil, 0, false
	}
	v, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	return raw, v, err == nil
}

func TestNamespacedFreeze(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	const script = `exec bash -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/c; done'`
	a := startScript(t, n, Spec{}, script)
	b := startScript(t, n, Spec{}, script) // witness: shows time passing
	waitFor(t, "counters running", func() bool {
		_, va, oka := counter(a.env)
		_, vb, okb := counter(b.env)
		return oka && okb && va > 0 && vb > 0
	})
	if err := a.env.Freeze(); err != nil {
		t.Fatal(err)
	}
	frozen, _, _ := counter(a.env)
	_, b0, _ := counter(b.env)
	waitFor(t, "witness to advance", func() bool {
		_, vb, ok := counter(b.env)
		return ok && vb > b0+500
	})
	if now, _, _ := counter(a.env); string(now) != string(frozen) {
		t.Errorf("frozen counter moved from %q to %q", frozen, now)
	}
	_, a0, _ := counter(a.env)
	if err := a.env.Thaw(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "thawed counter to advance", func() bool {
		_, va, ok := counter(a.env)
		return ok && va > a0
	})
}

// processGone reports whether pid has exited: no such process, or a zombie
// waiting for its (host) parent to reap it.
func processGone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state ...; comm may contain spaces or parentheses.
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func TestNamespacedDestroy(t *testing.T) {
	for _, frozen := range []bool{false, true} {
		t.Run(fmt.Sprintf("frozen=%v", frozen), func(t *testing.T) {
			n := newTestRunner(t, NamespacedOptions{})
			// Two daemonised grandchildren (setsid, double fork) besides the runtime.
			s := startScript(t, n, Spec{}, `setsid sh -c 'sleep 1000 & sleep 1000 &' ; echo ready; exec sleep 1000`)
			waitFor(t, "daemons started", func() bool {
				pids, _ := s.env.pids()
				return strings.Contains(s.stdout.String(), "ready") && len(pids) >= 4
			})
			pids, err := s.env.pids()
			if err != nil {
				t.Fatal(err)
			}
			if frozen {
				if err := s.env.Freeze(); err != nil {
					t.Fatal(err)
				}
			}
			dirs := make([]string, 0, len(s.env.cg.dirs))
			for _, d := range s.env.cg.dirs {
				dirs = append(dirs, d)
			}
			if err := s.env.Destroy(); err != nil {
				t.Fatal(err)
			}
			for _, pid := range pids {
				if !processGone(pid) {
					t.Errorf("process %d survived Destroy", pid)
				}
			}
			for _, d := range dirs {
				if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("cgroup %s survived Destroy", d)
				}
			}
			mi, err := os.ReadFile("/proc/self/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(mi), n.rootDir) {
				t.Errorf("a sandbox mount leaked into the host mount namespace")
			}
			if ex := s.env.Wait(); ex.Signal != syscall.SIGKILL {
				t.Errorf("Wait() after Destroy = %v, want signal: killed", ex)
			}
			if err := s.env.Destroy(); err != nil {
				t.Errorf("second Destroy: %v", err)
			}
		})
	}
}

func TestNamespacedHostPaths(t *testing.T) {
	const py = "/root/.pyenv/versions/3.12.1"
	if _, err := os.Stat(py + "/bin/python3"); err != nil {
		t.Skipf("no pyenv interpreter on this host: %v", err)
	}
	n := newTestRunner(t, NamespacedOptions{HostPaths: []string{py}})
	s := startScript(t, n, Spec{}, `exec `+py+`/bin/python3 -c 'import os; print(os.getuid(), sorted(os.listdir("/root")))'`)
	if ex := s.env.Wait(); ex.Code != 0 {
		t.Fatalf("python from HostPaths: %v: %s", ex, s.stderr)
	}
	if got, want := strings.TrimSpace(s.stdout.String()), "993 ['.pyenv']"; got != want {
		t.Errorf("python from HostPaths printed %q, want %q", got, want)
	}
}

func TestNamespacedSharedNetwork(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{SharedNetwork: true})
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostLn.Close()
	e, err := n.Create(context.Background(), Spec{ID: "shared" + randToken(t), TaskDir: taskDir(t, nil), MemoryMB: 128, TmpMB: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Destroy()
	ln, err := e.Listen()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	hp := strings.Replace(hostLn.Addr().String(), ":", "/", 1)
	rp := strings.Replace(ln.Addr().String(), ":", "/", 1)
	err = e.Start(Process{Path: "/usr/bin/bash", Args: []string{"bash", "-c",
		`echo host > /dev/tcp/` + hp + ` && echo rapi > /dev/tcp/` + rp},
		Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]net.Listener{"host service": hostLn, "runtime API": ln} {
		c, err := l.Accept()
		if err != nil {
			t.Fatalf("accept from %s: %v", name, err)
		}
		c.Close()
	}
	if ex := e.Wait(); ex.Code != 0 {
		t.Errorf("runtime: %v: %s", ex, out)
	}
}

// A child of the runtime hits the limit: the whole environment goes, as with
// v2's memory.oom.group, and the exit says OOMKilled.
func TestNamespacedOOMChildKillsEnv(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{MemoryMB: 128}, `/usr/bin/python3 -c 'b = b"x" * (200 << 20)'; echo runtime-alive; exec sleep 1000`)
	select {
	case <-s.env.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("environment still running after its child's OOM kill; stdout %q", s.stdout)
	}
	if ex := s.env.Wait(); !ex.OOMKilled || ex.Signal != syscall.SIGKILL {
		t.Errorf("Wait() = %+v, want OOMKilled by SIGKILL", ex)
	}
}

// SIGKILL of a frozen environment must end it (v1-frozen tasks ignore
// SIGKILL until thawed), also when the runtime is multi-threaded.
func TestNamespacedKillFrozen(t *testing.T) {
	n := newTestRunner(t, NamespacedOptions{})
	s := startScript(t, n, Spec{}, `exec /usr/bin/python3 -c '
import threading, time
threading.Thread(target=lambda: time.sleep(1000), daemon=True).start()
print("ready", flush=True)
time.sleep(1000)'`)
	waitFor(t, "runtime ready", func() bool { return strings.Contains(s.stdout.String(), "ready") })
	if err := s.env.Freeze(); err != nil {
		t.Fatal(err)
	}
	if err := s.env.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.env.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("frozen environment did not die of SIGKILL")
	}
	if ex := s.env.Wait(); ex.Signal != syscall.SIGKILL {
		t.Errorf("Wait() = %v, want signal: killed", ex)
	}
}
