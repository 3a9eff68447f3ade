package sandbox

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rcuWarmer hides the cost of cgroup v1 migrations behind other start-up
// work. Moving a task into a cgroup (the cgroup.procs write of every
// environment start on v1, where CLONE_INTO_CGROUP does not exist) takes
// the kernel's global cgroup_threadgroup_rwsem for writing, whose percpu
// rcu_sync must first wait a full RCU grace period — measured here at
// 5–16 ms per environment when starts are spaced out. Writers that come
// while the rcu_sync is still in its writer state skip that wait (1–2 ms for
// the same four migrations). The warmer keeps it there while environments
// are being created: every couple of milliseconds it writes lambdad's own
// pid into the cgroup.procs of the pids cgroup lambdad already belongs to —
// a migration that moves nothing but takes the lock. It stops two seconds
// after the last demand, so an idle daemon costs nothing. This is what the
// kernel's favordynmods option does permanently (for cgroup2); v1 mounts on
// the hosts we target cannot be remounted with it.
type rcuWarmer struct {
	procs string // cgroup.procs of our own pids cgroup
	pid   string

	mu      sync.Mutex
	until   time.Time
	running bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// newRCUWarmer returns a warmer for a v1 pids hierarchy mounted at mount,
// or nil when our own cgroup there cannot be found.
func newRCUWarmer(mount string) *rcuWarmer {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "pids" {
				p := filepath.Join(mount, parts[2], "cgroup.procs")
				if _, err := os.Stat(p); err != nil {
					return nil
				}
				return &rcuWarmer{procs: p, pid: strconv.Itoa(os.Getpid()), stop: make(chan struct{})}
			}
		}
	}
	return nil
}

// poke asks for the warm state for the next two seconds.
func (w *rcuWarmer) poke() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.until = time.Now().Add(2 * time.Second)
	if w.running {
		return
	}
	select {
	case <-w.stop:
		return
	default:
	}
	w.running = true
	w.wg.Add(1)
	go w.loop()
}

func (w *rcuWarmer) loop() {
	defer w.wg.Done()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = writeFile(w.procs, w.pid)
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			w.mu.Lock()
			if now.After(w.until) {
				w.running = false
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
		}
	}
}

// close stops the warmer for good.
func (w *rcuWarmer) close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.mu.Unlock()
	w.wg.Wait()
}
