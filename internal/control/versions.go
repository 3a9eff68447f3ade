package control

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"strconv"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// PublishVersionInput is the PublishVersion request body.
type PublishVersionInput struct {
	FunctionName string  `json:"-"`
	CodeSha256   string  `json:"CodeSha256"`
	Description  *string `json:"Description"`
	RevisionId   string  `json:"RevisionId"`
}

// ListVersionsOutput is the ListVersionsByFunction response body.
type ListVersionsOutput struct {
	Versions   []lambda.FunctionConfiguration `json:"Versions"`
	NextMarker string                         `json:"NextMarker,omitempty"`
}

var errUnchanged = errors.New("unchanged since the last published version")

// version returns the published version n of function name; a miss is
// AWS's "Function not found" with the qualified ARN.
func (s *Service) version(ctx context.Context, name, n string) (*lambda.Function, error) {
	var v lambda.Function
	if _, err := s.d.Store.Record(ctx, store.KindVersion, name, n, &v); errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.qarn(name, n))
	} else if err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *Service) qarn(name, q string) string {
	return lambda.QualifiedFunctionARN(s.d.Region, s.d.AccountID, name, q)
}

// versions returns every published version of name, ascending.
func (s *Service) versions(ctx context.Context, name string) ([]*lambda.Function, error) {
	es, err := s.d.Store.Records(ctx, store.KindVersion, name)
	if err != nil {
		return nil, err
	}
	out := make([]*lambda.Function, 0, len(es))
	for _, e := range es {
		var v lambda.Function
		if err := e.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, &v)
	}
	return out, nil
}

// sameVersion reports whether a published snapshot has the code and
// configuration of latest (what AWS compares before publishing again).
func sameVersion(published, latest *lambda.Function) bool {
	strip := func(c lambda.FunctionConfiguration) lambda.FunctionConfiguration {
		c = c.Clone()
		c.FunctionArn, c.Version, c.RevisionId, c.LastModified, c.Description = "", "", "", "", ""
		c.State, c.StateReason, c.StateReasonCode = "", "", ""
		c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = "", "", ""
		if len(c.Layers) == 0 {
			c.Layers = nil
		}
		if len(c.FileSystemConfigs) == 0 {
			c.FileSystemConfigs = nil
		}
		return c
	}
	return published.SourceDescription == latest.Config.Description && reflect.DeepEqual(strip(published.Config), strip(latest.Config))
}

// snapshot builds version n of fn's current $LATEST.
func (s *Service) snapshot(fn *lambda.Function, n int, description *string) *lambda.Function {
	v := fn.Clone()
	v.Tags, v.PublishRequested, v.ReservedConcurrency, v.LastVersion = nil, false, nil, 0
	v.SourceDescription = fn.Config.Description
	c := &v.Config
	c.Version = strconv.Itoa(n)
	c.FunctionArn = s.qarn(c.FunctionName, c.Version)
	c.RevisionId = newRevisionID()
	c.LastModified = s.now()
	if description != nil {
		c.Description = *description
	}
	if c.State != lambda.StatePending {
		c.State, c.StateReason, c.StateReasonCode = lambda.StateActive, "", ""
		c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = lambda.UpdateSuccessful, "", ""
	}
	if fn.Config.LastUpdateStatus == lambda.UpdateInProgress {
		// Published together with an update (Publish: true): the version
		// is provisioned with it.
		c.State, c.StateReason, c.StateReasonCode = lambda.StatePending, lambda.ReasonCreating, lambda.ReasonCodeCreating
		c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = "", "", ""
	}
	return v
}

// publish runs change on $LATEST inside its CAS loop, allocates the next
// version number and stores the snapshot. It returns the stored $LATEST
// and the version. Unless force is set, a $LATEST identical to the last
// published version is not published again: that version is returned and
// nothing is written.
func (s *Service) publish(ctx context.Context, name string, description *string, force bool, change func(fn *lambda.Function) error) (latest, version *lambda.Function, err error) {
	var existing, snap *lambda.Function
	fn, err := s.mutate(ctx, name, func(fn *lambda.Function) error {
		existing, snap = nil, nil
		if err := change(fn); err != nil {
			return err
		}
		if fn.LastVersion > 0 && !force {
			if last, err := s.version(ctx, name, strconv.Itoa(fn.LastVersion)); err == nil && sameVersion(last, fn) {
				existing = last
				return errUnchanged
			}
		}
		fn.LastVersion++
		snap = s.snapshot(fn, fn.LastVersion, description)
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil, existing, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.d.Store.CreateRecord(ctx, store.KindVersion, name, snap.Config.Version, snap); err != nil {
		return nil, nil, err
	}
	s.log.Info("version published", "function", name, "version", snap.Config.Version, "code_sha256", snap.Config.CodeSha256)
	return fn, snap, nil
}

// PublishVersion publishes $LATEST as a new immutable version (201), or
// returns the last version when nothing changed since it was published.
func (s *Service) PublishVersion(ctx context.Context, in *PublishVersionInput) (*lambda.FunctionConfiguration, error) {
	name, err := s.unqualifiedName(in.FunctionName)
	if err != nil {
		return nil, err
	}
	if in.Description != nil && len(*in.Description) > lambda.MaxDescriptionLen {
		var v lambda.Violations
		v.Add(*in.Description, "description", lambda.ConstraintMaxLen(lambda.MaxDescriptionLen))
		return nil, v.Err()
	}
	var out *lambda.Function
	// Preconditions are checked against the record the CAS loop reads.
	check := func(fn *lambda.Function) error {
		if err := s.checkUpdatable(fn, in.RevisionId); err != nil {
			return err
		}
		if in.CodeSha256 != "" && in.CodeSha256 != fn.Config.CodeSha256 {
			return lambda.InvalidParameter("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", in.CodeSha256, fn.Config.CodeSha256)
		}
		fn.Config.RevisionId = newRevisionID()
		return nil
	}
	_, out, err = s.publish(ctx, name, in.Description, false, check)
	if err != nil {
		return nil, err
	}
	return &out.Config, nil
}

// ListVersionsByFunction lists $LATEST then every version ascending, with
// qualified ARNs, as ListFunctions renders configurations.
func (s *Service) ListVersionsByFunction(ctx context.Context, param, marker, maxItems string) (*ListVersionsOutput, error) {
	ref, err := s.ResolveName(param, "")
	if err != nil {
		return nil, err
	}
	max, err := parseMaxItems(maxItems, 10000)
	if err != nil {
		return nil, err
	}
	fn, _, err := s.d.Store.Function(ctx, ref.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, lambda.FunctionNotFound(s.arn(ref.Name))
	} else if err != nil {
		return nil, err
	}
	vs, err := s.versions(ctx, ref.Name)
	if err != nil {
		return nil, err
	}
	latest := fn.Config.ListView()
	latest.FunctionArn = s.qarn(ref.Name, lambda.VersionLatest)
	all := []lambda.FunctionConfiguration{latest}
	for _, v := range vs {
		all = append(all, v.Config.ListView())
	}
	page, next, err := paginate(all, marker, max, func(c lambda.FunctionConfiguration) string { return c.Version })
	if err != nil {
		return nil, err
	}
	return &ListVersionsOutput{Versions: page, NextMarker: next}, nil
}

// parseMaxItems validates a MaxItems query value (1..limit) and returns
// the page size (at most 50, AWS's page cap).
func parseMaxItems(raw string, limit int) (int, error) {
	max := lambda.MaxListItems
	if raw == "" {
		return max, nil
	}
	n, err := strconv.Atoi(raw)
	var v lambda.Violations
	switch {
	case err != nil:
		return 0, lambda.InvalidParameter("Invalid value for MaxItems: %s", raw)
	case n < 1:
		v.Add(raw, "maxItems", lambda.ConstraintMin(1))
	case n > limit:
		v.Add(raw, "maxItems", lambda.ConstraintMax(limit))
	case n < max:
		max = n
	}
	return max, v.Err()
}

// paginate returns the page of items (sorted by key) after the item whose
// key is encoded in marker (opaque: base64url of the key) and the next
// marker.
func paginate[T any](items []T, marker string, max int, key func(T) string) ([]T, string, error) {
	start := 0
	if marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil || len(b) == 0 {
			return nil, "", lambda.InvalidParameter("Invalid marker: %s", marker)
		}
		after := string(b)
		start = -1
		for i, it := range items {
			if key(it) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			// The marker's item is gone (deleted between pages): resume
			// after where it would sort.
			start = len(items)
			for i, it := range items {
				if key(it) > after {
					start = i
					break
				}
			}
		}
	}
	page := make([]T, 0, max)
	for i := start; i < len(items); i++ {
		if len(page) == max {
			return page, base64.RawURLEncoding.EncodeToString([]byte(key(page[len(page)-1]))), nil
		}
		page = append(page, items[i])
	}
	return page, "", nil
}

// settleVersions gives versions published with a pending update the
// outcome of that update (called by provision).
func (s *Service) settleVersions(ctx context.Context, name string, outcome *lambda.FunctionConfiguration) {
	es, err := s.d.Store.Records(ctx, store.KindVersion, name)
	if err != nil {
		return
	}
	for _, e := range es {
		var v lambda.Function
		if e.Decode(&v) != nil || v.Config.State != lambda.StatePending || v.Config.CodeSha256 != outcome.CodeSha256 {
			continue
		}
		c := &v.Config
		c.State, c.StateReason, c.StateReasonCode = outcome.State, outcome.StateReason, outcome.StateReasonCode
		c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = outcome.LastUpdateStatus, outcome.LastUpdateStatusReason, outcome.LastUpdateStatusReasonCode
		c.RevisionId = newRevisionID()
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindVersion, name, e.ID, &v, e.Revision); err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrConflict) {
			s.log.Error("settle version", "function", name, "version", e.ID, "err", err)
		}
	}
}
