package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

const (
	// fetchWait bounds one pull request. Pulls are never cancelled early:
	// a pull the client abandons can still be served by the server, and
	// that event would sit unacknowledged for AckWait. Close therefore
	// waits up to fetchWait for the last pulls to expire.
	fetchWait = 500 * time.Millisecond
	// bookkeepingTimeout bounds the reads and writes around one delivery.
	bookkeepingTimeout = 30 * time.Second
)

// work is one worker: pull one event, handle it, repeat until pullCtx ends.
// An event that arrives after that is handed back at once. runCtx cancels
// a running invocation (shutdown deadline).
func (s *Service) work(pullCtx, runCtx context.Context) {
	for pullCtx.Err() == nil {
		batch, err := s.cons.Fetch(1, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			s.log.Error("async fetch", "err", err)
			select {
			case <-pullCtx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for m := range batch.Messages() {
			if pullCtx.Err() != nil {
				s.settle(s.log, m.Nak())
				continue
			}
			s.handle(runCtx, m)
		}
	}
}

// handle takes one delivery of an event through its state machine (see
// the package documentation). It always settles the message: Ack,
// NakWithDelay or, on shutdown, Nak.
func (s *Service) handle(ctx context.Context, m jetstream.Msg) {
	// Bookkeeping (reads, publishes, acks) outlives a shutdown deadline:
	// once the function has run, its outcome is recorded. Only the
	// invocation itself runs under ctx.
	bk, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	md, err := m.Metadata()
	if err != nil {
		s.log.Error("async message metadata", "err", err)
		return
	}
	ev, err := decodeEvent(m.Headers(), m.Data())
	if err != nil {
		s.quarantine(bk, m, md, err)
		return
	}
	log := s.log.With("function", ev.Function, "request_id", ev.RequestID)
	now := time.Now()
	if wait := ev.NotBefore.Sub(now); wait > 0 {
		s.settle(log, m.NakWithDelay(wait))
		return
	}
	cfg, err := s.configs.EventInvokeConfig(bk, ev.Function, configQualifier(ev.Qualifier))
	if err != nil {
		s.retryLater(ctx, log, m, md, ev, ev.Enqueued.Add(DefaultMaximumEventAge), fmt.Errorf("read event invoke config: %w", err))
		return
	}
	deadline := ev.Enqueued.Add(cfg.MaxAge())
	if !now.Before(deadline) {
		s.fail(bk, log, m, ev, cfg, CondEventAgeExceeded, ev.Attempts, ev.lastResponse(), "event older than MaximumEventAgeInSeconds")
		return
	}
	t, err := s.runner.Resolve(bk, ev.Function, ev.Qualifier)
	if err != nil {
		var le *lambda.Error
		if errors.As(err, &le) && le.Status == http.StatusNotFound {
			s.fail(bk, log, m, ev, cfg, CondRetriesExhausted, ev.Attempts, ev.lastResponse(), le.Error())
			return
		}
		s.retryLater(ctx, log, m, md, ev, deadline, err)
		return
	}
	if err := lambda.Invocable(&t.Config); err != nil {
		s.retryLater(ctx, log, m, md, ev, deadline, err)
		return
	}
	if t.ReservedConcurrency != nil && *t.ReservedConcurrency == 0 {
		// A function throttled on purpose: no retries (SPEC §4.1, §6).
		s.fail(bk, log, m, ev, cfg, CondZeroReservedConcurrency, ev.Attempts, ev.lastResponse(), "function reserved concurrency is 0")
		return
	}
	out, err := s.run(ctx, m, t, ev)
	if err != nil {
		s.retryLater(ctx, log, m, md, ev, deadline, err)
		return
	}
	attempts := ev.Attempts + 1
	resp := &response{payload: out.Payload, functionError: out.FunctionError, executedVersion: executed(out, t)}
	if out.FunctionError == "" {
		s.succeed(bk, log, m, ev, cfg, attempts, resp)
		return
	}
	if attempts > cfg.Retries() {
		s.fail(bk, log, m, ev, cfg, CondRetriesExhausted, attempts, resp, errorText(out.Payload))
		return
	}
	delay := s.delays[min(attempts-1, len(s.delays)-1)]
	next := time.Now().Add(delay)
	if next.After(deadline) {
		// AWS looks ahead: a retry that would run past the event's age is
		// abandoned now.
		s.fail(bk, log, m, ev, cfg, CondEventAgeExceeded, attempts, resp, errorText(out.Payload))
		return
	}
	retry := *ev
	retry.Attempts, retry.NotBefore = attempts, next
	retry.LastResponse, retry.LastFunctionError, retry.LastExecutedVersion = out.Payload, out.FunctionError, executed(out, t)
	if err := s.publish(bk, &retry, ev.RequestID+"#"+strconv.Itoa(attempts)+"#"+ev.generation()); err != nil {
		s.retryLater(ctx, log, m, md, ev, deadline, fmt.Errorf("requeue retry: %w", err))
		return
	}
	log.Debug("async retry scheduled", "attempt", attempts, "delay", delay)
	s.settle(log, m.DoubleAck(bk))
}

// generation tells apart the lives of one request id: a redriven event
// starts a new one (fresh Enqueued), so its retries, records and
// dead-letter entries are not mistaken for the first life's by the
// Nats-Msg-Id dedupe, while a redelivery of the same message keeps it.
func (e *event) generation() string {
	return strconv.FormatInt(e.Enqueued.UnixNano(), 36)
}

// configQualifier is the qualifier an event invoke config is stored under.
func configQualifier(q string) string {
	if q == "" {
		return lambda.VersionLatest
	}
	return q
}

func (e *event) lastResponse() *response {
	if e.LastFunctionError == "" {
		return nil
	}
	return &response{payload: e.LastResponse, functionError: e.LastFunctionError, executedVersion: e.LastExecutedVersion}
}

// run invokes the function, telling the server the event is in progress
// every AckWait/2 so a long invocation is not redelivered meanwhile.
func (s *Service) run(ctx context.Context, m jetstream.Msg, t *invoke.Target, ev *event) (*invoke.Outcome, error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(s.ackWait / 2)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				if err := m.InProgress(); err != nil {
					s.log.Warn("async in progress", "request_id", ev.RequestID, "err", err)
				}
			}
		}
	})
	defer wg.Wait()
	defer close(done)
	return s.runner.Run(ctx, t, &invoke.Call{
		RequestID:  ev.RequestID,
		Payload:    ev.Payload,
		InvokedARN: t.InvokedARN,
		TraceID:    ev.TraceID,
	})
}

// retryLater puts the event back for a throttle or system error without
// consuming an attempt: exponential backoff by delivery count, never past
// the event's deadline (the next delivery then fails it). On shutdown the
// event is handed back at once.
func (s *Service) retryLater(ctx context.Context, log *slog.Logger, m jetstream.Msg, md *jetstream.MsgMetadata, ev *event, deadline time.Time, cause error) {
	if ctx.Err() != nil {
		log.Debug("async event handed back", "reason", "shutdown")
		s.settle(log, m.Nak())
		return
	}
	n := md.NumDelivered
	if !ev.NotBefore.IsZero() && n > 1 {
		n-- // the delivery that waited for Not-Before ran nothing
	}
	delay := s.boMin // doubled per earlier delivery, up to boMax
	for i := uint64(1); i < n && delay < s.boMax; i++ {
		delay *= 2
	}
	delay = min(delay, s.boMax)
	if until := time.Until(deadline); delay > until {
		delay = max(until, 0) + time.Millisecond
	}
	var le *lambda.Error
	if errors.As(cause, &le) && le.Status == http.StatusTooManyRequests {
		log.Debug("async throttled", "delay", delay, "err", cause)
	} else {
		log.Warn("async system error", "delay", delay, "err", cause)
	}
	s.settle(log, m.NakWithDelay(delay))
}

// succeed sends the OnSuccess record (if any) and acknowledges the event.
func (s *Service) succeed(ctx context.Context, log *slog.Logger, m jetstream.Msg, ev *event, cfg *EventInvokeConfig, attempts int, resp *response) {
	if dest := cfg.OnSuccess(); dest != "" {
		rec := newRecord(time.Now(), ev, s.qualifiedARN(ev), CondSuccess, attempts, resp)
		if err := s.deliver(ctx, ev, dest, CondSuccess, attempts, rec, resp); err != nil {
			log.Error("async on-success destination", "destination", dest, "err", err)
			s.settle(log, m.NakWithDelay(s.boMin))
			return
		}
	}
	log.Debug("async event done", "attempts", attempts)
	s.settle(log, m.DoubleAck(ctx))
}

// fail takes an abandoned event down the failure path: the OnFailure
// record, the built-in dead-letter entry (always, noting an un-hosted
// DeadLetterConfig target), then the ack. If any write fails the event is
// put back and the path runs again on redelivery.
func (s *Service) fail(ctx context.Context, log *slog.Logger, m jetstream.Msg, ev *event, cfg *EventInvokeConfig, condition string, attempts int, resp *response, cause string) {
	log = log.With("condition", condition, "attempts", attempts)
	if dest := cfg.OnFailure(); dest != "" {
		rec := newRecord(time.Now(), ev, s.qualifiedARN(ev), condition, attempts, resp)
		if err := s.deliver(ctx, ev, dest, condition, attempts, rec, resp); err != nil {
			log.Error("async on-failure destination", "destination", dest, "err", err)
			s.settle(log, m.NakWithDelay(s.boMin))
			return
		}
	}
	dl := s.deadLetter(ev, condition, attempts, resp, cause)
	if target, err := s.configs.DeadLetterTarget(ctx, ev.Function); err != nil {
		log.Error("async dead letter target", "err", err)
		s.settle(log, m.NakWithDelay(s.boMin))
		return
	} else if target != "" {
		dl.DeadLetterTarget = target
		dl.Notes = append(dl.Notes, fmt.Sprintf("DeadLetterConfig target %s is an AWS service (%s) that lambdad does not host; the event is kept here", target, arnService(target)))
	}
	if err := s.putDeadLetter(ctx, dl, "event/"+ev.generation()+"/"+condition+"/"+strconv.Itoa(attempts)); err != nil {
		log.Error("async dead letter", "err", err)
		s.settle(log, m.NakWithDelay(s.boMin))
		return
	}
	log.Warn("async event failed", "err", cause)
	s.settle(log, m.DoubleAck(ctx))
}

// deliver hands an invocation record to a destination: a Lambda function
// is invoked asynchronously with the record as its event; a destination
// lambdad does not host (SQS, SNS, EventBridge, S3, or a missing function)
// gets a dead-letter entry holding the record instead.
func (s *Service) deliver(ctx context.Context, ev *event, dest, condition string, attempts int, rec Record, resp *response) error {
	body, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	var note string
	if arnService(dest) == "lambda" {
		ref, err := lambda.ParseFunctionName(dest, true)
		if err != nil {
			return fmt.Errorf("destination %s: %w", dest, err)
		}
		rid := derivedRequestID(ev.RequestID, ev.generation(), condition, strconv.Itoa(attempts), dest)
		err = s.enqueue(ctx, &lambda.InvokeRequest{FunctionName: ref.Name, Qualifier: ref.Qualifier, InvocationType: lambda.InvocationEvent, Payload: body, RequestID: rid}, lambda.MaxAsyncPayloadBytes+maxCarriedResponse)
		if err == nil {
			return nil
		}
		var le *lambda.Error
		if !errors.As(err, &le) || le.Status == http.StatusTooManyRequests || le.Status >= 500 {
			return err
		}
		note = fmt.Sprintf("destination function %s cannot take the record: %s", dest, le.Error())
	} else {
		note = fmt.Sprintf("destination %s is an AWS service (%s) that lambdad does not host; the record is kept here", dest, arnService(dest))
	}
	dl := s.deadLetter(ev, condition, attempts, resp, "")
	dl.Destination, dl.Record, dl.Notes = dest, body, []string{note}
	return s.putDeadLetter(ctx, dl, "record/"+ev.generation()+"/"+condition+"/"+strconv.Itoa(attempts)+"/"+dest)
}

// enqueue is Enqueue with a payload limit of its own (records may carry a
// 1 MB event plus a response).
func (s *Service) enqueue(ctx context.Context, req *lambda.InvokeRequest, limit int) error {
	if len(req.Payload) > limit {
		return lambda.RequestTooLarge(limit, "Invoke")
	}
	t, err := s.runner.Resolve(ctx, req.FunctionName, req.Qualifier)
	if err != nil {
		return err
	}
	ev := &event{
		RequestID:  req.RequestID,
		Function:   t.Config.FunctionName,
		Qualifier:  req.Qualifier,
		InvokedARN: t.InvokedARN,
		Enqueued:   time.Now(),
		TraceID:    invoke.NewTraceID(),
		Payload:    req.Payload,
	}
	return s.publish(ctx, ev, req.RequestID)
}

// qualifiedARN is the record's functionArn: always qualified.
func (s *Service) qualifiedARN(ev *event) string {
	return lambda.QualifiedFunctionARN(s.region, s.account, ev.Function, configQualifier(ev.Qualifier))
}

// quarantine moves an undecodable message to the dead-letter stream so it
// is never silently dropped.
func (s *Service) quarantine(ctx context.Context, m jetstream.Msg, md *jetstream.MsgMetadata, cause error) {
	dl := &DeadLetter{
		Function:  m.Headers().Get(hdrFunction),
		RequestID: m.Headers().Get(hdrRequestID),
		Error:     cause.Error(),
		Payload:   rawJSON(m.Data()),
		FailedAt:  time.Now().UTC(),
		Notes:     []string{"message on " + m.Subject() + " could not be decoded"},
	}
	if dl.Function == "" {
		dl.Function = "_unknown"
	}
	if err := s.putDeadLetter(ctx, dl, "malformed/"+strconv.FormatUint(md.Sequence.Stream, 10)); err != nil {
		s.log.Error("async quarantine", "err", err)
		s.settle(s.log, m.NakWithDelay(s.boMax))
		return
	}
	s.log.Error("async malformed event", "err", cause)
	s.settle(s.log, m.DoubleAck(ctx))
}

// settle logs a failed ack/nak: the server will redeliver after AckWait.
func (s *Service) settle(log *slog.Logger, err error) {
	if err != nil {
		log.Warn("async settle", "err", err)
	}
}

// executed is the version that ran: the invoker reports it (an alias may
// route to its additional version); t's primary version otherwise.
func executed(out *invoke.Outcome, t *invoke.Target) string {
	if out.ExecutedVersion != "" {
		return out.ExecutedVersion
	}
	return t.Config.Version
}
