package client

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// DeadLetter is a failed asynchronous event (or an undeliverable
// destination record) kept in lambdad's built-in dead-letter queue.
type DeadLetter struct {
	ID                     string          `json:"id"`
	Function               string          `json:"function"`
	Qualifier              string          `json:"qualifier,omitempty"`
	RequestID              string          `json:"requestId"`
	Condition              string          `json:"condition,omitempty"`
	ApproximateInvokeCount int             `json:"approximateInvokeCount"`
	Error                  string          `json:"error,omitempty"`
	FunctionError          string          `json:"functionError,omitempty"`
	Payload                json.RawMessage `json:"payload"`
	Response               json.RawMessage `json:"response,omitempty"`
	Record                 json.RawMessage `json:"record,omitempty"`
	Destination            string          `json:"destination,omitempty"`
	Notes                  []string        `json:"notes,omitempty"`
	EnqueuedAt             time.Time       `json:"enqueuedAt"`
	FailedAt               time.Time       `json:"failedAt"`
}

// DLQList lists dead letters of function ("" = all functions).
func (c *Client) DLQList(ctx context.Context, function string) ([]DeadLetter, error) {
	q := url.Values{}
	if function != "" {
		q.Set("function", function)
	}
	var out struct{ DeadLetters []DeadLetter }
	return out.DeadLetters, c.do(ctx, "GET", "/lambdad/v1/dlq", q, nil, &out)
}

// DLQGet returns one dead letter by id.
func (c *Client) DLQGet(ctx context.Context, id string) (*DeadLetter, error) {
	var out DeadLetter
	return &out, c.do(ctx, "GET", "/lambdad/v1/dlq/"+url.PathEscape(id), nil, nil, &out)
}

// DLQRedrive re-enqueues dead letters of function (ids nil = all of them)
// and reports how many were redriven.
func (c *Client) DLQRedrive(ctx context.Context, function string, ids []string) (int, error) {
	in := struct {
		Function string   `json:"function"`
		IDs      []string `json:"ids,omitempty"`
	}{function, ids}
	var out struct{ Redriven int }
	return out.Redriven, c.do(ctx, "POST", "/lambdad/v1/dlq/redrive", nil, in, &out)
}
