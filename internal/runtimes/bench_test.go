package runtimes

import (
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/runtimeapi"
	"github.com/lambdad/lambdad/internal/sandbox"
)

// BenchmarkColdStart measures a managed runtime's cold start, process start
// → first GET /next, for an echo function, against the bare interpreter
// start-up (`python3 -c pass`, `node -e 0`, start → exit) measured
// alternately in the same run. It reports both p50s and their ratio (issue
// #4's target: ≤ 2). Because node's exit alone takes tens of milliseconds,
// it also reports the ratio to a second floor: the interpreter opening one
// TCP connection (start → accept), which stops the clock at the same kind of
// event as the runtime measurement.
func BenchmarkColdStart(b *testing.B) {
	for _, bc := range []struct {
		id, dir, handler string
		bare             []string
		connect          func(dir, addr string) []string
	}{
		{"python3.12", "python", "echo.handler", []string{"-c", "pass"}, func(_, addr string) []string {
			host, port, _ := net.SplitHostPort(addr)
			return []string{"-c", "import _socket;s=_socket.socket();s.connect(('" + host + "'," + port + "));s.recv(1)"}
		}},
		{"nodejs20.x", "node", "index.handler", []string{"-e", "0"}, func(dir, addr string) []string {
			// A script file, not -e: node's -e path alone costs ~30 ms more.
			host, port, _ := net.SplitHostPort(addr)
			f := filepath.Join(dir, "connect.js")
			os.WriteFile(f, []byte("require('net').connect("+port+",'"+host+"');\n"), 0o644)
			return []string{f}
		}},
	} {
		b.Run(bc.id, func(b *testing.B) {
			reg := registry(b)
			rt, err := reg.Lookup(bc.id)
			if err != nil {
				b.Skipf("%s unavailable: %v", bc.id, err)
			}
			interp := rt.(interface{ Interpreter() Interpreter }).Interpreter()
			task := testdata(b, "bench", bc.dir)
			paths := sandbox.Paths{TaskRoot: task, Opt: b.TempDir(), RuntimeDir: reg.RuntimeDir(bc.id), Tmp: b.TempDir()}
			l, err := rt.Launch(bc.handler, paths, task, nil)
			if err != nil {
				b.Fatal(err)
			}
			baseEnv := []string{"PATH=" + os.Getenv("PATH"), "_HANDLER=" + bc.handler, "LAMBDA_TASK_ROOT=" + task,
				"LAMBDA_RUNTIME_DIR=" + paths.RuntimeDir, "AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "LANG=en_US.UTF-8", "TZ=:UTC"}
			for k, v := range l.Env {
				baseEnv = append(baseEnv, k+"="+v)
			}

			scratch := b.TempDir()
			// The floors run with the runtime's minimal environment too: an
			// inherited NODE_EXTRA_CA_CERTS alone adds ~80 ms to node's start.
			bareEnv := []string{"PATH=" + os.Getenv("PATH"), "LANG=en_US.UTF-8", "TZ=:UTC"}
			var cold, bare, conn []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				// Bare interpreter.
				cmd := exec.Command(interp.Path, bc.bare...)
				cmd.Env = bareEnv
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("bare %s: %v", interp.Path, err)
				}
				bare = append(bare, time.Since(t0))

				// Bare interpreter opening a connection.
				cl, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				cmd = exec.Command(interp.Path, bc.connect(scratch, cl.Addr().String())...)
				cmd.Env = bareEnv
				t0 = time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				c, err := cl.Accept()
				if err != nil {
					b.Fatal(err)
				}
				conn = append(conn, time.Since(t0))
				c.Close()
				cl.Close()
				cmd.Process.Kill()
				cmd.Wait()

				// Runtime: process start → first /next.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				api := runtimeapi.New(slog.New(slog.DiscardHandler))
				go api.Serve(ln)
				cmd = &exec.Cmd{Path: l.Path, Args: l.Args, Dir: task,
					Env: append(slices.Clip(baseEnv), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())}
				t0 = time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				ev := <-api.Events()
				d := time.Since(t0)
				if ev.Kind != runtimeapi.EventReady {
					b.Fatalf("first event %v %s, want ready", ev.Kind, ev.Body)
				}
				cold = append(cold, d)
				cmd.Process.Kill()
				cmd.Wait()
				api.Close()
			}
			p50 := func(ds []time.Duration) float64 {
				s := slices.Clone(ds)
				slices.Sort(s)
				return float64(s[len(s)/2]) / float64(time.Millisecond)
			}
			b.ReportMetric(p50(cold), "cold-p50-ms")
			b.ReportMetric(p50(bare), "bare-p50-ms")
			b.ReportMetric(p50(conn), "bare-connect-p50-ms")
			b.ReportMetric(p50(cold)/p50(bare), "ratio")
			b.ReportMetric(p50(cold)/p50(conn), "ratio-connect")
		})
	}
}
