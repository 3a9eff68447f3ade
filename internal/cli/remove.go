package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"

	"github.com/lambdad/lambdad/internal/deploy"
)

// runRemove deletes everything deploy created for a service and stage: the
// functions tagged with them. Functions with the service's name prefix but
// without the tags are left alone.
func runRemove(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad remove", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	sf := addServiceFlags(fs, getenv)
	service := fs.String("service", "", "service name (instead of reading the service file; stage defaults to dev)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: lambdad remove [-c serverless.yml | --service NAME] [--stage S]\n\n"+
			"Deletes the functions deployed for the service and stage.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	// The service's layers (not retained) are known only from its file.
	var svc, stage string
	var layers []string
	if *service != "" {
		svc, stage, _ = sf.named(*service)
	} else {
		spec, err := sf.load(stdio.Err, getenv)
		if err != nil {
			return err
		}
		svc, stage = spec.Service, spec.Stage
		for _, l := range spec.Layers {
			if !l.Retain {
				layers = append(layers, l.Name)
			}
		}
	}
	c := sf.client()
	st, err := deploy.ReadServiceState(ctx, c, svc, stage)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdio.Out, "Removing %s stage %s from %s\n", svc, stage, sf.endpoint())
	deleted, err := deploy.Remove(ctx, c, st, svc, stage, stdio.Out)
	if err != nil {
		return err
	}
	for _, f := range st.Functions {
		if !slices.Contains(deleted, f.Configuration.FunctionName) {
			fmt.Fprintf(stdio.Err, "warning: function %s has the service's name prefix but was not deployed by it; left alone\n", f.Configuration.FunctionName)
		}
	}
	nl := 0
	if len(layers) > 0 && st.Supports(deploy.FeatureLayers) {
		if nl, err = deploy.RemoveLayers(ctx, c, layers, stdio.Out); err != nil {
			return err
		}
	}
	if len(deleted) == 0 && nl == 0 {
		fmt.Fprintf(stdio.Out, "Nothing to remove: no function of %s stage %s is deployed.\n", svc, stage)
		return nil
	}
	fmt.Fprintf(stdio.Out, "✔ Service %s stage %s removed (%d functions, %d layer versions)\n", svc, stage, len(deleted), nl)
	return nil
}
