package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Resource policies are stored and returned in AWS's form; lambdad does
// not enforce them (there is no authentication yet).

const (
	patternStatementID       = `([a-zA-Z0-9-_]+)`
	patternNSStatementID     = `([a-zA-Z0-9-_.]+)`
	patternAction            = `(lambda:[*]|lambda:[a-zA-Z]+|[*])`
	patternLayerAction       = `lambda:GetLayerVersion`
	patternLayerPrincipal    = `\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root`
	patternSourceAccount     = `\d{12}`
	patternOrgID             = `o-[a-z0-9]{10,32}`
	msgPolicyMissing         = "The resource you requested does not exist."
	msgNoPolicy              = "No policy is associated with the given resource."
	msgPolicyLatest          = "We currently do not support adding policies for $LATEST."
	msgBadPrincipal          = "The provided principal was invalid. Please check the principal and try again."
	msgSidExistsFmt          = "The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement."
	msgSidMissingFmt         = "Statement %s is not found in resource policy."
	msgLayerPolicyRevision   = "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id"
	errTypePolicyLengthExcdd = "PolicyLengthExceededException"
	maxPolicyBytes           = 20480
)

var (
	reStatementID   = regexp.MustCompile(`^` + patternStatementID + `$`)
	reNSStatementID = regexp.MustCompile(`^` + patternNSStatementID + `$`)
	reAction        = regexp.MustCompile(`^` + patternAction + `$`)
	reLayerPrinc    = regexp.MustCompile(`^(` + patternLayerPrincipal + `)$`)
	reAccount       = regexp.MustCompile(`^\d{12}$`)
	reOrgID         = regexp.MustCompile(`^` + patternOrgID + `$`)
	reIAMArn        = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(iam|sts)::\d{12}:.+$`)
	reServicePrinc  = regexp.MustCompile(`^[a-z0-9.-]+\.(amazonaws\.com|amazon\.com|aws\.internal)$`)
)

// policy is the stored resource policy of one function qualifier or
// layer version.
type policy struct {
	RevisionID string            `json:"RevisionId"`
	Statements []json.RawMessage `json:"Statements"`
}

// policyDocument renders the policy as AWS's Policy string.
func (p *policy) document() string {
	var b bytes.Buffer
	b.WriteString(`{"Version":"2012-10-17","Id":"default","Statement":[`)
	for i, st := range p.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(st)
	}
	b.WriteString("]}")
	return b.String()
}

func statementSid(st json.RawMessage) string {
	var s struct{ Sid string }
	json.Unmarshal(st, &s)
	return s.Sid
}

// kv is a JSON object that keeps its keys in insertion order.
type kv []struct{ K, V string }

func (o kv) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshalString(p.K))
		b.WriteByte(':')
		b.Write(marshalString(p.V))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// AddPermissionInput is the AddPermission request body.
type AddPermissionInput struct {
	StatementId         *string `json:"StatementId"`
	Action              *string `json:"Action"`
	Principal           *string `json:"Principal"`
	SourceArn           string  `json:"SourceArn"`
	SourceAccount       string  `json:"SourceAccount"`
	EventSourceToken    string  `json:"EventSourceToken"`
	RevisionId          string  `json:"RevisionId"`
	PrincipalOrgID      string  `json:"PrincipalOrgID"`
	FunctionUrlAuthType string  `json:"FunctionUrlAuthType"`
}

// StatementOutput is the AddPermission / AddLayerVersionPermission body.
type StatementOutput struct {
	Statement  string `json:"Statement"`
	RevisionId string `json:"RevisionId,omitempty"`
}

// PolicyOutput is the GetPolicy / GetLayerVersionPolicy body.
type PolicyOutput struct {
	Policy     string `json:"Policy"`
	RevisionId string `json:"RevisionId"`
}

// principalJSON renders Principal as AWS writes it in a statement.
func principalJSON(p string) (any, bool) {
	switch {
	case p == "*":
		return "*", true
	case reAccount.MatchString(p):
		return kv{{"AWS", "arn:aws:iam::" + p + ":root"}}, true
	case reIAMArn.MatchString(p):
		return kv{{"AWS", p}}, true
	case reServicePrinc.MatchString(p):
		return kv{{"Service", p}}, true
	}
	return nil, false
}

// policyTarget resolves FunctionName+Qualifier for the policy operations;
// missing functions, versions and aliases use AWS's messages for op.
func (s *Service) policyTarget(ctx context.Context, param, qualifier string) (string, string, error) {
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return "", "", err
	}
	name, q := ref.Name, ref.Qualifier
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return name, q, lambda.FunctionNotFound(s.arn(name))
	} else if err != nil {
		return "", "", err
	}
	switch {
	case q == "" || q == lambda.VersionLatest:
	case isVersionNumber(q):
		if _, err := s.version(ctx, name, q); err != nil {
			return "", "", err
		}
	case validAliasName(q):
		if _, _, err := s.alias(ctx, name, q); err != nil {
			return "", "", err
		}
	default:
		return "", "", lambda.FunctionNotFound(s.qarn(name, q))
	}
	if q == lambda.VersionLatest {
		q = "" // $LATEST's policy is the function's
	}
	return name, q, nil
}

// resourceRevision returns the RevisionId of what a function policy is
// attached to ($LATEST, a version or an alias): AWS reports it as the
// policy's RevisionId and checks AddPermission/RemovePermission's
// RevisionId against it [obs].
func (s *Service) resourceRevision(ctx context.Context, name, q string) (string, error) {
	switch {
	case q == "":
		fn, _, err := s.d.Store.Function(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return "", lambda.FunctionNotFound(s.arn(name))
		} else if err != nil {
			return "", err
		}
		return fn.Config.RevisionId, nil
	case isVersionNumber(q):
		v, err := s.version(ctx, name, q)
		if err != nil {
			return "", err
		}
		return v.Config.RevisionId, nil
	default:
		a, _, err := s.alias(ctx, name, q)
		if err != nil {
			return "", err
		}
		return a.RevisionId, nil
	}
}

// bumpResourceRevision gives the policy's resource a new RevisionId, as
// every policy change does on AWS [obs].
func (s *Service) bumpResourceRevision(ctx context.Context, name, q string) error {
	switch {
	case q == "":
		fn, err := s.mutate(ctx, name, func(fn *lambda.Function) error {
			fn.Config.RevisionId = newRevisionID()
			return nil
		})
		if err != nil {
			return err
		}
		// Provisioning in flight gives up when the record's RevisionId
		// changes: hand it the new one.
		if c := fn.Config; c.State == lambda.StatePending || c.LastUpdateStatus == lambda.UpdateInProgress {
			s.schedule(name, c.RevisionId)
		}
		return nil
	case isVersionNumber(q):
		for {
			var v lambda.Function
			rev, err := s.d.Store.Record(ctx, store.KindVersion, name, q, &v)
			if err != nil {
				return err
			}
			v.Config.RevisionId = newRevisionID()
			if _, err := s.d.Store.UpdateRecord(ctx, store.KindVersion, name, q, &v, rev); !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	default:
		for {
			a, rev, err := s.alias(ctx, name, q)
			if err != nil {
				return err
			}
			a.RevisionId = newRevisionID()
			if _, err := s.d.Store.UpdateRecord(ctx, store.KindAlias, name, q, a, rev); !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	}
}

// AddPermission adds a statement to the policy of a function, version or
// alias (201).
func (s *Service) AddPermission(ctx context.Context, param, qualifier string, in *AddPermissionInput) (*StatementOutput, error) {
	var v lambda.Violations
	if in.StatementId == nil {
		v.Add("null", "statementId", "Member must not be null")
	} else if sid := *in.StatementId; len(sid) > 100 || !reStatementID.MatchString(sid) {
		v.Add(sid, "statementId", lambda.ConstraintPattern(patternStatementID))
	}
	if in.Action == nil {
		v.Add("null", "action", "Member must not be null")
	} else if !reAction.MatchString(*in.Action) {
		v.Add(*in.Action, "action", lambda.ConstraintPattern(patternAction))
	}
	if in.Principal == nil {
		v.Add("null", "principal", "Member must not be null")
	} else if !reHandler.MatchString(*in.Principal) {
		v.Add(*in.Principal, "principal", lambda.ConstraintPattern(patternHandler))
	}
	if in.SourceAccount != "" && !reAccount.MatchString(in.SourceAccount) {
		v.Add(in.SourceAccount, "sourceAccount", lambda.ConstraintPattern(patternSourceAccount))
	}
	if in.PrincipalOrgID != "" && !reOrgID.MatchString(in.PrincipalOrgID) {
		v.Add(in.PrincipalOrgID, "principalOrgID", lambda.ConstraintPattern(patternOrgID))
	}
	if in.FunctionUrlAuthType != "" && in.FunctionUrlAuthType != "NONE" && in.FunctionUrlAuthType != "AWS_IAM" {
		v.Add(in.FunctionUrlAuthType, "functionUrlAuthType", lambda.ConstraintEnum("NONE", "AWS_IAM"))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ref, err := s.ResolveName(param, qualifier)
	if err != nil {
		return nil, err
	}
	if ref.Qualifier == lambda.VersionLatest {
		return nil, lambda.InvalidParameter(msgPolicyLatest)
	}
	name, q, err := s.policyTarget(ctx, param, qualifier)
	if err != nil {
		return nil, err
	}
	principal, ok := principalJSON(*in.Principal)
	if !ok {
		return nil, lambda.InvalidParameter(msgBadPrincipal)
	}
	var cond struct {
		StringEquals kv `json:"StringEquals,omitempty"`
		ArnLike      kv `json:"ArnLike,omitempty"`
	}
	add := func(o *kv, k, v string) {
		if v != "" {
			*o = append(*o, struct{ K, V string }{k, v})
		}
	}
	add(&cond.StringEquals, "AWS:SourceAccount", in.SourceAccount)
	add(&cond.StringEquals, "lambda:FunctionUrlAuthType", in.FunctionUrlAuthType)
	add(&cond.StringEquals, "aws:PrincipalOrgID", in.PrincipalOrgID)
	add(&cond.StringEquals, "lambda:EventSourceToken", in.EventSourceToken)
	add(&cond.ArnLike, "AWS:SourceArn", in.SourceArn)
	st := struct {
		Sid       string `json:"Sid"`
		Effect    string `json:"Effect"`
		Principal any    `json:"Principal"`
		Action    string `json:"Action"`
		Resource  string `json:"Resource"`
		Condition any    `json:"Condition,omitempty"`
	}{Sid: *in.StatementId, Effect: "Allow", Principal: principal, Action: *in.Action, Resource: s.qarn(name, q)}
	if len(cond.StringEquals) > 0 || len(cond.ArnLike) > 0 {
		st.Condition = cond
	}
	b, err := marshalNoEscape(st)
	if err != nil {
		return nil, err
	}
	if in.RevisionId != "" {
		cur, err := s.resourceRevision(ctx, name, q)
		if err != nil {
			return nil, err
		}
		if cur != in.RevisionId {
			return nil, lambda.PreconditionFailed()
		}
	}
	if _, err := s.addStatement(ctx, store.KindPolicy, name, q, *in.StatementId, "", b, ""); err != nil {
		return nil, err
	}
	if err := s.bumpResourceRevision(ctx, name, q); err != nil {
		return nil, err
	}
	return &StatementOutput{Statement: string(b)}, nil
}

// addStatement appends statement sid to the policy record (CAS loop).
func (s *Service) addStatement(ctx context.Context, kind store.Kind, owner, id, sid, revisionID string, st []byte, revisionMsg string) (string, error) {
	for {
		var p policy
		rev, err := s.d.Store.Record(ctx, kind, owner, id, &p)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		if revisionID != "" && revisionID != p.RevisionID {
			return "", &lambda.Error{Type: lambda.ErrTypePreconditionFailed, Status: http.StatusPreconditionFailed, Message: revisionMsg}
		}
		for _, old := range p.Statements {
			if statementSid(old) == sid {
				return "", lambda.Conflict(strings.Replace(msgSidExistsFmt, "%s", sid, 1))
			}
		}
		p.Statements = append(p.Statements, st)
		if len(p.document()) > maxPolicyBytes {
			return "", &lambda.Error{Type: errTypePolicyLengthExcdd, Status: http.StatusBadRequest, Message: "The final policy size (" + strconv.Itoa(len(p.document())) + ") is bigger than the limit (" + strconv.Itoa(maxPolicyBytes) + ")."}
		}
		p.RevisionID = newRevisionID()
		if exists {
			_, err = s.d.Store.UpdateRecord(ctx, kind, owner, id, &p, rev)
		} else {
			_, err = s.d.Store.CreateRecord(ctx, kind, owner, id, &p)
		}
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", err
		}
		return p.RevisionID, nil
	}
}

// removeStatement deletes statement sid (CAS loop); the policy goes away
// with its last statement.
func (s *Service) removeStatement(ctx context.Context, kind store.Kind, owner, id, sid, revisionID, revisionMsg string, noPolicy error) error {
	for {
		var p policy
		rev, err := s.d.Store.Record(ctx, kind, owner, id, &p)
		if errors.Is(err, store.ErrNotFound) {
			return noPolicy
		}
		if err != nil {
			return err
		}
		if revisionID != "" && revisionID != p.RevisionID {
			return &lambda.Error{Type: lambda.ErrTypePreconditionFailed, Status: http.StatusPreconditionFailed, Message: revisionMsg}
		}
		kept := p.Statements[:0:0]
		for _, st := range p.Statements {
			if statementSid(st) != sid {
				kept = append(kept, st)
			}
		}
		if len(kept) == len(p.Statements) {
			return lambda.NotFound(strings.Replace(msgSidMissingFmt, "%s", sid, 1))
		}
		if len(kept) == 0 {
			err = s.d.Store.DeleteRecord(ctx, kind, owner, id, rev)
		} else {
			p.Statements, p.RevisionID = kept, newRevisionID()
			_, err = s.d.Store.UpdateRecord(ctx, kind, owner, id, &p, rev)
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return err
	}
}

// RemovePermission removes a statement (204).
func (s *Service) RemovePermission(ctx context.Context, param, sid, qualifier, revisionID string) error {
	if len(sid) > 100 || !reNSStatementID.MatchString(sid) {
		var v lambda.Violations
		v.Add(sid, "statementId", lambda.ConstraintPattern(patternNSStatementID))
		return v.Err()
	}
	name, q, err := s.policyTarget(ctx, param, qualifier)
	if err != nil {
		var le *lambda.Error
		if errors.As(err, &le) && le.Message == "Function not found: "+s.arn(name) {
			return lambda.NotFound("No policy found for: " + s.arn(name))
		}
		return err
	}
	if revisionID != "" {
		cur, err := s.resourceRevision(ctx, name, q)
		if err != nil {
			return err
		}
		if cur != revisionID {
			return lambda.PreconditionFailed()
		}
	}
	if err := s.removeStatement(ctx, store.KindPolicy, name, q, sid, "", "", lambda.NotFound(msgNoPolicy)); err != nil {
		return err
	}
	return s.bumpResourceRevision(ctx, name, q)
}

// GetPolicy returns the policy of a function, version or alias.
func (s *Service) GetPolicy(ctx context.Context, param, qualifier string) (*PolicyOutput, error) {
	name, q, err := s.policyTarget(ctx, param, qualifier)
	if err != nil {
		var le *lambda.Error
		if errors.As(err, &le) && le.Type == lambda.ErrTypeResourceNotFound {
			return nil, lambda.NotFound(msgPolicyMissing)
		}
		return nil, err
	}
	var p policy
	if _, err := s.d.Store.Record(ctx, store.KindPolicy, name, q, &p); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.NotFound(msgPolicyMissing)
	} else if err != nil {
		return nil, err
	}
	rev, err := s.resourceRevision(ctx, name, q)
	if err != nil {
		return nil, err
	}
	return &PolicyOutput{Policy: p.document(), RevisionId: rev}, nil
}

// AddLayerVersionPermissionInput is the AddLayerVersionPermission body.
type AddLayerVersionPermissionInput struct {
	StatementId    *string `json:"StatementId"`
	Action         *string `json:"Action"`
	Principal      *string `json:"Principal"`
	OrganizationId string  `json:"OrganizationId"`
}

// layerPolicyTarget checks that the layer version exists.
func (s *Service) layerPolicyTarget(ctx context.Context, layer, version string) (string, string, error) {
	name, err := s.layerName(layer)
	if err != nil {
		return "", "", err
	}
	n, err := parseLayerVersionNumber(version)
	if err != nil {
		return "", "", err
	}
	if _, _, err := s.layerVersion(ctx, name, n); err != nil {
		var le *lambda.Error
		if errors.As(err, &le) && le.Type == lambda.ErrTypeResourceNotFound {
			return "", "", lambda.NotFound("Layer version " + s.layerVersionARN(name, n) + " does not exist.")
		}
		return "", "", err
	}
	return name, strconv.FormatInt(n, 10), nil
}

// AddLayerVersionPermission adds a statement to a layer version's policy (201).
func (s *Service) AddLayerVersionPermission(ctx context.Context, layer, version, revisionID string, in *AddLayerVersionPermissionInput) (*StatementOutput, error) {
	var v lambda.Violations
	if in.StatementId == nil {
		v.Add("null", "statementId", "Member must not be null")
	} else if sid := *in.StatementId; len(sid) > 100 || !reStatementID.MatchString(sid) {
		v.Add(sid, "statementId", lambda.ConstraintPattern(patternStatementID))
	}
	if in.Action == nil {
		v.Add("null", "action", "Member must not be null")
	} else if *in.Action != patternLayerAction {
		v.Add(*in.Action, "action", lambda.ConstraintPattern(patternLayerAction))
	}
	if in.Principal == nil {
		v.Add("null", "principal", "Member must not be null")
	} else if !reLayerPrinc.MatchString(*in.Principal) {
		v.Add(*in.Principal, "principal", lambda.ConstraintPattern(patternLayerPrincipal))
	}
	if in.OrganizationId != "" && !reOrgID.MatchString(in.OrganizationId) {
		v.Add(in.OrganizationId, "organizationId", lambda.ConstraintPattern(patternOrgID))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, id, err := s.layerPolicyTarget(ctx, layer, version)
	if err != nil {
		return nil, err
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	principal := *in.Principal
	if reAccount.MatchString(principal) {
		principal = "arn:aws:iam::" + principal + ":root"
	}
	st := struct {
		Sid       string `json:"Sid"`
		Effect    string `json:"Effect"`
		Principal string `json:"Principal"`
		Action    string `json:"Action"`
		Resource  string `json:"Resource"`
		Condition any    `json:"Condition,omitempty"`
	}{Sid: *in.StatementId, Effect: "Allow", Principal: principal, Action: *in.Action, Resource: s.layerVersionARN(name, n)}
	if in.OrganizationId != "" {
		st.Condition = map[string]kv{"StringEquals": {{"aws:PrincipalOrgID", in.OrganizationId}}}
	}
	b, err := marshalNoEscape(st)
	if err != nil {
		return nil, err
	}
	rev, err := s.addStatement(ctx, store.KindLayerPolicy, name, id, *in.StatementId, revisionID, b, msgLayerPolicyRevision)
	if err != nil {
		return nil, err
	}
	return &StatementOutput{Statement: string(b), RevisionId: rev}, nil
}

// RemoveLayerVersionPermission removes a statement (204).
func (s *Service) RemoveLayerVersionPermission(ctx context.Context, layer, version, sid, revisionID string) error {
	name, id, err := s.layerPolicyTarget(ctx, layer, version)
	if err != nil {
		return err
	}
	return s.removeStatement(ctx, store.KindLayerPolicy, name, id, sid, revisionID, msgLayerPolicyRevision, lambda.NotFound(strings.Replace(msgSidMissingFmt, "%s", sid, 1)))
}

// GetLayerVersionPolicy returns a layer version's policy.
func (s *Service) GetLayerVersionPolicy(ctx context.Context, layer, version string) (*PolicyOutput, error) {
	name, id, err := s.layerPolicyTarget(ctx, layer, version)
	if err != nil {
		return nil, err
	}
	var p policy
	if _, err := s.d.Store.Record(ctx, store.KindLayerPolicy, name, id, &p); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.NotFound(msgNoPolicy)
	} else if err != nil {
		return nil, err
	}
	return &PolicyOutput{Policy: p.document(), RevisionId: p.RevisionID}, nil
}

// marshalNoEscape is json.Marshal without HTML escaping (AWS does not
// escape &, < or > in policies).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
