package control

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Provisioned concurrency statuses.
const (
	ProvisionedInProgress = "IN_PROGRESS"
	ProvisionedReady      = "READY"
	ProvisionedFailed     = "FAILED"
)

const (
	msgOnlyFunctions       = "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN."
	msgBelowUnreservedFmt  = "Specified %s for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d]."
	msgAboveUnreservedFmt  = "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [%d]."
	msgPCNotFound          = "No Provisioned Concurrency Config found for this function"
	msgPCLatestPut         = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
	msgPCLatest            = "The function resource provided must be an alias or a published version."
	msgPCAliasOnVersion    = "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version"
	msgPCVersionOfAlias    = "Version is pointed by a Provisioned Concurrency alias"
	msgPCAboveReservedFmt  = "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"
	errTypePCNotFound      = "ProvisionedConcurrencyConfigNotFoundException"
	maxProvisionedListSize = 50
)

// Concurrency is the Put/GetFunctionConcurrency body.
type Concurrency struct {
	ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions,omitempty"`
}

// ProvisionedConcurrencyConfig is a provisioned-concurrency setting as
// stored and returned (FunctionArn only in ListProvisionedConcurrencyConfigs).
type ProvisionedConcurrencyConfig struct {
	FunctionArn                              string `json:"FunctionArn,omitempty"`
	RequestedProvisionedConcurrentExecutions int    `json:"RequestedProvisionedConcurrentExecutions"`
	AvailableProvisionedConcurrentExecutions int    `json:"AvailableProvisionedConcurrentExecutions"`
	AllocatedProvisionedConcurrentExecutions int    `json:"AllocatedProvisionedConcurrentExecutions"`
	Status                                   string `json:"Status"`
	StatusReason                             string `json:"StatusReason,omitempty"`
	LastModified                             string `json:"LastModified"`
}

// ListProvisionedOutput is the ListProvisionedConcurrencyConfigs body.
type ListProvisionedOutput struct {
	ProvisionedConcurrencyConfigs []ProvisionedConcurrencyConfig `json:"ProvisionedConcurrencyConfigs"`
	NextMarker                    string                         `json:"NextMarker,omitempty"`
}

// functionOnly parses FunctionName for operations on the function itself
// (reserved concurrency): a qualifier is refused with AWS's message.
func (s *Service) functionOnly(param string) (string, error) {
	ref, err := lambda.ParseFunctionName(param, false)
	if err != nil {
		return "", err
	}
	if ref, err = ref.Scope(s.d.Region, s.d.AccountID, ""); err != nil {
		return "", err
	}
	if ref.Qualifier != "" {
		return "", lambda.InvalidParameter(msgOnlyFunctions)
	}
	return ref.Name, nil
}

// committed sums the concurrency taken from the account's unreserved
// pool by every function except skip: its reserved concurrency, or for a
// function without one, its provisioned concurrency (except the setting
// skipFn/skipQualifier, which the caller is replacing).
func (s *Service) committed(ctx context.Context, skip, skipFn, skipQualifier string) (int, error) {
	fns, err := s.d.Store.Functions(ctx)
	if err != nil {
		return 0, err
	}
	reserved := map[string]bool{}
	total := 0
	for _, fn := range fns {
		if fn.ReservedConcurrency != nil {
			reserved[fn.Name()] = true
			if fn.Name() != skip {
				total += *fn.ReservedConcurrency
			}
		}
	}
	pcs, err := s.d.Store.Records(ctx, store.KindProvisioned, "")
	if err != nil {
		return 0, err
	}
	for _, e := range pcs {
		if reserved[e.Owner] || e.Owner == skip || (e.Owner == skipFn && e.ID == skipQualifier) {
			continue
		}
		var pc ProvisionedConcurrencyConfig
		if err := e.Decode(&pc); err != nil {
			return 0, err
		}
		total += pc.RequestedProvisionedConcurrentExecutions
	}
	return total, nil
}

// PutFunctionConcurrency sets the function's reserved concurrency. The
// account's unreserved concurrency must stay at least 100.
func (s *Service) PutFunctionConcurrency(ctx context.Context, param string, in *Concurrency) (*Concurrency, error) {
	name, err := s.functionOnly(param)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.qarn(name, lambda.VersionLatest))
	} else if err != nil {
		return nil, err
	}
	var v lambda.Violations
	if in.ReservedConcurrentExecutions == nil {
		v.Add("null", "reservedConcurrentExecutions", "Member must not be null")
	} else if *in.ReservedConcurrentExecutions < 0 {
		v.Add(strconv.Itoa(*in.ReservedConcurrentExecutions), "reservedConcurrentExecutions", lambda.ConstraintMin(0))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	n := *in.ReservedConcurrentExecutions
	s.concMu.Lock()
	defer s.concMu.Unlock()
	others, err := s.committed(ctx, name, "", "")
	if err != nil {
		return nil, err
	}
	if s.d.ConcurrencyLimit-others-n < lambda.MinUnreservedConcurrent {
		return nil, lambda.InvalidParameter(msgBelowUnreservedFmt, "ReservedConcurrentExecutions", lambda.MinUnreservedConcurrent)
	}
	if _, err := s.mutate(ctx, name, func(fn *lambda.Function) error {
		fn.ReservedConcurrency = &n
		return nil
	}); err != nil {
		return nil, err
	}
	s.log.Info("reserved concurrency set", "function", name, "reserved", n)
	return &Concurrency{ReservedConcurrentExecutions: &n}, nil
}

// GetFunctionConcurrency returns the reserved concurrency ({} if none).
func (s *Service) GetFunctionConcurrency(ctx context.Context, param string) (*Concurrency, error) {
	name, err := s.functionOnly(param)
	if err != nil {
		return nil, err
	}
	fn, _, err := s.d.Store.Function(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.qarn(name, lambda.VersionLatest))
	} else if err != nil {
		return nil, err
	}
	return &Concurrency{ReservedConcurrentExecutions: fn.ReservedConcurrency}, nil
}

// DeleteFunctionConcurrency removes the reserved concurrency.
func (s *Service) DeleteFunctionConcurrency(ctx context.Context, param string) error {
	name, err := s.functionOnly(param)
	if err != nil {
		return err
	}
	_, err = s.mutate(ctx, name, func(fn *lambda.Function) error {
		fn.ReservedConcurrency = nil
		return nil
	})
	return err
}

func pcNotFound() *lambda.Error {
	return &lambda.Error{Type: errTypePCNotFound, Status: http.StatusNotFound, Message: msgPCNotFound}
}

// provisionedTarget validates FunctionName+Qualifier for provisioned
// concurrency: the qualifier must name a published version or an alias
// that exists. It returns the bare name, the qualifier and the alias (nil
// for a version).
func (s *Service) provisionedTarget(ctx context.Context, param, qualifier string, put bool) (string, string, *lambda.Alias, error) {
	ref, err := lambda.ParseFunctionName(param, false)
	if err != nil {
		return "", "", nil, err
	}
	if ref, err = ref.Scope(s.d.Region, s.d.AccountID, qualifier); err != nil {
		return "", "", nil, err
	}
	q := ref.Qualifier
	if q == "" {
		var v lambda.Violations
		v.Add("null", "qualifier", "Member must not be null")
		return "", "", nil, v.Err()
	}
	if q == lambda.VersionLatest {
		if put {
			return "", "", nil, lambda.InvalidParameter(msgPCLatestPut)
		}
		return "", "", nil, lambda.InvalidParameter(msgPCLatest)
	}
	if isVersionNumber(q) {
		if _, _, err := s.d.Store.Function(ctx, ref.Name); errors.Is(err, store.ErrNotFound) {
			return "", "", nil, lambda.FunctionNotFound(s.qarn(ref.Name, q))
		} else if err != nil {
			return "", "", nil, err
		}
		if _, err := s.version(ctx, ref.Name, q); err != nil {
			return "", "", nil, err
		}
		return ref.Name, q, nil, nil
	}
	a, _, err := s.alias(ctx, ref.Name, q)
	if err != nil {
		return "", "", nil, err
	}
	return ref.Name, q, a, nil
}

// PutProvisionedConcurrencyInput is the PutProvisionedConcurrencyConfig body.
type PutProvisionedConcurrencyInput struct {
	ProvisionedConcurrentExecutions *int `json:"ProvisionedConcurrentExecutions"`
}

// PutProvisionedConcurrencyConfig stores a provisioned-concurrency
// setting with Status IN_PROGRESS (202). The invoker pre-warms the
// environments and reports the outcome with MarkProvisioned.
func (s *Service) PutProvisionedConcurrencyConfig(ctx context.Context, param, qualifier string, in *PutProvisionedConcurrencyInput) (*ProvisionedConcurrencyConfig, error) {
	var v lambda.Violations
	if in.ProvisionedConcurrentExecutions == nil {
		v.Add("null", "provisionedConcurrentExecutions", "Member must not be null")
	} else if *in.ProvisionedConcurrentExecutions < 1 {
		v.Add(strconv.Itoa(*in.ProvisionedConcurrentExecutions), "provisionedConcurrentExecutions", lambda.ConstraintMin(1))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	n := *in.ProvisionedConcurrentExecutions
	name, q, a, err := s.provisionedTarget(ctx, param, qualifier, true)
	if err != nil {
		return nil, err
	}
	s.concMu.Lock()
	defer s.concMu.Unlock()
	fn, _, err := s.d.Store.Function(ctx, name)
	if err != nil {
		return nil, err
	}
	existing, err := s.provisionedConfigs(ctx, name)
	if err != nil {
		return nil, err
	}
	aliases, err := s.aliases(ctx, name)
	if err != nil {
		return nil, err
	}
	if a != nil {
		if _, ok := existing[a.FunctionVersion]; ok {
			return nil, lambda.Conflict(msgPCAliasOnVersion)
		}
	} else {
		for _, al := range aliases {
			if _, ok := existing[al.Name]; ok && al.FunctionVersion == q {
				return nil, lambda.Conflict(msgPCVersionOfAlias)
			}
		}
	}
	if fn.ReservedConcurrency != nil {
		if n > *fn.ReservedConcurrency {
			return nil, lambda.InvalidParameter(msgPCAboveReservedFmt)
		}
	} else {
		taken, err := s.committed(ctx, "", name, q)
		if err != nil {
			return nil, err
		}
		unreserved := s.d.ConcurrencyLimit - taken
		if n > unreserved {
			return nil, lambda.InvalidParameter(msgAboveUnreservedFmt, unreserved)
		}
		if unreserved-n < lambda.MinUnreservedConcurrent {
			return nil, lambda.InvalidParameter(msgBelowUnreservedFmt, "ConcurrentExecutions", lambda.MinUnreservedConcurrent)
		}
	}
	pc := &ProvisionedConcurrencyConfig{
		RequestedProvisionedConcurrentExecutions: n,
		Status:                                   ProvisionedInProgress,
		LastModified:                             s.now(),
	}
	if _, err := s.putRecord(ctx, store.KindProvisioned, name, q, pc); err != nil {
		return nil, err
	}
	s.log.Info("provisioned concurrency requested", "function", name, "qualifier", q, "requested", n)
	return pc, nil
}

// putRecord creates or replaces a record regardless of its revision.
func (s *Service) putRecord(ctx context.Context, kind store.Kind, owner, id string, v any) (uint64, error) {
	for {
		var old map[string]any
		rev, err := s.d.Store.Record(ctx, kind, owner, id, &old)
		if errors.Is(err, store.ErrNotFound) {
			nrev, err := s.d.Store.CreateRecord(ctx, kind, owner, id, v)
			if errors.Is(err, store.ErrExists) {
				continue
			}
			return nrev, err
		}
		if err != nil {
			return 0, err
		}
		nrev, err := s.d.Store.UpdateRecord(ctx, kind, owner, id, v, rev)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return nrev, err
	}
}

func (s *Service) provisionedConfigs(ctx context.Context, name string) (map[string]*ProvisionedConcurrencyConfig, error) {
	es, err := s.d.Store.Records(ctx, store.KindProvisioned, name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ProvisionedConcurrencyConfig, len(es))
	for _, e := range es {
		var pc ProvisionedConcurrencyConfig
		if err := e.Decode(&pc); err != nil {
			return nil, err
		}
		out[e.ID] = &pc
	}
	return out, nil
}

// GetProvisionedConcurrencyConfig returns the setting of a version or alias.
func (s *Service) GetProvisionedConcurrencyConfig(ctx context.Context, param, qualifier string) (*ProvisionedConcurrencyConfig, error) {
	name, q, _, err := s.provisionedTarget(ctx, param, qualifier, false)
	if err != nil {
		return nil, err
	}
	var pc ProvisionedConcurrencyConfig
	if _, err := s.d.Store.Record(ctx, store.KindProvisioned, name, q, &pc); errors.Is(err, store.ErrNotFound) {
		return nil, pcNotFound()
	} else if err != nil {
		return nil, err
	}
	return &pc, nil
}

// DeleteProvisionedConcurrencyConfig removes the setting (204 even if none).
func (s *Service) DeleteProvisionedConcurrencyConfig(ctx context.Context, param, qualifier string) error {
	name, q, _, err := s.provisionedTarget(ctx, param, qualifier, false)
	if err != nil {
		return err
	}
	return s.d.Store.DeleteRecord(ctx, store.KindProvisioned, name, q, 0)
}

// ListProvisionedConcurrencyConfigs lists a function's settings.
func (s *Service) ListProvisionedConcurrencyConfigs(ctx context.Context, param, marker, maxItems string) (*ListProvisionedOutput, error) {
	name, err := s.aliasFunction(param)
	if err != nil {
		return nil, err
	}
	max, err := parseMaxItems(maxItems, maxProvisionedListSize)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.d.Store.Function(ctx, name); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(name))
	} else if err != nil {
		return nil, err
	}
	es, err := s.d.Store.Records(ctx, store.KindProvisioned, name)
	if err != nil {
		return nil, err
	}
	all := make([]ProvisionedConcurrencyConfig, 0, len(es))
	for _, e := range es {
		var pc ProvisionedConcurrencyConfig
		if err := e.Decode(&pc); err != nil {
			return nil, err
		}
		pc.FunctionArn = s.qarn(name, e.ID)
		all = append(all, pc)
	}
	page, next, err := paginate(all, marker, max, func(p ProvisionedConcurrencyConfig) string { return p.FunctionArn })
	if err != nil {
		return nil, err
	}
	return &ListProvisionedOutput{ProvisionedConcurrencyConfigs: page, NextMarker: next}, nil
}

// ProvisionedTarget is one provisioned-concurrency setting to keep warm.
type ProvisionedTarget struct {
	Function  string
	Qualifier string
	Config    ProvisionedConcurrencyConfig
}

// ProvisionedConfigs lists every provisioned-concurrency setting of every
// function, for the invoker to pre-warm (resolve each with
// ResolveInvokeTarget; WatchFunctions reports changes).
func (s *Service) ProvisionedConfigs(ctx context.Context) ([]ProvisionedTarget, error) {
	es, err := s.d.Store.Records(ctx, store.KindProvisioned, "")
	if err != nil {
		return nil, err
	}
	out := make([]ProvisionedTarget, 0, len(es))
	for _, e := range es {
		var pc ProvisionedConcurrencyConfig
		if err := e.Decode(&pc); err != nil {
			return nil, err
		}
		out = append(out, ProvisionedTarget{Function: e.Owner, Qualifier: e.ID, Config: pc})
	}
	return out, nil
}

// MarkProvisioned records the invoker's pre-warming outcome for a
// setting: allocated environments are initialised; failure (nil = ok)
// sets Status FAILED with its text, otherwise READY once allocated reaches
// the requested count. A setting deleted meanwhile is left deleted.
func (s *Service) MarkProvisioned(ctx context.Context, function, qualifier string, allocated int, failure error) error {
	for {
		var pc ProvisionedConcurrencyConfig
		rev, err := s.d.Store.Record(ctx, store.KindProvisioned, function, qualifier, &pc)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		pc.AllocatedProvisionedConcurrentExecutions = allocated
		pc.AvailableProvisionedConcurrentExecutions = allocated
		switch {
		case failure != nil:
			pc.Status, pc.StatusReason = ProvisionedFailed, failure.Error()
		case allocated >= pc.RequestedProvisionedConcurrentExecutions:
			pc.Status, pc.StatusReason = ProvisionedReady, ""
		default:
			pc.Status, pc.StatusReason = ProvisionedInProgress, ""
		}
		pc.LastModified = s.now()
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindProvisioned, function, qualifier, &pc, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return err
		}
		return nil
	}
}
