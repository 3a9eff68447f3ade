package async

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
)

// DeadLetter is one entry of the built-in dead-letter stream: a failed
// event (Condition RetriesExhausted or EventAgeExceeded, Record empty), or
// an invocation record meant for a destination lambdad does not host
// (Destination and Record set; Condition may then be Success).
type DeadLetter struct {
	ID                     string          `json:"id"` // ASYNC_DLQ stream sequence
	Function               string          `json:"function"`
	Qualifier              string          `json:"qualifier,omitempty"`
	RequestID              string          `json:"requestId"`
	Condition              string          `json:"condition,omitempty"`
	ApproximateInvokeCount int             `json:"approximateInvokeCount"`
	Error                  string          `json:"error,omitempty"`
	FunctionError          string          `json:"functionError,omitempty"`
	ExecutedVersion        string          `json:"executedVersion,omitempty"`
	Payload                json.RawMessage `json:"payload"`
	Response               json.RawMessage `json:"response,omitempty"`
	Record                 json.RawMessage `json:"record,omitempty"`
	Destination            string          `json:"destination,omitempty"`
	DeadLetterTarget       string          `json:"deadLetterTarget,omitempty"`
	Notes                  []string        `json:"notes,omitempty"`
	EnqueuedAt             time.Time       `json:"enqueuedAt"`
	FailedAt               time.Time       `json:"failedAt"`
}

// ErrDeadLetterNotFound reports an unknown dead-letter id.
var ErrDeadLetterNotFound = errors.New("dead letter not found")

// errNotRedrivable reports a redrive of a record entry (not a failed event).
var errNotRedrivable = errors.New("entry is a destination record, not a failed event")

func (s *Service) deadLetter(ev *event, condition string, attempts int, resp *response, cause string) *DeadLetter {
	dl := &DeadLetter{
		Function:               ev.Function,
		Qualifier:              ev.Qualifier,
		RequestID:              ev.RequestID,
		Condition:              condition,
		ApproximateInvokeCount: attempts,
		Error:                  cause,
		Payload:                rawJSON(ev.Payload),
		EnqueuedAt:             ev.Enqueued.UTC(),
		FailedAt:               time.Now().UTC(),
	}
	if resp != nil {
		dl.FunctionError, dl.ExecutedVersion = resp.functionError, resp.executedVersion
		if len(resp.payload) <= maxCarriedResponse {
			dl.Response = rawJSON(resp.payload)
		} else {
			dl.Notes = append(dl.Notes, fmt.Sprintf("response of %d bytes not kept", len(resp.payload)))
		}
	}
	return dl
}

// putDeadLetter stores dl durably; key makes the Nats-Msg-Id so a
// redelivered event does not store its entry twice.
func (s *Service) putDeadLetter(ctx context.Context, dl *DeadLetter, key string) error {
	body, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encode dead letter: %w", err)
	}
	_, err = s.js.Publish(ctx, dlqPrefix+token(dl.Function), body,
		jetstream.WithMsgID("dlq/"+dl.RequestID+"/"+key), jetstream.WithExpectStream(DLQStreamName))
	if err != nil {
		return fmt.Errorf("store dead letter %s: %w", dl.RequestID, err)
	}
	return nil
}

// DLQList returns the dead-letter entries of function ("" = every
// function), oldest first.
func (s *Service) DLQList(ctx context.Context, function string) ([]DeadLetter, error) {
	filter := dlqPrefix + ">"
	if function != "" {
		filter = dlqPrefix + token(function)
	}
	var out []DeadLetter
	for seq := uint64(1); ; {
		raw, err := s.dlq.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list dead letters of %q: %w", function, err)
		}
		dl, err := decodeDeadLetter(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, *dl)
		seq = raw.Sequence + 1
	}
}

// DLQGet returns one entry; an unknown id wraps ErrDeadLetterNotFound.
func (s *Service) DLQGet(ctx context.Context, id string) (*DeadLetter, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return nil, fmt.Errorf("get dead letter %q: %w", id, ErrDeadLetterNotFound)
	}
	raw, err := s.dlq.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("get dead letter %s: %w", id, ErrDeadLetterNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get dead letter %s: %w", id, err)
	}
	return decodeDeadLetter(raw)
}

func decodeDeadLetter(raw *jetstream.RawStreamMsg) (*DeadLetter, error) {
	var dl DeadLetter
	if err := json.Unmarshal(raw.Data, &dl); err != nil {
		return nil, fmt.Errorf("decode dead letter %d: %w", raw.Sequence, err)
	}
	dl.ID = strconv.FormatUint(raw.Sequence, 10)
	return &dl, nil
}

// DLQRedrive re-enqueues failed events of function (ids nil = all of its
// failed events; records for un-hosted destinations are skipped) with a
// fresh event age and attempt count and the same request id, then deletes
// them from the dead-letter stream. It returns how many were redriven. An
// id that is not a failed event of function is an error (after the ones
// before it were redriven).
func (s *Service) DLQRedrive(ctx context.Context, function string, ids []string) (int, error) {
	var entries []DeadLetter
	if ids == nil {
		all, err := s.DLQList(ctx, function)
		if err != nil {
			return 0, err
		}
		for _, dl := range all {
			if dl.Record == nil {
				entries = append(entries, dl)
			}
		}
	} else {
		for _, id := range ids {
			dl, err := s.DLQGet(ctx, id)
			if err != nil {
				return 0, fmt.Errorf("redrive: %w", err)
			}
			if dl.Function != function {
				return 0, fmt.Errorf("redrive %s: entry belongs to function %s: %w", id, dl.Function, ErrDeadLetterNotFound)
			}
			if dl.Record != nil {
				return 0, fmt.Errorf("redrive %s: %w", id, errNotRedrivable)
			}
			entries = append(entries, *dl)
		}
	}
	n := 0
	for _, dl := range entries {
		t, err := s.runner.Resolve(ctx, dl.Function, dl.Qualifier)
		if err != nil {
			return n, fmt.Errorf("redrive %s: %w", dl.ID, err)
		}
		ev := &event{
			RequestID:  dl.RequestID,
			Function:   dl.Function,
			Qualifier:  dl.Qualifier,
			InvokedARN: t.InvokedARN,
			Enqueued:   time.Now(),
			TraceID:    invoke.NewTraceID(),
			Payload:    dl.Payload,
		}
		if err := s.publish(ctx, ev, "redrive/"+dl.ID); err != nil {
			return n, fmt.Errorf("redrive %s: %w", dl.ID, err)
		}
		seq, _ := strconv.ParseUint(dl.ID, 10, 64)
		if err := s.dlq.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("redrive %s: delete from %s: %w", dl.ID, DLQStreamName, err)
		}
		n++
	}
	return n, nil
}

// FunctionARN is the qualified ARN of the entry's function ($LATEST when
// it was invoked unqualified).
func (dl *DeadLetter) FunctionARN(region, account string) string {
	return lambda.QualifiedFunctionARN(region, account, dl.Function, configQualifier(dl.Qualifier))
}
