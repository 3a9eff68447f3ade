package async

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

// benchPayload is a 1 KB event, as in reference/backbone.md.
var benchPayload = []byte(`{"data":"` + string(make([]byte, 0)) + repeatX(1012) + `"}`)

func repeatX(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

// burst runs fn n times over conc goroutines and returns the elapsed time.
func burst(conc, n int, fn func()) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				fn()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkEnqueue measures durable Event enqueues (202s per second) at
// concurrency 1 and 16 against the raw durable JetStream publish (1 KB,
// Nats-Msg-Id, work-queue stream, same server: the fsync floor). The
// machine is shared and noisy, so each op is one round of 100 raw
// publishes and 100 enqueues, interleaved, and the rates are summed over
// all rounds; ns/op is per round.
func BenchmarkEnqueue(b *testing.B) {
	const perRound = 100
	for _, conc := range []int{1, 16} {
		b.Run("c"+itoa(conc), func(b *testing.B) {
			e := newEnv(b, nil)
			e.runner.set("f", ok("null"))
			ctx := context.Background()
			if _, err := e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
				Name: "RAWBENCH", Subjects: []string{"rawbench.>"}, Retention: jetstream.WorkQueuePolicy,
				Storage: jetstream.FileStorage, Discard: jetstream.DiscardNew, MaxBytes: 1 << 30, Duplicates: 10 * time.Minute,
			}); err != nil {
				b.Fatal(err)
			}
			raw := func() {
				m := nats.NewMsg("rawbench.f.$LATEST")
				m.Data = benchPayload
				m.Header.Set(jetstream.MsgIDHeader, newRequestID())
				if _, err := e.js.PublishMsg(ctx, m); err != nil {
					b.Error(err)
				}
			}
			enqueue := func() {
				if _, err := e.svc.Enqueue(ctx, &lambda.InvokeRequest{FunctionName: "f", Payload: benchPayload, RequestID: newRequestID()}); err != nil {
					b.Error(err)
				}
			}
			var tRaw, tEnq time.Duration
			rounds := 0
			b.ReportAllocs()
			for b.Loop() {
				if rounds%2 == 0 {
					tRaw += burst(conc, perRound, raw)
					tEnq += burst(conc, perRound, enqueue)
				} else {
					tEnq += burst(conc, perRound, enqueue)
					tRaw += burst(conc, perRound, raw)
				}
				rounds++
			}
			n := float64(rounds * perRound)
			b.ReportMetric(n/tEnq.Seconds(), "enqueues/s")
			b.ReportMetric(n/tRaw.Seconds(), "raw-publishes/s")
			b.ReportMetric(tRaw.Seconds()/tEnq.Seconds(), "ratio")
		})
	}
}

// BenchmarkEndToEnd measures async throughput to a no-op function: each
// op is one event enqueued, run and acknowledged.
func BenchmarkEndToEnd(b *testing.B) {
	e := newEnv(b, func(d *Deps) { d.Workers = 16 })
	var done atomic.Int64
	e.runner.set("noop", func(ctx context.Context, c *invoke.Call) (*invoke.Outcome, error) {
		done.Add(1)
		return &invoke.Outcome{Payload: []byte("null"), Alive: true}, nil
	})
	e.svc.Start()
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	n := int64(0)
	for b.Loop() {
		if _, err := e.svc.Enqueue(ctx, &lambda.InvokeRequest{FunctionName: "noop", Payload: benchPayload, RequestID: newRequestID()}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	waitFor(b, "every event to run", 5*time.Minute, func() bool { return done.Load() >= n })
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
