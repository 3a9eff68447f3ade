package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid int
	comm      string
	exe       string
	rssKB     int64
	pssKB     int64 // proportional share (smaps_rollup Pss)
	privKB    int64 // Private_Clean + Private_Dirty
}

// procTable reads every process's ppid and comm.
func procTable() map[int]*proc {
	out := map[int]*proc{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		f := strings.Fields(string(b[j+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		out[pid] = &proc{pid: pid, ppid: ppid, comm: string(b[i+1 : j])}
	}
	return out
}

// descendants returns the processes below root, with RSS and exe filled.
func descendants(root int) []*proc {
	t := procTable()
	kids := map[int][]int{}
	for _, p := range t {
		kids[p.ppid] = append(kids[p.ppid], p.pid)
	}
	var out []*proc
	stack := append([]int(nil), kids[root]...)
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p := t[pid]
		p.rssKB = rssKB(pid)
		roll := filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup")
		p.pssKB = statusField(roll, "Pss:")
		p.privKB = statusField(roll, "Private_Clean:") + statusField(roll, "Private_Dirty:")
		p.exe, _ = os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe"))
		out = append(out, p)
		stack = append(stack, kids[pid]...)
	}
	return out
}

// rssKB is a process's VmRSS in KiB (0 if gone).
func rssKB(pid int) int64 {
	return statusField(filepath.Join("/proc", strconv.Itoa(pid), "status"), "VmRSS:")
}

// meminfoKB reads one /proc/meminfo field in KiB.
func meminfoKB(key string) int64 { return statusField("/proc/meminfo", key+":") }

func statusField(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// kernelKB sums the kernel-side memory an environment costs (slab, kernel
// stacks, page tables); on a shared host the delta is indicative only.
func kernelKB() int64 {
	return meminfoKB("Slab") + meminfoKB("KernelStack") + meminfoKB("PageTables")
}

// clkTck is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clkTck = 100

// cpuTime returns the CPU time (user+system) used so far by pid itself and,
// separately, by its live descendants.
func cpuTime(pid int) (self, kids time.Duration) {
	self = procCPU(pid)
	t := procTable()
	children := map[int][]int{}
	for _, p := range t {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	stack := append([]int(nil), children[pid]...)
	for len(stack) > 0 {
		q := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids += procCPU(q)
		stack = append(stack, children[q]...)
	}
	return self, kids
}

// procCPU reads utime+stime of one process.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	j := bytes.LastIndexByte(b, ')')
	if j < 0 {
		return 0
	}
	f := strings.Fields(string(b[j+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / clkTck
}
