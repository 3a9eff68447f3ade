package sandbox

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// MBPerCPU is Lambda's ratio of memory to compute: a function gets the
// equivalent of one vCPU at 1,769 MB, six at 10,240 MB.
const MBPerCPU = 1769

// CPUsFor is how many CPUs a function of memoryMB may use: memoryMB/1769
// rounded up, at least one.
func CPUsFor(memoryMB int) int {
	return max(1, (memoryMB+MBPerCPU-1)/MBPerCPU)
}

// cpuMask is a Linux CPU affinity mask (up to 1024 CPUs).
type cpuMask [16]uint64

func (m *cpuMask) set(cpu int)      { m[cpu/64] |= 1 << (cpu % 64) }
func (m *cpuMask) has(cpu int) bool { return m[cpu/64]&(1<<(cpu%64)) != 0 }

func schedGetaffinity(m *cpuMask) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if e != 0 {
		return e
	}
	return nil
}

func schedSetaffinity(m *cpuMask) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if e != 0 {
		return e
	}
	return nil
}

// cpuPlacer gives every environment's runtime an affinity mask of
// CPUsFor(MemoryMB) CPUs, the ones fewest live environments use. Lambda
// allots compute in proportion to memory; doing the same keeps a small
// function from spreading over every host CPU. A multi-threaded runtime
// sizes itself to its mask (Go's GOMAXPROCS is the number of CPUs it may
// use), so a 128 MB aws-lambda-go function runs one scheduler thread
// instead of bouncing its goroutines between idle threads of several
// CPUs — on a 2-CPU host that halves the CPU a warm invoke costs the
// function (docs/performance.md).
type cpuPlacer struct {
	mu   sync.Mutex
	cpus []int // the CPUs this process may use, at start
	load []int // live environments per cpus[i]
	next int   // where the search for the least used starts: spreads ties
}

// newCPUPlacer returns a placer over the calling thread's CPUs, or nil when
// there is nothing to choose (one CPU, or the mask is unreadable).
func newCPUPlacer() *cpuPlacer {
	var m cpuMask
	if err := schedGetaffinity(&m); err != nil {
		return nil
	}
	p := &cpuPlacer{}
	for cpu := 0; cpu < len(m)*64; cpu++ {
		if m.has(cpu) {
			p.cpus = append(p.cpus, cpu)
		}
	}
	if len(p.cpus) < 2 {
		return nil
	}
	p.load = make([]int, len(p.cpus))
	return p
}

// placement is the CPUs one environment holds; the zero value (or nil)
// means every CPU.
type placement struct {
	idx  []int // indexes into cpuPlacer.cpus
	mask cpuMask
}

// take chooses CPUsFor(memoryMB) CPUs; nil when that is all of them.
func (p *cpuPlacer) take(memoryMB int) *placement {
	if p == nil {
		return nil
	}
	n := CPUsFor(memoryMB)
	p.mu.Lock()
	defer p.mu.Unlock()
	if n >= len(p.cpus) {
		return nil
	}
	pl := &placement{idx: make([]int, 0, n)}
	for len(pl.idx) < n {
		best := -1
		for k := range p.cpus {
			i := (p.next + k) % len(p.cpus)
			if pl.mask.has(p.cpus[i]) {
				continue
			}
			if best < 0 || p.load[i] < p.load[best] {
				best = i
			}
		}
		pl.idx = append(pl.idx, best)
		pl.mask.set(p.cpus[best])
		p.load[best]++
	}
	p.next = (pl.idx[len(pl.idx)-1] + 1) % len(p.cpus)
	return pl
}

// release returns pl's CPUs; call it once per placement (Destroy does).
func (p *cpuPlacer) release(pl *placement) {
	if p == nil || pl == nil {
		return
	}
	p.mu.Lock()
	for _, i := range pl.idx {
		p.load[i]--
	}
	p.mu.Unlock()
}

// startPlaced runs start (a fork and exec) with the calling thread's
// affinity narrowed to pl, so that the new process inherits pl's CPUs from
// its first instruction (a runtime reads its CPU count at start-up). The
// thread's own mask is restored afterwards. With pl nil it just calls start.
func startPlaced(pl *placement, start func() error) error {
	if pl == nil {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old cpuMask
	if err := schedGetaffinity(&old); err != nil {
		return start()
	}
	if err := schedSetaffinity(&pl.mask); err != nil {
		return start()
	}
	defer func() { _ = schedSetaffinity(&old) }()
	return start()
}
