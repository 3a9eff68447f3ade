// Package backbone owns lambdad's connection to NATS JetStream: either an
// embedded nats-server running in-process on the data directory (JetStream
// file store, SyncAlways so no acknowledged write is lost even on power
// loss, no network listener), or a connection to an external NATS cluster.
// It also holds an exclusive lock on the data directory so two lambdad
// processes never share one.
//
// It imports the standard library, nats-server and nats.go only.
package backbone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configures Open.
type Options struct {
	// DataDir holds the JetStream store (DataDir/jetstream) and the lock
	// file. Required for the embedded server; optional with URL (then only
	// locked, for the local caches other packages keep there).
	DataDir string
	// URL of an external NATS server or cluster; "" starts the embedded one.
	URL string
	// Logger receives backbone and embedded-server logs; nil discards.
	Logger *slog.Logger
	// ReadyTimeout bounds embedded start-up; 0 means 30s.
	ReadyTimeout time.Duration
}

// Backbone is an open JetStream connection (and the embedded server, if any).
// Close releases everything; it is safe for concurrent use.
type Backbone struct {
	srv    *server.Server // nil when external
	nc     *nats.Conn
	js     jetstream.JetStream
	lock   *os.File
	log    *slog.Logger
	closed chan struct{} // closed by the connection's closed handler
}

// ErrLocked reports that another process holds the data directory.
var ErrLocked = errors.New("data dir is in use by another lambdad")

const lockFile = "lambdad.lock"

// Open starts or connects to the backbone. A data directory locked by another
// process yields an error wrapping ErrLocked that names the holder's pid.
func Open(ctx context.Context, o Options) (*Backbone, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.URL == "" && o.DataDir == "" {
		return nil, errors.New("open backbone: a data dir is required for the embedded server")
	}
	b := &Backbone{log: log, closed: make(chan struct{})}
	if o.DataDir != "" {
		lf, err := lockDir(o.DataDir)
		if err != nil {
			return nil, err
		}
		b.lock = lf
	}
	var err error
	if o.URL == "" {
		err = b.startEmbedded(o)
	} else {
		err = b.connectExternal(ctx, o.URL)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	js, err := jetstream.New(b.nc)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("open backbone: jetstream: %w", err)
	}
	// One round trip proves JetStream is enabled and reachable.
	if _, err := js.AccountInfo(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("open backbone: jetstream account info: %w", err)
	}
	b.js = js
	return b, nil
}

func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open backbone: create data dir: %w", err)
	}
	p := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open backbone: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid := "unknown"
		if b, rerr := os.ReadFile(p); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			pid = strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another lambdad (pid %s): %w", dir, pid, ErrLocked)
		}
		return nil, fmt.Errorf("open backbone: lock %s: %w", p, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func (b *Backbone) startEmbedded(o Options) error {
	opts := &server.Options{
		ServerName:            "lambdad",
		JetStream:             true,
		StoreDir:              filepath.Join(o.DataDir, "jetstream"),
		SyncAlways:            true,
		DontListen:            true,
		NoSigs:                true,
		MaxPayload:            8 << 20,
		MaxPending:            64 << 20,
		StreamMaxBufferedSize: 512 << 20,
		JetStreamMaxMemory:    256 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("open backbone: new embedded server: %w", err)
	}
	srv.SetLoggerV2(&natsLogger{log: b.log}, false, false, false)
	b.srv = srv
	srv.Start()
	wait := o.ReadyTimeout
	if wait == 0 {
		wait = 30 * time.Second
	}
	if !srv.ReadyForConnections(wait) {
		return fmt.Errorf("open backbone: embedded server not ready after %s", wait)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv), nats.Name("lambdad"), nats.MaxReconnects(-1), b.onClosed())
	if err != nil {
		return fmt.Errorf("open backbone: in-process connect: %w", err)
	}
	b.nc = nc
	b.log.Info("backbone started", "mode", "embedded", "store_dir", opts.StoreDir)
	return nil
}

func (b *Backbone) connectExternal(ctx context.Context, url string) error {
	opts := []nats.Option{nats.Name("lambdad"), nats.MaxReconnects(-1), b.onClosed()}
	if dl, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(dl)))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("open backbone: connect %s: %w", url, err)
	}
	b.nc = nc
	b.log.Info("backbone started", "mode", "external", "url", nc.ConnectedUrlRedacted())
	return nil
}

func (b *Backbone) onClosed() nats.Option {
	return nats.ClosedHandler(func(*nats.Conn) { close(b.closed) })
}

// JetStream returns the JetStream API handle.
func (b *Backbone) JetStream() jetstream.JetStream { return b.js }

// Conn returns the underlying NATS connection.
func (b *Backbone) Conn() *nats.Conn { return b.nc }

// Embedded reports whether the backbone runs an in-process server.
func (b *Backbone) Embedded() bool { return b.srv != nil }

// Close drains the connection, shuts the embedded server down and releases
// the data-dir lock. It is idempotent.
func (b *Backbone) Close() error {
	var errs []error
	if b.nc != nil && !b.nc.IsClosed() {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("close backbone: drain: %w", err))
		}
		// Drain is asynchronous; the closed handler signals its end.
		select {
		case <-b.closed:
		case <-time.After(10 * time.Second):
			b.nc.Close()
		}
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
		b.srv = nil
	}
	if b.lock != nil {
		syscall.Flock(int(b.lock.Fd()), syscall.LOCK_UN)
		if err := b.lock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close backbone: lock file: %w", err))
		}
		b.lock = nil
	}
	return errors.Join(errs...)
}

// natsLogger bridges the embedded server's printf logging to slog.
type natsLogger struct{ log *slog.Logger }

func (l *natsLogger) Noticef(format string, v ...any) {
	l.log.Debug("nats server", "detail", fmt.Sprintf(format, v...))
}
func (l *natsLogger) Warnf(format string, v ...any) {
	l.log.Warn("nats server", "detail", fmt.Sprintf(format, v...))
}
func (l *natsLogger) Fatalf(format string, v ...any) {
	l.log.Error("nats server fatal", "detail", fmt.Sprintf(format, v...))
}
func (l *natsLogger) Errorf(format string, v ...any) {
	l.log.Error("nats server", "detail", fmt.Sprintf(format, v...))
}
func (l *natsLogger) Debugf(format string, v ...any) {
	l.log.Debug("nats server", "detail", fmt.Sprintf(format, v...))
}
func (l *natsLogger) Tracef(format string, v ...any) {
	l.log.Debug("nats server trace", "detail", fmt.Sprintf(format, v...))
}
