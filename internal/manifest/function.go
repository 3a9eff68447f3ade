package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits Lambda enforces on a function.
const (
	maxLayers          = 5
	maxEnvironmentSize = 4096 // bytes of keys and values together
)

var functionKnown = []string{"handler", "name", "description", "runtime", "architecture", "memorySize", "timeout",
	"ephemeralStorageSize", "environment", "tags", "layers", "events", "reservedConcurrency", "provisionedConcurrency",
	"maximumEventAge", "maximumRetryAttempts", "destinations", "disableLogs", "logRetentionInDays", "versionFunction",
	"url", "package", "httpApi"}

var functionAWS = map[string]awsField{
	"tracing":                 {policy: awsWarn, why: "lambdad has no tracing backend yet; _X_AMZN_TRACE_ID is still forwarded"},
	"role":                    {policy: awsWarn, why: whyNoCredentials},
	"dependsOn":               {policy: awsWarn, why: "no CloudFormation resources to depend on"},
	"runtimeManagement":       {policy: awsWarn, why: "runtimes are the host's"},
	"snapStart":               {policy: awsWarn, why: "SnapStart is a Java-on-AWS optimisation"},
	"logDataProtectionPolicy": {policy: awsWarn, why: "CloudWatch data protection is AWS-only"},
	"vpc":                     {policy: awsReject, why: "lambdad has no VPC networking; the function would run with the host's network reach, not the subnets and security groups you set"},
	"kmsKeyArn":               {policy: awsReject, why: "environment variables are not encrypted with your KMS key here"},
	"awsKmsKeyArn":            {policy: awsReject, why: "environment variables are not encrypted with your KMS key here", hatch: "kmsKeyArn"},
	"fileSystemConfig":        {policy: awsReject, why: "EFS volumes are not mounted by lambdad, so the mount path would be missing"},
	"onError":                 {policy: awsReject, why: "dead-letter delivery to SNS/SQS does not exist here, so failed events would be lost silently; use destinations.onFailure with a function"},
	"condition":               {policy: awsReject, why: "CloudFormation conditions decide whether the function exists, and lambdad does not evaluate them"},
	"image":                   {policy: awsNever, why: "container image functions are not supported yet; use handler with a zip package"},
}

var arnFunctionRE = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]{1,64}(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
var arnLayerVersionRE = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]{1,140}:[0-9]+$`)

// functions decodes functions: (an object, or an array of objects merged in
// order) and returns the functions sorted by key.
func (d *decoder) functions(n *yaml.Node, spec *Spec, p *provider) []Function {
	if n == nil || isNull(n) {
		return nil
	}
	type entry struct{ k, v *yaml.Node }
	var entries []entry
	add := func(m *yaml.Node, path string) {
		if m.Kind != yaml.MappingNode {
			if !isNull(m) {
				d.schemaf(m, path, CodeInvalidValue, "must be an object of functions, not %s %s", article(m), kindName(m))
			}
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			entries = append(entries, entry{m.Content[i], m.Content[i+1]})
		}
	}
	if n.Kind == yaml.SequenceNode {
		for i, c := range n.Content {
			add(c, fmt.Sprintf("functions[%d]", i))
		}
	} else {
		add(n, "functions")
	}
	names := map[string]string{} // key → deployed name, for destinations
	seen := map[string]bool{}
	var keys []entry
	for _, e := range entries {
		path := joinPath("functions", e.k.Value)
		if !functionKeyRE.MatchString(e.k.Value) {
			d.schemaf(e.k, path, CodeInvalidValue, "function name %q must contain only letters, digits, hyphens and underscores", e.k.Value)
			continue
		}
		if seen[e.k.Value] {
			d.errorf(e.k, path, CodeInvalidValue, "function %q is defined twice", e.k.Value)
			continue
		}
		seen[e.k.Value] = true
		name := spec.Service + "-" + spec.Stage + "-" + e.k.Value
		if nn := mapGet(e.v, "name"); nn != nil && nn.Kind == yaml.ScalarNode && !isNull(nn) {
			name = nn.Value
		}
		names[e.k.Value] = name
		keys = append(keys, e)
	}
	var out []Function
	deployed := map[string]string{}
	for _, e := range keys {
		fn := d.function(e.k, e.v, spec, p, names)
		if other, dup := deployed[fn.Name]; dup {
			d.errorf(e.k, joinPath("functions", e.k.Value), CodeInvalidValue, "deployed name %q is also the name of function %q", fn.Name, other)
		}
		deployed[fn.Name] = e.k.Value
		out = append(out, fn)
	}
	slices.SortFunc(out, func(a, b Function) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// function decodes one function and merges the provider into it.
func (d *decoder) function(k, n *yaml.Node, spec *Spec, p *provider, names map[string]string) Function {
	key := k.Value
	path := joinPath("functions", key)
	f := d.object(n, path, functionKnown, functionAWS)
	if n != nil && n.Kind != yaml.MappingNode {
		n = k
	}
	fn := Function{
		Key:                  key,
		Name:                 names[key],
		Architecture:         DefaultArchitecture,
		MemorySize:           DefaultMemorySize,
		Timeout:              DefaultTimeout,
		EphemeralStorageSize: DefaultEphemeralStorageSize,
		VersionFunction:      p.versionFunctions,
		LogRetentionInDays:   p.logRetention,
	}
	if !functionRE.MatchString(fn.Name) {
		at := k
		if f["name"] != nil {
			at = f["name"]
		}
		d.errorf(at, path+".name", CodeInvalidValue, "deployed name %q must be 1–64 letters, digits, hyphens and underscores (set functions.%s.name to shorten it)", fn.Name, key)
	}

	// handler and runtime
	image := mapGet(n, "image") != nil
	if !image {
		if h, ok := d.str(f["handler"], path+".handler"); ok && h != "" {
			fn.Handler = h
		} else if f["handler"] == nil {
			d.errorf(n, path+".handler", CodeMissingKey, "handler is required")
		}
	}
	runtimeNode := p.runtimeNode
	fn.Runtime = p.runtime
	runtimeBad := false
	if v := f["runtime"]; v != nil {
		if s, ok := d.str(v, path+".runtime"); ok && d.checkRuntime(v, path+".runtime", s) {
			fn.Runtime, runtimeNode = s, v
		} else {
			runtimeBad = true
		}
	}
	switch {
	case fn.Runtime == "go1.x":
		d.warnf(runtimeNode, path+".runtime", CodeDeprecated, "go1.x is deprecated; deploying as provided.al2 (the handler's binary must be packaged as bootstrap)")
		fn.Runtime = "provided.al2"
	case fn.Runtime == "" && !image && !runtimeBad:
		d.errorf(n, path+".runtime", CodeMissingKey, "runtime is required (set provider.runtime or functions.%s.runtime, e.g. provided.al2023); lambdad does not default to nodejs", key)
	}

	if s, ok := d.str(f["description"], path+".description"); ok {
		if len(s) > 256 {
			d.schemaf(f["description"], path+".description", CodeInvalidValue, "is %d characters, at most 256 allowed", len(s))
		} else {
			fn.Description = s
		}
	}
	if p.architecture != "" {
		fn.Architecture = p.architecture
	}
	if v, ok := d.enum(f["architecture"], path+".architecture", "x86_64", "arm64"); ok {
		fn.Architecture = v
	}
	if p.memorySize != 0 {
		fn.MemorySize = p.memorySize
	}
	if v, ok := d.integer(f["memorySize"], path+".memorySize", 128, 10240); ok {
		fn.MemorySize = v
	}
	if p.timeout != 0 {
		fn.Timeout = p.timeout
	}
	if v, ok := d.integer(f["timeout"], path+".timeout", 1, 900); ok {
		fn.Timeout = v
	}
	if v, ok := d.integer(f["ephemeralStorageSize"], path+".ephemeralStorageSize", 512, 10240); ok {
		fn.EphemeralStorageSize = v
	}

	// environment and tags: merged, the function wins per key.
	fn.Environment = merge(p.environment, d.environment(f["environment"], path+".environment"))
	size := 0
	for k, v := range fn.Environment {
		size += len(k) + len(v)
	}
	if size > maxEnvironmentSize {
		at := n
		if f["environment"] != nil {
			at = f["environment"]
		}
		d.errorf(at, path+".environment", CodeInvalidValue, "environment is %d bytes after merging with provider.environment; Lambda allows at most %d", size, maxEnvironmentSize)
	}
	fn.Tags = merge(p.tags, d.tags(f["tags"], path+".tags"))

	// layers: the function's list replaces the provider's.
	if v := f["layers"]; v != nil {
		fn.Layers = d.layerRefs(v, path+".layers", spec)
	} else if p.layers != nil {
		fn.Layers = d.layerRefs(p.layers, "provider.layers", spec)
	}

	fn.ReservedConcurrency = d.intPtr(f["reservedConcurrency"], path+".reservedConcurrency", 0, 1<<30)
	fn.ProvisionedConcurrency, _ = d.integer(f["provisionedConcurrency"], path+".provisionedConcurrency", 0, 1<<30)
	if fn.ReservedConcurrency != nil && fn.ProvisionedConcurrency > *fn.ReservedConcurrency {
		d.errorf(f["provisionedConcurrency"], path+".provisionedConcurrency", CodeInvalidValue, "provisionedConcurrency %d exceeds reservedConcurrency %d", fn.ProvisionedConcurrency, *fn.ReservedConcurrency)
	}
	fn.MaximumEventAge = d.intPtr(f["maximumEventAge"], path+".maximumEventAge", 60, 21600)
	fn.MaximumRetryAttempts = d.intPtr(f["maximumRetryAttempts"], path+".maximumRetryAttempts", 0, 2)
	fn.Destinations = d.destinations(f["destinations"], path+".destinations", names)
	fn.DisableLogs, _ = d.boolean(f["disableLogs"], path+".disableLogs")
	if v := f["logRetentionInDays"]; v != nil {
		if r := d.logRetention(v, path+".logRetentionInDays"); r != 0 {
			fn.LogRetentionInDays = r
		}
	}
	if b, ok := d.boolean(f["versionFunction"], path+".versionFunction"); ok {
		fn.VersionFunction = b
	}
	fn.URL = d.url(f["url"], path+".url")

	payload := p.httpAPIPayload
	if h := f["httpApi"]; h != nil {
		hf := d.object(h, path+".httpApi", []string{"payload"}, nil)
		if s, ok := d.enum(hf["payload"], path+".httpApi.payload", "1.0", "2.0"); ok {
			payload = s
		}
	}
	fn.Package = d.functionPackage(f["package"], path+".package", spec.Package)
	fn.Events = d.events(f["events"], path+".events", &fn, payload, p.httpAPICORS)
	return fn
}

// merge returns base overlaid with over (nil when both are empty).
func merge(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

// layerRefs decodes a layers list: published layer version ARNs, or
// {Ref: <Name>LambdaLayer} naming a layer of this service.
func (d *decoder) layerRefs(n *yaml.Node, path string, spec *Spec) []LayerRef {
	items := d.list(n, path)
	if len(items) > maxLayers {
		d.errorf(n, path, CodeInvalidValue, "%d layers, Lambda allows at most %d", len(items), maxLayers)
	}
	refs := make([]string, 0, len(spec.Layers))
	for _, l := range spec.Layers {
		refs = append(refs, l.Ref)
	}
	var out []LayerRef
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if it.Kind == yaml.MappingNode && len(it.Content) == 2 && it.Content[0].Value == "Ref" {
			ref := it.Content[1].Value
			idx := slices.IndexFunc(spec.Layers, func(l Layer) bool { return l.Ref == ref })
			if idx < 0 {
				hint := ""
				if h := suggest(ref, refs); h != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", h)
				}
				d.errorf(it, ip, CodeInvalidValue, "{Ref: %s} names no layer of this service%s", ref, hint)
				continue
			}
			out = append(out, LayerRef{Layer: spec.Layers[idx].Key})
			continue
		}
		s, ok := d.str(it, ip)
		if !ok {
			continue
		}
		if !arnLayerVersionRE.MatchString(s) {
			d.errorf(it, ip, CodeInvalidValue, "%q is neither a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>) nor {Ref: <Name>LambdaLayer}", s)
			continue
		}
		out = append(out, LayerRef{ARN: s})
	}
	return out
}

// destinations decodes onSuccess/onFailure. Function keys of this service
// and Lambda function ARNs are supported; SNS, SQS and EventBridge targets
// are rejected (events would be dropped).
func (d *decoder) destinations(n *yaml.Node, path string, names map[string]string) *Destinations {
	if n == nil || isNull(n) {
		return nil
	}
	f := d.object(n, path, []string{"onSuccess", "onFailure"}, nil)
	ds := &Destinations{
		OnSuccess: d.destination(f["onSuccess"], path+".onSuccess", names),
		OnFailure: d.destination(f["onFailure"], path+".onFailure", names),
	}
	if ds.OnSuccess == nil && ds.OnFailure == nil {
		return nil
	}
	return ds
}

func (d *decoder) destination(n *yaml.Node, path string, names map[string]string) *Destination {
	if n == nil || isNull(n) {
		return nil
	}
	target, typ := "", ""
	at := n
	if n.Kind == yaml.MappingNode {
		f := d.object(n, path, []string{"arn", "type"}, nil)
		var ok bool
		if target, ok = d.str(f["arn"], path+".arn"); !ok {
			if f["arn"] == nil {
				d.errorf(n, path+".arn", CodeMissingKey, "arn is required")
			}
			return nil
		}
		at = f["arn"]
		if f["type"] != nil {
			if typ, ok = d.enum(f["type"], path+".type", "function", "sns", "sqs", "eventBus"); !ok {
				return nil
			}
		}
	} else {
		var ok bool
		if target, ok = d.str(n, path); !ok {
			return nil
		}
	}
	if name, ok := names[target]; ok && (typ == "" || typ == "function") {
		return &Destination{Type: "function", Function: target, Name: name}
	}
	if arnFunctionRE.MatchString(target) && (typ == "" || typ == "function") {
		return &Destination{Type: "function", ARN: target}
	}
	if strings.HasPrefix(target, "arn:") || typ != "" && typ != "function" {
		d.rejectUnlessIgnored(at, path, "destinations", fmt.Sprintf("destination %q is not a function; SNS, SQS and EventBridge destinations do not exist here, so events would be lost", target))
		return nil
	}
	keys := slices.Collect(maps.Keys(names))
	hint := ""
	if h := suggest(target, keys); h != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", h)
	}
	d.errorf(at, path, CodeInvalidValue, "destination %q is not a function of this service nor a function ARN%s", target, hint)
	return nil
}

// url decodes a function URL: true, or {authorizer, cors, invokeMode}.
func (d *decoder) url(n *yaml.Node, path string) *URLConfig {
	if n == nil || isNull(n) {
		return nil
	}
	u := &URLConfig{AuthType: "NONE", InvokeMode: "BUFFERED"}
	if n.Kind == yaml.ScalarNode {
		b, ok := d.boolean(n, path)
		if !ok || !b {
			return nil
		}
		return u
	}
	f := d.object(n, path, []string{"authorizer", "cors", "invokeMode"}, nil)
	if _, ok := d.enum(f["authorizer"], path+".authorizer", "aws_iam"); ok {
		u.AuthType = "AWS_IAM"
	}
	if s, ok := d.enum(f["invokeMode"], path+".invokeMode", "BUFFERED", "RESPONSE_STREAM"); ok {
		u.InvokeMode = s
	}
	u.CORS = d.cors(f["cors"], path+".cors", urlCORSHeaders)
	if u.CORS != nil && len(u.CORS.AllowMethods) == 0 {
		u.CORS.AllowMethods = []string{"*"}
	}
	return u
}

// functionPackage decodes a function's package and folds in the service's
// individually flag.
func (d *decoder) functionPackage(n *yaml.Node, path string, svc Package) FunctionPackage {
	fp := FunctionPackage{Individually: svc.Individually}
	f := d.object(n, path, []string{"patterns", "individually", "artifact", "include", "exclude"}, nil)
	fp.Patterns = d.patterns(f, path)
	if b, ok := d.boolean(f["individually"], path+".individually"); ok {
		fp.Individually = b || svc.Individually
	}
	fp.Artifact = d.artifact(f["artifact"], path+".artifact")
	return fp
}
