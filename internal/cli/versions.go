package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lambdad/lambdad/sdk/client"
)

// runPublish implements `lambdad publish NAME [--description D]`.
func runPublish(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad publish", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	desc := fs.String("description", "", "version description")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(stdio.Err, "usage: lambdad publish NAME [--description D]")
		return errUsage
	}
	cfg, err := newClient().PublishVersion(ctx, pos[0], client.PublishVersionInput{Description: *desc})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "published %s version %s (%s)\n", cfg.FunctionName, cfg.Version, cfg.FunctionArn)
	return nil
}

// weightFlag collects --weight VERSION=WEIGHT.
type weightFlag map[string]float64

func (w weightFlag) String() string { return "" }
func (w weightFlag) Set(s string) error {
	v, ws, ok := strings.Cut(s, "=")
	f, err := strconv.ParseFloat(ws, 64)
	if !ok || v == "" || err != nil {
		return fmt.Errorf("want VERSION=WEIGHT (0..1), got %q", s)
	}
	w[v] = f
	return nil
}

// runAlias implements `lambdad alias NAME ALIAS VERSION [--weight V=W]`
// (create or update) and `lambdad alias NAME` (list).
func runAlias(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad alias", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	weights := weightFlag{}
	fs.Var(weights, "weight", "route a share of traffic to another version: VERSION=WEIGHT (0..1)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c := newClient()
	switch len(pos) {
	case 1:
		list, err := c.ListAliases(ctx, pos[0])
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ALIAS\tVERSION\tROUTING\tARN")
		for _, a := range list {
			routing := ""
			if a.RoutingConfig != nil {
				for v, w := range a.RoutingConfig.AdditionalVersionWeights {
					routing += fmt.Sprintf("%s=%g ", v, w)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.FunctionVersion, strings.TrimSpace(routing), a.AliasArn)
		}
		return tw.Flush()
	case 3:
	default:
		fmt.Fprintln(stdio.Err, "usage: lambdad alias NAME [ALIAS VERSION [--weight V=W]]")
		return errUsage
	}
	in := client.AliasInput{FunctionVersion: pos[2]}
	if len(weights) > 0 {
		in.RoutingConfig = &client.RoutingConfig{AdditionalVersionWeights: weights}
	}
	a, err := c.CreateAlias(ctx, pos[0], pos[1], in)
	var apiErr *client.APIError
	if errors.As(err, &apiErr) && apiErr.Type == "ResourceConflictException" {
		// Updating: no --weight removes any routing.
		in.RoutingConfig = &client.RoutingConfig{AdditionalVersionWeights: weights}
		a, err = c.UpdateAlias(ctx, pos[0], pos[1], in)
	}
	if err != nil {
		return err
	}
	return printJSON(stdio.Out, a)
}

// runLayers implements `lambdad layers` (list) and `lambdad layers NAME`
// (versions of one layer).
func runLayers(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad layers", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	newClient := clientFlags(fs, getenv)
	runtime := fs.String("runtime", "", "only layers compatible with this runtime")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c := newClient()
	tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	switch len(pos) {
	case 0:
		list, err := c.ListLayers(ctx, *runtime)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "LAYER\tLATEST\tRUNTIMES\tCREATED\tARN")
		for _, l := range list {
			v := l.LatestMatchingVersion
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", l.LayerName, v.Version, strings.Join(v.CompatibleRuntimes, ","), v.CreatedDate, v.LayerVersionArn)
		}
	case 1:
		list, err := c.ListLayerVersions(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "VERSION\tRUNTIMES\tCREATED\tARN")
		for _, v := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, strings.Join(v.CompatibleRuntimes, ","), v.CreatedDate, v.LayerVersionArn)
		}
	default:
		fmt.Fprintln(stdio.Err, "usage: lambdad layers [NAME] [--runtime R]")
		return errUsage
	}
	return tw.Flush()
}
