package async

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

// Runner runs invocations; the daemon adapts *invoke.Invoker to it.
// Errors are *lambda.Error values; a 429 TooManyRequestsException is a
// throttle.
type Runner interface {
	Resolve(ctx context.Context, functionName, qualifier string) (*invoke.Target, error)
	Run(ctx context.Context, t *invoke.Target, call *invoke.Call) (*invoke.Outcome, error)
}

// The invoker satisfies Runner as it is.
var _ Runner = (*invoke.Invoker)(nil)

// ConfigSource reads the asynchronous settings of functions.
type ConfigSource interface {
	// EventInvokeConfig returns the event invoke config of a function and
	// qualifier ("$LATEST" for unqualified invocations); nil, nil when none
	// is set or the function no longer exists. It is called on every
	// delivery: serve it from a cache.
	EventInvokeConfig(ctx context.Context, function, qualifier string) (*EventInvokeConfig, error)
	// DeadLetterTarget returns the function's DeadLetterConfig.TargetArn;
	// "", nil when none is set or the function no longer exists. An error
	// puts the failed event back in the queue.
	DeadLetterTarget(ctx context.Context, function string) (string, error)
}

// Deps configures New.
type Deps struct {
	JS        jetstream.JetStream
	Runner    Runner
	Configs   ConfigSource
	Region    string
	AccountID string
	// RetryDelays are the waits before the 2nd, 3rd... attempt after a
	// function error (default 1 min, 2 min as AWS; the last one repeats).
	RetryDelays []time.Duration
	// QueueBytes caps the ASYNC stream; a full queue answers 429
	// (default 1 GiB).
	QueueBytes int64
	// Workers is the number of concurrent async invocations (default 8).
	Workers int
	// AckWait is the redelivery timeout of an unacknowledged event; running
	// invocations extend it every AckWait/2 (default 3 min).
	AckWait time.Duration
	// BackoffMin and BackoffMax bound the exponential backoff of throttled
	// and system-failed deliveries (default 1 s and 5 min, as AWS).
	BackoffMin, BackoffMax time.Duration
	// Duplicates is the Nats-Msg-Id dedupe window (default 10 min).
	Duplicates time.Duration
	Logger     *slog.Logger
}

// Service is the asynchronous invocation subsystem. It is safe for
// concurrent use. Lifecycle: New (streams and consumer exist) → Start
// (workers run) → Close (workers stop, in-flight events finish or are
// handed back). Enqueue works from New until the JetStream connection
// closes.
type Service struct {
	js      jetstream.JetStream
	runner  Runner
	configs ConfigSource
	region  string
	account string
	delays  []time.Duration
	workers int
	ackWait time.Duration
	boMin   time.Duration
	boMax   time.Duration
	log     *slog.Logger
	cons    jetstream.Consumer
	dlq     jetstream.Stream

	// mu guards started, closed and the cancel functions.
	mu         sync.Mutex
	started    bool
	closed     bool
	stopPull   context.CancelFunc // ends fetching
	stopRun    context.CancelFunc // cancels running invocations (hand back)
	wg         sync.WaitGroup
	workerDone chan struct{}
}

// New creates or updates the ASYNC and ASYNC_DLQ streams and the durable
// async-workers consumer. Workers start with Start.
func New(ctx context.Context, d Deps) (*Service, error) {
	if d.JS == nil || d.Runner == nil || d.Configs == nil {
		return nil, errors.New("new async service: JS, Runner and Configs are required")
	}
	if len(d.RetryDelays) == 0 {
		d.RetryDelays = []time.Duration{time.Minute, 2 * time.Minute}
	}
	if d.QueueBytes <= 0 {
		d.QueueBytes = 1 << 30
	}
	if d.Workers <= 0 {
		d.Workers = 8
	}
	if d.AckWait <= 0 {
		d.AckWait = 3 * time.Minute
	}
	if d.BackoffMin <= 0 {
		d.BackoffMin = time.Second
	}
	if d.BackoffMax <= 0 {
		d.BackoffMax = 5 * time.Minute
	}
	if d.Duplicates <= 0 {
		d.Duplicates = 10 * time.Minute
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	_, err := d.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName,
		Description: "lambdad Event invocations (work queue)",
		Subjects:    []string{subjectPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxBytes:    d.QueueBytes,
		MaxMsgSize:  lambda.MaxAsyncPayloadBytes + maxCarriedResponse + headerAllowance,
		Duplicates:  d.Duplicates,
	})
	if err != nil {
		return nil, fmt.Errorf("create %s stream: %w", StreamName, err)
	}
	dlq, err := d.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        DLQStreamName,
		Description: "lambdad failed Event invocations and records for un-hosted destinations",
		Subjects:    []string{dlqPrefix + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      14 * 24 * time.Hour,
		Duplicates:  d.Duplicates,
	})
	if err != nil {
		return nil, fmt.Errorf("create %s stream: %w", DLQStreamName, err)
	}
	cons, err := d.JS.CreateOrUpdateConsumer(ctx, StreamName, jetstream.ConsumerConfig{
		Durable:    ConsumerName,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    d.AckWait,
		MaxDeliver: -1,
		// Events waiting out a retry delay or a throttle backoff
		// (NakWithDelay) stay "pending" on the server; a finite limit would
		// let a few of them block the whole queue. Running events are
		// bounded by the workers' one-message pulls instead.
		MaxAckPending: -1,
		MaxWaiting:    d.Workers * 2,
		FilterSubject: subjectPrefix + ">",
	})
	if err != nil {
		return nil, fmt.Errorf("create %s consumer: %w", ConsumerName, err)
	}
	return &Service{
		js:      d.JS,
		runner:  d.Runner,
		configs: d.Configs,
		region:  d.Region,
		account: d.AccountID,
		delays:  d.RetryDelays,
		workers: d.Workers,
		ackWait: d.AckWait,
		boMin:   d.BackoffMin,
		boMax:   d.BackoffMax,
		log:     d.Logger,
		cons:    cons,
		dlq:     dlq,
	}, nil
}

// Enqueue accepts one Event invocation: it resolves the function (404 at
// once for a missing one, 409 for one not Active), enforces the 1 MB
// payload limit and returns 202 only after the event is durably stored.
// A full queue is a 429 TooManyRequestsException.
func (s *Service) Enqueue(ctx context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	if len(req.Payload) > lambda.MaxAsyncPayloadBytes {
		return nil, lambda.RequestTooLarge(lambda.MaxAsyncPayloadBytes, "Invoke")
	}
	if req.RequestID == "" {
		return nil, errors.New("enqueue: request id is required")
	}
	t, err := s.runner.Resolve(ctx, req.FunctionName, req.Qualifier)
	if err != nil {
		return nil, err
	}
	if err := lambda.Invocable(&t.Config); err != nil {
		return nil, err
	}
	ev := &event{
		RequestID:  req.RequestID,
		Function:   t.Config.FunctionName,
		Qualifier:  qualifierOf(req),
		InvokedARN: t.InvokedARN,
		Enqueued:   time.Now(),
		TraceID:    invoke.NewTraceID(),
		Payload:    payloadOrEmpty(req.Payload),
	}
	if err := s.publish(ctx, ev, req.RequestID); err != nil {
		return nil, err
	}
	return &lambda.InvokeResult{StatusCode: 202}, nil
}

// qualifierOf returns the qualifier as the caller gave it, embedded in the
// name or as ?Qualifier.
func qualifierOf(req *lambda.InvokeRequest) string {
	if req.Qualifier != "" || !strings.Contains(req.FunctionName, ":") {
		return req.Qualifier
	}
	if ref, err := lambda.ParseFunctionName(req.FunctionName, true); err == nil {
		return ref.Qualifier
	}
	return ""
}

func payloadOrEmpty(p []byte) []byte {
	if len(p) == 0 {
		return []byte("{}")
	}
	return p
}

// event is one queued Event invocation as the headers carry it.
type event struct {
	RequestID, Function, Qualifier, InvokedARN, TraceID string
	Enqueued, NotBefore                                 time.Time
	Attempts                                            int
	Payload                                             []byte
	// Last function error of a previous attempt (retries only).
	LastResponse        []byte
	LastFunctionError   string
	LastExecutedVersion string
}

// subject is async.<function>.<qualifier token>; the qualifier token is
// $LATEST for unqualified invocations and has '.' escaped.
func (e *event) subject() string {
	q := e.Qualifier
	if q == "" {
		q = lambda.VersionLatest
	}
	return subjectPrefix + e.Function + "." + token(q)
}

// token makes s a single subject token.
func token(s string) string {
	r := strings.NewReplacer("%", "%25", ".", "%2E", "*", "%2A", ">", "%3E", " ", "%20")
	return r.Replace(s)
}

func (e *event) msg() *nats.Msg {
	m := nats.NewMsg(e.subject())
	h := m.Header
	h.Set(hdrRequestID, e.RequestID)
	h.Set(hdrFunction, e.Function)
	if e.Qualifier != "" {
		h.Set(hdrQualifier, e.Qualifier)
	}
	h.Set(hdrInvokedARN, e.InvokedARN)
	h.Set(hdrEnqueued, strconv.FormatInt(e.Enqueued.UnixNano(), 10))
	h.Set(hdrTraceID, e.TraceID)
	if e.Attempts > 0 {
		h.Set(hdrAttempt, strconv.Itoa(e.Attempts))
	}
	if !e.NotBefore.IsZero() {
		h.Set(hdrNotBefore, strconv.FormatInt(e.NotBefore.UnixNano(), 10))
	}
	m.Data = e.Payload
	if e.LastFunctionError != "" {
		h.Set(hdrLastError, e.LastFunctionError)
		h.Set(hdrLastVer, e.LastExecutedVersion)
		if len(e.LastResponse) <= maxCarriedResponse {
			h.Set(hdrPayloadLen, strconv.Itoa(len(e.Payload)))
			m.Data = append(append(make([]byte, 0, len(e.Payload)+len(e.LastResponse)), e.Payload...), e.LastResponse...)
		}
	}
	return m
}

var errMalformed = errors.New("malformed async event")

func decodeEvent(h nats.Header, data []byte) (*event, error) {
	e := &event{
		RequestID:           h.Get(hdrRequestID),
		Function:            h.Get(hdrFunction),
		Qualifier:           h.Get(hdrQualifier),
		InvokedARN:          h.Get(hdrInvokedARN),
		TraceID:             h.Get(hdrTraceID),
		LastFunctionError:   h.Get(hdrLastError),
		LastExecutedVersion: h.Get(hdrLastVer),
		Payload:             data,
	}
	if e.RequestID == "" || e.Function == "" {
		return nil, fmt.Errorf("%w: request id or function missing", errMalformed)
	}
	ns, err := strconv.ParseInt(h.Get(hdrEnqueued), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errMalformed, hdrEnqueued, err)
	}
	e.Enqueued = time.Unix(0, ns)
	if v := h.Get(hdrNotBefore); v != "" {
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errMalformed, hdrNotBefore, err)
		}
		e.NotBefore = time.Unix(0, ns)
	}
	if v := h.Get(hdrAttempt); v != "" {
		if e.Attempts, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errMalformed, hdrAttempt, err)
		}
	}
	if v := h.Get(hdrPayloadLen); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > len(data) {
			return nil, fmt.Errorf("%w: %s %q", errMalformed, hdrPayloadLen, v)
		}
		e.Payload, e.LastResponse = data[:n], data[n:]
	}
	return e, nil
}

// publish stores ev durably (the PubAck comes after the write) with
// Nats-Msg-Id msgID. A full queue is a 429.
func (s *Service) publish(ctx context.Context, ev *event, msgID string) error {
	m := ev.msg()
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jsErrCodeStoreFailed {
			// Discard-new limits (MaxBytes) answer "store failed".
			s.log.Warn("async queue full", "function", ev.Function, "request_id", ev.RequestID, "err", err)
			return lambda.TooManyRequests(lambda.ReasonCallerRateLimitExceeded, lambda.MsgRateExceeded, 1)
		}
		return fmt.Errorf("enqueue %s for %s: %w", ev.RequestID, ev.Function, err)
	}
	return nil
}

// jsErrCodeStoreFailed is JSStreamStoreFailedF, the answer to a publish a
// DiscardNew limit refuses.
const jsErrCodeStoreFailed jetstream.ErrorCode = 10077

// Start launches the workers. It is a no-op after the first call or Close.
func (s *Service) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	pullCtx, stopPull := context.WithCancel(context.Background())
	runCtx, stopRun := context.WithCancel(context.Background())
	s.stopPull, s.stopRun = stopPull, stopRun
	s.workerDone = make(chan struct{})
	for i := 0; i < s.workers; i++ {
		s.wg.Go(func() { s.work(pullCtx, runCtx) })
	}
	go func() {
		s.wg.Wait()
		close(s.workerDone)
	}()
	s.log.Info("async workers started", "workers", s.workers)
}

// Close stops taking new events and waits for in-flight invocations to
// finish; when ctx ends first, the running invocations are cancelled and
// their events handed back (Nak) for redelivery, and Close returns once
// every worker has stopped. Enqueue keeps working after Close.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	s.stopPull()
	select {
	case <-s.workerDone:
		s.stopRun()
		return nil
	case <-ctx.Done():
	}
	s.stopRun()
	<-s.workerDone
	s.log.Info("async workers stopped early", "reason", "shutdown deadline")
	return nil
}
