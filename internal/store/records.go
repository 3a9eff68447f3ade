package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Kind is a record kind that lives next to a function's $LATEST record (or,
// for layers, on its own) in the lambda_functions bucket, keyed
// "<kind>.<owner>.<id>" with owner and id escaped.
type Kind string

// Record kinds. Owner is the function name except for layers (the layer
// name); id is the version number, alias name, qualifier or layer version.
const (
	KindVersion     Kind = "ver"    // published versions: lambda.Function snapshots
	KindAlias       Kind = "alias"  // aliases: lambda.Alias
	KindEventConfig Kind = "eic"    // event invoke configs by qualifier
	KindProvisioned Kind = "pc"     // provisioned concurrency by qualifier
	KindPolicy      Kind = "policy" // resource policies by qualifier ("" = unqualified)
	KindLayer       Kind = "layer"  // layer versions: owner = layer name, id = number
	KindLayerSeq    Kind = "lseq"   // last layer version number: owner = layer name, id = "n"
	KindLayerPolicy Kind = "lpol"   // layer version policies: owner = layer name, id = number
)

// functionKinds are the kinds removed with their function and reported by
// WatchFunctions.
var functionKinds = []Kind{KindVersion, KindAlias, KindEventConfig, KindProvisioned, KindPolicy}

// Entry is one stored record.
type Entry struct {
	Owner, ID string
	Value     []byte
	Revision  uint64
}

// Decode unmarshals the record's JSON into v.
func (e Entry) Decode(v any) error {
	if err := json.Unmarshal(e.Value, v); err != nil {
		return fmt.Errorf("decode %s/%s: %w", e.Owner, e.ID, err)
	}
	return nil
}

// idToken escapes a record id; "" (the unqualified policy) becomes "=".
func idToken(id string) string {
	if id == "" {
		return "="
	}
	return EscapeKey(id)
}

func recordKey(kind Kind, owner, id string) string {
	return string(kind) + "." + EscapeKey(owner) + "." + idToken(id)
}

// Record reads the record kind/owner/id into v and returns its revision;
// ErrNotFound if absent.
func (s *Store) Record(ctx context.Context, kind Kind, owner, id string, v any) (uint64, error) {
	e, err := s.kv.Get(ctx, recordKey(kind, owner, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("get %s %s/%s: %w", kind, owner, id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("get %s %s/%s: %w", kind, owner, id, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("get %s %s/%s: decode: %w", kind, owner, id, err)
	}
	return e.Revision(), nil
}

// CreateRecord stores a new record; ErrExists if present.
func (s *Store) CreateRecord(ctx context.Context, kind Kind, owner, id string, v any) (uint64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("create %s %s/%s: encode: %w", kind, owner, id, err)
	}
	defer s.around(owner)()
	rev, err := s.kv.Create(ctx, recordKey(kind, owner, id), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("create %s %s/%s: %w", kind, owner, id, ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("create %s %s/%s: %w", kind, owner, id, err)
	}
	return rev, nil
}

// UpdateRecord replaces the record if its revision is still rev; otherwise
// ErrConflict.
func (s *Store) UpdateRecord(ctx context.Context, kind Kind, owner, id string, v any, rev uint64) (uint64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("update %s %s/%s: encode: %w", kind, owner, id, err)
	}
	defer s.around(owner)()
	nrev, err := s.kv.Update(ctx, recordKey(kind, owner, id), b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("update %s %s/%s: %w", kind, owner, id, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("update %s %s/%s: %w", kind, owner, id, err)
	}
	return nrev, nil
}

// DeleteRecord removes the record if its revision is still rev (0 = any).
// Deleting an absent record is not an error.
func (s *Store) DeleteRecord(ctx context.Context, kind Kind, owner, id string, rev uint64) error {
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	defer s.around(owner)()
	err := s.kv.Delete(ctx, recordKey(kind, owner, id), opts...)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("delete %s %s/%s: %w", kind, owner, id, ErrConflict)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete %s %s/%s: %w", kind, owner, id, err)
	}
	return nil
}

// Records lists the records of kind for owner ("" = every owner), sorted by
// owner then id (ids compare numerically when both are decimal).
func (s *Store) Records(ctx context.Context, kind Kind, owner string) ([]Entry, error) {
	filter := string(kind) + ".*.*"
	if owner != "" {
		filter = string(kind) + "." + EscapeKey(owner) + ".*"
	}
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list %s %s: %w", kind, owner, err)
	}
	defer w.Stop()
	var out []Entry
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list %s %s: %w", kind, owner, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("list %s %s: watcher stopped", kind, owner)
			}
			if e == nil {
				sort.Slice(out, func(i, j int) bool {
					if out[i].Owner != out[j].Owner {
						return out[i].Owner < out[j].Owner
					}
					return lessID(out[i].ID, out[j].ID)
				})
				return out, nil
			}
			parts := strings.SplitN(e.Key(), ".", 3)
			if len(parts) != 3 {
				continue
			}
			o, err1 := UnescapeKey(parts[1])
			id, err2 := "", error(nil)
			if parts[2] != "=" {
				id, err2 = UnescapeKey(parts[2])
			}
			if err1 != nil || err2 != nil {
				continue
			}
			out = append(out, Entry{Owner: o, ID: id, Value: append([]byte(nil), e.Value()...), Revision: e.Revision()})
		}
	}
}

func lessID(a, b string) bool {
	if isDecimal(a) && isDecimal(b) && len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DeleteFunctionRecords removes every versioned, alias, event-config,
// provisioned-concurrency and policy record of function name (called after
// its $LATEST record is deleted).
func (s *Store) DeleteFunctionRecords(ctx context.Context, name string) error {
	var errs []error
	for _, k := range functionKinds {
		es, err := s.Records(ctx, k, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range es {
			if err := s.DeleteRecord(ctx, k, name, e.ID, 0); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// functionOfKey maps a bucket key to the function it belongs to; ok is
// false for keys that belong to no function (layers).
func functionOfKey(key string) (string, bool) {
	if strings.HasPrefix(key, functionPrefix) {
		name, err := UnescapeKey(strings.TrimPrefix(key, functionPrefix))
		return name, err == nil
	}
	parts := strings.SplitN(key, ".", 3)
	if len(parts) != 3 {
		return "", false
	}
	for _, k := range functionKinds {
		if parts[0] == string(k) {
			name, err := UnescapeKey(parts[1])
			return name, err == nil
		}
	}
	return "", false
}
