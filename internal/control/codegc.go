package control

import (
	"context"
	"fmt"
	"time"

	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Code garbage collection. Deployment packages are content-addressed and
// shared, so a package is deleted only when no function references it, it
// was last stored (or re-stored) longer than the grace period ago, and it was
// already seen unreferenced by a sweep at least one grace period earlier.
// The two conditions keep a package that is being re-used by an in-flight
// create or update (PutCode refreshes ModTime before the record is written)
// and packages an invocation may still be starting from.
// References are $LATEST's and every published version's code, the layer
// contents they use (even of deleted layer versions) and every stored
// layer version.

const (
	defaultCodeGCInterval = 10 * time.Minute
	defaultCodeGCGrace    = time.Hour
)

func (s *Service) gcLoop() {
	t := time.NewTicker(s.gcInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if n, err := s.CollectCode(s.ctx); err != nil {
				if s.ctx.Err() == nil {
					s.log.Error("collect code", "err", err)
				}
			} else if n > 0 {
				s.log.Info("code collected", "deleted", n)
			}
		}
	}
}

// CollectCode runs one garbage-collection sweep over stored packages and
// returns how many it deleted. It is safe to call concurrently with other
// operations; sweeps themselves are serialised.
func (s *Service) CollectCode(ctx context.Context) (int, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	objs, err := s.d.Store.CodeObjects(ctx)
	if err != nil {
		return 0, fmt.Errorf("collect code: %w", err)
	}
	fns, err := s.d.Store.Functions(ctx)
	if err != nil {
		return 0, fmt.Errorf("collect code: %w", err)
	}
	refs := make(map[string]bool, len(fns))
	ref := func(fn *lambda.Function) {
		refs[fn.Config.CodeSha256] = true
		for _, l := range fn.LayerCode {
			refs[l.CodeSha256] = true
		}
	}
	for _, fn := range fns {
		ref(fn)
	}
	vs, err := s.d.Store.Records(ctx, store.KindVersion, "")
	if err != nil {
		return 0, fmt.Errorf("collect code: %w", err)
	}
	for _, e := range vs {
		var v lambda.Function
		if err := e.Decode(&v); err != nil {
			return 0, fmt.Errorf("collect code: %w", err)
		}
		ref(&v)
	}
	ls, err := s.d.Store.Records(ctx, store.KindLayer, "")
	if err != nil {
		return 0, fmt.Errorf("collect code: %w", err)
	}
	for _, e := range ls {
		var l lambda.LayerVersion
		if err := e.Decode(&l); err != nil {
			return 0, fmt.Errorf("collect code: %w", err)
		}
		refs[l.CodeSha256] = true
	}
	now := s.d.Now()
	present := make(map[string]bool, len(objs))
	deleted := 0
	for _, o := range objs {
		present[o.Sha] = true
		if refs[o.Sha] {
			delete(s.gcSeen, o.Sha)
			continue
		}
		first, seen := s.gcSeen[o.Sha]
		if !seen {
			s.gcSeen[o.Sha] = now
			continue
		}
		if now.Sub(first) < s.gcGrace || now.Sub(o.ModTime) < s.gcGrace {
			continue
		}
		if err := s.d.Store.DeleteCode(ctx, o.Sha); err != nil {
			return deleted, fmt.Errorf("collect code: %w", err)
		}
		delete(s.gcSeen, o.Sha)
		deleted++
		s.log.Debug("code deleted", "code_sha256", o.Sha, "size", o.Size)
	}
	for sha := range s.gcSeen {
		if !present[sha] {
			delete(s.gcSeen, sha)
		}
	}
	return deleted, nil
}
