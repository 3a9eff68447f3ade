// Package async runs Event invocations: it persists each accepted event on
// the durable JetStream work queue ASYNC before answering 202, delivers it
// to the function through the same Runner (invoker) as synchronous
// invocations, retries function errors MaximumRetryAttempts times after
// RetryDelays (1 min, 2 min by default), retries throttles and system
// errors with exponential backoff without consuming attempts until
// MaximumEventAge, sends invocation records to OnSuccess/OnFailure
// destinations and keeps every failed event on the ASYNC_DLQ stream for
// `lambdad dlq ls|show|redrive`.
//
// One event, one state machine (per delivery of a queue message):
//
//	enqueued ──Enqueue (sync publish, Nats-Msg-Id = request id)──► queued
//	queued ──delivery before Lambdad-Not-Before──► NakWithDelay(until) ──► queued
//	queued ──older than MaximumEventAge──► failed(EventAgeExceeded)
//	queued ──Resolve 404──► failed(RetriesExhausted, never ran)
//	queued ──reserved concurrency 0──► failed(ZeroReservedConcurrency, never ran)
//	queued ──throttle (429) / system error──► NakWithDelay(backoff) ──► queued   (attempts unchanged)
//	queued ──Run ok──► succeeded ──► OnSuccess record ──► Ack
//	queued ──function error, attempts ≤ retries──► republished(attempt+1, not-before = now+RetryDelays[n]) ──► Ack old
//	queued ──function error, no retries left──► failed(RetriesExhausted)
//	queued ──function error, next retry past MaximumEventAge──► failed(EventAgeExceeded)
//	failed ──► OnFailure record (Lambda function: Enqueue; other service: DLQ note)
//	       ──► ASYNC_DLQ entry (always; notes for un-hosted DeadLetterConfig) ──► Ack
//	shutdown while running ──► Nak (handed back, redelivered after restart)
//
// Attempt counting: the number of function-error attempts travels in the
// Lambdad-Attempt header. A retry after a function error republishes the
// event with the header incremented (Nats-Msg-Id = request id + attempt,
// so a crash between the republish and the ack cannot queue it twice)
// and acks the old message; throttles, system errors and redeliveries
// after a crash never touch the header, so they never consume attempts.
// The last function error response rides along in the republished body
// (event bytes then response bytes, split at Lambdad-Payload-Len) so an
// EventAgeExceeded record can carry it, as AWS's does.
//
// Concurrency policy: async invocations go through the same invoker and
// concurrency accounting as synchronous ones, but at most Workers of them
// run at a time, so async can never take more than Workers environments
// from synchronous callers; an async event that is throttled waits in the
// queue (backoff) instead of failing, so sync traffic cannot starve it
// into loss either.
//
// Expiry is enforced by the workers, not by stream MaxAge or per-message
// TTL: a silently expired message would lose the event, whereas AWS sends
// it down the failure path (EventAgeExceeded).
//
// It imports internal/lambda, internal/invoke (its types and NewTraceID)
// and the NATS client; the invoker and the event-invoke-config store are
// reached through the consumer-declared Runner and ConfigSource
// interfaces. Its tests also use internal/backbone.
package async
