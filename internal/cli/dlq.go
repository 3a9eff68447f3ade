package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
)

// runDLQ implements `lambdad dlq ls [NAME]`, `dlq show ID` and
// `dlq redrive NAME [--all | ID...]`.
func runDLQ(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad dlq", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	all := fs.Bool("all", false, "redrive every dead letter of the function")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	usage := func() error {
		fmt.Fprintln(stdio.Err, "usage: lambdad dlq ls [NAME] | dlq show ID | dlq redrive NAME (--all | ID...)")
		return errUsage
	}
	if len(pos) == 0 {
		return usage()
	}
	c := newClient()
	switch pos[0] {
	case "ls":
		fn := ""
		if len(pos) > 1 {
			fn = pos[1]
		}
		list, err := c.DLQList(ctx, fn)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tFUNCTION\tREQUEST ID\tCONDITION\tATTEMPTS\tFAILED AT\tERROR")
		for _, d := range list {
			cond := d.Condition
			if d.Destination != "" {
				cond += " → " + d.Destination
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.Function, d.RequestID, cond, d.ApproximateInvokeCount,
				d.FailedAt.Format("2006-01-02T15:04:05Z"), strings.ReplaceAll(truncate(d.Error, 60), "\n", " "))
		}
		return tw.Flush()
	case "show":
		if len(pos) != 2 {
			return usage()
		}
		d, err := c.DLQGet(ctx, pos[1])
		if err != nil {
			return err
		}
		return printJSON(stdio.Out, d)
	case "redrive":
		if len(pos) < 2 || (*all == (len(pos) > 2)) {
			return usage()
		}
		var ids []string
		if !*all {
			ids = pos[2:]
		}
		n, err := c.DLQRedrive(ctx, pos[1], ids)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "redriven %d event(s) of %s\n", n, pos[1])
		return nil
	}
	return usage()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
