package manifest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Options are the command-line inputs of a load.
type Options struct {
	// Stage and Region are --stage and --region; empty means provider.stage
	// (else "dev") and provider.region (else "us-east-1").
	Stage  string
	Region string
	// Options are the other CLI options, for ${opt:name}.
	Options map[string]string
	// Getenv reads the environment for ${env:NAME}; nil means no variables.
	// An empty value counts as unset.
	Getenv func(string) string
	// IgnoreAWSOnly is --ignore-aws-only: names of AWS-only fields whose
	// rejection becomes a warning (added to custom.platform.ignoreAwsOnly).
	IgnoreAWSOnly []string
	// InstanceID is ${sls:instanceId}; empty means a random id.
	InstanceID string
}

// Load reads the serverless.yml at path and returns its canonical Spec and
// the warnings to show the user. The error, when not nil, joins one
// *Problem per finding (all of them, ordered by position); I/O and YAML
// syntax errors are returned alone.
func Load(path string, opts Options) (*Spec, []Warning, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("load manifest: %w", err)
	}
	return Parse(path, b, opts)
}

// Parse is Load on content already read; path names the file in messages
// and its directory anchors relative paths (file(), artifacts, .env).
func Parse(path string, content []byte, opts Options) (*Spec, []Warning, error) {
	root, r, err := resolveDocument(path, content, opts)
	if err != nil {
		return nil, nil, err
	}
	var problems []*Problem
	stage, err := r.stage()
	if err != nil {
		problems = append(problems, &Problem{File: path, Path: "provider.stage", Code: CodeInvalidValue, Msg: err.Error()})
	}
	region, err := r.region()
	if err != nil {
		problems = append(problems, &Problem{File: path, Path: "provider.region", Code: CodeInvalidValue, Msg: err.Error()})
	}
	if len(problems) > 0 {
		if n := mapGet(root, "provider"); n != nil {
			for _, p := range problems {
				if v := mapGet(n, strings.TrimPrefix(p.Path, "provider.")); v != nil {
					p.Line, p.Column = v.Line, v.Column
				}
			}
		}
		return nil, nil, joinProblems(problems)
	}

	d := &decoder{file: path, mode: ModeError, ignore: map[string]bool{}}
	for _, h := range opts.IgnoreAWSOnly {
		d.ignore[strings.TrimSpace(h)] = true
	}
	spec := d.root(root, stage, region)
	spec.Dir, spec.File = r.dir, path
	sortProblems(d.problems)
	sortWarnings(d.warnings)
	if len(d.problems) > 0 {
		return nil, d.warnings, joinProblems(d.problems)
	}
	return spec, d.warnings, nil
}

// Resolve reads the manifest at path and returns it with every variable
// resolved but not validated: what `lambdad print` shows to debug
// resolution. Values are map[string]any, []any, string, int64, float64,
// bool or nil.
func Resolve(path string, opts Options) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("resolve manifest: %w", err)
	}
	root, _, err := resolveDocument(path, b, opts)
	if err != nil {
		return nil, err
	}
	m, _ := toAny(root).(map[string]any)
	return m, nil
}

// resolveDocument parses content and resolves its variables in place.
func resolveDocument(path string, content []byte, opts Options) (*yaml.Node, *resolver, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, joinProblems([]*Problem{{File: path, Code: CodeMissingKey, Msg: "file is empty; service and provider are required"}})
	}
	root := doc.Content[0]
	if err := expandAliases(root, 0); err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, joinProblems([]*Problem{{File: path, Line: root.Line, Column: root.Column, Code: CodeInvalidValue, Msg: "the top level must be an object"}})
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cli := map[string]string{}
	for k, v := range opts.Options {
		cli[k] = v
	}
	if opts.Stage != "" {
		cli["stage"] = opts.Stage
	}
	if opts.Region != "" {
		cli["region"] = opts.Region
	}
	id := opts.InstanceID
	if id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	r := newResolver(path, filepath.Dir(path), root, cli, getenv, id)
	r.resolveAll()
	if len(r.problems) > 0 {
		return nil, nil, joinProblems(r.problems)
	}
	return root, r, nil
}

func joinProblems(ps []*Problem) error {
	sortProblems(ps)
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

var (
	serviceRE     = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z-]+$`)
	stageRE       = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
	functionKeyRE = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	functionRE    = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)
	paramStageRE  = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)
)

var rootKnown = []string{"service", "provider", "functions", "package", "layers", "params", "custom", "useDotenv", "configValidationMode"}

var rootAWS = map[string]awsField{
	"frameworkVersion":            {policy: awsWarn, why: "lambdad is not the Serverless Framework CLI"},
	"variablesResolutionMode":     {policy: awsWarn, why: "lambdad has one variable resolver"},
	"deprecationNotificationMode": {policy: awsWarn, why: "Serverless Framework CLI setting"},
	"disabledDeprecations":        {policy: awsWarn, why: "Serverless Framework CLI setting"},
	"dashboard":                   {policy: awsWarn, why: "Serverless Dashboard setting"},
	"console":                     {policy: awsWarn, why: "Serverless Console setting"},
	"org":                         {policy: awsWarn, why: "Serverless Dashboard setting"},
	"app":                         {policy: awsWarn, why: "Serverless Dashboard setting"},
	"outputs":                     {policy: awsWarn, why: "Serverless Dashboard outputs"},
	"projectDir":                  {policy: awsWarn, why: "Serverless Framework CLI setting"},
	"plugins":                     {policy: awsReject, why: "lambdad has no JavaScript plugin host, so plugins do not run"},
	"resources":                   {policy: awsReject, why: "CloudFormation resources are not created by lambdad"},
}

// root decodes the resolved tree into a Spec.
func (d *decoder) root(root *yaml.Node, stage, region string) *Spec {
	// configValidationMode and the escape hatch first: they govern the rest.
	if m := mapGet(root, "configValidationMode"); m != nil {
		d.mode = ModeError
		if v, ok := d.enum(m, "configValidationMode", ModeError, ModeWarn, ModeOff); ok {
			d.mode = v
		}
	}
	if c := mapGet(root, "custom"); c != nil && c.Kind == yaml.MappingNode {
		if p := mapGet(c, "platform"); p != nil {
			pf := d.object(p, "custom.platform", []string{"ignoreAwsOnly"}, nil)
			for _, h := range d.strList(pf["ignoreAwsOnly"], "custom.platform.ignoreAwsOnly") {
				d.ignore[h] = true
			}
		}
	} else if c != nil && !isNull(c) {
		d.schemaf(c, "custom", CodeInvalidValue, "must be an object, not %s %s", article(c), kindName(c))
	}

	f := d.object(root, "", rootKnown, rootAWS)
	spec := &Spec{Stage: stage, Region: region}
	if s, ok := d.str(f["service"], "service"); !ok {
		if f["service"] == nil {
			d.errorf(root, "service", CodeMissingKey, "service is required")
		}
	} else if !serviceRE.MatchString(s) {
		d.errorf(f["service"], "service", CodeInvalidValue, "%q must start with a letter and contain only letters, digits and hyphens", s)
	} else {
		spec.Service = s
	}
	if !stageRE.MatchString(stage) {
		n := root
		if p := mapGet(mapGet(root, "provider"), "stage"); p != nil {
			n = p
		}
		d.errorf(n, "provider.stage", CodeInvalidValue, "stage %q must contain only letters, digits and hyphens", stage)
	}
	if v := f["useDotenv"]; v != nil {
		if b, ok := d.boolean(v, "useDotenv"); ok && !b {
			d.schemaf(v, "useDotenv", CodeInvalidValue, "must be true when present")
		} else {
			spec.UseDotenv = b
		}
	}
	d.params(f["params"])

	if f["provider"] == nil {
		d.errorf(root, "provider", CodeMissingKey, "provider is required")
	}
	prov := d.provider(f["provider"])
	spec.Package = d.servicePackage(f["package"], "package")
	spec.Layers = d.layers(f["layers"], spec)
	spec.Functions = d.functions(f["functions"], spec, prov)
	if prov.httpAPICORSMethods {
		methods := []string{"OPTIONS"}
		for _, fn := range spec.Functions {
			for _, e := range fn.Events {
				if e.HTTPAPI != nil && !slices.Contains(methods, e.HTTPAPI.Method) {
					methods = append(methods, e.HTTPAPI.Method)
				}
			}
		}
		slices.Sort(methods)
		prov.httpAPICORS.AllowMethods = methods
	}
	return spec
}

func (d *decoder) params(n *yaml.Node) {
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.schemaf(n, "params", CodeInvalidValue, "must be an object of stages, not %s %s", article(n), kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := joinPath("params", k.Value)
		if k.Value != "default" && !paramStageRE.MatchString(k.Value) {
			d.schemaf(k, p, CodeInvalidValue, "stage name %q must contain only letters, digits and hyphens", k.Value)
		}
		if v.Kind != yaml.MappingNode && !isNull(v) {
			d.schemaf(v, p, CodeInvalidValue, "must be an object of parameters, not %s %s", article(v), kindName(v))
		}
	}
}

// servicePackage decodes package: at the root or in a layer.
func (d *decoder) servicePackage(n *yaml.Node, path string) Package {
	var p Package
	f := d.object(n, path, []string{"patterns", "individually", "artifact", "include", "exclude", "excludeDevDependencies", "path"}, nil)
	p.Patterns = d.patterns(f, path)
	if b, ok := d.boolean(f["individually"], path+".individually"); ok {
		p.Individually = b
	}
	p.Artifact = d.artifact(f["artifact"], path+".artifact")
	if f["excludeDevDependencies"] != nil {
		d.warnf(f["excludeDevDependencies"], path+".excludeDevDependencies", CodeAWSOnlyIgnored, "excludeDevDependencies is ignored: lambdad packages exactly what patterns select")
	}
	if f["path"] != nil {
		d.warnf(f["path"], path+".path", CodeAWSOnlyIgnored, "package.path is ignored: lambdad packages from the service directory")
	}
	return p
}

// patterns merges deprecated include/exclude into patterns (include and
// exclude first, as the Framework does, then patterns in order).
func (d *decoder) patterns(f map[string]*yaml.Node, path string) []string {
	var out []string
	if n := f["include"]; n != nil {
		d.warnf(n, path+".include", CodeDeprecated, "include is deprecated; use patterns")
		out = append(out, d.strList(n, path+".include")...)
	}
	if n := f["exclude"]; n != nil {
		d.warnf(n, path+".exclude", CodeDeprecated, "exclude is deprecated; use patterns with a leading \"!\"")
		for _, e := range d.strList(n, path+".exclude") {
			out = append(out, "!"+e)
		}
	}
	out = append(out, d.strList(f["patterns"], path+".patterns")...)
	for _, p := range out {
		if p == "" || p == "!" {
			d.schemaf(f["patterns"], path+".patterns", CodeInvalidValue, "empty pattern")
		}
	}
	return out
}

func (d *decoder) artifact(n *yaml.Node, path string) string {
	s, ok := d.str(n, path)
	if !ok {
		return ""
	}
	if strings.HasPrefix(s, "s3://") {
		d.errorf(n, path, CodeUnsupported, "artifact %q is in S3; lambdad needs a local zip file", s)
		return ""
	}
	if !strings.HasSuffix(strings.ToLower(s), ".zip") {
		d.schemaf(n, path, CodeInvalidValue, "artifact %q must be a .zip file", s)
	}
	return s
}

var layerKeyRE = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
var layerNameRE = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,140}$`)

// layers decodes the layers: section.
func (d *decoder) layers(n *yaml.Node, spec *Spec) []Layer {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.schemaf(n, "layers", CodeInvalidValue, "must be an object of layers, not %s %s", article(n), kindName(n))
		return nil
	}
	var out []Layer
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := joinPath("layers", k.Value)
		if !layerKeyRE.MatchString(k.Value) {
			d.schemaf(k, path, CodeInvalidValue, "layer name %q must contain only letters, digits, hyphens and underscores", k.Value)
			continue
		}
		f := d.object(v, path, []string{"path", "name", "description", "compatibleRuntimes", "compatibleArchitectures", "licenseInfo", "retain", "package"},
			map[string]awsField{"allowedAccounts": {policy: awsWarn, why: "lambdad has no cross-account sharing"}})
		l := Layer{Key: k.Value, Name: k.Value, Ref: layerLogicalID(k.Value)}
		if s, ok := d.pattern(f["name"], path+".name", layerNameRE, "1–140 letters, digits, hyphens and underscores"); ok {
			l.Name = s
		}
		l.Path, _ = d.str(f["path"], path+".path")
		if s, ok := d.str(f["description"], path+".description"); ok {
			if len(s) > 256 {
				d.schemaf(f["description"], path+".description", CodeInvalidValue, "is %d characters, at most 256 allowed", len(s))
			}
			l.Description = s
		}
		for j, rt := range d.strList(f["compatibleRuntimes"], path+".compatibleRuntimes") {
			if d.checkRuntime(f["compatibleRuntimes"], fmt.Sprintf("%s.compatibleRuntimes[%d]", path, j), rt) {
				l.CompatibleRuntimes = append(l.CompatibleRuntimes, rt)
			}
		}
		if len(l.CompatibleRuntimes) > 15 {
			d.schemaf(f["compatibleRuntimes"], path+".compatibleRuntimes", CodeInvalidValue, "at most 15 runtimes allowed")
		}
		for j, a := range d.strList(f["compatibleArchitectures"], path+".compatibleArchitectures") {
			if a != "x86_64" && a != "arm64" {
				d.schemaf(f["compatibleArchitectures"], fmt.Sprintf("%s.compatibleArchitectures[%d]", path, j), CodeInvalidValue, "%q must be one of x86_64, arm64", a)
				continue
			}
			l.CompatibleArchitectures = append(l.CompatibleArchitectures, a)
		}
		if s, ok := d.str(f["licenseInfo"], path+".licenseInfo"); ok {
			if len(s) > 512 {
				d.schemaf(f["licenseInfo"], path+".licenseInfo", CodeInvalidValue, "is %d characters, at most 512 allowed", len(s))
			}
			l.LicenseInfo = s
		}
		l.Retain, _ = d.boolean(f["retain"], path+".retain")
		l.Package = d.servicePackage(f["package"], path+".package")
		if l.Path == "" && l.Package.Artifact == "" {
			d.errorf(v, path, CodeMissingKey, "a layer needs path or package.artifact")
		}
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b Layer) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// layerLogicalID is the CloudFormation logical id the Framework gives a
// layer: "my-layer" → "MyDashlayerLambdaLayer".
func layerLogicalID(key string) string {
	s := key
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	s = strings.ReplaceAll(s, "-", "Dash")
	s = strings.ReplaceAll(s, "_", "Underscore")
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String() + "LambdaLayer"
}
