package control

import (
	"context"
	"errors"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// resolved is a function reference resolved against the store.
type resolved struct {
	latest *lambda.Function // the $LATEST record (function-level settings)
	target *lambda.Function // the version the qualifier names ($LATEST, N or the alias' primary)
	alias  *lambda.Alias    // nil unless the qualifier is an alias
}

// resolve looks up function name with qualifier q ("" = unqualified). A
// missing function, version or alias is AWS's "Function not found" with
// the ARN in the form asked for (missARN overrides the unqualified miss).
func (s *Service) resolve(ctx context.Context, name, q string) (*resolved, error) {
	fn, _, err := s.d.Store.Function(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.qarn(name, q))
	}
	if err != nil {
		return nil, err
	}
	r := &resolved{latest: fn, target: fn}
	switch {
	case q == "" || q == lambda.VersionLatest:
	case isVersionNumber(q):
		if r.target, err = s.version(ctx, name, q); err != nil {
			return nil, err
		}
	default:
		var a lambda.Alias
		if _, err := s.d.Store.Record(ctx, store.KindAlias, name, q, &a); errors.Is(err, store.ErrNotFound) {
			return nil, lambda.FunctionNotFound(s.qarn(name, q))
		} else if err != nil {
			return nil, err
		}
		r.alias = &a
		if a.FunctionVersion != lambda.VersionLatest {
			if r.target, err = s.version(ctx, name, a.FunctionVersion); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// view returns the target's configuration as Get* report it for the
// qualifier asked for: an alias reports its own ARN, an explicit $LATEST
// the qualified ARN [obs].
func (r *resolved) view(s *Service, q string) lambda.FunctionConfiguration {
	c := r.target.Config.Clone()
	switch {
	case r.alias != nil:
		c.FunctionArn = r.alias.AliasArn
	case q == lambda.VersionLatest:
		c.FunctionArn = s.qarn(c.FunctionName, lambda.VersionLatest)
	}
	return c
}

// TargetVersion is one function version an invocation may run: its
// configuration and the contents of its layers (in /opt merge order).
type TargetVersion struct {
	Config *lambda.FunctionConfiguration
	// Layers are the layer versions' contents; each CodeSha256 is fetched
	// with (*store.Store).Code like function code.
	Layers []lambda.LayerCode
	// UnzippedSize is the function code's uncompressed size in bytes.
	UnzippedSize int64
}

// InvokeTarget is everything the invoker needs to run an Invoke of
// FunctionName+Qualifier without another store read.
type InvokeTarget struct {
	// Name is the function's bare name.
	Name string
	// Qualifier is the caller's qualifier ("" when unqualified).
	Qualifier string
	// InvokedARN is the function ARN in the caller's form (unqualified,
	// :$LATEST, :N or :alias): the context's invoked_function_arn.
	InvokedARN string
	// Primary is the version the qualifier names (the alias' primary
	// version for an alias).
	Primary TargetVersion
	// Additional is the alias' second version when it routes traffic by
	// weight, with AdditionalWeight (0..1) the share it receives.
	Additional       *TargetVersion
	AdditionalWeight float64
	// ReservedConcurrency is the function's reserved concurrency; nil if
	// none is set (0 throttles every invocation).
	ReservedConcurrency *int
	// Provisioned is the provisioned-concurrency setting of the qualifier
	// (alias or version); nil if none.
	Provisioned *ProvisionedConcurrencyConfig
}

// Pick chooses the version to run for a uniform random r in [0,1): the
// additional version when r < AdditionalWeight, else the primary. The
// chosen Config.Version is the X-Amz-Executed-Version.
func (t *InvokeTarget) Pick(r float64) *TargetVersion {
	if t.Additional != nil && r < t.AdditionalWeight {
		return t.Additional
	}
	return &t.Primary
}

func targetVersion(fn *lambda.Function) TargetVersion {
	c := fn.Config.Clone()
	return TargetVersion{Config: &c, Layers: append([]lambda.LayerCode(nil), fn.LayerCode...), UnzippedSize: fn.UnzippedSize}
}

// ResolveInvokeTarget resolves an Invoke's FunctionName and Qualifier. An
// unqualified miss is reported with ":$LATEST" as AWS does for Invoke. A
// version that is not Active is a 409 ResourceConflictException naming
// its state.
func (s *Service) ResolveInvokeTarget(ctx context.Context, param, qualifier string) (*InvokeTarget, error) {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return nil, err
	}
	q := ref.Qualifier
	r, err := s.resolve(ctx, ref.Name, q)
	if q == "" && errors.Is(err, lambda.FunctionNotFound(s.arn(ref.Name))) {
		return nil, lambda.FunctionNotFound(s.qarn(ref.Name, lambda.VersionLatest))
	}
	if err != nil {
		return nil, err
	}
	t := &InvokeTarget{
		Name:       ref.Name,
		Qualifier:  q,
		InvokedARN: s.qarn(ref.Name, q),
		Primary:    targetVersion(r.target),
	}
	if err := Invocable(t.Primary.Config); err != nil {
		return nil, err
	}
	if rc := r.alias; rc != nil && rc.RoutingConfig != nil {
		for v, w := range rc.RoutingConfig.AdditionalVersionWeights {
			extra, err := s.version(ctx, ref.Name, v)
			if err != nil {
				return nil, err
			}
			tv := targetVersion(extra)
			if err := Invocable(tv.Config); err != nil {
				return nil, err
			}
			t.Additional, t.AdditionalWeight = &tv, w
		}
	}
	if n := r.latest.ReservedConcurrency; n != nil {
		v := *n
		t.ReservedConcurrency = &v
	}
	if q != "" && q != lambda.VersionLatest {
		var pc ProvisionedConcurrencyConfig
		if _, err := s.d.Store.Record(ctx, store.KindProvisioned, ref.Name, q, &pc); err == nil {
			t.Provisioned = &pc
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return t, nil
}
