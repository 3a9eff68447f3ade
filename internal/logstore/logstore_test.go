package logstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/logs"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), nc, js, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubjectRoundTrip(t *testing.T) {
	for _, g := range []string{"/aws/lambda/my-fn_1", "/custom/group.name", "/aws/lambda/with.dot"} {
		if got := groupOf(Subject(g)); got != g {
			t.Errorf("groupOf(Subject(%q)) = %q", g, got)
		}
	}
}

func TestWriteReadFollow(t *testing.T) {
	s := newStore(t)
	t0 := time.Now()
	for i := 0; i < 5; i++ {
		s.Write(logs.Record{Group: "/aws/lambda/a", Stream: "2026/11/22/[$LATEST]abc", Time: t0.Add(time.Duration(i) * time.Millisecond), Message: []byte(fmt.Sprintf("a%d\n", i))})
		s.Write(logs.Record{Group: "/aws/lambda/b", Stream: "s", Time: t0, Message: []byte("b\n")})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Records are buffered, then published (one message per log stream)
	// with core NATS and stored asynchronously: no Flush here, the linger
	// timer publishes them; wait until both batches are in the stream.
	waitMsgs(ctx, t, s, 2)
	var got []string
	err := s.Read(ctx, Query{Groups: []string{"/aws/lambda/a"}}, func(r logs.Record) error {
		if r.Group != "/aws/lambda/a" || r.Stream != "2026/11/22/[$LATEST]abc" {
			t.Errorf("record = %+v", r)
		}
		got = append(got, string(r.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[a0\n a1\n a2\n a3\n a4\n]" {
		t.Errorf("Read = %q", got)
	}
	// An empty group reads nothing and returns at once.
	if err := s.Read(ctx, Query{Groups: []string{"/aws/lambda/none"}}, func(logs.Record) error { t.Error("unexpected record"); return nil }); err != nil {
		t.Fatal(err)
	}

	// Follow: a record written after Read started arrives.
	fctx, fcancel := context.WithCancel(ctx)
	seen := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.Read(fctx, Query{Groups: []string{"/aws/lambda/b"}, Follow: true, Since: time.Now()}, func(r logs.Record) error {
			seen <- string(r.Message)
			return nil
		})
	}()
	// Keep writing until the follower, which may start late, sees one.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case m := <-seen:
			if m != "late\n" {
				t.Errorf("followed %q", m)
			}
			waiting = false
		case <-tick.C:
			s.Write(logs.Record{Group: "/aws/lambda/b", Stream: "s", Time: time.Now().Add(2 * time.Hour), Message: []byte("late\n")})
		case <-ctx.Done():
			t.Fatal("follow saw nothing")
		}
	}
	fcancel()
	if err := <-done; err != nil {
		t.Errorf("follow Read = %v", err)
	}
}

func TestWriteBatch(t *testing.T) {
	s := newStore(t)
	t0 := time.Unix(1700000000, 123)
	s.WriteBatch([]logs.Record{
		{Group: "/aws/lambda/c", Stream: "st", Time: t0, Message: []byte("END RequestId: x\n")},
		{Group: "/aws/lambda/c", Stream: "st", Time: t0.Add(time.Millisecond), Message: []byte("REPORT RequestId: x\t\n")},
		{Group: "/aws/lambda/c", Stream: "st", Time: t0.Add(2 * time.Millisecond), Message: []byte("")},
	})
	s.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitMsgs(ctx, t, s, 1)
	var got []logs.Record
	if err := s.Read(ctx, Query{Groups: []string{"/aws/lambda/c"}}, func(r logs.Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got[1].Message) != "REPORT RequestId: x\t\n" || !got[1].Time.Equal(t0.Add(time.Millisecond)) || got[0].Stream != "st" || got[2].Group != "/aws/lambda/c" {
		t.Errorf("Read of a batch = %+v", got)
	}
	if splitBatch("g", "s", []byte{1, 2, 3}) != nil {
		t.Error("splitBatch accepted a truncated body")
	}
}

// waitMsgs waits until the LOGS stream holds n messages (at least n with
// atLeast).
func waitMsgs(ctx context.Context, t *testing.T, s *Store, n uint64) {
	waitMsgsMin(ctx, t, s, n, false)
}

func waitMsgsMin(ctx context.Context, t *testing.T, s *Store, n uint64, atLeast bool) {
	t.Helper()
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := s.js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == n || atLeast && info.State.Msgs > n {
			return
		}
		if info.State.Msgs > n {
			t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, n)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, n)
		case <-time.After(time.Millisecond):
		}
	}
}

func readAll(ctx context.Context, t *testing.T, s *Store, group string) []logs.Record {
	t.Helper()
	var got []logs.Record
	if err := s.Read(ctx, Query{Groups: []string{group}}, func(r logs.Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestBufferBoundsAndBatchSplit(t *testing.T) {
	s := newStore(t)
	s.linger = time.Hour // only explicit flushes and full batches publish
	s.maxBuffer = 4096
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	line := make([]byte, 1000)
	ok := 0
	for i := 0; i < 10; i++ {
		if s.TryWrite(logs.Record{Group: "/aws/lambda/d", Stream: "s", Time: time.Now(), Message: line}) {
			ok++
		}
	}
	if ok != 5 || s.Dropped() != 5 {
		t.Fatalf("TryWrite under a 4096-byte buffer kept %d, dropped %d; want 5 and 5", ok, s.Dropped())
	}
	// Platform lines (Write) are never dropped.
	s.Write(logs.Record{Group: "/aws/lambda/d", Stream: "s", Time: time.Now(), Message: []byte("REPORT\n")})
	s.Flush()
	waitMsgs(ctx, t, s, 1)
	if got := readAll(ctx, t, s, "/aws/lambda/d"); len(got) != 6 || string(got[5].Message) != "REPORT\n" {
		t.Fatalf("read %d records after the flush, want 6 ending in REPORT", len(got))
	}

	// A stream writing more than one message's worth is split into full
	// messages, published without waiting for the linger.
	s.maxBuffer = 64 << 20
	big := make([]byte, 100<<10)
	for i := 0; i < 12; i++ {
		s.Write(logs.Record{Group: "/aws/lambda/e", Stream: "s", Time: time.Now(), Message: big})
	}
	// Full 512 KiB batches go out on their own, long before the linger.
	waitMsgsMin(ctx, t, s, 2, true)
	if got := readAll(ctx, t, s, "/aws/lambda/e"); len(got) != 12 {
		t.Fatalf("read %d big records, want 12", len(got))
	}

	// After Close every write is published at once.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := s.js.Stream(ctx, streamName)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(logs.Record{Group: "/aws/lambda/f", Stream: "s", Time: time.Now(), Message: []byte("late\n")})
	waitMsgs(ctx, t, s, before.State.Msgs+1)
}

func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 'h', 'i'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range splitBatch("g", "s", b) {
			if len(r.Message) > len(b) {
				t.Fatalf("record longer than the body")
			}
		}
	})
}
