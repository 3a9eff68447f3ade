package control

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/lambda"
)

// Model patterns (aws-model/service-2.json) as AWS prints them.
const (
	patternHandler    = `[^\s]+`
	patternEnvKey     = `[a-zA-Z]([a-zA-Z0-9_])+`
	patternLogGroup   = `[\.\-_/#A-Za-z0-9]+`
	patternKMSKeyArn  = `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`
	patternDLQTarget  = `(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()`
	patternMasterRegn = `ALL|[a-z]{2}(-gov)?-[a-z]+-\d{1}`
)

var (
	reHandler     = regexp.MustCompile(`^` + patternHandler + `$`)
	reEnvKey      = regexp.MustCompile(`^` + patternEnvKey + `$`)
	reLogGroup    = regexp.MustCompile(`^` + patternLogGroup + `$`)
	reAnyARN      = regexp.MustCompile(`^((arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|())$`)
	reMasterRegon = regexp.MustCompile(`^(` + patternMasterRegn + `)$`)
)

// fields are the configuration members CreateFunction and
// UpdateFunctionConfiguration share; nil means "not given".
type fields struct {
	Role             *string
	Handler          *string
	Description      *string
	Timeout          *int
	MemorySize       *int
	Runtime          *string
	Environment      *Environment
	TracingConfig    *lambda.TracingConfig
	Layers           *[]string
	EphemeralStorage *lambda.EphemeralStorage
	SnapStart        *SnapStart
	LoggingConfig    *lambda.LoggingConfig
	KMSKeyArn        *string
	DeadLetterConfig *lambda.DeadLetterConfig
	Architectures    []string // nil = not given
}

// modelViolations checks the model's constraints (ValidationException).
func (f fields) modelViolations(v *lambda.Violations) {
	if f.Role != nil && !lambda.ValidRole(*f.Role) {
		v.Add(*f.Role, "role", lambda.ConstraintPattern(lambda.PatternRole))
	}
	if f.Handler != nil {
		h := *f.Handler
		if len(h) > lambda.MaxHandlerLen {
			v.Add(h, "handler", lambda.ConstraintMaxLen(lambda.MaxHandlerLen))
		}
		if h != "" && !reHandler.MatchString(h) {
			v.Add(h, "handler", lambda.ConstraintPattern(patternHandler))
		}
	}
	if f.Description != nil && len(*f.Description) > lambda.MaxDescriptionLen {
		v.Add(*f.Description, "description", lambda.ConstraintMaxLen(lambda.MaxDescriptionLen))
	}
	if f.Timeout != nil && *f.Timeout < lambda.MinTimeoutSec {
		v.Add(strconv.Itoa(*f.Timeout), "timeout", lambda.ConstraintMin(lambda.MinTimeoutSec))
	}
	if f.MemorySize != nil {
		m := *f.MemorySize
		if m < lambda.MinMemoryMB {
			v.Add(strconv.Itoa(m), "memorySize", lambda.ConstraintMin(lambda.MinMemoryMB))
		} else if m > lambda.ModelMaxMemoryMB {
			v.Add(strconv.Itoa(m), "memorySize", lambda.ConstraintMax(lambda.ModelMaxMemoryMB))
		}
	}
	archViolations(v, f.Architectures)
	if f.EphemeralStorage != nil {
		s := f.EphemeralStorage.Size
		if s < lambda.MinEphemeralMB {
			v.Add(strconv.Itoa(s), "ephemeralStorage.size", lambda.ConstraintMin(lambda.MinEphemeralMB))
		} else if s > lambda.MaxEphemeralMB {
			v.Add(strconv.Itoa(s), "ephemeralStorage.size", lambda.ConstraintMax(lambda.MaxEphemeralMB))
		}
	}
	if f.TracingConfig != nil && f.TracingConfig.Mode != "" && f.TracingConfig.Mode != lambda.TracingActive && f.TracingConfig.Mode != lambda.TracingPassThrough {
		v.Add(f.TracingConfig.Mode, "tracingConfig.mode", lambda.ConstraintEnum(lambda.TracingActive, lambda.TracingPassThrough))
	}
	if f.SnapStart != nil && f.SnapStart.ApplyOn != "" && f.SnapStart.ApplyOn != "PublishedVersions" && f.SnapStart.ApplyOn != "None" {
		v.Add(f.SnapStart.ApplyOn, "snapStart.applyOn", lambda.ConstraintEnum("PublishedVersions", "None"))
	}
	if lc := f.LoggingConfig; lc != nil {
		if lc.LogFormat != "" && lc.LogFormat != lambda.LogFormatJSON && lc.LogFormat != lambda.LogFormatText {
			v.Add(lc.LogFormat, "loggingConfig.logFormat", lambda.ConstraintEnum(lambda.LogFormatJSON, lambda.LogFormatText))
		}
		if lc.ApplicationLogLevel != "" && !oneOf(lc.ApplicationLogLevel, "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL") {
			v.Add(lc.ApplicationLogLevel, "loggingConfig.applicationLogLevel", lambda.ConstraintEnum("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"))
		}
		if lc.SystemLogLevel != "" && !oneOf(lc.SystemLogLevel, "DEBUG", "INFO", "WARN") {
			v.Add(lc.SystemLogLevel, "loggingConfig.systemLogLevel", lambda.ConstraintEnum("DEBUG", "INFO", "WARN"))
		}
		if lc.LogGroup != "" && (len(lc.LogGroup) > 512 || !reLogGroup.MatchString(lc.LogGroup)) {
			v.Add(lc.LogGroup, "loggingConfig.logGroup", lambda.ConstraintPattern(patternLogGroup))
		}
	}
	if f.KMSKeyArn != nil && !reAnyARN.MatchString(*f.KMSKeyArn) {
		v.Add(*f.KMSKeyArn, "kMSKeyArn", lambda.ConstraintPattern(patternKMSKeyArn))
	}
	if f.DeadLetterConfig != nil && !reAnyARN.MatchString(f.DeadLetterConfig.TargetArn) {
		v.Add(f.DeadLetterConfig.TargetArn, "deadLetterConfig.targetArn", lambda.ConstraintPattern(patternDLQTarget))
	}
	if f.Layers != nil {
		for _, l := range *f.Layers {
			if len(l) > 2048 || !reLayerVersionARN.MatchString(l) {
				v.Add("["+strings.Join(*f.Layers, ", ")+"]", "layers", "Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "+patternLayerVersionARN+", Member must not be null]")
				break
			}
		}
	}
	if f.Environment != nil && f.Environment.Variables != nil {
		var bad []string
		for _, k := range f.Environment.Variables.Keys {
			if !reEnvKey.MatchString(k) {
				bad = append(bad, k+"="+f.Environment.Variables.Map[k])
			}
		}
		if len(bad) > 0 {
			*v = append(*v, fmt.Sprintf("Value '{%s}' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: %s]", strings.Join(bad, ", "), patternEnvKey))
		}
	}
}

func archViolations(v *lambda.Violations, archs []string) {
	if archs == nil {
		return
	}
	val := "[" + strings.Join(archs, ", ") + "]"
	switch {
	case len(archs) == 0:
		v.Add(val, "architectures", lambda.ConstraintMinLen(1))
	case len(archs) > 1:
		v.Add(val, "architectures", lambda.ConstraintMaxLen(1))
	case archs[0] != lambda.ArchX8664 && archs[0] != lambda.ArchARM64:
		v.Add(val, "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
	}
}

// semantic checks Lambda's own rules (InvalidParameterValueException).
func (f fields) semantic() error {
	if f.Runtime != nil && *f.Runtime != "" {
		if err := checkRuntime(*f.Runtime); err != nil {
			return err
		}
	}
	if f.MemorySize != nil && *f.MemorySize > lambda.MaxMemoryMB {
		return lambda.InvalidParameter("'MemorySize' value failed to satisfy constraint: Member must have value less than or equal to %d", lambda.MaxMemoryMB)
	}
	if f.Timeout != nil && *f.Timeout > lambda.MaxTimeoutSec {
		return lambda.InvalidParameter("'Timeout' value failed to satisfy constraint: Member must have value less than or equal to %d", lambda.MaxTimeoutSec)
	}
	if f.Layers != nil && len(*f.Layers) > lambda.MaxLayers {
		return lambda.InvalidParameter("Cannot reference more than %d layers.", lambda.MaxLayers)
	}
	if f.Environment != nil && f.Environment.Variables != nil {
		vars := f.Environment.Variables
		var reserved []string
		for _, k := range vars.Keys {
			if lambda.IsReservedEnvKey(k) {
				reserved = append(reserved, k)
			}
		}
		if len(reserved) > 0 {
			return lambda.InvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
		}
		if s := vars.compactJSON(); len(s) > lambda.MaxEnvironmentBytes {
			return lambda.InvalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", s)
		}
	}
	return nil
}

func checkRuntime(r string) error {
	if lambda.IsSupportedRuntime(r) {
		return nil
	}
	if lambda.IsDeprecatedRuntime(r) {
		return lambda.InvalidParameter("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.", r)
	}
	return lambda.InvalidParameter("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN", r, strings.Join(lambda.SupportedRuntimes(), ", "))
}

func checkTags(tags map[string]string) error {
	if len(tags) > lambda.MaxTags {
		return lambda.InvalidParameter("Number of tags exceeds resource tag limit.")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || len(k) > lambda.MaxTagKeyLen || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return lambda.InvalidParameter("Invalid tag key: %s", k)
		}
		if len(tags[k]) > lambda.MaxTagValueLen {
			return lambda.InvalidParameter("Invalid tag value for key %s", k)
		}
	}
	return nil
}

func oneOf(s string, vals ...string) bool {
	for _, v := range vals {
		if s == v {
			return true
		}
	}
	return false
}
