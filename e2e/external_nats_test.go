package e2e

import (
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/lambdad/lambdad/internal/config"
)

// lambdad on an external NATS server (here a separately started
// nats-server listening on a random loopback port), as in multi-node mode:
// functions live there and survive a lambdad restart on a fresh data dir.
func TestExternalNATS(t *testing.T) {
	srv, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, SyncAlways: true, MaxPayload: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	url := srv.ClientURL()
	s := startServer(t, t.TempDir(), func(c *config.Config) { c.NATSURL = url })
	s.createActive(t, goFunction("ext"))
	if out := s.invoke(t, "ext", `{"n":1}`); string(out.Payload) != `{"n":1}` {
		t.Fatalf("invoke = %s", out.Payload)
	}
	s.stop(t)

	// Another lambdad node, other data dir, same NATS: the function is there.
	s2 := startServer(t, t.TempDir(), func(c *config.Config) { c.NATSURL = url })
	if out := s2.invoke(t, "ext", `{"n":2}`); string(out.Payload) != `{"n":2}` {
		t.Fatalf("invoke on the second node = %s", out.Payload)
	}
}
