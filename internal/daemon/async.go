package daemon

import (
	"context"
	"errors"
	"sync"

	"github.com/lambdad/lambdad/internal/async"
	"github.com/lambdad/lambdad/internal/invoke"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// dispatcher is the API's Invoker: Event invocations go to the durable
// async queue, the rest to the invoker.
type dispatcher struct {
	sync  *invoke.Invoker
	async *async.Service
}

func (d dispatcher) Invoke(ctx context.Context, req *lambda.InvokeRequest) (*lambda.InvokeResult, error) {
	if req.InvocationType == "Event" {
		return d.async.Enqueue(ctx, req)
	}
	return d.sync.Invoke(ctx, req)
}

// eventInvokeConfigs serves the async workers' per-delivery config reads
// from a cache that the store watch invalidates.
type eventInvokeConfigs struct {
	store *store.Store
	// read returns the stored event invoke config of function+qualifier, or
	// nil, nil when none is set.
	read func(ctx context.Context, function, qualifier string) (*async.EventInvokeConfig, error)

	mu    sync.Mutex
	cache map[[2]string]*async.EventInvokeConfig
	dlq   map[string]string
}

var _ async.ConfigSource = (*eventInvokeConfigs)(nil)

func newEventInvokeConfigs(st *store.Store, read func(ctx context.Context, function, qualifier string) (*async.EventInvokeConfig, error)) *eventInvokeConfigs {
	return &eventInvokeConfigs{store: st, read: read, cache: map[[2]string]*async.EventInvokeConfig{}, dlq: map[string]string{}}
}

func (c *eventInvokeConfigs) EventInvokeConfig(ctx context.Context, function, qualifier string) (*async.EventInvokeConfig, error) {
	if c.read == nil {
		return nil, nil
	}
	k := [2]string{function, qualifier}
	c.mu.Lock()
	v, ok := c.cache[k]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := c.read(ctx, function, qualifier)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.cache[k] = v
	c.mu.Unlock()
	return v, nil
}

func (c *eventInvokeConfigs) DeadLetterTarget(ctx context.Context, function string) (string, error) {
	c.mu.Lock()
	v, ok := c.dlq[function]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	fn, _, err := c.store.Function(ctx, function)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fn.Config.DeadLetterConfig != nil {
		v = fn.Config.DeadLetterConfig.TargetArn
	}
	c.mu.Lock()
	c.dlq[function] = v
	c.mu.Unlock()
	return v, nil
}

// invalidate forgets everything cached about function.
func (c *eventInvokeConfigs) invalidate(function string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.dlq, function)
	for k := range c.cache {
		if k[0] == function {
			delete(c.cache, k)
		}
	}
}
