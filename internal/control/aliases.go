package control

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Alias model patterns as AWS prints them.
const (
	patternAliasName = `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`
	patternFnVersion = `(\$LATEST|[0-9]+)`
	maxAliasNameLen  = 128
	maxFnVersionLen  = 1024
	msgWeightRange   = "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
	msgWeightKey     = "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"
)

var (
	reAliasChars = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
	reFnVersion  = regexp.MustCompile(`^(\$LATEST|[0-9]+)$`)
	reDigits     = regexp.MustCompile(`^[0-9]+$`)
)

// validAliasName reports whether s matches RE_ALIAS (not all digits).
func validAliasName(s string) bool {
	return reAliasChars.MatchString(s) && !reDigits.MatchString(s)
}

// CreateAliasInput is the CreateAlias request body.
type CreateAliasInput struct {
	FunctionName    string                `json:"-"`
	Name            *string               `json:"Name"`
	FunctionVersion *string               `json:"FunctionVersion"`
	Description     *string               `json:"Description"`
	RoutingConfig   *lambda.RoutingConfig `json:"RoutingConfig"`
}

// UpdateAliasInput is the UpdateAlias request body; nil members are kept.
type UpdateAliasInput struct {
	FunctionName    string                `json:"-"`
	Name            string                `json:"-"`
	FunctionVersion *string               `json:"FunctionVersion"`
	Description     *string               `json:"Description"`
	RoutingConfig   *lambda.RoutingConfig `json:"RoutingConfig"`
	RevisionId      string                `json:"RevisionId"`
}

// ListAliasesOutput is the ListAliases response body.
type ListAliasesOutput struct {
	Aliases    []lambda.Alias `json:"Aliases"`
	NextMarker string         `json:"NextMarker,omitempty"`
}

// javaFloat renders f as Java's Double.toString does for AWS's messages.
func javaFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func weightsString(w map[string]float64) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+javaFloat(w[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// aliasViolations checks the model constraints of an alias request.
func aliasViolations(v *lambda.Violations, name, version, description *string, rc *lambda.RoutingConfig) {
	if name != nil {
		n := *name
		if len(n) > maxAliasNameLen {
			v.Add(n, "name", lambda.ConstraintMaxLen(maxAliasNameLen))
		}
		if !validAliasName(n) {
			v.Add(n, "name", lambda.ConstraintPattern(patternAliasName))
		}
	}
	if version != nil {
		fv := *version
		if len(fv) > maxFnVersionLen {
			v.Add(fv, "functionVersion", lambda.ConstraintMaxLen(maxFnVersionLen))
		}
		if !reFnVersion.MatchString(fv) {
			v.Add(fv, "functionVersion", lambda.ConstraintPattern(patternFnVersion))
		}
	}
	if description != nil && len(*description) > lambda.MaxDescriptionLen {
		v.Add(*description, "description", lambda.ConstraintMaxLen(lambda.MaxDescriptionLen))
	}
	if rc != nil && len(rc.AdditionalVersionWeights) > 0 {
		w := rc.AdditionalVersionWeights
		badKey, badVal := false, false
		for k, x := range w {
			if !reDigits.MatchString(k) || len(k) > maxFnVersionLen {
				badKey = true
			}
			if x < 0 || x > 1 {
				badVal = true
			}
		}
		if badKey {
			*v = append(*v, "Value '"+weightsString(w)+"' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "+msgWeightKey)
		}
		if badVal {
			*v = append(*v, "Value '"+weightsString(w)+"' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "+msgWeightRange)
		}
	}
}

// checkRouting enforces Lambda's routing rules for an alias pointing at
// primary with rc, in AWS's order, and that every version exists.
func (s *Service) checkRouting(ctx context.Context, name, primary string, rc *lambda.RoutingConfig) error {
	var w map[string]float64
	if rc != nil {
		w = rc.AdditionalVersionWeights
	}
	if len(w) > 1 {
		return lambda.InvalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	if primary != lambda.VersionLatest {
		if _, err := s.version(ctx, name, primary); err != nil {
			return err
		}
	}
	for extra := range w {
		if extra == primary {
			return lambda.InvalidParameter("Invalid function version %s. Function version %s is already included in routing configuration.", extra, extra)
		}
		if primary == lambda.VersionLatest {
			return lambda.InvalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
		}
		if _, err := s.version(ctx, name, extra); err != nil {
			return err
		}
	}
	return nil
}

// normalRouting drops an empty routing configuration (AWS omits it).
func normalRouting(rc *lambda.RoutingConfig) *lambda.RoutingConfig {
	if rc == nil || len(rc.AdditionalVersionWeights) == 0 {
		return nil
	}
	w := make(map[string]float64, len(rc.AdditionalVersionWeights))
	for k, v := range rc.AdditionalVersionWeights {
		w[k] = v
	}
	return &lambda.RoutingConfig{AdditionalVersionWeights: w}
}

// aliasFunction parses an alias operation's FunctionName (RE_FN: a
// qualifier is not allowed) and returns the bare name.
func (s *Service) aliasFunction(param string) (string, error) {
	ref, err := lambda.ParseFunctionName(param, false)
	if err != nil {
		return "", err
	}
	ref, err = ref.Scope(s.d.Region, s.d.AccountID, "")
	if err != nil {
		return "", err
	}
	return ref.Name, nil
}

// CreateAlias creates an alias (201).
func (s *Service) CreateAlias(ctx context.Context, in *CreateAliasInput) (*lambda.Alias, error) {
	var v lambda.Violations
	if in.Name == nil {
		v.Add("null", "name", "Member must not be null")
	}
	if in.FunctionVersion == nil {
		v.Add("null", "functionVersion", "Member must not be null")
	}
	aliasViolations(&v, in.Name, in.FunctionVersion, in.Description, in.RoutingConfig)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, err := s.aliasFunction(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.qarn(name, *in.FunctionVersion))
	} else if err != nil {
		return nil, err
	}
	if err := s.checkRouting(ctx, name, *in.FunctionVersion, in.RoutingConfig); err != nil {
		return nil, err
	}
	a := &lambda.Alias{
		AliasArn:        s.qarn(name, *in.Name),
		Name:            *in.Name,
		FunctionVersion: *in.FunctionVersion,
		RoutingConfig:   normalRouting(in.RoutingConfig),
		RevisionId:      newRevisionID(),
	}
	if in.Description != nil {
		a.Description = *in.Description
	}
	if _, err := s.d.Store.CreateRecord(ctx, store.KindAlias, name, a.Name, a); errors.Is(err, store.ErrExists) {
		return nil, lambda.Conflict("Alias already exists: " + a.AliasArn)
	} else if err != nil {
		return nil, err
	}
	s.log.Info("alias created", "function", name, "alias", a.Name, "version", a.FunctionVersion)
	return a, nil
}

// alias returns alias a of function name; a miss is "Cannot find alias arn".
func (s *Service) alias(ctx context.Context, name, a string) (*lambda.Alias, uint64, error) {
	var al lambda.Alias
	rev, err := s.d.Store.Record(ctx, store.KindAlias, name, a, &al)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, lambda.NotFound("Cannot find alias arn: " + s.qarn(name, a))
	}
	if err != nil {
		return nil, 0, err
	}
	return &al, rev, nil
}

func (s *Service) aliasPath(param, alias string) (string, error) {
	var v lambda.Violations
	aliasViolations(&v, &alias, nil, nil, nil)
	if err := v.Err(); err != nil {
		return "", err
	}
	return s.aliasFunction(param)
}

// GetAlias returns one alias.
func (s *Service) GetAlias(ctx context.Context, param, alias string) (*lambda.Alias, error) {
	name, err := s.aliasPath(param, alias)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(name))
	} else if err != nil {
		return nil, err
	}
	a, _, err := s.alias(ctx, name, alias)
	return a, err
}

// UpdateAlias changes an alias; RoutingConfig {} removes routing.
func (s *Service) UpdateAlias(ctx context.Context, in *UpdateAliasInput) (*lambda.Alias, error) {
	var v lambda.Violations
	aliasViolations(&v, &in.Name, in.FunctionVersion, in.Description, in.RoutingConfig)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, err := s.aliasFunction(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(name))
	} else if err != nil {
		return nil, err
	}
	for {
		a, rev, err := s.alias(ctx, name, in.Name)
		if err != nil {
			var le *lambda.Error
			if errors.As(err, &le) && le.Type == lambda.ErrTypeResourceNotFound {
				return nil, lambda.NotFound("Alias not found: " + s.qarn(name, in.Name))
			}
			return nil, err
		}
		if in.RevisionId != "" && in.RevisionId != a.RevisionId {
			return nil, lambda.PreconditionFailed()
		}
		if in.FunctionVersion != nil {
			a.FunctionVersion = *in.FunctionVersion
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.RoutingConfig != nil {
			a.RoutingConfig = normalRouting(in.RoutingConfig)
		}
		if err := s.checkRouting(ctx, name, a.FunctionVersion, a.RoutingConfig); err != nil {
			return nil, err
		}
		a.RevisionId = newRevisionID()
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindAlias, name, a.Name, a, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return nil, err
		}
		s.log.Info("alias updated", "function", name, "alias", a.Name, "version", a.FunctionVersion)
		return a, nil
	}
}

// DeleteAlias deletes an alias and its per-qualifier settings; deleting a
// missing alias succeeds (204), as on AWS.
func (s *Service) DeleteAlias(ctx context.Context, param, alias string) error {
	name, err := s.aliasPath(param, alias)
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteRecord(ctx, store.KindAlias, name, alias, 0); err != nil {
		return err
	}
	return s.deleteQualifierRecords(ctx, name, alias)
}

// deleteQualifierRecords removes the settings stored per qualifier.
func (s *Service) deleteQualifierRecords(ctx context.Context, name, q string) error {
	var errs []error
	for _, k := range []store.Kind{store.KindEventConfig, store.KindProvisioned, store.KindPolicy} {
		errs = append(errs, s.d.Store.DeleteRecord(ctx, k, name, q, 0))
	}
	return errors.Join(errs...)
}

// aliases returns every alias of name sorted by alias name.
func (s *Service) aliases(ctx context.Context, name string) ([]lambda.Alias, error) {
	es, err := s.d.Store.Records(ctx, store.KindAlias, name)
	if err != nil {
		return nil, err
	}
	out := make([]lambda.Alias, 0, len(es))
	for _, e := range es {
		var a lambda.Alias
		if err := e.Decode(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListAliases lists a function's aliases, optionally only those whose
// primary version is functionVersion.
func (s *Service) ListAliases(ctx context.Context, param, functionVersion, marker, maxItems string) (*ListAliasesOutput, error) {
	var v lambda.Violations
	if functionVersion != "" {
		aliasViolations(&v, nil, &functionVersion, nil, nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, err := s.aliasFunction(param)
	if err != nil {
		return nil, err
	}
	max, err := parseMaxItems(maxItems, 10000)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(name))
	} else if err != nil {
		return nil, err
	}
	all, err := s.aliases(ctx, name)
	if err != nil {
		return nil, err
	}
	var sel []lambda.Alias
	for _, a := range all {
		if functionVersion == "" || a.FunctionVersion == functionVersion {
			sel = append(sel, a)
		}
	}
	page, next, err := paginate(sel, marker, max, func(a lambda.Alias) string { return a.Name })
	if err != nil {
		return nil, err
	}
	return &ListAliasesOutput{Aliases: page, NextMarker: next}, nil
}

// aliasesOf returns the names of aliases routing any traffic to version.
func aliasesOf(all []lambda.Alias, version string) []string {
	var out []string
	for _, a := range all {
		if a.FunctionVersion == version {
			out = append(out, a.Name)
			continue
		}
		if a.RoutingConfig != nil {
			if _, ok := a.RoutingConfig.AdditionalVersionWeights[version]; ok {
				out = append(out, a.Name)
			}
		}
	}
	return out
}
