package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// sdkEcho invokes name through aws-sdk-go-v2 and checks the echo.
func sdkEcho(c *awslambda.Client, name string, body []byte) doer {
	return func(ctx context.Context) error {
		out, err := c.Invoke(ctx, &awslambda.InvokeInput{FunctionName: aws.String(name), Payload: body})
		if err != nil {
			return err
		}
		if out.FunctionError != nil || !sameJSON(out.Payload, body) {
			return fmt.Errorf("sdk invoke %s: %s %.200s", name, aws.ToString(out.FunctionError), out.Payload)
		}
		return nil
	}
}

// execTime runs argv once and returns its wall time.
// The environment is a clean one like a function's (PATH and LANG only):
// the host's own variables can change an interpreter's start-up (node
// loads NODE_EXTRA_CA_CERTS at boot, ~50 ms here).
func execTime(argv ...string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=en_US.UTF-8"}
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return time.Since(t0), nil
}

// burstResult is a burst of parallel cold starts on one fresh function and
// the memory the resulting idle environments cost.
type burstResult struct {
	lat          samples
	wall         time.Duration
	hold         time.Duration
	envs         int   // new function processes after the burst
	helpers      int   // new non-function processes (sandbox helpers)
	envRSSKB     int64 // summed RSS of the new function processes
	envPSSKB     int64
	helperRSSKB  int64
	helperPSSKB  int64
	helperNames  map[string]int
	daemonGrowKB int64
	kernelGrowKB int64
	errs         int
	firstErr     error
}

func (b *burstResult) envsPerSec() float64 {
	if b.wall <= b.hold {
		return 0
	}
	return float64(b.envs) / (b.wall - b.hold).Seconds()
}

// overheadKB is the platform's memory per environment beyond the
// function's own processes: daemon RSS growth plus the helper processes'
// proportional set size (their pages shared with the daemon binary and
// each other count once, split between them).
func (b *burstResult) overheadKB() float64 {
	if b.envs == 0 {
		return 0
	}
	return float64(b.daemonGrowKB+b.helperPSSKB) / float64(b.envs)
}

// burst creates a fresh Go function and sends n parallel invokes that each
// hold their environment for hold, so every request cold-starts its own
// environment; then it measures what the n idle environments cost.
func burst(ctx context.Context, l *lambdad, name string, spec fnSpec, n int, hold time.Duration) (*burstResult, error) {
	if err := l.create(ctx, name, spec, nil); err != nil {
		return nil, err
	}
	before := map[int]bool{}
	for _, p := range descendants(l.pid()) {
		before[p.pid] = true
	}
	daemon0, kernel0 := minRSSKB(l.pid()), kernelKB()
	client := newHTTPClient(n)
	body := []byte(fmt.Sprintf(`{"sleep_ms":%d}`, hold.Milliseconds()))
	do := httpEcho(client, l.invokeURL(name), body)
	res := &burstResult{hold: hold, helperNames: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			t0 := time.Now()
			err := do(ctx)
			el := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.errs++
				if res.firstErr == nil {
					res.firstErr = err
				}
				return
			}
			res.lat = append(res.lat, el)
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	client.CloseIdleConnections()
	time.Sleep(time.Second) // environments freeze, connections close
	res.daemonGrowKB = minRSSKB(l.pid()) - daemon0
	res.kernelGrowKB = kernelKB() - kernel0
	for _, p := range descendants(l.pid()) {
		if before[p.pid] {
			continue
		}
		if filepath.Base(p.exe) == "bootstrap" || p.comm == "bootstrap" {
			res.envs++
			res.envRSSKB += p.rssKB
			res.envPSSKB += p.pssKB
		} else {
			res.helpers++
			res.helperRSSKB += p.rssKB
			res.helperPSSKB += p.pssKB
			res.helperNames[p.comm]++
		}
	}
	return res, nil
}

// timedCalls times n calls of f(i).
func timedCalls(ctx context.Context, n int, budget time.Duration, f func(i int) error) (samples, error) {
	out := make(samples, 0, n)
	deadline := time.Now().Add(budget)
	for i := 0; i < n && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
		t0 := time.Now()
		if err := f(i); err != nil {
			return out, err
		}
		out = append(out, time.Since(t0))
	}
	return out, nil
}

// minRSSKB is the least of 5 RSS samples 100 ms apart: the daemon's RSS
// swings with its garbage collector, its troughs are comparable.
func minRSSKB(pid int) int64 {
	m := rssKB(pid)
	for range 4 {
		time.Sleep(100 * time.Millisecond)
		m = min(m, rssKB(pid))
	}
	return m
}
