package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sync"
	"time"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// doer performs one request and checks its answer.
type doer func(ctx context.Context) error

// httpEcho POSTs body to url with client and checks the answer is body
// again with status 200 and no X-Amz-Function-Error.
func httpEcho(client *http.Client, url string, body []byte) doer {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
			return fmt.Errorf("status %d %s: %.200s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), got)
		}
		if !sameJSON(got, body) {
			return fmt.Errorf("echo mismatch: %.200s", got)
		}
		return nil
	}
}

// sameJSON reports whether got is body again (byte-equal, or the same JSON
// value: Python's json.dumps re-spaces objects).
func sameJSON(got, body []byte) bool {
	got = bytes.TrimSpace(got)
	if bytes.Equal(got, body) {
		return true
	}
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal(body, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// newHTTPClient is a keep-alive client able to hold conns connections.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}, Timeout: 60 * time.Second}
}

// errTooManyErrors stops a run whose requests keep failing.
var errTooManyErrors = errors.New("too many errors")

// runLoad runs c closed-loop clients of do for dur (at most maxN requests in
// all) and returns their latencies. warm is a discarded warm-up period.
// When pid > 0 the CPU time of that server process and its descendants
// during the measured period is recorded too.
func runLoad(ctx context.Context, name string, do doer, pid, c int, warm, dur time.Duration, maxN int) (*result, error) {
	loop := func(d time.Duration, n int, keep bool) (*result, error) {
		var mu sync.Mutex
		res := &result{name: name}
		var firstErr error
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for range c {
			wg.Go(func() {
				lat := make(samples, 0, 1024)
				errs := 0
				var last error
				for i := 0; i < n/c+1 && time.Now().Before(deadline) && ctx.Err() == nil; i++ {
					t0 := time.Now()
					err := do(ctx)
					el := time.Since(t0)
					if err != nil {
						errs++
						last = err
						if errs > 10 {
							break
						}
						continue
					}
					lat = append(lat, el)
				}
				mu.Lock()
				res.lat = append(res.lat, lat...)
				res.errs += errs
				if last != nil && firstErr == nil {
					firstErr = last
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		res.elapsed = time.Since(start)
		res.count = len(res.lat)
		if res.errs > 10 {
			return res, fmt.Errorf("%s: %w (%d): %v", name, errTooManyErrors, res.errs, firstErr)
		}
		return res, nil
	}
	if warm > 0 {
		if _, err := loop(warm, maxN, false); err != nil {
			return nil, err
		}
	}
	var s0, k0 time.Duration
	if pid > 0 {
		s0, k0 = cpuTime(pid)
	}
	res, err := loop(dur, maxN, true)
	if pid > 0 && res != nil {
		s1, k1 := cpuTime(pid)
		res.cpuSelf, res.cpuKids = s1-s0, k1-k0
	}
	return res, err
}
