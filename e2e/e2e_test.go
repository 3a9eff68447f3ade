// Package e2e runs whole-daemon tests: the real lambdad server started
// in-process on 127.0.0.1:0 with a temporary data dir, driven by clients we
// did not write (aws-sdk-go-v2, and the AWS CLI v2 when installed), running
// real functions (an aws-lambda-go binary built here, the AWS docs' bash
// custom runtime, Python and Node handlers on the host's interpreters).
package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/daemon"
)

// goZip is the aws-lambda-go test function (internal/environment/testdata/gofn)
// zipped as `bootstrap`; bashZip is the AWS docs' bash custom runtime.
var goZip, bashZip []byte

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	code = m.Run()
	os.Exit(code)
}

func setup() (int, error) {
	dir, err := os.MkdirTemp("", "lambdad-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../internal/environment/testdata/gofn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build gofn: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return 0, err
	}
	goZip = zipFiles(map[string]zipEntry{"bootstrap": {b, 0o755}})
	boot, err := os.ReadFile("../internal/environment/testdata/bashtutorial/bootstrap")
	if err != nil {
		return 0, err
	}
	fsh, err := os.ReadFile("../internal/environment/testdata/bashtutorial/function.sh")
	if err != nil {
		return 0, err
	}
	bashZip = zipFiles(map[string]zipEntry{"bootstrap": {boot, 0o755}, "function.sh": {fsh, 0o644}})
	return 0, nil
}

type zipEntry struct {
	data []byte
	mode os.FileMode
}

func zipFiles(files map[string]zipEntry) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, e := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			panic(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// server is a running in-process lambdad.
type server struct {
	d      *daemon.Daemon
	cfg    config.Config
	client *awslambda.Client
}

// startServer starts lambdad on 127.0.0.1:0; mutate adjusts the config.
// Isolation is "auto" (namespaced when root) unless LAMBDAD_TEST_ISOLATION
// says otherwise.
func startServer(t *testing.T, dataDir string, mutate func(*config.Config)) *server {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	if iso := os.Getenv("LAMBDAD_TEST_ISOLATION"); iso != "" {
		cfg.Isolation = iso
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := daemon.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start lambdad: %v", err)
	}
	s := &server{d: d, cfg: cfg, client: newClient(d.URL())}
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) {
	if s.d == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.d.Stop(ctx); err != nil {
		t.Errorf("stop lambdad: %v", err)
	}
	s.d = nil
}

func newClient(endpoint string) *awslambda.Client {
	return awslambda.New(awslambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

const role = "arn:aws:iam::000000000000:role/lambda-role"

// createActive creates a function and waits until it is Active.
func (s *server) createActive(t *testing.T, in *awslambda.CreateFunctionInput) *awslambda.GetFunctionOutput {
	t.Helper()
	ctx := context.Background()
	if in.Role == nil {
		in.Role = aws.String(role)
	}
	out, err := s.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("CreateFunction(%s): %v", aws.ToString(in.FunctionName), err)
	}
	if out.State != types.StatePending {
		t.Errorf("CreateFunction State = %s, want Pending", out.State)
	}
	w := awslambda.NewFunctionActiveV2Waiter(s.client, func(o *awslambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	got, err := w.WaitForOutput(ctx, &awslambda.GetFunctionInput{FunctionName: in.FunctionName}, 30*time.Second)
	if err != nil {
		t.Fatalf("wait function-active-v2 %s: %v", aws.ToString(in.FunctionName), err)
	}
	return got
}

func goFunction(name string) *awslambda.CreateFunctionInput {
	return &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{ZipFile: goZip},
		Timeout:      aws.Int32(3),
	}
}

func (s *server) invoke(t *testing.T, name string, payload string, mut ...func(*awslambda.InvokeInput)) *awslambda.InvokeOutput {
	t.Helper()
	in := &awslambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(payload)}
	for _, m := range mut {
		m(in)
	}
	out, err := s.client.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", name, payload, err)
	}
	return out
}

func withTail(in *awslambda.InvokeInput) { in.LogType = types.LogTypeTail }

// drain reads an io.Reader fully (for NDJSON bodies in logs tests).
func drain(r io.Reader) string { b, _ := io.ReadAll(r); return string(b) }

// startDaemon starts a daemon without test cleanup (for expected failures).
func startDaemon(cfg config.Config) (*daemon.Daemon, error) {
	return daemon.Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
}
