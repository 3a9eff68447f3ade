package async

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

// The crash test runs the daemon side in a child process (this test binary
// re-executed with crashDirEnv set): embedded NATS on a data dir, a Service
// with a slow function that appends every request id it processes to an
// fsynced file, and 16 goroutines enqueueing events that print each
// accepted (202) request id. The parent SIGKILLs the child mid-way,
// restarts the Service on the same data dir and checks that every accepted
// event is processed at least once.
const (
	crashDirEnv    = "LAMBDAD_ASYNC_CRASH_DIR"
	crashEventsEnv = "LAMBDAD_ASYNC_CRASH_EVENTS"
	processedFile  = "processed.log"
	crashAckWait   = 2 * time.Second
)

// processedLog appends request ids to a file, one fsync per line.
type processedLog struct {
	mu sync.Mutex
	f  *os.File
}

func (p *processedLog) add(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.f.WriteString(id + "\n"); err != nil {
		return err
	}
	return p.f.Sync()
}

func crashDeps(t testing.TB, dir string, runner Runner) Deps {
	return Deps{
		JS: openJS(t, filepath.Join(dir, "data")), Runner: runner, Configs: newFakeConfigs(),
		Region: testRegion, AccountID: testAccount, Workers: 4, AckWait: crashAckWait,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// TestCrashChild is the child side; it does nothing unless re-executed by
// TestCrashLosesNothing.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child of TestCrashLosesNothing only")
	}
	n, err := strconv.Atoi(os.Getenv(crashEventsEnv))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, processedFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	plog := &processedLog{f: f}
	runner := newFakeRunner()
	runner.set("slow", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		select { // the function's own work
		case <-time.After(2 * time.Millisecond):
		case <-ctx.Done():
			return nil, lambda.ServiceError("invoke: " + ctx.Err().Error())
		}
		if err := plog.add(c.RequestID); err != nil {
			return nil, lambda.ServiceError("record: " + err.Error())
		}
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	})
	svc, err := New(context.Background(), crashDeps(t, dir, runner))
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	var next atomic.Int64
	var out sync.Mutex
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				rid := newRequestID()
				_, err := svc.Enqueue(context.Background(), &lambda.InvokeRequest{FunctionName: "slow", Payload: []byte(`{"n":1}`), RequestID: rid})
				if err != nil {
					continue
				}
				out.Lock()
				os.Stdout.WriteString("A " + rid + "\n")
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Stdout.WriteString("ENQUEUED\n")
	select {} // wait for the SIGKILL
}

func TestCrashLosesNothing(t *testing.T) {
	events := 10000
	if testing.Short() {
		events = 2000
	}
	killAt := events * 6 / 10
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashEventsEnv+"="+strconv.Itoa(events))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	accepted := map[string]bool{}
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if rid, ok := strings.CutPrefix(line, "A "); ok {
			accepted[rid] = true
		}
		if !killed && (len(accepted) >= killAt || line == "ENQUEUED") {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before the kill: %v", err)
	}
	processedBefore := readProcessed(t, filepath.Join(dir, processedFile))
	t.Logf("killed child after %d accepted events; %d processed before the kill", len(accepted), len(processedBefore))

	// Restart on the same data dir.
	var mu sync.Mutex
	counts := map[string]int{}
	for _, id := range processedBefore {
		counts[id]++
	}
	runner := newFakeRunner()
	runner.set("slow", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		mu.Lock()
		counts[c.RequestID]++
		mu.Unlock()
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	})
	start := time.Now()
	svc, err := New(context.Background(), crashDeps(t, dir, runner))
	if err != nil {
		t.Fatal(err)
	}
	svc.Start()
	defer svc.Close(context.Background())
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for id := range accepted {
			if counts[id] == 0 {
				n++
			}
		}
		return n
	}
	waitFor(t, "every accepted event to be processed", 90*time.Second, func() bool { return missing() == 0 })
	recovery := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	dups, extra := 0, 0
	for id, c := range counts {
		if c > 1 {
			dups += c - 1
		}
		if !accepted[id] {
			extra++ // published, but the 202 never reached the caller
		}
	}
	t.Logf("after restart: %d/%d accepted events processed at least once (0 lost) in %v; %d duplicate deliveries; %d processed events whose 202 was cut off by the kill",
		len(accepted), len(accepted), recovery.Round(time.Millisecond), dups, extra)
}

func readProcessed(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range strings.Split(string(b), "\n") {
		if len(l) == 36 { // a torn last line is not a processed id
			ids = append(ids, l)
		}
	}
	return ids
}
