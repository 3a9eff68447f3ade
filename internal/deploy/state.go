package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/lambdad/lambdad/internal/manifest"
	"github.com/lambdad/lambdad/sdk/client"
)

// Server features deploy uses for some settings. A feature is available
// when the server advertises it (the "features" of GET
// /lambdad/v1/capabilities) or serves its API operations (probed).
const (
	FeatureLayers            = "layers"
	FeatureVersions          = "versions"
	FeatureConcurrency       = "concurrency"
	FeatureEventInvokeConfig = "event-invoke-config"
	FeatureFunctionURLs      = "function-urls"
	FeatureTags              = "tags"
)

// probeName is a function name no one uses: probing an operation on it
// tells "not found" (served) from "unknown operation" (not served).
const probeName = "lambdad-deploy-probe-0"

// featureProbes are one harmless read per feature.
var featureProbes = map[string]string{
	FeatureLayers:            "/2018-10-31/layers",
	FeatureVersions:          "/2015-03-31/functions/" + probeName + "/versions",
	FeatureConcurrency:       "/2019-09-30/functions/" + probeName + "/concurrency",
	FeatureEventInvokeConfig: "/2019-09-25/functions/" + probeName + "/event-invoke-config",
	FeatureFunctionURLs:      "/2021-10-31/functions/" + probeName + "/url",
	FeatureTags:              "/2017-03-31/tags/arn:aws:lambda:us-east-1:000000000000:function:" + probeName,
}

// State is the live state of a service as the server reports it.
type State struct {
	Capabilities client.Capabilities `json:"capabilities"`
	// Supported are the features (Feature*) this server offers.
	Supported []string `json:"supported,omitempty"`
	// Functions are the functions that may concern the service: those
	// tagged with its service and stage (whatever their name), those with
	// a name the spec wants, and those whose name has the
	// ${service}-${stage}- prefix. Sorted by name.
	Functions []LiveFunction `json:"functions"`
	// Layers are the latest published versions of the spec's layers, by
	// layer name; a layer never published is absent.
	Layers []LiveLayer `json:"layers,omitempty"`
}

// LiveFunction is one deployed function.
type LiveFunction struct {
	Configuration client.FunctionConfiguration `json:"configuration"`
	Tags          map[string]string            `json:"tags,omitempty"`
	// ReservedConcurrency is nil when nothing is reserved (or the server
	// has no concurrency controls).
	ReservedConcurrency *int `json:"reservedConcurrency,omitempty"`
	// LatestVersion is the highest published version; empty when none (or
	// the server has no versions).
	LatestVersion string `json:"latestVersion,omitempty"`
	// EventInvokeConfig is the asynchronous invocation configuration of
	// $LATEST; nil when it has none (or the server has none).
	EventInvokeConfig *client.EventInvokeConfig `json:"eventInvokeConfig,omitempty"`
	// ProvisionedAlias is the version the "provisioned" alias points at
	// and ProvisionedConcurrency the concurrency provisioned on it; empty
	// and 0 when there is no such alias.
	ProvisionedAlias       string `json:"provisionedAlias,omitempty"`
	ProvisionedConcurrency int    `json:"provisionedConcurrency,omitempty"`
}

// ProvisionedAlias is the alias that carries a function's provisioned
// concurrency, as the Serverless Framework names it.
const ProvisionedAlias = "provisioned"

// LiveLayer is the latest version of a published layer.
type LiveLayer struct {
	Name   string              `json:"name"`
	Latest client.LayerVersion `json:"latest"`
}

// owned reports whether f was deployed for service and stage.
func (f *LiveFunction) owned(service, stage string) bool {
	return f.Tags[TagService] == service && f.Tags[TagStage] == stage
}

// Supports reports whether the server offers feature.
func (st *State) Supports(feature string) bool {
	return st.Capabilities.HasFeature(feature) || slices.Contains(st.Supported, feature)
}

// layer returns the live layer named name, or nil.
func (st *State) layer(name string) *LiveLayer {
	for i := range st.Layers {
		if st.Layers[i].Name == name {
			return &st.Layers[i]
		}
	}
	return nil
}

// ReadState reads the capabilities of the server, the functions that may
// belong to spec's service and stage (see State.Functions) and the latest
// versions of its layers: one ListFunctions, one GetFunction per function
// (tags say which service a function belongs to), then per candidate its
// reserved concurrency, asynchronous invocation configuration, versions and
// provisioned alias when the server has them, and per layer
// ListLayerVersions and GetLayerVersion.
func ReadState(ctx context.Context, c *client.Client, spec *manifest.Spec) (*State, error) {
	st, err := readState(ctx, c, spec.Service, spec.Stage, functionNames(spec))
	if err != nil {
		return nil, err
	}
	if len(spec.Layers) == 0 || !st.Supports(FeatureLayers) {
		return st, nil
	}
	for _, l := range spec.Layers {
		vs, err := c.ListLayerVersions(ctx, l.Name)
		if err != nil && !client.IsNotFound(err) {
			return nil, fmt.Errorf("read layer %s: %w", l.Name, err)
		}
		if len(vs) == 0 {
			continue
		}
		latest := slices.MaxFunc(vs, func(a, b client.LayerVersion) int { return int(a.Version - b.Version) })
		lv, err := c.GetLayerVersion(ctx, l.Name, latest.Version)
		if err != nil {
			return nil, fmt.Errorf("read layer %s version %d: %w", l.Name, latest.Version, err)
		}
		st.Layers = append(st.Layers, LiveLayer{Name: l.Name, Latest: *lv})
	}
	return st, nil
}

// ReadServiceState is ReadState without a spec: the functions tagged with
// service and stage, or named with its prefix.
func ReadServiceState(ctx context.Context, c *client.Client, service, stage string) (*State, error) {
	return readState(ctx, c, service, stage, nil)
}

func readState(ctx context.Context, c *client.Client, service, stage string, wanted map[string]bool) (*State, error) {
	caps, err := c.Capabilities(ctx)
	var ae *client.APIError
	switch {
	case errors.As(err, &ae):
		return nil, fmt.Errorf("read server capabilities (is the endpoint a lambdad server of this version?): %w", err)
	case err != nil:
		return nil, fmt.Errorf("read server capabilities (is lambdad serve running there?): %w", err)
	}
	st := &State{Capabilities: *caps}
	for _, f := range sortedKeys(featureProbes) {
		if caps.HasFeature(f) {
			continue
		}
		ok, err := c.Served(ctx, "GET", featureProbes[f])
		if err != nil {
			return nil, fmt.Errorf("probe server for %s: %w", f, err)
		}
		if ok {
			st.Supported = append(st.Supported, f)
		}
	}
	all, err := c.ListFunctions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	prefix := service + "-" + stage + "-"
	// One GetFunction per function (only tags tell a function's service),
	// then the settings of the candidates; readParallelism at a time.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	sem := make(chan struct{}, readParallelism)
	for _, f := range all {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			lf, err := readFunction(ctx, c, st, f.FunctionName, func(lf *LiveFunction) bool {
				return lf.owned(service, stage) || wanted[f.FunctionName] || strings.HasPrefix(f.FunctionName, prefix)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case client.IsNotFound(err): // deleted since the listing
			case err != nil:
				errs = append(errs, fmt.Errorf("read function %s: %w", f.FunctionName, err))
			case lf != nil:
				st.Functions = append(st.Functions, *lf)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(st.Functions, func(i, j int) bool {
		return st.Functions[i].Configuration.FunctionName < st.Functions[j].Configuration.FunctionName
	})
	return st, nil
}

// readParallelism is how many functions ReadState reads at a time.
const readParallelism = 8

// readFunction reads function name and, when candidate says it may concern
// the service, its settings; nil when it does not.
func readFunction(ctx context.Context, c *client.Client, st *State, name string, candidate func(*LiveFunction) bool) (*LiveFunction, error) {
	g, err := c.GetFunction(ctx, name)
	if err != nil {
		return nil, err
	}
	lf := &LiveFunction{Configuration: g.Configuration, Tags: g.Tags}
	if !candidate(lf) {
		return nil, nil
	}
	if err := readSettings(ctx, c, st, lf); err != nil {
		return nil, err
	}
	return lf, nil
}

// readSettings reads the function-level settings of lf that the server has.
func readSettings(ctx context.Context, c *client.Client, st *State, lf *LiveFunction) error {
	name := lf.Configuration.FunctionName
	var err error
	if st.Supports(FeatureConcurrency) {
		if lf.ReservedConcurrency, err = c.GetFunctionConcurrency(ctx, name); err != nil {
			return err
		}
	}
	if st.Supports(FeatureEventInvokeConfig) {
		if lf.EventInvokeConfig, err = c.GetFunctionEventInvokeConfig(ctx, name); err != nil {
			return err
		}
	}
	if st.Supports(FeatureVersions) && st.Supports(FeatureConcurrency) {
		a, err := c.GetAlias(ctx, name, ProvisionedAlias)
		switch {
		case client.IsNotFound(err):
		case err != nil:
			return err
		default:
			lf.ProvisionedAlias = a.FunctionVersion
			pc, err := c.GetProvisionedConcurrencyConfig(ctx, name, ProvisionedAlias)
			if err != nil {
				return err
			}
			if pc != nil {
				lf.ProvisionedConcurrency = pc.RequestedProvisionedConcurrentExecutions
			}
		}
	}
	if st.Supports(FeatureVersions) {
		vs, err := c.ListVersionsByFunction(ctx, name)
		if err != nil {
			return err
		}
		best := 0
		for _, v := range vs {
			var n int
			if _, err := fmt.Sscanf(v.Version, "%d", &n); err == nil && n > best {
				best, lf.LatestVersion = n, v.Version
			}
		}
	}
	return nil
}

// Owned returns the functions of st deployed for service and stage.
func (st *State) Owned(service, stage string) []LiveFunction {
	var out []LiveFunction
	for _, f := range st.Functions {
		if f.owned(service, stage) {
			out = append(out, f)
		}
	}
	return out
}

func functionNames(spec *manifest.Spec) map[string]bool {
	m := make(map[string]bool, len(spec.Functions))
	for _, f := range spec.Functions {
		m[f.Name] = true
	}
	return m
}
