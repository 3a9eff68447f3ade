// Package store keeps lambdad's records and blobs on the JetStream backbone:
// function records in the KV bucket "lambda_functions" (one JSON document per
// key, every write a revision compare-and-swap so concurrent updates never
// lose writes) and deployment packages in the object store "lambda_code",
// content-addressed by CodeSha256 so identical zips are stored once.
//
// Key layout of lambda_functions (one token per name, names escaped):
//
//	fn.<name>                 $LATEST record (lambda.Function)
//	ver.<name>.<version>      published versions (lambda.Function snapshots)
//	alias.<name>.<alias>      aliases (lambda.Alias)
//	eic.<name>.<qualifier>    event invoke configs
//	pc.<name>.<qualifier>     provisioned concurrency configs
//	policy.<name>.<qualifier> resource policies ("=" = unqualified)
//	layer.<layer>.<n>         layer versions (lambda.LayerVersion)
//	lseq.<layer>.n            last layer version number (never reused)
//	lpol.<layer>.<n>          layer version policies
//
// Reserved concurrency, tags and the version counter live in fn.<name>.
// Layer zips share the code object store with deployment packages.
//
// It imports the standard library, nats.go/jetstream and internal/lambda.
package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/lambdad/lambdad/internal/lambda"
)

// Bucket names.
const (
	FunctionsBucket = "lambda_functions"
	CodeBucket      = "lambda_code"
)

const functionPrefix = "fn."

// Errors returned by Store methods (wrapped with the operation).
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict reports a lost compare-and-swap: the record changed since
	// the revision the caller read.
	ErrConflict = errors.New("revision conflict")
)

// Store is the record and blob store. It is safe for concurrent use.
type Store struct {
	kv    jetstream.KeyValue
	code  jetstream.ObjectStore
	hooks WriteHooks
}

// WriteHooks run synchronously around every write of a record that belongs
// to a function (Before just before it, After once it is done or failed),
// with the function's name. In-process caches use them to stay exact: a
// reader that saw a write's result can never be served what preceded it.
// Other processes learn of writes through WatchFunctions.
type WriteHooks struct {
	Before, After func(function string)
}

// SetWriteHooks installs h; call it before the Store is shared.
func (s *Store) SetWriteHooks(h WriteHooks) { s.hooks = h }

// around brackets a write of function name with the hooks.
func (s *Store) around(name string) func() {
	if s.hooks.Before != nil {
		s.hooks.Before(name)
	}
	return func() {
		if s.hooks.After != nil {
			s.hooks.After(name)
		}
	}
}

// New opens (creating if needed) the buckets on js.
func New(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      FunctionsBucket,
		Description: "lambdad function records",
		History:     5,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("open store: kv %s: %w", FunctionsBucket, err)
	}
	code, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      CodeBucket,
		Description: "lambdad deployment packages by CodeSha256",
		Storage:     jetstream.FileStorage,
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		code, err = js.ObjectStore(ctx, CodeBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("open store: object store %s: %w", CodeBucket, err)
	}
	return &Store{kv: kv, code: code}, nil
}

// EscapeKey turns a name into one KV key token: bytes outside
// [A-Za-z0-9_-] become "=XX" (hex). Function names never need it, but
// aliases and future record kinds may.
func EscapeKey(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

// UnescapeKey reverses EscapeKey.
func UnescapeKey(tok string) (string, error) {
	if !strings.Contains(tok, "=") {
		return tok, nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '=' {
			b.WriteByte(tok[i])
			continue
		}
		if i+3 > len(tok) {
			return "", fmt.Errorf("unescape key %q: truncated escape", tok)
		}
		c, err := strconv.ParseUint(tok[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("unescape key %q: %w", tok, err)
		}
		b.WriteByte(byte(c))
		i += 2
	}
	return b.String(), nil
}

func functionKey(name string) string { return functionPrefix + EscapeKey(name) }

// Function returns the record of name and its KV revision (for CAS).
func (s *Store) Function(ctx context.Context, name string) (*lambda.Function, uint64, error) {
	e, err := s.kv.Get(ctx, functionKey(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, fmt.Errorf("get function %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get function %s: %w", name, err)
	}
	fn, err := decodeFunction(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("get function %s: %w", name, err)
	}
	return fn, e.Revision(), nil
}

func decodeFunction(b []byte) (*lambda.Function, error) {
	var fn lambda.Function
	if err := json.Unmarshal(b, &fn); err != nil {
		return nil, fmt.Errorf("decode function record: %w", err)
	}
	return &fn, nil
}

// CreateFunction stores a new record; ErrExists if the name is taken.
func (s *Store) CreateFunction(ctx context.Context, fn *lambda.Function) (uint64, error) {
	b, err := json.Marshal(fn)
	if err != nil {
		return 0, fmt.Errorf("create function %s: encode: %w", fn.Name(), err)
	}
	defer s.around(fn.Name())()
	rev, err := s.kv.Create(ctx, functionKey(fn.Name()), b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("create function %s: %w", fn.Name(), ErrExists)
	}
	if err != nil {
		return 0, fmt.Errorf("create function %s: %w", fn.Name(), err)
	}
	return rev, nil
}

// UpdateFunction replaces the record if its KV revision is still rev;
// otherwise ErrConflict (re-read and retry) or ErrNotFound.
func (s *Store) UpdateFunction(ctx context.Context, fn *lambda.Function, rev uint64) (uint64, error) {
	b, err := json.Marshal(fn)
	if err != nil {
		return 0, fmt.Errorf("update function %s: encode: %w", fn.Name(), err)
	}
	defer s.around(fn.Name())()
	nrev, err := s.kv.Update(ctx, functionKey(fn.Name()), b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("update function %s: %w", fn.Name(), ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("update function %s: %w", fn.Name(), err)
	}
	return nrev, nil
}

// DeleteFunction removes the record if its revision is still rev (0 = any).
func (s *Store) DeleteFunction(ctx context.Context, name string, rev uint64) error {
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	defer s.around(name)()
	err := s.kv.Delete(ctx, functionKey(name), opts...)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("delete function %s: %w", name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	return nil
}

// Functions returns every function record sorted by name. It reads the
// bucket with one watcher (one consumer, values streamed) rather than a get
// per key.
func (s *Store) Functions(ctx context.Context) ([]*lambda.Function, error) {
	w, err := s.kv.Watch(ctx, functionPrefix+"*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	defer w.Stop()
	var fns []*lambda.Function
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list functions: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("list functions: watcher stopped")
			}
			if e == nil { // initial values delivered
				sort.Slice(fns, func(i, j int) bool { return fns[i].Name() < fns[j].Name() })
				return fns, nil
			}
			fn, err := decodeFunction(e.Value())
			if err != nil {
				return nil, fmt.Errorf("list functions: %s: %w", e.Key(), err)
			}
			fns = append(fns, fn)
		}
	}
}

// CodeSha256 is Lambda's CodeSha256 of a deployment package: standard
// base64 of the SHA-256 of the zip bytes.
func CodeSha256(zip []byte) string {
	sum := sha256.Sum256(zip)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// PutCode stores zip under its CodeSha256 (once: an identical package is
// not stored again) and returns the sha.
func (s *Store) PutCode(ctx context.Context, zip []byte) (string, error) {
	sha := CodeSha256(zip)
	if info, err := s.code.GetInfo(ctx, sha); err == nil && info.Size == uint64(len(zip)) {
		// Refresh ModTime so a garbage collector's grace period restarts:
		// the caller is about to reference this object again.
		if err := s.code.UpdateMeta(ctx, sha, jetstream.ObjectMeta{Name: sha}); err != nil {
			return "", fmt.Errorf("put code %s: touch: %w", sha, err)
		}
		return sha, nil
	} else if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return "", fmt.Errorf("put code %s: %w", sha, err)
	}
	if _, err := s.code.Put(ctx, jetstream.ObjectMeta{Name: sha}, bytes.NewReader(zip)); err != nil {
		return "", fmt.Errorf("put code %s: %w", sha, err)
	}
	return sha, nil
}

// Code returns the deployment package with CodeSha256 sha; ErrNotFound if
// absent. The object store verifies the content digest on read.
func (s *Store) Code(ctx context.Context, sha string) ([]byte, error) {
	b, err := s.code.GetBytes(ctx, sha)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("get code %s: %w", sha, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get code %s: %w", sha, err)
	}
	return b, nil
}

// CodeObject describes one stored deployment package.
type CodeObject struct {
	Sha     string
	Size    uint64
	ModTime time.Time // last put (or re-put of identical content)
}

// CodeObjects lists every stored deployment package.
func (s *Store) CodeObjects(ctx context.Context) ([]CodeObject, error) {
	infos, err := s.code.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list code: %w", err)
	}
	out := make([]CodeObject, 0, len(infos))
	for _, i := range infos {
		out = append(out, CodeObject{Sha: i.Name, Size: i.Size, ModTime: i.ModTime})
	}
	return out, nil
}

// DeleteCode removes the package with CodeSha256 sha (absent is not an error).
func (s *Store) DeleteCode(ctx context.Context, sha string) error {
	if err := s.code.Delete(ctx, sha); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete code %s: %w", sha, err)
	}
	return nil
}

// WatchFunctions streams the name of every function whose $LATEST record or
// any of its other records (versions, aliases, event invoke configs,
// provisioned concurrency, policies) is created, updated or deleted after
// the call. The channel closes when ctx ends or the watch
// fails; callers owning a cache should then drop it and re-watch.
func (s *Store) WatchFunctions(ctx context.Context) (<-chan string, error) {
	w, err := s.kv.Watch(ctx, ">", jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("watch functions: %w", err)
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					continue
				}
				name, ok := functionOfKey(e.Key())
				if !ok {
					continue
				}
				select {
				case out <- name:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
