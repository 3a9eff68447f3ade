package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestCgroupLimits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("cgroup tests need root")
	}
	prefix := "lbdtest-" + randToken(t)
	d, err := detectCgroups(prefix, true)
	if err != nil {
		t.Skipf("no usable cgroups: %v", err)
	}
	if err := d.setup(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.teardown(); err != nil {
			t.Error(err)
		}
	})
	cg, err := d.create("limits", 128)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cg.remove(); err != nil {
			t.Error(err)
		}
	})
	mem := strconv.Itoa(128 << 20)
	if d.v2 {
		want := map[string]string{
			"memory.max": mem, "memory.oom.group": "1", "pids.max": "1024",
			"cpu.weight": "7", "cpu.max": "7235 100000",
		}
		if _, err := os.Stat(filepath.Join(cg.dirs[""], "memory.swap.max")); err == nil {
			want["memory.swap.max"] = "0"
		}
		for f, w := range want {
			if got := readTrim(t, filepath.Join(cg.dirs[""], f)); got != w {
				t.Errorf("%s = %q, want %q", f, got, w)
			}
		}
		return
	}
	checks := []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", mem},
		{"cpu", "cpu.shares", "74"}, // 128 MB of 1769 MB per vCPU × 1024
		{"cpu", "cpu.cfs_quota_us", "7235"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"pids", "pids.max", "1024"},
	}
	if _, err := os.Stat(filepath.Join(cg.dirs["memory"], "memory.memsw.limit_in_bytes")); err == nil {
		checks = append(checks, struct{ ctrl, file, want string }{"memory", "memory.memsw.limit_in_bytes", mem})
	}
	for _, c := range checks {
		if got := readTrim(t, filepath.Join(cg.dirs[c.ctrl], c.file)); got != c.want {
			t.Errorf("%s = %q, want %q", c.file, got, c.want)
		}
	}
}

// cgroup2Mount returns the cgroup2 mountpoint: /sys/fs/cgroup on a v2 host,
// the (controller-less) unified tree on a hybrid one.
func cgroup2Mount() string {
	for _, p := range []string{cgroupsMountpoint, filepath.Join(cgroupsMountpoint, "unified")} {
		var st syscall.Statfs_t
		if syscall.Statfs(p, &st) == nil && st.Type == cgroup2SuperMagic {
			return p
		}
	}
	return ""
}

// TestCgroupV2FreezeKill exercises the v2 freeze, thaw, kill and
// CLONE_INTO_CGROUP paths on whatever cgroup2 tree the host has (on a
// hybrid host: the unified tree, which has no controllers but does have
// cgroup.freeze and cgroup.kill).
func TestCgroupV2FreezeKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("cgroup tests need root")
	}
	mp := cgroup2Mount()
	if mp == "" {
		t.Skip("no cgroup2 mount")
	}
	parent := filepath.Join(mp, "lbdtest-"+randToken(t))
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Rmdir(parent) })
	d := &cgroupDriver{v2: true, parents: map[string]string{"": parent}}
	cg := &envCgroup{d: d, dirs: map[string]string{"": filepath.Join(parent, "env")}}
	if err := os.Mkdir(cg.dirs[""], 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cg.dirs[""], "cgroup.kill")); err != nil {
		syscall.Rmdir(cg.dirs[""])
		t.Skipf("kernel without cgroup.kill: %v", err)
	}
	t.Cleanup(func() {
		if err := cg.remove(); err != nil {
			t.Error(err)
		}
	})
	f, err := cg.openDir()
	if err != nil {
		t.Fatal(err)
	}
	counterFile := filepath.Join(t.TempDir(), "c")
	// A counter plus a daemonised grandchild, born in the cgroup.
	cmd := exec.Command("/usr/bin/bash", "-c", `setsid sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > `+counterFile+`; done`)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	err = cmd.Start()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	waitCh := make(chan error, 1)
	go func() { waitCh <- cmd.Wait() }()
	read := func() (string, int) {
		b, _ := os.ReadFile(counterFile)
		v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return string(b), v
	}
	waitFor(t, "counter and daemon in the cgroup", func() bool {
		pids, _ := cg.pids()
		_, v := read()
		return len(pids) == 2 && v > 0
	})
	if err := cg.freeze(); err != nil {
		t.Fatal(err)
	}
	frozen, _ := read()
	// Witness: a process outside the cgroup does work meanwhile.
	for range 3 {
		if err := exec.Command("/usr/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
	}
	if now, _ := read(); now != frozen {
		t.Errorf("counter moved while frozen: %q -> %q", frozen, now)
	}
	_, v0 := read()
	if err := cg.thaw(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "thawed counter", func() bool { _, v := read(); return v > v0 })
	pids, _ := cg.pids()
	if err := cg.freeze(); err != nil { // kill must work on a frozen v2 cgroup
		t.Fatal(err)
	}
	if err := cg.kill(); err != nil {
		t.Fatal(err)
	}
	// An exiting task leaves its cgroup before it is gone; wait for that.
	waitFor(t, "killed processes to exit", func() bool {
		for _, pid := range pids {
			if !processGone(pid) {
				return false
			}
		}
		return true
	})
	var ee *exec.ExitError
	if err := <-waitCh; !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("counter Wait() = %v, want killed", err)
	}
}
