package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// runEcho is the floor-A role: a plain net/http echo server.
func runEcho() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	})}
	go srv.Serve(ln)
	fmt.Printf("URL http://%s\n", ln.Addr())
	waitStdinEOF()
	return srv.Close()
}

// job is one request travelling through the floor-B frontend.
type job struct {
	body []byte
	done chan []byte
}

// frontend is floor B's server: POST /invoke hands the body to a worker's
// pending GET /next; the worker POSTs /response/{id}; the frontend answers.
type frontend struct {
	jobs    chan *job
	mu      sync.Mutex
	pending map[uint64]*job
	seq     atomic.Uint64
	polling atomic.Int64

	// With stopPID set (one worker), the worker is frozen with SIGSTOP once
	// it is back in /next and thawed with SIGCONT before the next job, as
	// lambdad's plain sandbox does around every invoke.
	stopPID int
	gate    chan struct{} // held from an invoke until its freeze is done
	polled  chan struct{} // a /next arrived
	stopMu  sync.Mutex    // orders SIGSTOP against shutdown
	closing bool
}

func (f *frontend) invoke(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	j := &job{body: b, done: make(chan []byte, 1)}
	if f.stopPID > 0 {
		f.gate <- struct{}{}
		select {
		case <-f.polled: // the poll that takes this job
		default:
		}
		syscall.Kill(f.stopPID, syscall.SIGCONT)
		defer func() {
			go func() {
				select {
				case <-f.polled:
					f.stopMu.Lock()
					if !f.closing {
						syscall.Kill(f.stopPID, syscall.SIGSTOP)
					}
					f.stopMu.Unlock()
				case <-time.After(5 * time.Second):
				}
				<-f.gate
			}()
		}()
	}
	select {
	case f.jobs <- j:
	case <-r.Context().Done():
		return
	}
	select {
	case out := <-j.done:
		w.Write(out)
	case <-r.Context().Done():
	}
}

func (f *frontend) next(w http.ResponseWriter, r *http.Request) {
	f.polling.Add(1)
	defer f.polling.Add(-1)
	select {
	case f.polled <- struct{}{}:
	default:
	}
	select {
	case j := <-f.jobs:
		id := f.seq.Add(1)
		f.mu.Lock()
		f.pending[id] = j
		f.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", strconv.FormatUint(id, 10))
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:floorb")
		h.Set("Content-Type", "application/json")
		w.Write(j.body)
	case <-r.Context().Done():
	}
}

func (f *frontend) response(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseUint(r.PathValue("id"), 10, 64)
	b, err := io.ReadAll(r.Body)
	f.mu.Lock()
	j := f.pending[id]
	delete(f.pending, id)
	f.mu.Unlock()
	if j == nil || err != nil {
		http.Error(w, "unknown request", 400)
		return
	}
	j.done <- b
	w.WriteHeader(http.StatusAccepted)
}

// runFloorB is the floor-B frontend role; it starts workers worker
// processes and reports its URL once all of them long-poll /next. freeze
// (one worker only) adds SIGSTOP/SIGCONT around every job. With fnExe set
// the workers are that aws-lambda-go function binary itself, pointed at
// this frontend as its Runtime API (AWS_LAMBDA_RUNTIME_API).
//
// With pin, worker i starts with an affinity of one CPU (i modulo the CPUs
// this process may use): the placement lambdad gives functions of up to
// 1769 MB, so a reader can tell the relay's cost from the placement's gain.
func runFloorB(workers int, freeze bool, fnExe string, pin bool) error {
	f := &frontend{jobs: make(chan *job), pending: map[uint64]*job{},
		gate: make(chan struct{}, 1), polled: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", f.invoke)
	mux.HandleFunc("GET /next", f.next)
	mux.HandleFunc("POST /response/{id}", f.response)
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", f.response)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	var kids []*exec.Cmd
	defer func() {
		f.stopMu.Lock()
		f.closing = true
		f.stopMu.Unlock()
		srv.Close()
		for _, k := range kids {
			k.Process.Signal(syscall.SIGCONT)
			k.Process.Kill()
			k.Wait()
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cpus := allowedCPUs()
	for i := range workers {
		var cmd *exec.Cmd
		if fnExe != "" {
			cmd = exec.Command(fnExe)
			cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "_HANDLER=bootstrap",
				"AWS_LAMBDA_FUNCTION_NAME=floorb", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}
		} else {
			cmd = exec.Command(exe, "-role", "worker", "-url", base)
		}
		if fnExe == "" {
			cmd.Stderr = os.Stderr
		} // aws-lambda-go logs the frontend's shutdown as a failed /next: not worth printing
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		startFn := cmd.Start
		if pin && len(cpus) > 1 {
			cpu := cpus[i%len(cpus)]
			startFn = func() error { return startOnCPU(cpu, cmd.Start) }
		}
		if err := startFn(); err != nil {
			return err
		}
		kids = append(kids, cmd)
	}
	if freeze && workers == 1 {
		f.stopPID = kids[0].Process.Pid
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.polling.Load() < int64(workers) {
		if time.Now().After(deadline) {
			return fmt.Errorf("floor B: %d of %d workers polling", f.polling.Load(), workers)
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Printf("URL %s/invoke\n", base)
	waitStdinEOF()
	return nil
}

// runWorker is the floor-B worker role: the Runtime API client loop at its
// leanest (net/http keep-alive, like aws-lambda-go's client). It ends
// quietly when the frontend goes away.
func runWorker(base string) error {
	_ = work(base)
	return nil
}

func work(base string) error {
	fmt.Println("URL -") // started; readiness is the frontend's poll count
	c := &http.Client{}
	for {
		resp, err := c.Get(base + "/next")
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		r2, err := c.Post(base+"/response/"+id, "application/json", bytesReader(b))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, r2.Body)
		r2.Body.Close()
	}
}

// cpuMask is a Linux affinity mask of up to 1024 CPUs.
type cpuMask [16]uint64

func affinity(op uintptr, m *cpuMask) error {
	if _, _, e := syscall.RawSyscall(op, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m))); e != 0 {
		return e
	}
	return nil
}

// allowedCPUs lists the CPUs the calling thread may use.
func allowedCPUs() []int {
	var m cpuMask
	if affinity(syscall.SYS_SCHED_GETAFFINITY, &m) != nil {
		return nil
	}
	var cpus []int
	for c := 0; c < len(m)*64; c++ {
		if m[c/64]&(1<<(c%64)) != 0 {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

// startOnCPU runs start (fork and exec) on a thread narrowed to cpu, so the
// child inherits that one CPU from its first instruction.
func startOnCPU(cpu int, start func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old, one cpuMask
	if err := affinity(syscall.SYS_SCHED_GETAFFINITY, &old); err != nil {
		return err
	}
	one[cpu/64] = 1 << (cpu % 64)
	if err := affinity(syscall.SYS_SCHED_SETAFFINITY, &one); err != nil {
		return err
	}
	defer affinity(syscall.SYS_SCHED_SETAFFINITY, &old)
	return start()
}
