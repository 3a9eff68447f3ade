// Package logs is the core of function logs: the log group and stream names,
// the platform lines (START, END, REPORT, the timeout line) formatted exactly
// as AWS Lambda writes them (SPEC §2.8), line-wise capture of an
// environment's stdout/stderr that never blocks the function, the
// per-invocation tail returned as X-Amz-Log-Result, and the [Sink] records
// are written to (backed by a JetStream LOGS stream in the daemon, by
// [Memory] in tests).
//
// It imports only the standard library.
package logs

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"strconv"
	"sync"
	"time"
)

// TailBytes is how much of an invocation's log text LogType Tail returns.
const TailBytes = 4096

// Record is one log event: a line of function output or a platform line,
// including its trailing newline.
type Record struct {
	Group   string // log group, /aws/lambda/<function>
	Stream  string // log stream, YYYY/MM/DD/[<version>]<32 hex>
	Time    time.Time
	Message []byte
}

// Sink stores log records. Write must not retain rec.Message beyond the call
// unless it owns it: Capture hands every record a fresh slice, so sinks may
// keep it. Write is called from one goroutine per Capture and must be safe
// for concurrent use across Captures.
type Sink interface {
	Write(rec Record)
}

// BatchSink is a Sink that can also store several records of one log
// stream at once (Capture uses it when the sink offers it: one store write
// for END, REPORT and the lines around them).
type BatchSink interface {
	Sink
	WriteBatch(recs []Record)
}

// DirectSink is a Sink that only buffers: its writes never block, so
// Capture calls it directly from the pipe reader and from the platform-line
// writers instead of through its own queue and goroutine. TryWrite stores a
// function line unless the sink's buffer is full (the line is then dropped
// and counted by Capture); Write (platform lines) always stores.
type DirectSink interface {
	Sink
	TryWrite(rec Record) bool
}

// GroupName is the default log group of a function.
func GroupName(function string) string { return "/aws/lambda/" + function }

// StreamName returns a new log stream name for an environment created at t
// running version: "2024/01/31/[$LATEST]0123456789abcdef0123456789abcdef".
func StreamName(t time.Time, version string) string {
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	t = t.UTC()
	b := make([]byte, 0, 11+len(version)+2+32)
	b = t.AppendFormat(b, "2006/01/02/")
	b = append(b, '[')
	b = append(b, version...)
	b = append(b, ']')
	b = hex.AppendEncode(b, id[:])
	return string(b)
}

// StartLine is "START RequestId: <id> Version: <version>\n".
func StartLine(requestID, version string) []byte {
	return []byte("START RequestId: " + requestID + " Version: " + version + "\n")
}

// EndLine is "END RequestId: <id>\n".
func EndLine(requestID string) []byte {
	return []byte("END RequestId: " + requestID + "\n")
}

// Report holds the figures of a REPORT line.
type Report struct {
	RequestID string
	// Duration is from the event hand-off to the runtime's next /next.
	Duration time.Duration
	MemoryMB int // configured MemorySize
	// MaxMemoryUsedMB is the peak memory in MB (integer).
	MaxMemoryUsedMB int
	// InitDuration is reported only on the first invoke of a cold
	// environment; zero omits it.
	InitDuration time.Duration
}

// Line formats the REPORT line exactly as AWS does:
// "REPORT RequestId: <id>\tDuration: 2.27 ms\tBilled Duration: 3 ms\tMemory
// Size: 128 MB\tMax Memory Used: 63 MB\t[Init Duration: 203.69 ms\t]\n".
// Billed Duration is the duration rounded up to the millisecond.
func (r Report) Line() []byte {
	b := make([]byte, 0, 160)
	b = append(b, "REPORT RequestId: "...)
	b = append(b, r.RequestID...)
	b = append(b, "\tDuration: "...)
	b = appendMillis(b, r.Duration)
	b = append(b, " ms\tBilled Duration: "...)
	b = strconv.AppendInt(b, BilledMillis(r.Duration), 10)
	b = append(b, " ms\tMemory Size: "...)
	b = strconv.AppendInt(b, int64(r.MemoryMB), 10)
	b = append(b, " MB\tMax Memory Used: "...)
	b = strconv.AppendInt(b, int64(r.MaxMemoryUsedMB), 10)
	b = append(b, " MB\t"...)
	if r.InitDuration > 0 {
		b = append(b, "Init Duration: "...)
		b = appendMillis(b, r.InitDuration)
		b = append(b, " ms\t"...)
	}
	return append(b, '\n')
}

// BilledMillis is d rounded up to whole milliseconds (at least 1).
func BilledMillis(d time.Duration) int64 {
	ms := int64(math.Ceil(float64(d) / float64(time.Millisecond)))
	if ms < 1 {
		ms = 1
	}
	return ms
}

func appendMillis(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// TimeoutLine is the line AWS logs when an invocation times out:
// "2019-04-23T01:34:55.427Z <id> Task timed out after 3.02 seconds\n", with
// the actual elapsed time.
func TimeoutLine(t time.Time, requestID string, elapsed time.Duration) []byte {
	b := make([]byte, 0, 96)
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, ' ')
	b = append(b, requestID...)
	b = append(b, " Task timed out after "...)
	b = strconv.AppendFloat(b, elapsed.Seconds(), 'f', 2, 64)
	return append(b, " seconds\n"...)
}

// Memory is an in-memory Sink for tests. It is safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	recs    []Record
	changed chan struct{}
}

// NewMemory returns an empty Memory sink.
func NewMemory() *Memory { return &Memory{changed: make(chan struct{})} }

// Write stores rec.
func (m *Memory) Write(rec Record) {
	m.mu.Lock()
	m.recs = append(m.recs, rec)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Records returns a copy of every record written so far, in order.
func (m *Memory) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.recs...)
}

// Changed returns a channel closed at the next Write.
func (m *Memory) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}
