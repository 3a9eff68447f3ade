package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/lambdad/lambdad/internal/deploy"
)

// runInfo prints the deployed functions of a service and stage: from the
// service file, or from --service without one.
func runInfo(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) error {
	fs := flag.NewFlagSet("lambdad info", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	sf := addServiceFlags(fs, getenv)
	service := fs.String("service", "", "service name (instead of reading the service file; stage defaults to dev)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: lambdad info [-c serverless.yml | --service NAME] [--stage S] [--json]\n\n")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	c := sf.client()
	var st *deploy.State
	var svc, stage, region string
	var keys map[string]string
	if *service != "" {
		svc, stage, region = sf.named(*service)
		st, err = deploy.ReadServiceState(ctx, c, svc, stage)
	} else {
		spec, lerr := sf.load(stdio.Err, getenv)
		if lerr != nil {
			return lerr
		}
		svc, stage, region, keys = spec.Service, spec.Stage, spec.Region, specKeys(spec)
		st, err = deploy.ReadState(ctx, c, spec)
	}
	if err != nil {
		return err
	}
	in := deploy.NewInfo(st, svc, stage, region, sf.endpoint(), keys)
	if *asJSON {
		return printJSON(stdio.Out, in)
	}
	return deploy.RenderInfo(stdio.Out, in)
}

// named is the service, stage and region given by --service, --stage
// (default dev) and --region (default us-east-1), without a service file.
func (sf *serviceFlags) named(service string) (svc, stage, region string) {
	stage, region = sf.stage, sf.region
	if stage == "" {
		stage = "dev"
	}
	if region == "" {
		region = "us-east-1"
	}
	return service, stage, region
}
