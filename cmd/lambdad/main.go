// Command lambdad is AWS Lambda you can run yourself: `lambdad serve` runs the
// server; the other subcommands are its command-line client.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lambdad/lambdad/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal starts a clean shutdown; restoring the default
	// handling then lets a second one end the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
