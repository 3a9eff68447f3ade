// Package cli implements the lambdad command line: `serve` runs the server
// (through internal/daemon); every other subcommand is a client of a running
// server built on sdk/client. One file per subcommand.
//
// It imports internal/daemon, internal/config and sdk/client.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Stdio are the streams a command uses.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, args []string, io Stdio, getenv func(string) string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":       {"run the lambdad server", runServe},
		"create":      {"create a function from a directory or zip", runCreate},
		"update-code": {"replace a function's code", runUpdateCode},
		"functions":   {"list functions", runFunctions},
		"get":         {"show a function", runGet},
		"delete":      {"delete a function", runDelete},
		"invoke":      {"invoke a function", runInvoke},
		"logs":        {"print (and follow) function logs", runLogs},
		"deploy":      {"plan and deploy a serverless.yml service", runDeploy},
		"info":        {"show the deployed functions of a service", runInfo},
		"remove":      {"delete the deployed functions of a service", runRemove},
		"dlq":         {"list, show and redrive failed async events", runDLQ},
		"publish":     {"publish a version of a function", runPublish},
		"alias":       {"list a function's aliases, or point one at a version (with --weight routing)", runAlias},
		"layers":      {"list layers, or the versions of one", runLayers},
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdio.Err, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stdio.Err, "lambdad: unknown command %q\n\n", args[0])
		usage(stdio.Err, cmds)
		return 2
	}
	if err := c.run(ctx, args[1:], stdio, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stdio.Err, "lambdad %s: %v\n", args[0], err)
		}
		return 1
	}
	return 0
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("lambdad: AWS Lambda you can run yourself\n\nUsage: lambdad <command> [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nClient commands talk to --endpoint (env LAMBDAD_ENDPOINT, default http://127.0.0.1:9001).\n")
	io.WriteString(w, b.String())
}
