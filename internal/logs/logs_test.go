package logs

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReportLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want string
	}{
		{"warm", Report{RequestID: "id", Duration: 2270 * time.Microsecond, MemoryMB: 128, MaxMemoryUsedMB: 63},
			"REPORT RequestId: id\tDuration: 2.27 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 63 MB\t\n"},
		{"cold", Report{RequestID: "id", Duration: 38660 * time.Microsecond, MemoryMB: 128, MaxMemoryUsedMB: 54, InitDuration: 203690 * time.Microsecond},
			"REPORT RequestId: id\tDuration: 38.66 ms\tBilled Duration: 39 ms\tMemory Size: 128 MB\tMax Memory Used: 54 MB\tInit Duration: 203.69 ms\t\n"},
		{"exact ms", Report{RequestID: "id", Duration: 3 * time.Millisecond, MemoryMB: 1024, MaxMemoryUsedMB: 1},
			"REPORT RequestId: id\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 1 MB\t\n"},
		{"sub ms", Report{RequestID: "id", Duration: 10 * time.Microsecond, MemoryMB: 128, MaxMemoryUsedMB: 12},
			"REPORT RequestId: id\tDuration: 0.01 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 12 MB\t\n"},
		{"3.01", Report{RequestID: "id", Duration: 3010 * time.Microsecond, MemoryMB: 128, MaxMemoryUsedMB: 36, InitDuration: 110100 * time.Microsecond},
			"REPORT RequestId: id\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 110.10 ms\t\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.r.Line()); got != tc.want {
				t.Errorf("Line() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlatformLines(t *testing.T) {
	if got := string(StartLine("abc", "$LATEST")); got != "START RequestId: abc Version: $LATEST\n" {
		t.Errorf("StartLine = %q", got)
	}
	if got := string(EndLine("abc")); got != "END RequestId: abc\n" {
		t.Errorf("EndLine = %q", got)
	}
	ts := time.Date(2019, 4, 23, 1, 34, 55, 427_000_000, time.UTC)
	if got := string(TimeoutLine(ts, "abc", 3020*time.Millisecond)); got != "2019-04-23T01:34:55.427Z abc Task timed out after 3.02 seconds\n" {
		t.Errorf("TimeoutLine = %q", got)
	}
	if GroupName("f") != "/aws/lambda/f" {
		t.Errorf("GroupName = %q", GroupName("f"))
	}
	re := regexp.MustCompile(`^2024/01/05/\[\$LATEST\][0-9a-f]{32}$`)
	s1 := StreamName(time.Date(2024, 1, 5, 23, 0, 0, 0, time.UTC), "$LATEST")
	s2 := StreamName(time.Date(2024, 1, 5, 23, 0, 0, 0, time.UTC), "$LATEST")
	if !re.MatchString(s1) || s1 == s2 {
		t.Errorf("StreamName = %q, %q", s1, s2)
	}
	if s := StreamName(time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC), "3"); !strings.HasPrefix(s, "2024/01/05/[3]") {
		t.Errorf("StreamName = %q", s)
	}
}

func messages(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Message))
	}
	return out
}

func TestCaptureProcessOutputAndTail(t *testing.T) {
	mem := NewMemory()
	c, err := NewCapture(mem, "/aws/lambda/f", "s")
	if err != nil {
		t.Fatal(err)
	}
	c.BeginTail()
	c.Platform(StartLine("id", "$LATEST"))
	cmd := exec.Command("sh", "-c", `echo one; printf 'two '; echo part; echo err >&2; printf 'no newline'`)
	cmd.Stdout, cmd.Stderr = c.Output(), c.Output()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	c.Sync(10 * time.Second)
	c.Platform(EndLine("id"))
	tail := string(c.EndTail())
	if want := "START RequestId: id Version: $LATEST\none\ntwo part\nerr\nno newlineEND RequestId: id\n"; tail != want {
		t.Errorf("tail = %q, want %q", tail, want)
	}
	c.Close()
	got := messages(mem.Records())
	want := []string{"START RequestId: id Version: $LATEST\n", "one\n", "two part\n", "err\n", "no newline", "END RequestId: id\n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records = %q, want %q", got, want)
	}
	for _, r := range mem.Records() {
		if r.Group != "/aws/lambda/f" || r.Stream != "s" || r.Time.IsZero() {
			t.Errorf("record = %+v", r)
		}
	}
}

func TestTailKeepsLast4096(t *testing.T) {
	c, err := NewCapture(NewMemory(), "g", "s")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.BeginTail()
	line := []byte(strings.Repeat("x", 99) + "\n")
	for range 100 {
		c.Output().Write(line)
	}
	c.Sync(10 * time.Second)
	c.Platform([]byte("REPORT\n"))
	tail := c.EndTail()
	if len(tail) != TailBytes || !bytes.HasSuffix(tail, []byte("x\nREPORT\n")) {
		t.Fatalf("tail = %d bytes, suffix %q", len(tail), tail[len(tail)-20:])
	}
	// Outside BeginTail/EndTail nothing is collected.
	c.Platform([]byte("later\n"))
	c.BeginTail()
	if got := c.EndTail(); len(got) != 0 {
		t.Fatalf("fresh tail = %q", got)
	}
}

func TestLongLineSplit(t *testing.T) {
	mem := NewMemory()
	c, err := NewCapture(mem, "g", "s")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("y"), MaxLineBytes+10)
	if _, err := c.Output().Write(append(big, '\n')); err != nil {
		t.Fatal(err)
	}
	c.Close()
	got := mem.Records()
	if len(got) != 2 || len(got[0].Message) != MaxLineBytes || len(got[1].Message) != 11 {
		t.Fatalf("records = %d", len(got))
	}
}

// blockingSink blocks every Write until released.
type blockingSink struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingSink) Write(Record) {
	<-b.release
	b.mu.Lock()
	b.n++
	b.mu.Unlock()
}

func TestSlowSinkDropsFunctionLinesNeverBlocks(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	c, err := NewCapture(sink, "g", "s")
	if err != nil {
		t.Fatal(err)
	}
	c.qmu.Lock()
	c.maxQueue = 1024
	c.qmu.Unlock()
	// The writer process must finish although the sink never accepts a record.
	cmd := exec.Command("sh", "-c", `i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done`)
	cmd.Stdout = c.Output()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	c.Sync(10 * time.Second)
	if c.Dropped() == 0 {
		t.Fatalf("Dropped() = 0 with a blocked sink")
	}
	c.Platform([]byte("REPORT RequestId: x\n")) // platform lines are never dropped
	close(sink.release)
	c.Close()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if uint64(sink.n)+c.Dropped() != 2001 {
		t.Fatalf("delivered %d + dropped %d != 2001", sink.n, c.Dropped())
	}
}

func BenchmarkReportLine(b *testing.B) {
	r := Report{RequestID: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", Duration: 2270 * time.Microsecond, MemoryMB: 128, MaxMemoryUsedMB: 63}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Line()
	}
}

// boundedSink is a DirectSink that keeps at most max function lines.
type boundedSink struct {
	mu   sync.Mutex
	max  int
	recs []Record
	fn   int
}

func (b *boundedSink) Write(r Record) {
	b.mu.Lock()
	b.recs = append(b.recs, r)
	b.mu.Unlock()
}

func (b *boundedSink) TryWrite(r Record) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fn >= b.max {
		return false
	}
	b.fn++
	b.recs = append(b.recs, r)
	return true
}

func TestDirectSinkInOrderAndBounded(t *testing.T) {
	sink := &boundedSink{max: 3}
	c, err := NewCapture(sink, "g", "s")
	if err != nil {
		t.Fatal(err)
	}
	c.BeginTail()
	c.PlatformLater(StartLine("id", "1"))
	cmd := exec.Command("sh", "-c", `echo a; echo b; echo c; echo d; echo e`)
	cmd.Stdout = c.Output()
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	c.Sync(10 * time.Second)
	c.Platform(EndLine("id"))
	// A full sink drops function lines (counted), never platform lines,
	// and the tail still has everything.
	if tail := string(c.EndTail()); tail != "START RequestId: id Version: 1\na\nb\nc\nd\ne\nEND RequestId: id\n" {
		t.Errorf("tail = %q", tail)
	}
	c.Close()
	sink.mu.Lock()
	got := messages(sink.recs)
	sink.mu.Unlock()
	if want := []string{"START RequestId: id Version: 1\n", "a\n", "b\n", "c\n", "END RequestId: id\n"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records = %q, want %q", got, want)
	}
	if c.Dropped() != 2 {
		t.Errorf("Dropped() = %d, want 2", c.Dropped())
	}
}
