package backbone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func putGet(t *testing.T, js jetstream.JetStream, put bool) {
	t.Helper()
	ctx := t.Context()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "test"})
	if err != nil {
		t.Fatalf("CreateOrUpdateKeyValue: %v", err)
	}
	if put {
		if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	e, err := kv.Get(ctx, "k")
	if err != nil || string(e.Value()) != "v" {
		t.Fatalf("Get(k) = %v, %v, want v", e, err)
	}
}

func TestEmbeddedDurableAndLocked(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	b, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if !b.Embedded() {
		t.Fatal("Embedded() = false")
	}
	putGet(t, b.JetStream(), true)

	_, err = Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	want := fmt.Sprintf("data dir %s is in use by another lambdad (pid %d)", dir, os.Getpid())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), want) {
		t.Fatalf("second Open = %v, want ErrLocked containing %q", err, want)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	b2, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer b2.Close()
	putGet(t, b2.JetStream(), false)
}

func TestExternal(t *testing.T) {
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("external server not ready")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	b, err := Open(ctx, Options{URL: srv.ClientURL(), DataDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open(external): %v", err)
	}
	defer b.Close()
	if b.Embedded() {
		t.Fatal("Embedded() = true for an external URL")
	}
	if !b.Conn().IsConnected() {
		t.Fatal("not connected")
	}
	putGet(t, b.JetStream(), true)
}

func TestExternalUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := Open(ctx, Options{URL: "nats://127.0.0.1:1"}); err == nil {
		t.Fatal("Open(unreachable) succeeded")
	}
}
