package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cgroupfs is driven by direct file I/O (shared/reference/sandbox.md §3): a
// dozen files per version, no library. Every environment's cgroup lives in
// <hierarchy>/<prefix>/<env-id>, so a restarted daemon with the same prefix
// finds and sweeps what a crashed one left behind.

const (
	cgroup2SuperMagic = 0x63677270
	// cgroupsMountpoint is where the cgroup hierarchies are looked up.
	cgroupsMountpoint = "/sys/fs/cgroup"
	// pidsMax bounds the processes and threads of one environment (Lambda's
	// own limit is 1024).
	pidsMax = 1024
	// mbPerVCPU is the memory size that buys one full vCPU, as on AWS.
	mbPerVCPU = 1769
	// cgroupWaitTimeout bounds waits for freezing and for emptying.
	cgroupWaitTimeout = 10 * time.Second
)

// v1Controllers are the cgroup v1 hierarchies an environment is placed in.
var v1Controllers = []string{"memory", "cpu", "pids", "freezer"}

// cgroupDriver creates and controls environment cgroups of one daemon.
type cgroupDriver struct {
	v2       bool
	cpuQuota bool
	// parents maps a v1 controller to its <hierarchy>/<prefix> directory;
	// on v2 the single key "" holds <cgroup2 mount>/<prefix>.
	parents map[string]string
}

// detectCgroups finds cgroup v2 (unified mount at /sys/fs/cgroup) or the v1
// memory, cpu, pids and freezer hierarchies. A hybrid host (v1 controllers
// plus an empty unified tree) is treated as v1.
func detectCgroups(prefix string, cpuQuota bool) (*cgroupDriver, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(cgroupsMountpoint, &st); err != nil {
		return nil, fmt.Errorf("statfs %s: %w", cgroupsMountpoint, err)
	}
	d := &cgroupDriver{cpuQuota: cpuQuota, parents: map[string]string{}}
	if st.Type == cgroup2SuperMagic {
		d.v2 = true
		b, err := os.ReadFile(filepath.Join(cgroupsMountpoint, "cgroup.controllers"))
		if err != nil {
			return nil, fmt.Errorf("read cgroup v2 controllers: %w", err)
		}
		have := strings.Fields(string(b))
		for _, c := range []string{"memory", "cpu", "pids"} {
			if !contains(have, c) {
				return nil, fmt.Errorf("cgroup v2 controller %q not available (have %v)", c, have)
			}
		}
		d.parents[""] = filepath.Join(cgroupsMountpoint, prefix)
		return d, nil
	}
	mounts, err := v1Mounts()
	if err != nil {
		return nil, err
	}
	for _, c := range v1Controllers {
		mp, ok := mounts[c]
		if !ok {
			return nil, fmt.Errorf("cgroup v1 controller %q not mounted", c)
		}
		d.parents[c] = filepath.Join(mp, prefix)
	}
	return d, nil
}

// v1Mounts maps each cgroup v1 controller to its hierarchy's mountpoint.
func v1Mounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("open mountinfo: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(fields) < sep+4 || fields[sep+1] != "cgroup" || fields[3] != "/" {
			continue
		}
		for _, opt := range strings.Split(fields[sep+3], ",") {
			if contains(v1Controllers, opt) {
				if _, dup := out[opt]; !dup {
					out[opt] = fields[4]
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// version is "v1" or "v2".
func (d *cgroupDriver) version() string {
	if d.v2 {
		return "v2"
	}
	return "v1"
}

// setup creates the per-daemon parent directories (and, on v2, enables the
// controllers for them).
func (d *cgroupDriver) setup() error {
	for _, p := range d.parents {
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", p, err)
		}
	}
	if d.v2 {
		p := d.parents[""]
		for _, dir := range []string{filepath.Dir(p), p} {
			if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+memory +cpu +pids"); err != nil {
				return fmt.Errorf("enable cgroup controllers: %w", err)
			}
		}
		if _, err := os.Stat(filepath.Join(p, "cgroup.freeze")); err != nil {
			return fmt.Errorf("cgroup v2 freezer (kernel >= 5.2): %w", err)
		}
	}
	return nil
}

// teardown removes the per-daemon parent directories (empty by then).
func (d *cgroupDriver) teardown() error {
	var errs []error
	for _, p := range d.parents {
		if err := syscall.Rmdir(p); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// envCgroup is the cgroup of one environment. freeze, thaw and kill are
// serialised by mu: on v1 a freeze racing a kill's final thaw would leave
// the dying tasks frozen, and SIGKILL does not complete on v1-frozen tasks.
type envCgroup struct {
	d    *cgroupDriver
	dirs map[string]string // same keys as d.parents

	mu     sync.Mutex
	killed bool // kill ran: freezing is pointless
}

var errCgroupKilled = errors.New("environment killed")

// create makes the environment's cgroup with its limits.
func (d *cgroupDriver) create(id string, memoryMB int) (*envCgroup, error) {
	cg := &envCgroup{d: d, dirs: map[string]string{}}
	for k, p := range d.parents {
		dir := filepath.Join(p, id)
		if err := os.Mkdir(dir, 0o755); err != nil {
			cg.remove()
			return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		cg.dirs[k] = dir
	}
	if err := cg.limit(memoryMB); err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

func (cg *envCgroup) limit(memoryMB int) error {
	mem := strconv.FormatInt(int64(memoryMB)<<20, 10)
	quota := max(1000, int64(memoryMB)*100000/mbPerVCPU)
	type setting struct{ key, file, val string }
	var set []setting
	var optional []setting // absent without swap accounting
	if cg.d.v2 {
		set = []setting{
			{"", "memory.max", mem},
			{"", "memory.oom.group", "1"},
			{"", "cpu.weight", strconv.Itoa(min(10000, max(1, memoryMB*100/mbPerVCPU)))},
			{"", "pids.max", strconv.Itoa(pidsMax)},
		}
		optional = []setting{{"", "memory.swap.max", "0"}}
		if cg.d.cpuQuota {
			set = append(set, setting{"", "cpu.max", fmt.Sprintf("%d 100000", quota)})
		}
	} else {
		set = []setting{
			{"memory", "memory.limit_in_bytes", mem},
			{"cpu", "cpu.shares", strconv.Itoa(max(2, memoryMB*1024/mbPerVCPU))},
			{"pids", "pids.max", strconv.Itoa(pidsMax)},
		}
		optional = []setting{
			{"memory", "memory.memsw.limit_in_bytes", mem},
			{"memory", "memory.swappiness", "0"},
		}
		if cg.d.cpuQuota {
			set = append(set,
				setting{"cpu", "cpu.cfs_period_us", "100000"},
				setting{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)})
		}
	}
	for _, s := range set {
		if err := writeFile(filepath.Join(cg.dirs[s.key], s.file), s.val); err != nil {
			return fmt.Errorf("set cgroup limit: %w", err)
		}
	}
	for _, s := range optional {
		p := filepath.Join(cg.dirs[s.key], s.file)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := writeFile(p, s.val); err != nil {
			return fmt.Errorf("set cgroup limit: %w", err)
		}
	}
	return nil
}

// openDir returns a descriptor of the v2 cgroup directory for
// CLONE_INTO_CGROUP; the caller closes it.
func (cg *envCgroup) openDir() (*os.File, error) {
	f, err := os.OpenFile(cg.dirs[""], os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup: %w", err)
	}
	return f, nil
}

// attach moves pid into every v1 hierarchy of the environment.
func (cg *envCgroup) attach(pid int) error {
	for _, dir := range cg.dirs {
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("attach to cgroup: %w", err)
		}
	}
	return nil
}

// freeze stops every task and returns once they are all frozen.
func (cg *envCgroup) freeze() error {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	if cg.killed {
		return fmt.Errorf("freeze: %w", errCgroupKilled)
	}
	return cg.freezeLocked()
}

func (cg *envCgroup) freezeLocked() error {
	if cg.d.v2 {
		if err := writeFile(filepath.Join(cg.dirs[""], "cgroup.freeze"), "1"); err != nil {
			return fmt.Errorf("freeze: %w", err)
		}
		return pollFile(filepath.Join(cg.dirs[""], "cgroup.events"), func(b []byte) bool {
			return keyValue(b, "frozen") == 1
		})
	}
	p := filepath.Join(cg.dirs["freezer"], "freezer.state")
	if err := writeFile(p, "FROZEN"); err != nil {
		return fmt.Errorf("freeze: %w", err)
	}
	return pollFile(p, func(b []byte) bool { return bytes.HasPrefix(b, []byte("FROZEN")) })
}

// thaw resumes every task.
func (cg *envCgroup) thaw() error {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	if cg.killed {
		return fmt.Errorf("thaw: %w", errCgroupKilled)
	}
	return cg.thawLocked()
}

func (cg *envCgroup) thawLocked() error {
	if cg.d.v2 {
		if err := writeFile(filepath.Join(cg.dirs[""], "cgroup.freeze"), "0"); err != nil {
			return fmt.Errorf("thaw: %w", err)
		}
		return nil
	}
	if err := writeFile(filepath.Join(cg.dirs["freezer"], "freezer.state"), "THAWED"); err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	return nil
}

// kill SIGKILLs every task of the cgroup, daemonised ones included, and
// waits until the cgroup is empty. On v1 the cgroup is frozen first (so
// nothing forks meanwhile) and thawed after, because v1-frozen tasks do not
// die until thawed.
func (cg *envCgroup) kill() error {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	cg.killed = true
	if cg.d.v2 {
		dir := cg.dirs[""]
		err := writeFile(filepath.Join(dir, "cgroup.kill"), "1")
		if err == nil {
			return pollFile(filepath.Join(dir, "cgroup.events"), func(b []byte) bool {
				return keyValue(b, "populated") == 0
			})
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("kill cgroup: %w", err)
		}
		// Kernel < 5.14: no cgroup.kill; freeze, kill, thaw as on v1.
	}
	dir := cg.dirs[cg.d.killKey()]
	ferr := cg.freezeLocked()
	pids, err := readPids(dir)
	if err != nil {
		return fmt.Errorf("kill cgroup: %w", err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill cgroup task %d: %w", pid, err)
		}
	}
	if err := cg.thawLocked(); err != nil {
		return fmt.Errorf("kill cgroup: %w", err)
	}
	err = pollFile(filepath.Join(dir, "cgroup.procs"), func(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 })
	if err != nil {
		return fmt.Errorf("kill cgroup: %w", errors.Join(ferr, err))
	}
	return nil
}

// pids lists the processes in the environment's cgroup (host PIDs).
func (cg *envCgroup) pids() ([]int, error) {
	key := ""
	if !cg.d.v2 {
		key = "freezer"
	}
	return readPids(cg.dirs[key])
}

// oomKills is how many tasks the memory limit killed.
func (cg *envCgroup) oomKills() uint64 {
	if cg.d.v2 {
		b, _ := os.ReadFile(filepath.Join(cg.dirs[""], "memory.events"))
		return keyValueU(b, "oom_kill")
	}
	b, _ := os.ReadFile(filepath.Join(cg.dirs["memory"], "memory.oom_control"))
	return keyValueU(b, "oom_kill")
}

// peak is the memory high-water mark in bytes, or 0 when unknown.
func (cg *envCgroup) peak() uint64 {
	p := filepath.Join(cg.dirs["memory"], "memory.max_usage_in_bytes")
	if cg.d.v2 {
		p = filepath.Join(cg.dirs[""], "memory.peak")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return 0
	}
	v, _ := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	return v
}

// remove deletes the cgroup directories (they must be empty of tasks).
func (cg *envCgroup) remove() error {
	var errs []error
	for k, dir := range cg.dirs {
		if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
			continue
		}
		delete(cg.dirs, k)
	}
	return errors.Join(errs...)
}

// sweep kills and removes every environment cgroup under the daemon's
// prefix: the leftovers of a crashed previous run. It returns the number of
// environments removed.
func (d *cgroupDriver) sweep() (int, error) {
	ids := map[string]bool{}
	for _, p := range d.parents {
		ents, err := os.ReadDir(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("sweep cgroups: %w", err)
		}
		for _, e := range ents {
			if e.IsDir() {
				ids[e.Name()] = true
			}
		}
	}
	var errs []error
	for id := range ids {
		cg := &envCgroup{d: d, dirs: map[string]string{}}
		for k, p := range d.parents {
			dir := filepath.Join(p, id)
			if _, err := os.Stat(dir); err == nil {
				cg.dirs[k] = dir
			}
		}
		if _, ok := cg.dirs[d.killKey()]; ok {
			if err := cg.kill(); err != nil {
				errs = append(errs, fmt.Errorf("sweep %s: %w", id, err))
				continue
			}
		}
		if err := cg.remove(); err != nil {
			errs = append(errs, fmt.Errorf("sweep %s: %w", id, err))
		}
	}
	return len(ids), errors.Join(errs...)
}

func (d *cgroupDriver) killKey() string {
	if d.v2 {
		return ""
	}
	return "freezer"
}

func readPids(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup.procs: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse cgroup.procs %q: %w", f, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// writeFile writes val to an existing cgroupfs file (no create, no trunc).
func writeFile(path, val string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(val))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// pollFile re-reads path until ok accepts its content: busy re-reads for
// the first few hundred microseconds (freezing usually completes in tens of
// µs), then backing off to 1 ms. cgroup.events POLLPRI notifications are
// rate-limited to one per 10 ms, so re-reading is faster than waiting on them
// (shared/reference/sandbox.md §2b).
func pollFile(path string, ok func([]byte) bool) error {
	start := time.Now()
	deadline := start.Add(cgroupWaitTimeout)
	backoff := 50 * time.Microsecond
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if ok(b) {
			return nil
		}
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("wait for %s: timed out after %v (last %q)", path, cgroupWaitTimeout, bytes.TrimSpace(b))
		}
		if now.Sub(start) < 500*time.Microsecond {
			runtime.Gosched()
			continue
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, time.Millisecond)
	}
}

// keyValue returns the integer of "key N" in a flat-keyed cgroup file, or
// -1 when absent.
func keyValue(b []byte, key string) int64 {
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

func keyValueU(b []byte, key string) uint64 {
	return uint64(max(0, keyValue(b, key)))
}

// oomEvents returns a file that becomes readable when the memory limit of a
// v1 cgroup triggers the OOM killer (memory.oom_control notification via
// cgroup.event_control), or nil on v2, where memory.oom.group already kills
// the whole environment. The eventfd is non-blocking, so reading it parks
// a goroutine, not a thread. The caller closes it.
func (cg *envCgroup) oomEvents() (*os.File, error) {
	if cg.d.v2 {
		return nil, nil
	}
	efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		return nil, fmt.Errorf("oom eventfd: %w", errno)
	}
	ev := os.NewFile(efd, "oom-eventfd")
	dir := cg.dirs["memory"]
	ctl, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		ev.Close()
		return nil, fmt.Errorf("oom notification: %w", err)
	}
	defer ctl.Close()
	if err := writeFile(filepath.Join(dir, "cgroup.event_control"), fmt.Sprintf("%d %d", efd, ctl.Fd())); err != nil {
		ev.Close()
		return nil, fmt.Errorf("oom notification: %w", err)
	}
	return ev, nil
}
