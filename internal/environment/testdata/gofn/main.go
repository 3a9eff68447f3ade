// Command gofn is the aws-lambda-go test function of the environment tests.
// Its behaviour depends on the event's "action"; INIT_MODE=exit makes it
// exit during init.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string   `json:"action"`
	Ms     int      `json:"ms"`
	Code   int      `json:"code"`
	Size   int      `json:"size"`
	Lines  []string `json:"lines"`
	Msg    string   `json:"msg"`
}

var counter int

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev event
	_ = json.Unmarshal(raw, &ev)
	switch ev.Action {
	case "error":
		return nil, errors.New(ev.Msg)
	case "panic":
		panic(ev.Msg)
	case "sleep":
		fmt.Println("sleeping")
		time.Sleep(time.Duration(ev.Ms) * time.Millisecond)
		counter++
		return map[string]int{"slept": ev.Ms, "count": counter}, nil
	case "exit":
		os.Exit(ev.Code)
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case "big":
		// A JSON string of exactly Size bytes.
		return json.RawMessage(`"` + strings.Repeat("a", ev.Size-2) + `"`), nil
	case "print":
		for _, l := range ev.Lines {
			fmt.Println(l)
		}
		return "printed", nil
	case "spam":
		line := strings.Repeat("s", 99)
		for i := 0; i < ev.Size/100; i++ {
			fmt.Println(line)
		}
		return "spammed", nil
	case "count":
		counter++
		return counter, nil
	case "env":
		m := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		return m, nil
	case "ctx":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		return map[string]any{
			"requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn,
			"deadlineMs": strconv.FormatInt(dl.UnixMilli(), 10), "custom": lc.ClientContext.Custom,
			"trace": os.Getenv("_X_AMZN_TRACE_ID"),
		}, nil
	}
	return raw, nil
}

func main() {
	if os.Getenv("INIT_MODE") == "exit" {
		fmt.Println("init failing")
		os.Exit(3)
	}
	lambda.Start(handle)
}
