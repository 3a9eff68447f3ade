package api_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

// reportP50 records the median of the observed latencies.
func reportP50(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
}

// BenchmarkCreateFunction measures CreateFunction through aws-sdk-go-v2 and
// the real API, control, store and embedded JetStream (SyncAlways).
func BenchmarkCreateFunction(b *testing.B) {
	s := &server{t: b, dir: b.TempDir(), gate: newGate()}
	s.start()
	defer s.stop()
	s.gate.open()
	zipb := handlerZip(b)
	ctx := b.Context()
	var lat []time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := s.client.CreateFunction(ctx, createInput(fmt.Sprintf("bench-%d", i), "python3.12", zipb)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	reportP50(b, lat)
}

// BenchmarkGetFunction measures GetFunction of an existing function.
func BenchmarkGetFunction(b *testing.B) {
	s := &server{t: b, dir: b.TempDir(), gate: newGate()}
	s.start()
	defer s.stop()
	s.gate.open()
	ctx := b.Context()
	if _, err := s.client.CreateFunction(ctx, createInput("bench", "python3.12", handlerZip(b))); err != nil {
		b.Fatal(err)
	}
	in := &awslambda.GetFunctionInput{FunctionName: aws.String("bench")}
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := s.client.GetFunction(ctx, in); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportP50(b, lat)
}
