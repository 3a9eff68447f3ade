package deploy

// Planning: read the live state of a service through the API (ReadState),
// diff it against the Spec and its Packages (NewPlan), render the plan
// (render.go) and apply it (apply.go).
//
// A function belongs to a service and stage when it carries the tags
// lambdad:service and lambdad:stage, which deploy sets at CreateFunction.
// Only such functions are ever updated, replaced or deleted; a function
// with a wanted name that is not tagged is left alone and the plan is
// refused, as CloudFormation refuses to adopt an existing resource.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lambdad/lambdad/internal/manifest"
	"github.com/lambdad/lambdad/sdk/client"
)

// Tag keys deploy sets on the functions it creates.
const (
	TagService = "lambdad:service"
	TagStage   = "lambdad:stage"
)

// Step operations.
const (
	OpCreate  = "create"
	OpUpdate  = "update"
	OpReplace = "replace"
	OpDelete  = "delete"
	OpSame    = "same"
)

// Diff kinds.
const (
	DiffAdd    = "add"
	DiffUpdate = "update"
	DiffDelete = "delete"
)

// Code statuses of a function step.
const (
	CodeNew       = "new"
	CodeChanged   = "changed"
	CodeUnchanged = "unchanged"
)

// Server features deploy needs for some settings (the "features" of
// GET /lambdad/v1/capabilities).
const (
	FeatureLayers            = "layers"
	FeatureVersions          = "versions"
	FeatureConcurrency       = "concurrency"
	FeatureEventInvokeConfig = "event-invoke-config"
	FeatureFunctionURLs      = "function-urls"
	FeatureTags              = "tags"
)

// PlanSchemaVersion is the version of the JSON form of a Plan; it changes
// only when a field changes meaning or disappears.
const PlanSchemaVersion = 1

// State is the live state of a service as the server reports it.
type State struct {
	Capabilities client.Capabilities `json:"capabilities"`
	// Functions are the functions that may concern the service: those
	// tagged with its service and stage, those with a name the spec wants,
	// and those whose name has the ${service}-${stage}- prefix. Sorted by
	// name.
	Functions []LiveFunction `json:"functions"`
}

// LiveFunction is one deployed function.
type LiveFunction struct {
	Configuration client.FunctionConfiguration `json:"configuration"`
	Tags          map[string]string            `json:"tags,omitempty"`
}

// owned reports whether f was deployed for service and stage.
func (f *LiveFunction) owned(service, stage string) bool {
	return f.Tags[TagService] == service && f.Tags[TagStage] == stage
}

// ReadState reads the capabilities of the server and the functions that may
// belong to spec's service and stage (see State.Functions): one
// ListFunctions, then one GetFunction per candidate for its tags.
func ReadState(ctx context.Context, c *client.Client, spec *manifest.Spec) (*State, error) {
	return readState(ctx, c, spec.Service, spec.Stage, functionNames(spec))
}

// ReadServiceState is ReadState without a spec: the functions tagged with
// service and stage, or named with its prefix.
func ReadServiceState(ctx context.Context, c *client.Client, service, stage string) (*State, error) {
	return readState(ctx, c, service, stage, nil)
}

func readState(ctx context.Context, c *client.Client, service, stage string, wanted map[string]bool) (*State, error) {
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("read server capabilities: %w", err)
	}
	all, err := c.ListFunctions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	prefix := service + "-" + stage + "-"
	st := &State{Capabilities: *caps}
	for _, f := range all {
		if !wanted[f.FunctionName] && !strings.HasPrefix(f.FunctionName, prefix) {
			continue
		}
		g, err := c.GetFunction(ctx, f.FunctionName)
		if client.IsNotFound(err) {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("read function %s: %w", f.FunctionName, err)
		}
		st.Functions = append(st.Functions, LiveFunction{Configuration: g.Configuration, Tags: g.Tags})
	}
	sort.Slice(st.Functions, func(i, j int) bool {
		return st.Functions[i].Configuration.FunctionName < st.Functions[j].Configuration.FunctionName
	})
	return st, nil
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

// Plan is what a deploy will do. Its JSON form (schemaVersion 1) is stable.
type Plan struct {
	SchemaVersion int    `json:"schemaVersion"`
	Service       string `json:"service"`
	Stage         string `json:"stage"`
	Region        string `json:"region"`
	// Steps are in apply order: functions to create, replace, update or
	// leave (by key), then functions to delete (by name).
	Steps   []Step  `json:"steps"`
	Summary Summary `json:"summary"`
	// Warnings are settings deploy accepts but does not apply on this
	// server; Refusals are settings it cannot apply, which block Apply.
	Warnings []string `json:"warnings,omitempty"`
	Refusals []string `json:"refusals,omitempty"`
}

// Summary counts the steps by operation and the code to upload.
type Summary struct {
	Create      int   `json:"create"`
	Update      int   `json:"update"`
	Replace     int   `json:"replace"`
	Delete      int   `json:"delete"`
	Same        int   `json:"same"`
	UploadBytes int64 `json:"uploadBytes"`
}

// Changes is the number of steps that change something.
func (s Summary) Changes() int { return s.Create + s.Update + s.Replace + s.Delete }

// Step is one resource of the plan.
type Step struct {
	Op   string `json:"op"`
	Kind string `json:"kind"` // "function"
	// Key is the function's key in the manifest; empty for a delete.
	Key  string `json:"key,omitempty"`
	Name string `json:"name"`
	// Diffs are the property changes of an update or replace, sorted by path.
	Diffs          []Diff   `json:"diffs,omitempty"`
	ReplaceReasons []string `json:"replaceReasons,omitempty"`
	Code           *Code    `json:"code,omitempty"`

	want     *desired
	live     *LiveFunction
	artifact *Artifact
}

// Diff is one property change. Sensitive values (environment variables)
// are never shown: Old and New are empty and Sensitive is true.
type Diff struct {
	Path      string `json:"path"` // e.g. memorySize, environment.LOG_LEVEL
	Kind      string `json:"kind"` // add, update, delete
	Old       string `json:"old,omitempty"`
	New       string `json:"new,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Code is the code status of a function step: hashes are Lambda's
// CodeSha256 (base64 SHA-256 of the zip).
type Code struct {
	Status string `json:"status"` // new, changed, unchanged
	Old    string `json:"old,omitempty"`
	New    string `json:"new"`
	Size   int64  `json:"size"` // bytes of the zip
}

// desired is the configuration a function should have.
type desired struct {
	Name             string
	Handler          string
	Runtime          string
	Description      string
	Architecture     string
	MemorySize       int
	Timeout          int
	EphemeralStorage int
	Environment      map[string]string
	Layers           []string
	Tags             map[string]string
}

// NewPlan diffs spec and its packages against the live state. It reads
// nothing: the same inputs give the same plan.
func NewPlan(spec *manifest.Spec, pkgs *Packages, st *State) (*Plan, error) {
	p := &Plan{SchemaVersion: PlanSchemaVersion, Service: spec.Service, Stage: spec.Stage, Region: spec.Region, Steps: []Step{}}
	byName := map[string]*LiveFunction{}
	for i := range st.Functions {
		byName[st.Functions[i].Configuration.FunctionName] = &st.Functions[i]
	}
	caps := &st.Capabilities
	p.Refusals = append(p.Refusals, unsupported(spec, caps)...)
	p.Warnings = append(p.Warnings, ignored(spec, caps)...)

	wanted := map[string]bool{}
	for _, fn := range spec.Functions {
		wanted[fn.Name] = true
		a := pkgs.Functions[fn.Key]
		if a == nil {
			return nil, fmt.Errorf("plan function %s: no package", fn.Key)
		}
		w := want(spec, fn, a)
		if w.Layers == nil && len(fn.Layers) > 0 {
			// Refused above: service layers have no ARN before they are published.
			w.Layers = []string{}
		}
		s := Step{Kind: "function", Key: fn.Key, Name: fn.Name, want: w, artifact: a}
		live := byName[fn.Name]
		switch {
		case live == nil:
			s.Op = OpCreate
			s.Code = &Code{Status: CodeNew, New: a.CodeSHA256, Size: int64(len(a.Zip))}
		case !live.owned(spec.Service, spec.Stage):
			p.Refusals = append(p.Refusals, fmt.Sprintf(
				"function %s already exists and was not deployed by service %s stage %s (tags %s/%s are missing or differ); delete or rename it first",
				fn.Name, spec.Service, spec.Stage, TagService, TagStage))
			continue
		default:
			s.live = live
			s.Diffs, s.ReplaceReasons = diffFunction(live, w)
			code := &Code{Status: CodeUnchanged, Old: live.Configuration.CodeSha256, New: a.CodeSHA256, Size: int64(len(a.Zip))}
			if code.Old != code.New {
				code.Status = CodeChanged
			}
			s.Code = code
			switch {
			case len(s.ReplaceReasons) > 0:
				s.Op = OpReplace
			case len(s.Diffs) > 0 || code.Status == CodeChanged:
				s.Op = OpUpdate
			default:
				s.Op = OpSame
			}
			if s.Op != OpReplace && !caps.HasFeature(FeatureTags) {
				for _, d := range s.Diffs {
					if strings.HasPrefix(d.Path, "tags.") {
						p.Refusals = append(p.Refusals, fmt.Sprintf(
							"function %s: its tags changed, and this server cannot change the tags of an existing function yet (TagResource is not supported)", fn.Name))
						break
					}
				}
			}
		}
		p.Steps = append(p.Steps, s)
	}
	for i := range st.Functions {
		f := &st.Functions[i]
		name := f.Configuration.FunctionName
		if wanted[name] {
			continue
		}
		if !f.owned(spec.Service, spec.Stage) {
			p.Warnings = append(p.Warnings, fmt.Sprintf(
				"function %s has the service's name prefix but was not deployed by it (no %s/%s tags); left alone", name, TagService, TagStage))
			continue
		}
		p.Steps = append(p.Steps, Step{Op: OpDelete, Kind: "function", Name: name, live: f})
	}
	for _, s := range p.Steps {
		switch s.Op {
		case OpCreate:
			p.Summary.Create++
		case OpUpdate:
			p.Summary.Update++
		case OpReplace:
			p.Summary.Replace++
		case OpDelete:
			p.Summary.Delete++
		case OpSame:
			p.Summary.Same++
		}
		if s.Code != nil && (s.Code.Status != CodeUnchanged || s.Op == OpReplace) {
			p.Summary.UploadBytes += s.Code.Size
		}
	}
	return p, nil
}

// want is the configuration spec asks for function fn packaged in a.
func want(spec *manifest.Spec, fn manifest.Function, a *Artifact) *desired {
	w := &desired{
		Name:             fn.Name,
		Handler:          fn.Handler,
		Runtime:          fn.Runtime,
		Description:      fn.Description,
		Architecture:     fn.Architecture,
		MemorySize:       fn.MemorySize,
		Timeout:          fn.Timeout,
		EphemeralStorage: fn.EphemeralStorageSize,
		Environment:      fn.Environment,
		Tags:             map[string]string{},
	}
	if a.Handler != "" {
		w.Handler = a.Handler
	}
	if w.Architecture == "" {
		w.Architecture = "x86_64"
	}
	if w.EphemeralStorage == 0 {
		w.EphemeralStorage = 512
	}
	for _, l := range fn.Layers {
		if l.ARN != "" {
			w.Layers = append(w.Layers, l.ARN)
		}
	}
	for k, v := range fn.Tags {
		w.Tags[k] = v
	}
	w.Tags[TagService] = spec.Service
	w.Tags[TagStage] = spec.Stage
	return w
}

// unsupported lists what spec asks for that this server (or this version
// of deploy) cannot do; any of them refuses the whole deploy before a
// change is made.
func unsupported(spec *manifest.Spec, caps *client.Capabilities) []string {
	var out []string
	notYet := func(feature, what string) string {
		if caps.HasFeature(feature) {
			return what + ": served by this server but not applied by this version of lambdad deploy yet"
		}
		return what + ": not supported by this server yet (capability " + feature + " not advertised)"
	}
	if len(spec.Layers) > 0 {
		keys := make([]string, 0, len(spec.Layers))
		for _, l := range spec.Layers {
			keys = append(keys, l.Key)
		}
		out = append(out, notYet(FeatureLayers, "layers ("+strings.Join(keys, ", ")+"): publishing layers"))
	}
	for _, fn := range spec.Functions {
		at := "function " + fn.Key + ": "
		if !caps.HasRuntime(fn.Runtime) {
			out = append(out, fmt.Sprintf("%sruntime %s is not available on this server (available: %s)", at, fn.Runtime, strings.Join(caps.Runtimes, ", ")))
		}
		if len(fn.Layers) > 0 {
			out = append(out, at+notYet(FeatureLayers, "layers"))
		}
		if fn.ReservedConcurrency != nil {
			out = append(out, at+notYet(FeatureConcurrency, "reservedConcurrency"))
		}
		if fn.ProvisionedConcurrency > 0 {
			out = append(out, at+notYet(FeatureConcurrency, "provisionedConcurrency"))
		}
		if fn.MaximumEventAge != nil || fn.MaximumRetryAttempts != nil || fn.Destinations != nil {
			out = append(out, at+notYet(FeatureEventInvokeConfig, "maximumEventAge/maximumRetryAttempts/destinations (asynchronous invocation configuration)"))
		}
		if fn.URL != nil {
			out = append(out, at+notYet(FeatureFunctionURLs, "url (function URL)"))
		}
		for i, ev := range fn.Events {
			if !caps.HasEvent(ev.Type) {
				supported := "none"
				if len(caps.Events) > 0 {
					supported = strings.Join(caps.Events, ", ")
				}
				out = append(out, fmt.Sprintf("%sevents[%d]: %s events are not supported by this server yet (supported: %s)", at, i, ev.Type, supported))
			}
		}
	}
	return out
}

// ignored lists settings accepted but not applied on this server; none of
// them changes what a function computes.
func ignored(spec *manifest.Spec, caps *client.Capabilities) []string {
	var out []string
	var versioned, retention, nologs []string
	for _, fn := range spec.Functions {
		if fn.VersionFunction {
			versioned = append(versioned, fn.Key)
		}
		if fn.LogRetentionInDays > 0 {
			retention = append(retention, fn.Key)
		}
		if fn.DisableLogs {
			nologs = append(nologs, fn.Key)
		}
	}
	if len(versioned) > 0 {
		if caps.HasFeature(FeatureVersions) {
			out = append(out, "versionFunctions: publishing a version per deploy is not done by this version of lambdad deploy yet; $LATEST is deployed ("+strings.Join(versioned, ", ")+")")
		} else {
			out = append(out, "versionFunctions: this server does not publish versions yet; $LATEST is deployed ("+strings.Join(versioned, ", ")+")")
		}
	}
	if len(retention) > 0 {
		out = append(out, "logRetentionInDays: not applied per function; the server's log retention applies ("+strings.Join(retention, ", ")+")")
	}
	if len(nologs) > 0 {
		out = append(out, "disableLogs: not applied; function logs are kept ("+strings.Join(nologs, ", ")+")")
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
