package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdad/lambdad/internal/config"
	"github.com/lambdad/lambdad/internal/daemon"
)

// runServe is the daemon role: lambdad started in-process of this child
// with daemon.Start, so the bench's clients and the server are separate
// processes (as with a real `lambdad serve`) and the daemon's RSS can be
// read alone.
func runServe(isolation, dataDir, cpuprofile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.Isolation = isolation
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Printf("URL %s\n", d.URL())
	eof := make(chan struct{})
	go func() { waitStdinEOF(); close(eof) }()
	select {
	case <-eof:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return d.Stop(sctx)
}

// lambdad is a running daemon child and its clients.
type lambdad struct {
	*child
	isolation string
	sdk       *awslambda.Client
	http      *http.Client
}

func newSDK(endpoint string) *awslambda.Client {
	return awslambda.New(awslambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       newHTTPClient(64),
	})
}

const role = "arn:aws:iam::000000000000:role/lambdad-bench"

// fnSpec describes a benchmark function.
type fnSpec struct {
	runtime types.Runtime
	handler string
	zip     []byte
}

// create creates a function and waits until it is Active.
func (l *lambdad) create(ctx context.Context, name string, s fnSpec, env map[string]string) error {
	in := &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      s.runtime,
		Handler:      aws.String(s.handler),
		Role:         aws.String(role),
		Code:         &types.FunctionCode{ZipFile: s.zip},
		Timeout:      aws.Int32(30),
	}
	if env != nil {
		in.Environment = &types.Environment{Variables: env}
	}
	if _, err := l.sdk.CreateFunction(ctx, in); err != nil {
		return fmt.Errorf("CreateFunction %s: %w", name, err)
	}
	return l.waitActive(ctx, name)
}

func (l *lambdad) waitActive(ctx context.Context, name string) error {
	w := awslambda.NewFunctionActiveV2Waiter(l.sdk, func(o *awslambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait active %s: %w", name, err)
	}
	return nil
}

// updateEnv sets the function's variables and waits for the update.
func (l *lambdad) updateEnv(ctx context.Context, name string, env map[string]string) error {
	if _, err := l.sdk.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(name),
		Environment:  &types.Environment{Variables: env},
	}); err != nil {
		return fmt.Errorf("UpdateFunctionConfiguration %s: %w", name, err)
	}
	w := awslambda.NewFunctionUpdatedV2Waiter(l.sdk, func(o *awslambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait updated %s: %w", name, err)
	}
	return nil
}

func (l *lambdad) remove(ctx context.Context, name string) error {
	_, err := l.sdk.DeleteFunction(ctx, &awslambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	return err
}

func (l *lambdad) invokeURL(name string) string {
	return l.url + "/2015-03-31/functions/" + name + "/invocations"
}

var initRE = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// invokeTail invokes name over plain HTTP with LogType Tail and returns the
// client-visible latency and the REPORT line's Init Duration (0 if absent).
// The answer must be body again.
func (l *lambdad) invokeTail(ctx context.Context, name string, body []byte) (time.Duration, time.Duration, error) {
	el, init, got, err := l.invokeTailAnswer(ctx, name, body)
	if err == nil && !sameJSON(got, body) {
		err = fmt.Errorf("invoke %s: echo mismatch: %.300s", name, got)
	}
	return el, init, err
}

// invokeTailAnswer is invokeTail returning the answer unchecked.
func (l *lambdad) invokeTailAnswer(ctx context.Context, name string, body []byte) (time.Duration, time.Duration, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", l.invokeURL(name), bytes.NewReader(body))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("X-Amz-Log-Type", "Tail")
	t0 := time.Now()
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(t0)
	if err != nil {
		return 0, 0, nil, err
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "" {
		return 0, 0, nil, fmt.Errorf("invoke %s: status %d %s: %.300s", name, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), got)
	}
	logs, _ := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result"))
	var initDur time.Duration
	if m := initRE.FindSubmatch(logs); m != nil {
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		initDur = time.Duration(f * float64(time.Millisecond))
	}
	return el, initDur, got, nil
}

// zipFiles builds a deployment package.
func zipFiles(files map[string][]byte, exec map[string]bool) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		if exec[name] {
			h.SetMode(0o755)
		} else {
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// createOnly creates a function without waiting for Active.
func (l *lambdad) createOnly(ctx context.Context, name string, s fnSpec) error {
	_, err := l.sdk.CreateFunction(ctx, &awslambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      s.runtime,
		Handler:      aws.String(s.handler),
		Role:         aws.String(role),
		Code:         &types.FunctionCode{ZipFile: s.zip},
	})
	if err != nil {
		return fmt.Errorf("CreateFunction %s: %w", name, err)
	}
	return nil
}

func (l *lambdad) get(ctx context.Context, name string) error {
	if _, err := l.sdk.GetFunction(ctx, &awslambda.GetFunctionInput{FunctionName: aws.String(name)}); err != nil {
		return fmt.Errorf("GetFunction %s: %w", name, err)
	}
	return nil
}
