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
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Records published with core NATS are stored asynchronously: wait
	// until all ten are in the stream.
	st, _ := s.js.Stream(ctx, streamName)
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 10 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream holds %d records, want 10", info.State.Msgs)
		case <-time.After(time.Millisecond):
		}
	}
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
	s.nc.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _ := s.js.Stream(ctx, streamName)
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("batch not stored")
		case <-time.After(time.Millisecond):
		}
	}
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
