// Command hello is the Go function of the example service: it greets the
// name in the event with the GREETING of its stage.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Name string `json:"name"`
}

type response struct {
	Message   string `json:"message"`
	Stage     string `json:"stage"`
	Function  string `json:"function"`
	RequestID string `json:"requestId"`
}

func handle(ctx context.Context, req request) (response, error) {
	name := req.Name
	if name == "" {
		name = "world"
	}
	lc, _ := lambdacontext.FromContext(ctx)
	out := response{
		Message:  fmt.Sprintf("%s, %s!", os.Getenv("GREETING"), name),
		Stage:    os.Getenv("STAGE"),
		Function: lambdacontext.FunctionName,
	}
	if lc != nil {
		out.RequestID = lc.AwsRequestID
	}
	return out, nil
}

func main() { lambda.Start(handle) }
