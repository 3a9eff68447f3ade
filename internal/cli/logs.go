package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lambdad/lambdad/sdk/client"
)

func runLogs(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad logs", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	sf := addServiceFlags(fs, getenv)
	newClient := sf.client
	follow := fs.Bool("f", false, "follow: keep printing new records")
	since := fs.String("since", "", "only records newer than this (duration like 10m, or RFC 3339)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	// In a service directory, NAME may be a function key of the service
	// file (`lambdad logs -f hello`), and no name means every function of
	// the service, interleaved.
	if _, err := os.Stat(sf.config); err == nil {
		spec, err := sf.load(stdio.Err, getenv)
		if err != nil {
			return err
		}
		byKey := map[string]string{}
		for _, f := range spec.Functions {
			byKey[f.Key] = f.Name
		}
		if len(pos) == 0 {
			for _, f := range spec.Functions {
				pos = append(pos, f.Name)
			}
		}
		for i, p := range pos {
			if name, ok := byKey[p]; ok {
				pos[i] = name
			}
		}
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
