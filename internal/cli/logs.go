package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lambdad/lambdad/sdk/client"
)

func runLogs(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad logs", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	follow := fs.Bool("f", false, "follow: keep printing new records")
	since := fs.String("since", "", "only records newer than this (duration like 10m, or RFC 3339)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	in := client.LogsInput{Functions: pos, Since: *since, Follow: *follow}
	multi := len(pos) != 1
	return newClient().Logs(ctx, in, func(ev client.LogEvent) error {
		msg := ev.Message
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		if multi {
			_, err := fmt.Fprintf(stdio.Out, "%s %s", strings.TrimPrefix(ev.LogGroup, "/aws/lambda/"), msg)
			return err
		}
		_, err := io.WriteString(stdio.Out, msg)
		return err
	})
}
