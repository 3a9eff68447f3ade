package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lambdad/lambdad/internal/deploy"
	"github.com/lambdad/lambdad/internal/manifest"
	"github.com/lambdad/lambdad/sdk/client"
)

// serviceFlags are the flags shared by deploy, info and remove.
type serviceFlags struct {
	config        string
	stage, region string
	ignoreAWSOnly string
	client        func() *client.Client
	endpoint      func() string
}

func addServiceFlags(fs *flag.FlagSet, getenv func(string) string) *serviceFlags {
	sf := &serviceFlags{}
	for _, n := range []string{"c", "config"} {
		fs.StringVar(&sf.config, n, "serverless.yml", "service file (serverless.yml)")
	}
	for _, n := range []string{"s", "stage"} {
		fs.StringVar(&sf.stage, n, "", "stage (default provider.stage, else dev)")
	}
	for _, n := range []string{"r", "region"} {
		fs.StringVar(&sf.region, n, "", "region (default provider.region, else us-east-1)")
	}
	fs.StringVar(&sf.ignoreAWSOnly, "ignore-aws-only", "", "comma-separated AWS-only fields to ignore instead of rejecting (e.g. vpc,kmsKeyArn)")
	sf.client = clientFlags(fs, getenv)
	sf.endpoint = func() string { return fs.Lookup("endpoint").Value.String() }
	return sf
}

// load reads the service file, printing its warnings to w.
func (sf *serviceFlags) load(w io.Writer, getenv func(string) string) (*manifest.Spec, error) {
	opts := manifest.Options{
		Stage:   sf.stage,
		Region:  sf.region,
		Getenv:  getenv,
		Options: map[string]string{},
	}
	if sf.stage != "" {
		opts.Options["stage"] = sf.stage
	}
	if sf.region != "" {
		opts.Options["region"] = sf.region
	}
	if sf.ignoreAWSOnly != "" {
		opts.IgnoreAWSOnly = strings.Split(sf.ignoreAWSOnly, ",")
	}
	spec, warnings, err := manifest.Load(sf.config, opts)
	for _, wn := range warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	if err != nil {
		return nil, err
	}
	return spec, nil
}

// runDeploy plans a service file against the server and, unless --plan,
// applies the plan after confirmation.
func runDeploy(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad deploy", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	sf := addServiceFlags(fs, getenv)
	planOnly := fs.Bool("plan", false, "only show the plan; change nothing")
	yes := fs.Bool("yes", false, "apply without asking for confirmation")
	fs.BoolVar(yes, "y", false, "shorthand for --yes")
	asJSON := fs.Bool("json", false, "print the plan as JSON on stdout (progress goes to stderr)")
	expectNone := fs.Bool("expect-no-changes", false, "fail (exit 1) if the plan has changes, applying nothing (for CI)")
	var only string
	for _, n := range []string{"f", "function"} {
		fs.StringVar(&only, n, "", "deploy only this function (its key in the service file) and the layers it uses; nothing is deleted")
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: lambdad deploy [-c serverless.yml] [--stage S] [--region R] [--plan] [--yes] [--json] [--expect-no-changes] [-f KEY]\n\n"+
			"Plans the service against the server (create / update / replace / delete per function) and applies\n"+
			"the plan after confirmation. Unchanged code is not uploaded again.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	out, info := stdio.Out, stdio.Out
	if *asJSON {
		info = stdio.Err
	}
	start := time.Now()
	spec, err := sf.load(stdio.Err, getenv)
	if err != nil {
		return err
	}
	c := sf.client()
	fmt.Fprintf(info, "Deploying %s to stage %s (%s) at %s\n", spec.Service, spec.Stage, spec.Region, sf.endpoint())
	fmt.Fprintf(info, "Packaging %d function(s), %d layer(s) …\n", len(spec.Functions), len(spec.Layers))
	pkgs, err := deploy.Pack(ctx, spec, deploy.PackOptions{GoBuild: &deploy.GoBuilder{}})
	if err != nil {
		return err
	}
	st, err := deploy.ReadState(ctx, c, spec)
	if err != nil {
		return err
	}
	plan, err := deploy.NewPlan(spec, pkgs, st)
	if err != nil {
		return err
	}
	if only != "" {
		if err := plan.Only(only); err != nil {
			return err
		}
	}
	if *asJSON {
		err = deploy.RenderJSON(out, plan)
	} else {
		fmt.Fprintln(out)
		err = deploy.RenderText(out, plan)
	}
	if err != nil {
		return err
	}
	if len(plan.Refusals) > 0 {
		return fmt.Errorf("cannot deploy %s: %d setting(s) this server cannot apply (listed above); nothing was changed", spec.Service, len(plan.Refusals))
	}
	if *expectNone && plan.Summary.Changes() > 0 {
		return fmt.Errorf("the plan has %d change(s) and --expect-no-changes is set; nothing was changed", plan.Summary.Changes())
	}
	if *planOnly {
		return nil
	}
	if plan.Summary.Changes() == 0 {
		fmt.Fprintf(info, "\nNo changes to deploy. Service %s (stage %s) is up to date. (%.1fs)\n", spec.Service, spec.Stage, time.Since(start).Seconds())
		return printServiceInfo(ctx, c, info, spec, sf.endpoint())
	}
	if !*yes {
		ok, err := confirm(ctx, stdio)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(info, "Deploy cancelled; nothing was changed.")
			return nil
		}
	}
	fmt.Fprintln(info)
	if err := deploy.Apply(ctx, c, plan, info); err != nil {
		return err
	}
	fmt.Fprintf(info, "\n✔ Service %s deployed to stage %s (%.1fs)\n\n", spec.Service, spec.Stage, time.Since(start).Seconds())
	return printServiceInfo(ctx, c, info, spec, sf.endpoint())
}

// errNotTerminal reports a deploy that needs confirmation without a
// terminal to ask on.
var errNotTerminal = errors.New("stdin is not a terminal, so the plan cannot be confirmed: rerun with --yes to apply it, or --plan to only show it")

// confirm asks on the terminal whether to apply.
func confirm(ctx context.Context, stdio Stdio) (bool, error) {
	f, ok := stdio.In.(*os.File)
	if !ok {
		return false, errNotTerminal
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false, errNotTerminal
	}
	fmt.Fprint(stdio.Err, "\nApply these changes? [y/N] ")
	type answer struct {
		line string
		err  error
	}
	// The read cannot be interrupted; Ctrl-C (ctx) must not wait for Enter.
	// The reader goroutine ends with the process.
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(f).ReadString('\n')
		ch <- answer{line, err}
	}()
	var line string
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdio.Err)
		return false, ctx.Err()
	case a := <-ch:
		line, err = a.line, a.err
	}
	if err != nil && line == "" {
		// No answer at all (e.g. stdin is /dev/null): not a "no" a
		// script could mistake for success.
		fmt.Fprintln(stdio.Err)
		return false, fmt.Errorf("no answer on stdin (%v): rerun with --yes to apply without confirmation, or --plan to only show the plan", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// printServiceInfo reads and prints the service's deployed functions.
func printServiceInfo(ctx context.Context, c *client.Client, w io.Writer, spec *manifest.Spec, endpoint string) error {
	st, err := deploy.ReadState(ctx, c, spec)
	if err != nil {
		return err
	}
	return deploy.RenderInfo(w, deploy.NewInfo(st, spec.Service, spec.Stage, spec.Region, endpoint, specKeys(spec)))
}

func specKeys(spec *manifest.Spec) map[string]string {
	m := make(map[string]string, len(spec.Functions))
	for _, f := range spec.Functions {
		m[f.Name] = f.Key
	}
	return m
}
