package control

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/codezip"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// unqualifiedName parses an unqualified FunctionName parameter (RE_FN) for
// the mutating operations and scopes it to this region and account.
func (s *Service) unqualifiedName(param string) (string, error) {
	ref, err := lambda.ParseFunctionName(param, false)
	if err != nil {
		return "", err
	}
	if ref, err = ref.Scope(s.d.Region, s.d.AccountID, ""); err != nil {
		return "", err
	}
	if ref.Qualifier != "" && ref.Qualifier != lambda.VersionLatest {
		return "", lambda.InvalidParameter("Updating function versions and aliases is not supported. Use the unqualified function name.")
	}
	return ref.Name, nil
}

// ResolveName parses a namespaced FunctionName parameter (name, partial or
// full ARN, optionally qualified) plus an optional ?Qualifier value and
// returns the bare name and the effective qualifier ("" if none).
func (s *Service) ResolveName(param, qualifier string) (lambda.FunctionRef, error) {
	ref, err := lambda.ParseFunctionName(param, true)
	if err != nil {
		return ref, err
	}
	if qualifier != "" {
		if err := lambda.ValidateQualifier(qualifier); err != nil {
			return ref, err
		}
	}
	return ref.Scope(s.d.Region, s.d.AccountID, qualifier)
}

func codeUnsupported(c *FunctionCode) error {
	switch {
	case c == nil:
		return lambda.InvalidParameter("Please provide a source for function code.")
	case c.ImageUri != "":
		return lambda.InvalidParameter("Container image functions (PackageType Image) are not supported by lambdad; upload a .zip deployment package as ZipFile.")
	case c.S3Bucket != "" || c.S3Key != "":
		return lambda.InvalidParameter("S3 code sources are not supported by lambdad; upload the deployment package as ZipFile.")
	case len(c.ZipFile) == 0:
		return lambda.InvalidParameter("Please provide a source for function code.")
	}
	return nil
}

// CreateFunction validates in, stores the code and the $LATEST record in
// State Pending and schedules provisioning. It returns the configuration
// for the 201 response.
func (s *Service) CreateFunction(ctx context.Context, in *CreateFunctionInput) (*lambda.FunctionConfiguration, error) {
	// Model constraints first, all at once, as AWS does.
	ref, v := lambda.ParseFunctionNameViolations(in.FunctionName, false)
	if len(v) == 0 && ref.Qualifier != "" {
		v.Add(in.FunctionName, "functionName", lambda.ConstraintPattern(strings.TrimSuffix(lambda.PatternFunctionName, `(:(\$LATEST|[a-zA-Z0-9-_]+))?`)))
	}
	if in.Role == nil {
		v.Add("null", "role", "Member must not be null")
	}
	if in.Code == nil {
		v.Add("null", "code", "Member must not be null")
	}
	f := fields{
		Role: in.Role, Handler: in.Handler, Description: in.Description, Timeout: in.Timeout,
		MemorySize: in.MemorySize, Environment: in.Environment, TracingConfig: in.TracingConfig,
		EphemeralStorage: in.EphemeralStorage, SnapStart: in.SnapStart, LoggingConfig: in.LoggingConfig,
		DeadLetterConfig: in.DeadLetterConfig, Architectures: in.Architectures,
	}
	if in.Runtime != "" {
		f.Runtime = &in.Runtime
	}
	if in.KMSKeyArn != "" {
		f.KMSKeyArn = &in.KMSKeyArn
	}
	if in.Layers != nil {
		f.Layers = &in.Layers
	}
	f.modelViolations(&v)
	if in.PackageType != "" && in.PackageType != lambda.PackageTypeZip && in.PackageType != lambda.PackageTypeImage {
		v.Add(in.PackageType, "packageType", lambda.ConstraintEnum(lambda.PackageTypeZip, lambda.PackageTypeImage))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Lambda's own rules.
	ref, err := ref.Scope(s.d.Region, s.d.AccountID, "")
	if err != nil {
		return nil, err
	}
	name := ref.Name
	if len(name) > lambda.MaxFunctionNameLen {
		var nv lambda.Violations
		nv.Add(name, "functionName", lambda.ConstraintMaxLen(lambda.MaxFunctionNameLen))
		return nil, lambda.InvalidParameter("%s", nv.Message())
	}
	if in.PackageType == lambda.PackageTypeImage {
		return nil, lambda.InvalidParameter("Container image functions (PackageType Image) are not supported by lambdad; upload a .zip deployment package as ZipFile.")
	}
	if in.Runtime == "" || in.Handler == nil || *in.Handler == "" {
		return nil, lambda.InvalidParameter(lambda.MsgRuntimeHandlerReq)
	}
	if err := f.semantic(); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := codeUnsupported(in.Code); err != nil {
		return nil, err
	}
	info, err := codezip.Validate(in.Code.ZipFile)
	if err != nil {
		return nil, err
	}
	layers, err := s.layerCodes(ctx, in.Layers, info.UnzippedSize)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); err == nil {
		return nil, lambda.Conflict("Function already exist: " + name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}

	c := lambda.FunctionConfiguration{
		FunctionName:      name,
		FunctionArn:       s.arn(name),
		Runtime:           in.Runtime,
		Role:              *in.Role,
		Handler:           *in.Handler,
		CodeSize:          int64(len(in.Code.ZipFile)),
		Timeout:           lambda.DefaultTimeoutSec,
		MemorySize:        lambda.DefaultMemoryMB,
		LastModified:      s.now(),
		Version:           lambda.VersionLatest,
		VpcConfig:         in.VpcConfig,
		DeadLetterConfig:  in.DeadLetterConfig,
		KMSKeyArn:         in.KMSKeyArn,
		TracingConfig:     &lambda.TracingConfig{Mode: lambda.TracingPassThrough},
		RevisionId:        newRevisionID(),
		State:             lambda.StatePending,
		StateReason:       lambda.ReasonCreating,
		StateReasonCode:   lambda.ReasonCodeCreating,
		PackageType:       lambda.PackageTypeZip,
		Architectures:     []string{lambda.ArchX8664},
		EphemeralStorage:  &lambda.EphemeralStorage{Size: lambda.DefaultEphemeralMB},
		SnapStart:         &lambda.SnapStartResponse{ApplyOn: "None", OptimizationStatus: "Off"},
		LoggingConfig:     &lambda.LoggingConfig{LogFormat: lambda.LogFormatText, LogGroup: "/aws/lambda/" + name},
		FileSystemConfigs: in.FileSystemConfigs,
	}
	c.RuntimeVersionConfig = s.runtimeVersionARN(c.Runtime)
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Timeout != nil {
		c.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		c.MemorySize = *in.MemorySize
	}
	if in.Architectures != nil {
		c.Architectures = append([]string(nil), in.Architectures...)
	}
	if in.EphemeralStorage != nil {
		c.EphemeralStorage = &lambda.EphemeralStorage{Size: in.EphemeralStorage.Size}
	}
	applyCommon(&c, f)
	fn := &lambda.Function{Config: c, Tags: in.Tags, PublishRequested: in.Publish, UnzippedSize: info.UnzippedSize}
	setLayers(fn, layers)
	var version *lambda.Function
	if in.Publish {
		fn.LastVersion = 1
		version = s.snapshot(fn, 1, nil)
	}

	sha, err := s.d.Store.PutCode(ctx, in.Code.ZipFile)
	if err != nil {
		return nil, err
	}
	fn.Config.CodeSha256 = sha
	if _, err := s.d.Store.CreateFunction(ctx, fn); errors.Is(err, store.ErrExists) {
		return nil, lambda.Conflict("Function already exist: " + name)
	} else if err != nil {
		return nil, err
	}
	if version != nil {
		version.Config.CodeSha256 = sha
		if _, err := s.d.Store.CreateRecord(ctx, store.KindVersion, name, version.Config.Version, version); err != nil {
			return nil, err
		}
	}
	s.log.Info("function created", "function", name, "runtime", c.Runtime, "code_sha256", sha)
	s.schedule(name, fn.Config.RevisionId)
	out := fn.Config.Clone()
	if version != nil {
		// AWS answers a publishing create with $LATEST's configuration
		// numbered as the new version [obs].
		out.Version = version.Config.Version
	}
	return &out, nil
}

// applyCommon copies the optional members shared by create and update into c.
func applyCommon(c *lambda.FunctionConfiguration, f fields) {
	if f.Environment != nil {
		vars := map[string]string{}
		if f.Environment.Variables != nil {
			for k, v := range f.Environment.Variables.Map {
				vars[k] = v
			}
		}
		c.Environment = &lambda.Environment{Variables: vars}
	}
	if f.TracingConfig != nil && f.TracingConfig.Mode != "" {
		c.TracingConfig = &lambda.TracingConfig{Mode: f.TracingConfig.Mode}
	}
	if f.SnapStart != nil && f.SnapStart.ApplyOn != "" {
		c.SnapStart = &lambda.SnapStartResponse{ApplyOn: f.SnapStart.ApplyOn, OptimizationStatus: "Off"}
	}
	if lc := f.LoggingConfig; lc != nil {
		n := lambda.LoggingConfig{LogFormat: lambda.LogFormatText, LogGroup: "/aws/lambda/" + c.FunctionName}
		if c.LoggingConfig != nil {
			n = *c.LoggingConfig
		}
		if lc.LogFormat != "" {
			n.LogFormat = lc.LogFormat
		}
		if lc.LogGroup != "" {
			n.LogGroup = lc.LogGroup
		}
		if lc.ApplicationLogLevel != "" {
			n.ApplicationLogLevel = lc.ApplicationLogLevel
		}
		if lc.SystemLogLevel != "" {
			n.SystemLogLevel = lc.SystemLogLevel
		}
		// JSON format carries log levels; AWS defaults them to INFO and
		// drops them again when switching back to Text [obs].
		if n.LogFormat == lambda.LogFormatJSON {
			if n.ApplicationLogLevel == "" {
				n.ApplicationLogLevel = "INFO"
			}
			if n.SystemLogLevel == "" {
				n.SystemLogLevel = "INFO"
			}
		} else {
			n.ApplicationLogLevel, n.SystemLogLevel = "", ""
		}
		c.LoggingConfig = &n
	}
	if f.Layers != nil {
		c.Layers = nil
		for _, a := range *f.Layers {
			c.Layers = append(c.Layers, lambda.Layer{Arn: a})
		}
	}
}

// function resolves a namespaced FunctionName+Qualifier to the version
// it names ($LATEST, a published version or an alias' version).
func (s *Service) function(ctx context.Context, param, qualifier string) (*resolved, string, error) {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return nil, "", err
	}
	r, err := s.resolve(ctx, ref.Name, ref.Qualifier)
	return r, ref.Qualifier, err
}

// GetFunctionConfiguration returns the configuration of the version the
// qualifier names ($LATEST when none).
func (s *Service) GetFunctionConfiguration(ctx context.Context, name, qualifier string) (*lambda.FunctionConfiguration, error) {
	r, q, err := s.function(ctx, name, qualifier)
	if err != nil {
		return nil, err
	}
	c := r.view(s, q)
	return &c, nil
}

// GetFunction returns configuration, code location and tags.
func (s *Service) GetFunction(ctx context.Context, name, qualifier string) (*GetFunctionOutput, error) {
	r, q, err := s.function(ctx, name, qualifier)
	if err != nil {
		return nil, err
	}
	c := r.view(s, q)
	out := &GetFunctionOutput{
		Configuration: c,
		Code:          FunctionCodeLocation{RepositoryType: "S3", Location: s.CodeLocation(c.FunctionName, c.CodeSha256)},
	}
	if len(r.latest.Tags) > 0 {
		out.Tags = r.latest.Tags
	}
	if n := r.latest.ReservedConcurrency; n != nil {
		out.Concurrency = &Concurrency{ReservedConcurrentExecutions: n}
	}
	return out, nil
}

// CodeDownloadPath is the path (under the API) that serves a function's zip.
func CodeDownloadPath(name string) string {
	return "/2015-03-31/functions/" + url.PathEscape(name) + "/code-download"
}

// CodeLocation is the URL GetFunction reports as Code.Location.
func (s *Service) CodeLocation(name, sha string) string {
	base := ""
	if s.d.BaseURL != nil {
		base = strings.TrimSuffix(s.d.BaseURL(), "/")
	}
	return base + CodeDownloadPath(name) + "?CodeSha256=" + url.QueryEscape(sha)
}

// Code returns the deployment package of function name if $LATEST or one
// of its published versions has CodeSha256 sha (the download URL names the
// code it was issued for).
func (s *Service) Code(ctx context.Context, name, sha string) ([]byte, error) {
	r, _, err := s.function(ctx, name, "")
	if err != nil {
		return nil, err
	}
	ok := sha == r.latest.Config.CodeSha256
	if !ok {
		vs, err := s.versions(ctx, r.latest.Name())
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			ok = ok || v.Config.CodeSha256 == sha
		}
	}
	if !ok {
		return nil, lambda.NotFound("The code for this function version is no longer available at this location. Call GetFunction for a new location.")
	}
	return s.d.Store.Code(ctx, sha)
}

// ListFunctions lists $LATEST of every function sorted by name, at most 50
// per page. NextMarker is opaque (base64url of the last name returned).
func (s *Service) ListFunctions(ctx context.Context, in ListFunctionsInput) (*ListFunctionsOutput, error) {
	var v lambda.Violations
	if in.FunctionVersion != "" && in.FunctionVersion != "ALL" {
		v.Add(in.FunctionVersion, "functionVersion", lambda.ConstraintEnum("ALL"))
	}
	if in.MasterRegion != "" && !reMasterRegon.MatchString(in.MasterRegion) {
		v.Add(in.MasterRegion, "masterRegion", lambda.ConstraintPattern(patternMasterRegn))
	}
	max := lambda.MaxListItems
	if in.MaxItems != "" {
		n, err := strconv.Atoi(in.MaxItems)
		switch {
		case err != nil:
			return nil, lambda.InvalidParameter("Invalid value for MaxItems: %s", in.MaxItems)
		case n < 1:
			v.Add(in.MaxItems, "maxItems", lambda.ConstraintMin(1))
		case n > 10000:
			v.Add(in.MaxItems, "maxItems", lambda.ConstraintMax(10000))
		case n < max:
			max = n
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	fns, err := s.d.Store.Functions(ctx)
	if err != nil {
		return nil, err
	}
	var all []lambda.FunctionConfiguration
	for _, fn := range fns {
		c := fn.Config.ListView()
		if in.FunctionVersion != "ALL" {
			all = append(all, c)
			continue
		}
		c.FunctionArn = s.qarn(c.FunctionName, lambda.VersionLatest)
		all = append(all, c)
		vs, err := s.versions(ctx, fn.Name())
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			all = append(all, v.Config.ListView())
		}
	}
	page, next, err := paginate(all, in.Marker, max, func(c lambda.FunctionConfiguration) string {
		if in.FunctionVersion == "ALL" {
			return c.FunctionName + ":" + c.Version
		}
		return c.FunctionName
	})
	if err != nil {
		return nil, err
	}
	return &ListFunctionsOutput{Functions: page, NextMarker: next}, nil
}

// UpdateFunctionCode replaces $LATEST's code (ZipFile only). DryRun
// validates and returns the would-be configuration without storing it.
func (s *Service) UpdateFunctionCode(ctx context.Context, in *UpdateFunctionCodeInput) (*lambda.FunctionConfiguration, error) {
	name, err := s.unqualifiedName(in.FunctionName)
	if err != nil {
		return nil, err
	}
	var v lambda.Violations
	archViolations(&v, in.Architectures)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := codeUnsupported(&FunctionCode{ZipFile: in.ZipFile, S3Bucket: in.S3Bucket, S3Key: in.S3Key, ImageUri: in.ImageUri}); err != nil {
		return nil, err
	}
	info, err := codezip.Validate(in.ZipFile)
	if err != nil {
		return nil, err
	}
	sha := store.CodeSha256(in.ZipFile)
	apply := func(fn *lambda.Function) error {
		if err := s.checkUpdatable(fn, in.RevisionId); err != nil {
			return err
		}
		if err := checkUnzipped(info.UnzippedSize, fn.LayerCode); err != nil {
			return err
		}
		c := &fn.Config
		c.CodeSha256, c.CodeSize = sha, int64(len(in.ZipFile))
		if in.Architectures != nil {
			c.Architectures = append([]string(nil), in.Architectures...)
		}
		fn.UnzippedSize = info.UnzippedSize
		fn.PublishRequested = in.Publish
		s.markUpdating(c)
		return nil
	}
	if in.DryRun {
		fn, _, err := s.d.Store.Function(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, lambda.FunctionNotFound(s.arn(name))
		}
		if err != nil {
			return nil, err
		}
		rev := fn.Config.RevisionId
		if err := apply(fn); err != nil {
			return nil, err
		}
		fn.Config.RevisionId = rev
		return &fn.Config, nil
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(name))
	}
	if _, err := s.d.Store.PutCode(ctx, in.ZipFile); err != nil {
		return nil, err
	}
	if in.Publish {
		fn, version, err := s.publish(ctx, name, nil, true, apply)
		if err != nil {
			return nil, err
		}
		s.log.Info("function code updated", "function", name, "code_sha256", sha)
		s.schedule(name, fn.Config.RevisionId)
		return &version.Config, nil
	}
	fn, err := s.mutate(ctx, name, apply)
	if err != nil {
		return nil, err
	}
	s.log.Info("function code updated", "function", name, "code_sha256", sha)
	s.schedule(name, fn.Config.RevisionId)
	return &fn.Config, nil
}

// UpdateFunctionConfiguration changes $LATEST's configuration; members not
// given stay as they are.
func (s *Service) UpdateFunctionConfiguration(ctx context.Context, in *UpdateFunctionConfigurationInput) (*lambda.FunctionConfiguration, error) {
	name, err := s.unqualifiedName(in.FunctionName)
	if err != nil {
		return nil, err
	}
	f := fields{
		Role: in.Role, Handler: in.Handler, Description: in.Description, Timeout: in.Timeout,
		MemorySize: in.MemorySize, Runtime: in.Runtime, Environment: in.Environment,
		TracingConfig: in.TracingConfig, Layers: in.Layers, EphemeralStorage: in.EphemeralStorage,
		SnapStart: in.SnapStart, LoggingConfig: in.LoggingConfig, KMSKeyArn: in.KMSKeyArn,
		DeadLetterConfig: in.DeadLetterConfig,
	}
	var v lambda.Violations
	f.modelViolations(&v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := f.semantic(); err != nil {
		return nil, err
	}
	var layers []lambda.LayerCode
	if in.Layers != nil {
		if layers, err = s.layerCodes(ctx, *in.Layers, 0); err != nil {
			return nil, err
		}
	}
	fn, err := s.mutate(ctx, name, func(fn *lambda.Function) error {
		if err := s.checkUpdatable(fn, in.RevisionId); err != nil {
			return err
		}
		c := &fn.Config
		if in.Role != nil {
			c.Role = *in.Role
		}
		if in.Handler != nil {
			c.Handler = *in.Handler
		}
		if in.Description != nil {
			c.Description = *in.Description
		}
		if in.Timeout != nil {
			c.Timeout = *in.Timeout
		}
		if in.MemorySize != nil {
			c.MemorySize = *in.MemorySize
		}
		if in.Runtime != nil {
			c.Runtime = *in.Runtime
			c.RuntimeVersionConfig = s.runtimeVersionARN(c.Runtime)
		}
		if in.VpcConfig != nil {
			c.VpcConfig = in.VpcConfig
		}
		if in.DeadLetterConfig != nil {
			c.DeadLetterConfig = in.DeadLetterConfig
		}
		if in.KMSKeyArn != nil {
			c.KMSKeyArn = *in.KMSKeyArn
		}
		if in.FileSystemConfigs != nil {
			c.FileSystemConfigs = *in.FileSystemConfigs
		}
		if in.EphemeralStorage != nil {
			c.EphemeralStorage = &lambda.EphemeralStorage{Size: in.EphemeralStorage.Size}
		}
		applyCommon(c, f)
		if in.Layers != nil {
			if err := checkUnzipped(fn.UnzippedSize, layers); err != nil {
				return err
			}
			setLayers(fn, layers)
		}
		if c.Runtime == "" || c.Handler == "" {
			return lambda.InvalidParameter(lambda.MsgRuntimeHandlerReq)
		}
		s.markUpdating(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("function configuration updated", "function", name)
	s.schedule(name, fn.Config.RevisionId)
	return &fn.Config, nil
}

// DeleteFunction deletes the function with all its versions, aliases and
// settings, or with a version qualifier that one version. $LATEST is
// refused, and so are aliases and versions an alias routes traffic to.
func (s *Service) DeleteFunction(ctx context.Context, param, qualifier string) error {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return err
	}
	for {
		fn, rev, err := s.d.Store.Function(ctx, ref.Name)
		if errors.Is(err, store.ErrNotFound) {
			return lambda.FunctionNotFound(s.arn(ref.Name))
		}
		if err != nil {
			return err
		}
		switch q := ref.Qualifier; {
		case q == "":
		case q == lambda.VersionLatest:
			return lambda.InvalidParameter(lambda.MsgDeleteLatest)
		case isVersionNumber(q):
			return s.deleteVersion(ctx, ref.Name, q)
		default:
			return lambda.InvalidParameter(lambda.MsgDeleteAlias)
		}
		if err := s.d.Store.DeleteFunction(ctx, ref.Name, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return err
		}
		if err := s.d.Store.DeleteFunctionRecords(ctx, ref.Name); err != nil {
			return err
		}
		s.log.Info("function deleted", "function", ref.Name, "code_sha256", fn.Config.CodeSha256)
		return nil
	}
}

// deleteVersion deletes one published version unless an alias uses it.
func (s *Service) deleteVersion(ctx context.Context, name, n string) error {
	if _, err := s.version(ctx, name, n); err != nil {
		return err
	}
	all, err := s.aliases(ctx, name)
	if err != nil {
		return err
	}
	if used := aliasesOf(all, n); len(used) > 0 {
		return lambda.Conflict("Unable to delete version because the following aliases reference it: [" + strings.Join(used, ", ") + "]")
	}
	if err := s.d.Store.DeleteRecord(ctx, store.KindVersion, name, n, 0); err != nil {
		return err
	}
	if err := s.deleteQualifierRecords(ctx, name, n); err != nil {
		return err
	}
	s.log.Info("version deleted", "function", name, "version", n)
	return nil
}

func isVersionNumber(q string) bool {
	if q == "" {
		return false
	}
	for _, c := range q {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// GetAccountSettings reports limits and usage.
func (s *Service) GetAccountSettings(ctx context.Context) (*AccountSettings, error) {
	fns, err := s.d.Store.Functions(ctx)
	if err != nil {
		return nil, err
	}
	out := &AccountSettings{
		AccountLimit: AccountLimit{
			TotalCodeSize:                  lambda.DefaultTotalCodeSize,
			CodeSizeUnzipped:               lambda.MaxUnzippedCodeBytes,
			CodeSizeZipped:                 lambda.MaxZippedCodeBytes,
			ConcurrentExecutions:           s.d.ConcurrencyLimit,
			UnreservedConcurrentExecutions: s.d.ConcurrencyLimit,
		},
	}
	for _, fn := range fns {
		out.AccountUsage.FunctionCount++
		out.AccountUsage.TotalCodeSize += fn.Config.CodeSize
	}
	taken, err := s.committed(ctx, "", "", "")
	if err != nil {
		return nil, err
	}
	out.AccountLimit.UnreservedConcurrentExecutions -= taken
	vs, err := s.d.Store.Records(ctx, store.KindVersion, "")
	if err != nil {
		return nil, err
	}
	for _, e := range vs {
		var v lambda.Function
		if err := e.Decode(&v); err != nil {
			return nil, err
		}
		out.AccountUsage.TotalCodeSize += v.Config.CodeSize
	}
	ls, err := s.d.Store.Records(ctx, store.KindLayer, "")
	if err != nil {
		return nil, err
	}
	for _, e := range ls {
		var l lambda.LayerVersion
		if err := e.Decode(&l); err != nil {
			return nil, err
		}
		out.AccountUsage.TotalCodeSize += l.CodeSize
	}
	return out, nil
}

// ResolveForInvoke resolves an Invoke's FunctionName and Qualifier to the
// configuration of the primary version to run. Prefer ResolveInvokeTarget,
// which also reports alias routing, concurrency and layers.
func (s *Service) ResolveForInvoke(ctx context.Context, param, qualifier string) (*lambda.FunctionConfiguration, error) {
	t, err := s.ResolveInvokeTarget(ctx, param, qualifier)
	if err != nil {
		return nil, err
	}
	return t.Primary.Config, nil
}

// Invocable reports whether a configuration may be invoked: State Active
// (an update in progress keeps serving, as on AWS).
func Invocable(c *lambda.FunctionConfiguration) error { return lambda.Invocable(c) }
