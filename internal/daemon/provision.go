package daemon

import (
	"context"
	"sync"

	"github.com/lambdad/lambdad/internal/control"
	"github.com/lambdad/lambdad/internal/invoke"
)

// provisioner keeps the invoker's provisioned environments in line with the
// stored provisioned-concurrency settings: at start-up and whenever a
// function's records change it pre-warms what is requested, releases what
// is no longer, and records the outcome (IN_PROGRESS → READY / FAILED).
type provisioner struct {
	d *Daemon

	mu      sync.Mutex
	pending map[string]bool // functions to reconcile ("" = all)
	kick    chan struct{}

	// Owned by the loop goroutine: what is provisioned, by function and
	// qualifier.
	current map[[2]string]*invoke.Version
}

func newProvisioner(d *Daemon) *provisioner {
	return &provisioner{d: d, pending: map[string]bool{"": true}, kick: make(chan struct{}, 1), current: map[[2]string]*invoke.Version{}}
}

// changed schedules a reconciliation of function.
func (p *provisioner) changed(function string) {
	p.mu.Lock()
	p.pending[function] = true
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *provisioner) loop(ctx context.Context) {
	select {
	case p.kick <- struct{}{}:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		}
		p.mu.Lock()
		todo := p.pending
		p.pending = map[string]bool{}
		p.mu.Unlock()
		p.reconcile(ctx, todo)
	}
}

func (p *provisioner) reconcile(ctx context.Context, todo map[string]bool) {
	d := p.d
	all := todo[""]
	cfgs, err := d.control.ProvisionedConfigs(ctx)
	if err != nil {
		d.log.Warn("list provisioned concurrency", "err", err)
		return
	}
	want := map[[2]string]bool{}
	for _, pc := range cfgs {
		k := [2]string{pc.Function, pc.Qualifier}
		want[k] = true
		if !all && !todo[pc.Function] {
			continue
		}
		n := pc.Config.RequestedProvisionedConcurrentExecutions
		t, err := d.control.ResolveInvokeTarget(ctx, pc.Function, pc.Qualifier)
		if err != nil {
			if pc.Config.Status != control.ProvisionedFailed {
				d.control.MarkProvisioned(ctx, pc.Function, pc.Qualifier, 0, err)
			}
			continue
		}
		v := &invoke.Version{Config: *t.Primary.Config, Layers: layerShas(t.Primary.Layers)}
		if old := p.current[k]; old != nil && old.Config.Version != v.Config.Version {
			d.invoker.Provision(ctx, old, 0)
		}
		p.current[k] = v
		err = d.invoker.Provision(ctx, v, n)
		allocated := n
		if err != nil {
			allocated = 0
			d.log.Warn("provision environments", "function", pc.Function, "qualifier", pc.Qualifier, "err", err)
		}
		if err == nil && pc.Config.Status == control.ProvisionedReady && pc.Config.AllocatedProvisionedConcurrentExecutions == n {
			// Already recorded; writing again would only trigger the watch.
			continue
		}
		if err := d.control.MarkProvisioned(ctx, pc.Function, pc.Qualifier, allocated, err); err != nil {
			d.log.Warn("record provisioned concurrency", "function", pc.Function, "err", err)
		}
	}
	for k, v := range p.current {
		if !want[k] {
			d.invoker.Provision(ctx, v, 0)
			delete(p.current, k)
		}
	}
}
