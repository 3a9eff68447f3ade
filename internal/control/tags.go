package control

import (
	"context"
	"regexp"
	"sort"

	"github.com/lambdad/lambdad/internal/lambda"
)

const (
	patternTaggable  = `arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)`
	maxTaggableLen   = 256
	msgTagsQualified = "Tags on function aliases and versions are not supported. Please specify a function ARN."
	msgTagsEmpty     = "An error occurred and the request cannot be processed."
)

var (
	reTaggable    = regexp.MustCompile(`^(` + patternTaggable + `)$`)
	reTaggableFun = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:([^:]+):(\d{12}):function:([a-zA-Z0-9-_]+)(:(.+))?$`)
)

// TagsOutput is the ListTags response body.
type TagsOutput struct {
	Tags map[string]string `json:"Tags"`
}

// TagResourceInput is the TagResource request body.
type TagResourceInput struct {
	Tags map[string]string `json:"Tags"`
}

// taggedFunction validates a Resource ARN and returns the function name.
// Tags live on functions only (unqualified); lambdad has no other
// taggable resources yet.
func (s *Service) taggedFunction(resource string) (string, error) {
	var v lambda.Violations
	if len(resource) > maxTaggableLen {
		v.Add(resource, "resource", lambda.ConstraintMaxLen(maxTaggableLen))
	}
	if !reTaggable.MatchString(resource) {
		v.Add(resource, "resource", lambda.ConstraintPattern(patternTaggable))
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	m := reTaggableFun.FindStringSubmatch(resource)
	if m == nil {
		return "", lambda.NotFound("The resource you requested does not exist.")
	}
	if m[5] != "" {
		return "", lambda.InvalidParameter(msgTagsQualified)
	}
	if m[1] != s.d.Region || m[2] != s.d.AccountID {
		return "", lambda.FunctionNotFound(resource)
	}
	return m[3], nil
}

// TagResource adds or overwrites tags on a function (204).
func (s *Service) TagResource(ctx context.Context, resource string, in *TagResourceInput) error {
	name, err := s.taggedFunction(resource)
	if err != nil {
		return err
	}
	if in.Tags == nil {
		var v lambda.Violations
		v.Add("null", "tags", "Member must not be null")
		return v.Err()
	}
	if len(in.Tags) == 0 {
		return lambda.InvalidParameter(msgTagsEmpty)
	}
	if err := checkTags(in.Tags); err != nil {
		return err
	}
	_, err = s.mutate(ctx, name, func(fn *lambda.Function) error {
		merged := make(map[string]string, len(fn.Tags)+len(in.Tags))
		for k, v := range fn.Tags {
			merged[k] = v
		}
		for k, v := range in.Tags {
			merged[k] = v
		}
		if err := checkTags(merged); err != nil {
			return err
		}
		fn.Tags = merged
		return nil
	})
	return err
}

// UntagResource removes tags from a function (204; unknown keys are ignored).
func (s *Service) UntagResource(ctx context.Context, resource string, keys []string) error {
	name, err := s.taggedFunction(resource)
	if err != nil {
		return err
	}
	if keys == nil {
		return lambda.Validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	_, err = s.mutate(ctx, name, func(fn *lambda.Function) error {
		for _, k := range keys {
			delete(fn.Tags, k)
		}
		if len(fn.Tags) == 0 {
			fn.Tags = nil
		}
		return nil
	})
	return err
}

// ListTags returns a function's tags ({} when none).
func (s *Service) ListTags(ctx context.Context, resource string) (*TagsOutput, error) {
	name, err := s.taggedFunction(resource)
	if err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, name, "")
	if err != nil {
		return nil, err
	}
	out := &TagsOutput{Tags: map[string]string{}}
	keys := make([]string, 0, len(r.latest.Tags))
	for k := range r.latest.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Tags[k] = r.latest.Tags[k]
	}
	return out, nil
}
