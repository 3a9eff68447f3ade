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
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lambdad/lambdad/internal/manifest"
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

// PlanSchemaVersion is the version of the JSON form of a Plan; it changes
// only when a field changes meaning or disappears.
const PlanSchemaVersion = 1

// Plan is what a deploy will do. Its JSON form (schemaVersion 1) is stable.
type Plan struct {
	SchemaVersion int    `json:"schemaVersion"`
	Service       string `json:"service"`
	Stage         string `json:"stage"`
	Region        string `json:"region"`
	// Steps are in apply order: layers to publish or leave, functions to
	// create, replace, update or leave (by key), then functions to delete
	// (by name).
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

// Step kinds.
const (
	KindFunction = "function"
	KindLayer    = "layer"
)

// Step is one resource of the plan. A layer is never updated in place: its
// "create" and "update" publish a new layer version.
type Step struct {
	Op   string `json:"op"`
	Kind string `json:"kind"` // function or layer
	// Key is the function's or layer's key in the manifest; empty for a delete.
	Key  string `json:"key,omitempty"`
	Name string `json:"name"`
	// Diffs are the property changes of an update or replace, sorted by path.
	Diffs          []Diff   `json:"diffs,omitempty"`
	ReplaceReasons []string `json:"replaceReasons,omitempty"`
	Code           *Code    `json:"code,omitempty"`
	// Publish is set when a function version is published after the step.
	Publish bool `json:"publish,omitempty"`

	want     *desired
	layer    *manifest.Layer
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

// Code is the code status of a step: hashes are Lambda's CodeSha256
// (base64 SHA-256 of the zip).
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
	// Layers are layer version ARNs; a layer of the service that is
	// published by this deploy is a pendingLayer placeholder until Apply
	// knows its ARN.
	Layers              []string
	Tags                map[string]string
	ReservedConcurrency *int
	VersionFunction     bool
	// ProvisionedConcurrency is kept on the "provisioned" alias, which
	// follows the latest published version; 0 for none.
	ProvisionedConcurrency int
	// Asynchronous invocation: nil is the server's default; destinations
	// are function names (of this service) or ARNs, "" for none.
	MaximumEventAge      *int
	MaximumRetryAttempts *int
	OnSuccess, OnFailure string
}

// pendingLayer is the placeholder of the ARN of a layer version not
// published yet; it is what plans show as the new value.
func pendingLayer(name string) string { return "<" + name + ":next-version>" }

// NewPlan diffs spec and its packages against the live state. It reads
// nothing: the same inputs give the same plan.
func NewPlan(spec *manifest.Spec, pkgs *Packages, st *State) (*Plan, error) {
	p := &Plan{SchemaVersion: PlanSchemaVersion, Service: spec.Service, Stage: spec.Stage, Region: spec.Region, Steps: []Step{}}
	p.Refusals = append(p.Refusals, unsupported(spec, st)...)
	p.Warnings = append(p.Warnings, ignored(spec, st)...)

	// Layers first: functions refer to the versions they publish.
	layerARN := map[string]string{} // layer key → version ARN or placeholder
	for i := range spec.Layers {
		l := &spec.Layers[i]
		a := pkgs.Layers[l.Key]
		if a == nil {
			return nil, fmt.Errorf("plan layer %s: no package", l.Key)
		}
		s := Step{Kind: KindLayer, Key: l.Key, Name: l.Name, layer: l, artifact: a}
		live := st.layer(l.Name)
		if live == nil {
			s.Op = OpCreate
			s.Code = &Code{Status: CodeNew, New: a.CodeSHA256, Size: int64(len(a.Zip))}
		} else {
			s.Diffs = diffLayer(&live.Latest, l)
			code := &Code{Status: CodeUnchanged, New: a.CodeSHA256, Size: int64(len(a.Zip))}
			if live.Latest.Content != nil {
				code.Old = live.Latest.Content.CodeSha256
			}
			if code.Old != code.New {
				code.Status = CodeChanged
			}
			s.Code = code
			s.Op = OpSame
			if len(s.Diffs) > 0 || code.Status == CodeChanged {
				s.Op = OpUpdate
			}
		}
		if s.Op == OpSame {
			layerARN[l.Key] = live.Latest.LayerVersionArn
		} else {
			layerARN[l.Key] = pendingLayer(l.Name)
		}
		p.Steps = append(p.Steps, s)
	}

	byName := map[string]*LiveFunction{}
	for i := range st.Functions {
		byName[st.Functions[i].Configuration.FunctionName] = &st.Functions[i]
	}
	wanted := map[string]bool{}
	for _, fn := range spec.Functions {
		wanted[fn.Name] = true
		a := pkgs.Functions[fn.Key]
		if a == nil {
			return nil, fmt.Errorf("plan function %s: no package", fn.Key)
		}
		w := want(spec, fn, a, layerARN)
		w.VersionFunction = fn.VersionFunction && st.Supports(FeatureVersions)
		if !st.Supports(FeatureConcurrency) {
			w.ReservedConcurrency = nil // refused above when set
		}
		s := Step{Kind: KindFunction, Key: fn.Key, Name: fn.Name, want: w, artifact: a}
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
			// A version is published when the function itself changed (not
			// only its settings), or when provisioned concurrency needs one.
			s.Publish = w.VersionFunction && (code.Status == CodeChanged || functionChanged(s.Diffs) ||
				w.ProvisionedConcurrency > 0 && live.LatestVersion == "")
			if d, ok := diffProvisioned(live, w, s.Publish); ok {
				s.Diffs = append(s.Diffs, d...)
				sort.SliceStable(s.Diffs, func(i, j int) bool { return s.Diffs[i].Path < s.Diffs[j].Path })
			}
			switch {
			case len(s.ReplaceReasons) > 0:
				s.Op = OpReplace
			case len(s.Diffs) > 0 || code.Status == CodeChanged:
				s.Op = OpUpdate
			default:
				s.Op = OpSame
			}
			if s.Op != OpReplace && !st.Supports(FeatureTags) && changed(s.Diffs, "tags") {
				p.Refusals = append(p.Refusals, fmt.Sprintf(
					"function %s: its tags changed, and this server cannot change the tags of an existing function yet (TagResource is not supported)", fn.Name))
			}
		}
		if s.Op == OpCreate || s.Op == OpReplace {
			s.Publish = w.VersionFunction
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
		p.Steps = append(p.Steps, Step{Op: OpDelete, Kind: KindFunction, Name: name, live: f})
	}
	p.summarize()
	return p, nil
}

// summarize counts the steps.
func (p *Plan) summarize() {
	p.Summary = Summary{}
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
}

// Only narrows p to the function with key key and the layers it refers
// to: `deploy -f` (the Serverless Framework's `deploy function`). Nothing
// is deleted. It returns an error when the service has no such function.
func (p *Plan) Only(key string) error {
	var fn *Step
	for i := range p.Steps {
		if s := &p.Steps[i]; s.Kind == KindFunction && s.Key == key {
			fn = s
		}
	}
	if fn == nil {
		return fmt.Errorf("the service has no function %q", key)
	}
	uses := map[string]bool{}
	for _, arn := range fn.want.Layers {
		uses[arn] = true
	}
	var steps []Step
	for _, s := range p.Steps {
		switch {
		case s.Kind == KindLayer && uses[pendingLayer(s.Name)]:
			steps = append(steps, s)
		case s.Kind == KindFunction && s.Key == key:
			steps = append(steps, s)
		}
	}
	p.Steps = steps
	p.summarize()
	return nil
}

// want is the configuration spec asks for function fn packaged in a;
// layerARN resolves the service's layers.
func want(spec *manifest.Spec, fn manifest.Function, a *Artifact, layerARN map[string]string) *desired {
	w := &desired{
		Name:                fn.Name,
		Handler:             fn.Handler,
		Runtime:             fn.Runtime,
		Description:         fn.Description,
		Architecture:        fn.Architecture,
		MemorySize:          fn.MemorySize,
		Timeout:             fn.Timeout,
		EphemeralStorage:    fn.EphemeralStorageSize,
		Environment:         fn.Environment,
		Tags:                map[string]string{},
		ReservedConcurrency: fn.ReservedConcurrency,
	}
	if fn.VersionFunction {
		w.ProvisionedConcurrency = fn.ProvisionedConcurrency
	}
	if a.Handler != "" {
		w.Handler = a.Handler
	}
	w.MaximumEventAge, w.MaximumRetryAttempts = fn.MaximumEventAge, fn.MaximumRetryAttempts
	if d := fn.Destinations; d != nil {
		w.OnSuccess, w.OnFailure = destination(d.OnSuccess), destination(d.OnFailure)
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
		} else if arn := layerARN[l.Layer]; arn != "" {
			w.Layers = append(w.Layers, arn)
		}
	}
	for k, v := range fn.Tags {
		w.Tags[k] = v
	}
	w.Tags[TagService] = spec.Service
	w.Tags[TagStage] = spec.Stage
	return w
}

// destination names a destination: the deployed name of a function of the
// service, the name in a function ARN, or the ARN.
func destination(d *manifest.Destination) string {
	switch {
	case d == nil:
		return ""
	case d.Name != "":
		return d.Name
	}
	return destinationName(d.ARN)
}

// destinationName is the function name (with its qualifier, if any) of a
// Lambda function ARN; other ARNs are returned unchanged.
func destinationName(arn string) string {
	if _, name, ok := strings.Cut(arn, ":function:"); ok {
		return name
	}
	return arn
}

// unsupported lists what spec asks for that this server (or this version
// of deploy) cannot do; any of them refuses the whole deploy before a
// change is made.
func unsupported(spec *manifest.Spec, st *State) []string {
	var out []string
	caps := &st.Capabilities
	// notYet explains a setting that needs feature: not offered by the
	// server, or offered but not applied by deploy (applied is false).
	notYet := func(feature, what string, applied bool) string {
		if !st.Supports(feature) {
			return what + ": not supported by this server yet (" + feature + " not served)"
		}
		if !applied {
			return what + ": served by this server but not applied by this version of lambdad deploy yet"
		}
		return ""
	}
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(spec.Layers) > 0 {
		keys := make([]string, 0, len(spec.Layers))
		for _, l := range spec.Layers {
			keys = append(keys, l.Key)
		}
		add(notYet(FeatureLayers, "layers ("+strings.Join(keys, ", ")+"): publishing layers", true))
	}
	for _, fn := range spec.Functions {
		at := "function " + fn.Key + ": "
		if !caps.HasRuntime(fn.Runtime) {
			out = append(out, fmt.Sprintf("%sruntime %s is not available on this server (available: %s)", at, fn.Runtime, strings.Join(caps.Runtimes, ", ")))
		}
		if len(fn.Layers) > 0 && !st.Supports(FeatureLayers) {
			add(at + notYet(FeatureLayers, "layers", true))
		}
		if fn.ReservedConcurrency != nil && !st.Supports(FeatureConcurrency) {
			add(at + notYet(FeatureConcurrency, "reservedConcurrency", true))
		}
		if fn.ProvisionedConcurrency > 0 {
			switch {
			case !st.Supports(FeatureVersions):
				add(at + notYet(FeatureVersions, "provisionedConcurrency (needs a published version)", true))
			case !st.Supports(FeatureConcurrency):
				add(at + notYet(FeatureConcurrency, "provisionedConcurrency", true))
			case !fn.VersionFunction:
				add(at + "provisionedConcurrency needs versionFunctions: it is kept on the \"provisioned\" alias of the latest published version")
			}
		}
		if (fn.MaximumEventAge != nil || fn.MaximumRetryAttempts != nil || fn.Destinations != nil) && !st.Supports(FeatureEventInvokeConfig) {
			add(at + notYet(FeatureEventInvokeConfig, "maximumEventAge/maximumRetryAttempts/destinations (asynchronous invocation configuration)", true))
		}
		if fn.URL != nil {
			add(at + notYet(FeatureFunctionURLs, "url (function URL)", false))
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
func ignored(spec *manifest.Spec, st *State) []string {
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
	if len(versioned) > 0 && !st.Supports(FeatureVersions) {
		out = append(out, "versionFunctions: this server does not publish versions yet; $LATEST is deployed ("+strings.Join(versioned, ", ")+")")
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
