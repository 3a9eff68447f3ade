// Command lambdad-bench measures lambdad against its performance floors in
// one run and prints p50/p99, req/s, n and the ratios to the targets of
// issues #3 (invoke), #4 (Python/Node) and #5 (isolation).
//
// Every process runs for real on this machine: the floors' servers and
// workers and the lambdad daemons are this binary re-executed in a role
// (-role echo|floorb|worker|serve), all on 127.0.0.1:0. Run it from the
// repository (it builds bench/functions/goecho with the go tool):
//
//	go run ./bench/cmd/lambdad-bench          # full run, ~3 min
//	go run ./bench/cmd/lambdad-bench -quick   # smoke run, ~30 s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/runtimes"
)

type options struct {
	quick      bool
	rounds     int
	dur        time.Duration
	cold       int
	burst      int
	density    int
	cp         int
	ns         bool
	cpuprofile string
	payload    string
	phases     string
}

func main() {
	var (
		o                                   options
		role, url, isolation, dataDir, prof string
		workers                             int
		freeze, pin                         bool
		fnExe                               string
	)
	fs := flag.NewFlagSet("lambdad-bench", flag.ExitOnError)
	fs.StringVar(&role, "role", "", "internal: run as echo|floorb|worker|serve")
	fs.StringVar(&url, "url", "", "internal: floor-B frontend URL (worker role)")
	fs.IntVar(&workers, "workers", 1, "internal: floor-B worker processes (floorb role)")
	fs.BoolVar(&freeze, "freeze", false, "internal: floor-B worker frozen between jobs (floorb role, 1 worker)")
	fs.StringVar(&fnExe, "fn", "", "internal: floor-B workers are this aws-lambda-go binary (floorb role)")
	fs.BoolVar(&pin, "pin", false, "internal: floor-B worker i runs on one CPU, i mod the CPUs (floorb role)")
	fs.StringVar(&isolation, "isolation", "none", "internal: lambdad isolation (serve role)")
	fs.StringVar(&dataDir, "data-dir", "", "internal: lambdad data dir (serve role)")
	fs.StringVar(&prof, "serve-cpuprofile", "", "internal: CPU profile of the daemon (serve role)")

	fs.BoolVar(&o.quick, "quick", false, "smoke run (~30 s): 1 round, short segments, few cold starts")
	fs.IntVar(&o.rounds, "rounds", 5, "interleaved rounds of the warm measurements")
	fs.DurationVar(&o.dur, "dur", time.Second, "length of one warm segment (c=16 segments are 1.5×)")
	fs.IntVar(&o.cold, "cold", 20, "cold-start rounds per kind")
	fs.IntVar(&o.burst, "burst", 100, "parallel cold starts in the burst (its idle environments give the memory figures)")
	fs.IntVar(&o.density, "density", 0, "if > burst: also start this many idle Go environments per mode for the memory figures")
	fs.IntVar(&o.cp, "cp", 1000, "CreateFunction and GetFunction calls")
	fs.BoolVar(&o.ns, "ns", os.Geteuid() == 0, "also measure namespaced isolation (needs root)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles of the plain-mode daemon to this file and of the namespaced one to <file>.ns")
	fs.StringVar(&o.payload, "payload", `{"hello":"world","n":42}`, "event used by the warm measurements")
	fs.StringVar(&o.phases, "phases", "warm,cold,burst,cp", "phases to run (comma-separated subset), e.g. -phases warm with -cpuprofile")
	fs.Parse(os.Args[1:])

	var err error
	switch role {
	case "echo":
		err = runEcho()
	case "floorb":
		err = runFloorB(workers, freeze, fnExe, pin)
	case "worker":
		err = runWorker(url)
	case "serve":
		err = runServe(isolation, dataDir, prof)
	case "":
		if o.quick { // quick defaults; flags given explicitly win
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			for name, v := range map[string]string{"rounds": "1", "dur": "300ms", "cold": "5", "burst": "20", "cp": "100"} {
				if !set[name] {
					fs.Set(name, v)
				}
			}
		}
		err = run(o)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdad-bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// bench holds what one run has set up.
type bench struct {
	o            options
	tmp          string
	kids         []*child
	goBin        string // the goecho bootstrap
	goZip        []byte
	pyZip        []byte
	nodeZip      []byte
	python, node string // real interpreter binaries lambdad uses
	plain, ns    *lambdad
}

func (b *bench) goSpec() fnSpec {
	return fnSpec{runtime: types.RuntimeProvidedal2023, handler: "bootstrap", zip: b.goZip}
}
func (b *bench) pySpec() fnSpec {
	return fnSpec{runtime: types.RuntimePython312, handler: "lambda_function.handler", zip: b.pyZip}
}
func (b *bench) nodeSpec() fnSpec {
	return fnSpec{runtime: types.RuntimeNodejs20x, handler: "index.handler", zip: b.nodeZip}
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	started := time.Now()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("lambdad-bench  %s\n", started.UTC().Format(time.RFC3339))
	fmt.Printf("machine: nproc=%d  %s  kernel %s  MemTotal %d MiB  euid %d\n",
		runtime.NumCPU(), runtime.Version(), strings.TrimSpace(string(kernel)), meminfoKB("MemTotal")/1024, os.Geteuid())
	fmt.Printf("flags: quick=%v rounds=%d dur=%v cold=%d burst=%d density=%d cp=%d ns=%v phases=%s payload=%s\n",
		o.quick, o.rounds, o.dur, o.cold, o.burst, o.density, o.cp, o.ns, o.phases, o.payload)
	load0 := loadavg()
	fmt.Printf("loadavg before: %s\n", load0)

	tmp, err := os.MkdirTemp("", "lambdad-bench-")
	if err != nil {
		return err
	}
	b := &bench{o: o, tmp: tmp}
	defer func() {
		for i := len(b.kids) - 1; i >= 0; i-- {
			b.kids[i].stop()
		}
		os.RemoveAll(tmp)
	}()
	if err := b.setup(ctx); err != nil {
		return err
	}
	rep := &report{}
	for _, ph := range []struct {
		name string
		run  func(context.Context, *report) error
	}{{"warm", b.warm}, {"cold", b.coldStarts}, {"burst", b.isolation}, {"cp", b.controlPlane}} {
		if !slices.Contains(strings.Split(o.phases, ","), ph.name) {
			continue
		}
		if err := ph.run(ctx, rep); err != nil {
			return err
		}
	}
	// Stop the daemons now so a CPU profile is written before we report.
	for i := len(b.kids) - 1; i >= 0; i-- {
		b.kids[i].stop()
	}
	b.kids = nil
	rep.print(os.Stdout)
	fmt.Printf("loadavg before: %s\nloadavg after:  %s\n", load0, loadavg())
	fmt.Printf("total time: %.1fs\n", time.Since(started).Seconds())
	if o.cpuprofile != "" {
		fmt.Printf("cpu profiles of the daemons: %s (plain), %s.ns (namespaced); go tool pprof -top <bench binary> <file>\n", o.cpuprofile, o.cpuprofile)
	}
	return nil
}

// setup builds the functions, resolves the interpreters and starts the
// floors' servers and the daemons.
func (b *bench) setup(ctx context.Context) error {
	logf("build goecho")
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return fmt.Errorf("run lambdad-bench inside the lambdad module (go env GOMOD: %v)", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(b.tmp, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./bench/functions/goecho")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build goecho: %v\n%s", err, out)
	}
	b.goBin = bin
	gb, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	if b.goZip, err = zipFiles(map[string][]byte{"bootstrap": gb}, map[string]bool{"bootstrap": true}); err != nil {
		return err
	}
	if b.pyZip, err = zipFiles(map[string][]byte{"lambda_function.py": []byte("def handler(event, context):\n    return event\n")}, nil); err != nil {
		return err
	}
	if b.nodeZip, err = zipFiles(map[string][]byte{"index.mjs": []byte("export const handler = async (event) => event;\n")}, nil); err != nil {
		return err
	}

	// The interpreters as lambdad resolves them (same detection, shims
	// resolved to the real binary).
	reg, err := runtimes.NewRegistry(nil, filepath.Join(b.tmp, "runtime"))
	if err != nil {
		return err
	}
	interp := func(id string) string {
		rt, err := reg.Lookup(id)
		if err != nil {
			return ""
		}
		if ip, ok := rt.(interface{ Interpreter() runtimes.Interpreter }); ok {
			return ip.Interpreter().Path
		}
		return ""
	}
	b.python, b.node = interp("python3.12"), interp("nodejs20.x")
	fmt.Printf("interpreters (as lambdad resolves them): python3.12=%s nodejs20.x=%s\n", b.python, b.node)

	logf("start floors")
	start := func(name string, args ...string) (*child, error) {
		c, err := startChild(ctx, name, time.Minute, args...)
		if err != nil {
			return nil, err
		}
		b.kids = append(b.kids, c)
		return c, nil
	}
	if _, err := start("echo", "-role", "echo"); err != nil {
		return err
	}
	if _, err := start("floorb-1", "-role", "floorb", "-workers", "1"); err != nil {
		return err
	}
	if _, err := start("floorb-16", "-role", "floorb", "-workers", "16"); err != nil {
		return err
	}
	if _, err := start("floorb-1-freeze", "-role", "floorb", "-workers", "1", "-freeze"); err != nil {
		return err
	}
	if _, err := start("floorb-1-fn", "-role", "floorb", "-workers", "1", "-fn", b.goBin); err != nil {
		return err
	}
	if _, err := start("floorb-1-fn-pin", "-role", "floorb", "-workers", "1", "-fn", b.goBin, "-pin"); err != nil {
		return err
	}
	if _, err := start("floorb-16-fn-pin", "-role", "floorb", "-workers", "16", "-fn", b.goBin, "-pin"); err != nil {
		return err
	}
	logf("start lambdad (plain)")
	args := []string{"-role", "serve", "-isolation", "none", "-data-dir", filepath.Join(b.tmp, "plain")}
	if b.o.cpuprofile != "" {
		p, _ := filepath.Abs(b.o.cpuprofile)
		args = append(args, "-serve-cpuprofile", p)
	}
	c, err := start("lambdad-plain", args...)
	if err != nil {
		return err
	}
	b.plain = &lambdad{child: c, isolation: "none", sdk: newSDK(c.url), http: newHTTPClient(64)}
	if b.o.ns {
		logf("start lambdad (namespaced)")
		args := []string{"-role", "serve", "-isolation", "namespaced", "-data-dir", filepath.Join(b.tmp, "ns")}
		if b.o.cpuprofile != "" {
			p, _ := filepath.Abs(b.o.cpuprofile + ".ns")
			args = append(args, "-serve-cpuprofile", p)
		}
		c, err := start("lambdad-ns", args...)
		if err != nil {
			return err
		}
		b.ns = &lambdad{child: c, isolation: "namespaced", sdk: newSDK(c.url), http: newHTTPClient(64)}
	}

	logf("create functions")
	if err := b.plain.create(ctx, "echo", b.goSpec(), nil); err != nil {
		return err
	}
	if b.python != "" {
		if err := b.plain.create(ctx, "py-echo", b.pySpec(), nil); err != nil {
			return err
		}
	}
	if b.node != "" {
		if err := b.plain.create(ctx, "node-echo", b.nodeSpec(), nil); err != nil {
			return err
		}
	}
	if b.ns != nil {
		if err := b.ns.create(ctx, "echo", b.goSpec(), nil); err != nil {
			return err
		}
	}
	return nil
}
