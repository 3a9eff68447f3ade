package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/lambdad/lambdad/internal/api"
	"github.com/lambdad/lambdad/internal/backbone"
	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/store"
)

const (
	region  = "us-east-1"
	account = "000000000000"
	role    = "arn:aws:iam::000000000000:role/lambda-role"
	// gatedRuntime functions stay Pending/InProgress until the gate opens.
	gatedRuntime = "java21"
	// brokenRuntime is one the test host "cannot serve".
	brokenRuntime = "ruby3.3"
)

// gate blocks provisioning of gatedRuntime functions until opened.
type gate struct {
	mu sync.Mutex
	ch chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) wait() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	<-ch
}

// open lets every waiting and future provisioning through.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.ch:
	default:
		close(g.ch)
	}
}

// server is the in-process lambdad: backbone + store + control + api on
// httptest (127.0.0.1, random port).
type server struct {
	t       testing.TB
	dir     string
	gate    *gate
	bb      *backbone.Backbone
	ctl     *control.Service
	srv     *httptest.Server
	client  *awslambda.Client
	invoker api.Invoker
}

func startServer(t *testing.T, dir string, inv api.Invoker) *server {
	t.Helper()
	s := &server{t: t, dir: dir, gate: newGate(), invoker: inv}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	t := s.t
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	bb, err := backbone.Open(t.Context(), backbone.Options{DataDir: s.dir, Logger: log})
	if err != nil {
		t.Fatalf("backbone.Open: %v", err)
	}
	st, err := store.New(t.Context(), bb.JetStream())
	if err != nil {
		bb.Close()
		t.Fatalf("store.New: %v", err)
	}
	var base string
	s.ctl = control.New(control.Deps{
		Store: st, Region: region, AccountID: account, Logger: log,
		BaseURL: func() string { return base },
		CheckRuntime: func(r string) error {
			switch r {
			case gatedRuntime:
				s.gate.wait()
			case brokenRuntime:
				return fmt.Errorf("runtime %s is not available on this host", r)
			}
			return nil
		},
	})
	s.srv = httptest.NewServer(api.New(api.Deps{Control: s.ctl, Invoker: s.invoker, Logger: log}))
	base = s.srv.URL
	s.bb = bb
	s.client = awslambda.New(awslambda.Options{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint:     aws.String(s.srv.URL),
		RetryMaxAttempts: 1,
	})
}

func (s *server) stop() {
	if s.srv == nil {
		return
	}
	s.gate.open()
	s.srv.Close()
	s.ctl.Close()
	if err := s.bb.Close(); err != nil {
		s.t.Errorf("backbone.Close: %v", err)
	}
	s.srv = nil
}

func (s *server) restart() {
	s.stop()
	s.gate = newGate()
	s.start()
}

type zfile struct {
	name, body string
	mode       fs.FileMode
}

func makeZip(t testing.TB, files ...zfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		m := f.mode
		if m == 0 {
			m = 0o644
		}
		h.SetMode(m)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func handlerZip(t testing.TB) []byte {
	return makeZip(t, zfile{name: "handler.py", body: "def handler(event, context):\n    return event\n"})
}

// apiErr asserts err is an AWS API error with code and (if not empty) message.
func apiErr(t *testing.T, err error, code, msg string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("err = %s: %q\nwant %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
	return ae
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
