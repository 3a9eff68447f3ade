// Command goecho is the benchmark's aws-lambda-go function: it returns its
// event unchanged. An event carrying "sleep_ms" is held that long first, so
// a burst of parallel invokes keeps every environment busy (one cold start
// per request). An event {"getenv":"NAME"} is answered with
// {"getenv":"<value of NAME>"} instead, so the bench can tell which
// configuration served an invoke.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, e json.RawMessage) (json.RawMessage, error) {
	if bytes.HasPrefix(e, []byte(`{"getenv":`)) {
		var g struct {
			Getenv string `json:"getenv"`
		}
		if err := json.Unmarshal(e, &g); err == nil {
			return json.Marshal(map[string]string{"getenv": os.Getenv(g.Getenv)})
		}
	}
	if bytes.Contains(e, []byte(`"sleep_ms"`)) {
		var h struct {
			SleepMS int `json:"sleep_ms"`
		}
		if err := json.Unmarshal(e, &h); err == nil && h.SleepMS > 0 {
			select {
			case <-time.After(time.Duration(h.SleepMS) * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
	return e, nil
}

func main() { lambda.Start(handle) }
