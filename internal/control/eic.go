package control

import (
	"context"
	"errors"
	"strings"

	"github.com/lambdad/lambdad/internal/async"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

const msgDestinationInvalidFmt = "The destination ARN %s is invalid."

// ListEventInvokeConfigsOutput is the ListFunctionEventInvokeConfigs body.
type ListEventInvokeConfigsOutput struct {
	FunctionEventInvokeConfigs []async.EventInvokeConfig `json:"FunctionEventInvokeConfigs"`
	NextMarker                 string                    `json:"NextMarker,omitempty"`
}

// eicTarget resolves FunctionName+Qualifier for the event-invoke-config
// operations: the bare name and the qualifier ($LATEST when none). A
// missing function, version or alias is AWS's "The function doesn't exist."
func (s *Service) eicTarget(ctx context.Context, param, qualifier string) (string, string, error) {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return "", "", err
	}
	q := ref.Qualifier
	if q == "" {
		q = lambda.VersionLatest
	}
	if _, err := s.resolve(ctx, ref.Name, q); err != nil {
		var le *lambda.Error
		if errors.As(err, &le) && le.Type == lambda.ErrTypeResourceNotFound {
			return ref.Name, q, lambda.NotFound(async.MsgFunctionMissing)
		}
		return "", "", err
	}
	return ref.Name, q, nil
}

// validateEIC applies async's validation plus the check that every Lambda
// destination is a function lambdad hosts.
func (s *Service) validateEIC(ctx context.Context, name string, c *async.EventInvokeConfig) error {
	if err := c.Validate(name); err != nil {
		return err
	}
	for _, arn := range []string{c.OnSuccess(), c.OnFailure()} {
		if parts := strings.SplitN(arn, ":", 4); len(parts) < 4 || parts[2] != "lambda" {
			continue
		}
		ref, err := lambda.ParseFunctionName(arn, true)
		if err != nil {
			return lambda.InvalidParameter(msgDestinationInvalidFmt, arn)
		}
		if _, err := s.resolve(ctx, ref.Name, ref.Qualifier); err != nil {
			var le *lambda.Error
			if errors.As(err, &le) && le.Type == lambda.ErrTypeResourceNotFound {
				return lambda.InvalidParameter(msgDestinationInvalidFmt, arn)
			}
			return err
		}
	}
	return nil
}

// PutFunctionEventInvokeConfig replaces the configuration of a function
// version or alias.
func (s *Service) PutFunctionEventInvokeConfig(ctx context.Context, param, qualifier string, in *async.EventInvokeConfig) (*async.EventInvokeConfig, error) {
	name, q, err := s.eicTarget(ctx, param, qualifier)
	if err != nil {
		return nil, err
	}
	if err := s.validateEIC(ctx, name, in); err != nil {
		return nil, err
	}
	c := *in
	c.FunctionArn = s.qarn(name, q)
	c.Stamp(s.d.Now())
	if _, err := s.putRecord(ctx, store.KindEventConfig, name, q, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateFunctionEventInvokeConfig merges in into the existing configuration.
func (s *Service) UpdateFunctionEventInvokeConfig(ctx context.Context, param, qualifier string, in *async.EventInvokeConfig) (*async.EventInvokeConfig, error) {
	name, q, err := s.eicTarget(ctx, param, qualifier)
	if err != nil {
		return nil, err
	}
	if err := s.validateEIC(ctx, name, in); err != nil {
		return nil, err
	}
	for {
		var cur async.EventInvokeConfig
		rev, err := s.d.Store.Record(ctx, store.KindEventConfig, name, q, &cur)
		if errors.Is(err, store.ErrNotFound) {
			return nil, async.NoConfig(s.qarn(name, q))
		} else if err != nil {
			return nil, err
		}
		c := cur.Merge(*in)
		c.FunctionArn = s.qarn(name, q)
		c.Stamp(s.d.Now())
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindEventConfig, name, q, &c, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		return &c, nil
	}
}

// GetFunctionEventInvokeConfig returns the configuration of a qualifier.
func (s *Service) GetFunctionEventInvokeConfig(ctx context.Context, param, qualifier string) (*async.EventInvokeConfig, error) {
	name, q, err := s.eicLookup(param, qualifier)
	if err != nil {
		return nil, err
	}
	var c async.EventInvokeConfig
	if _, err := s.d.Store.Record(ctx, store.KindEventConfig, name, q, &c); errors.Is(err, store.ErrNotFound) {
		return nil, async.NoConfig(s.qarn(name, q))
	} else if err != nil {
		return nil, err
	}
	return &c, nil
}

// eicLookup parses FunctionName+Qualifier for Get/Delete, which report a
// missing function as a missing configuration [obs].
func (s *Service) eicLookup(param, qualifier string) (string, string, error) {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return "", "", err
	}
	q := ref.Qualifier
	if q == "" {
		q = lambda.VersionLatest
	}
	return ref.Name, q, nil
}

// DeleteFunctionEventInvokeConfig deletes the configuration of a qualifier.
func (s *Service) DeleteFunctionEventInvokeConfig(ctx context.Context, param, qualifier string) error {
	if _, err := s.GetFunctionEventInvokeConfig(ctx, param, qualifier); err != nil {
		return err
	}
	name, q, _ := s.eicLookup(param, qualifier)
	return s.d.Store.DeleteRecord(ctx, store.KindEventConfig, name, q, 0)
}

// ListFunctionEventInvokeConfigs lists a function's configurations.
func (s *Service) ListFunctionEventInvokeConfigs(ctx context.Context, param, marker, maxItems string) (*ListEventInvokeConfigsOutput, error) {
	ref, err := s.ResolveName(param, "")
	if err != nil {
		return nil, err
	}
	max, err := parseMaxItems(maxItems, lambda.MaxListItems)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, ref.Name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.NotFound(async.MsgFunctionMissing)
	} else if err != nil {
		return nil, err
	}
	es, err := s.d.Store.Records(ctx, store.KindEventConfig, ref.Name)
	if err != nil {
		return nil, err
	}
	all := []async.EventInvokeConfig{}
	for _, e := range es {
		var c async.EventInvokeConfig
		if err := e.Decode(&c); err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	page, next, err := paginate(all, marker, max, func(c async.EventInvokeConfig) string { return c.FunctionArn })
	if err != nil {
		return nil, err
	}
	return &ListEventInvokeConfigsOutput{FunctionEventInvokeConfigs: page, NextMarker: next}, nil
}

// EventInvokeConfig returns the event invoke configuration that applies
// to an invocation of function with qualifier ("" = $LATEST), or nil, nil
// when none is set. For the async workers.
func (s *Service) EventInvokeConfig(ctx context.Context, function, qualifier string) (*async.EventInvokeConfig, error) {
	if qualifier == "" {
		qualifier = lambda.VersionLatest
	}
	var c async.EventInvokeConfig
	if _, err := s.d.Store.Record(ctx, store.KindEventConfig, function, qualifier, &c); errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeadLetterTarget returns the DeadLetterConfig.TargetArn of function's
// $LATEST ("" when unset). For the async workers.
func (s *Service) DeadLetterTarget(ctx context.Context, function string) (string, error) {
	fn, _, err := s.d.Store.Function(ctx, function)
	if errors.Is(err, store.ErrNotFound) {
		return "", lambda.FunctionNotFound(s.arn(function))
	}
	if err != nil {
		return "", err
	}
	if fn.Config.DeadLetterConfig == nil {
		return "", nil
	}
	return fn.Config.DeadLetterConfig.TargetArn, nil
}
