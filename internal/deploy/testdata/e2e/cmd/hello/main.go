// Command hello is the Go function of the e2e service.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Name string `json:"name"`
}

func main() {
	lambda.Start(func(ctx context.Context, e event) (map[string]string, error) {
		return map[string]string{"lang": "go", "hello": e.Name, "stage": os.Getenv("STAGE")}, nil
	})
}
