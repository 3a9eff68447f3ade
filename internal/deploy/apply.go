package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/lambdad/lambdad/sdk/client"
)

// ErrRefused reports that a plan has refusals: nothing was changed.
var ErrRefused = errors.New("the plan asks for what this server cannot do")

// Apply carries out p through c in dependency order, writing one progress
// line per step to progress:
//
//  1. layers to publish (a new version each);
//  2. functions to create, replace and update, with the new layer
//     versions' ARNs;
//  3. function-level settings: reserved concurrency, asynchronous
//     invocation (maximum event age, retries, destinations), tags, a
//     published version when versionFunctions is on and the function
//     changed, and provisioned concurrency on the "provisioned" alias of
//     the latest version;
//  4. functions to delete.
//
// Code is uploaded only when its CodeSha256 differs from the deployed one,
// and only the changed properties are sent. Each function is waited for
// until it is Active with its last update Successful. Updates carry the
// RevisionId read while planning, so a function changed by someone else
// since fails the step (PreconditionFailedException) instead of being
// overwritten.
//
// Within a phase, independent steps run up to applyParallelism at a time.
// After a failing step no further step starts; Apply waits for the running
// ones and returns the failures. Applied steps stay applied (planning again
// shows what is left). A plan with refusals is not applied at all
// (ErrRefused).
func Apply(ctx context.Context, c *client.Client, p *Plan, progress io.Writer) error {
	if len(p.Refusals) > 0 {
		return fmt.Errorf("%w: %s", ErrRefused, strings.Join(p.Refusals, "; "))
	}
	progress = &lineWriter{w: progress}
	run := func(s *Step, label string, f func() error) error {
		start := time.Now()
		fmt.Fprintf(progress, "  %s %s %s %s …\n", opSymbols[s.Op], label, s.Kind, s.Name)
		if err := f(); err != nil {
			fmt.Fprintf(progress, "  ✗ %s %s failed: %v\n", s.Kind, s.Name, err)
			return fmt.Errorf("%s %s %s: %w", label, s.Kind, s.Name, err)
		}
		fmt.Fprintf(progress, "  ✓ %s %s %s (%.1fs)\n", s.Kind, s.Name, done(label), time.Since(start).Seconds())
		return nil
	}

	// 1. Layers.
	var mu sync.Mutex
	published := map[string]string{} // placeholder → layer version ARN
	err := forEach(p.Steps, func(s *Step) bool { return s.Kind == KindLayer && s.Op != OpSame }, func(s *Step) error {
		return run(s, "publishing", func() error {
			lv, err := c.PublishLayerVersion(ctx, s.Name, client.PublishLayerVersionInput{
				ZipFile: s.artifact.Zip, Description: s.layer.Description, LicenseInfo: s.layer.LicenseInfo,
				CompatibleRuntimes: s.layer.CompatibleRuntimes, CompatibleArchitectures: s.layer.CompatibleArchitectures,
			})
			if err != nil {
				return err
			}
			mu.Lock()
			published[pendingLayer(s.Name)] = lv.LayerVersionArn
			mu.Unlock()
			return nil
		})
	})
	if err != nil {
		return err
	}

	// 2. Functions, with the new layer versions.
	isFunction := func(s *Step) bool { return s.Kind == KindFunction && s.want != nil && s.Op != OpSame }
	for i := range p.Steps {
		if s := &p.Steps[i]; isFunction(s) {
			for j, arn := range s.want.Layers {
				if real, ok := published[arn]; ok {
					s.want.Layers[j] = real
				}
			}
		}
	}
	err = forEach(p.Steps, isFunction, func(s *Step) error {
		switch s.Op {
		case OpCreate:
			return run(s, "creating", func() error { return create(ctx, c, s) })
		case OpReplace:
			return run(s, "replacing", func() error {
				if err := c.DeleteFunction(ctx, s.Name); err != nil && !client.IsNotFound(err) {
					return err
				}
				return create(ctx, c, s)
			})
		case OpUpdate:
			return run(s, "updating", func() error { return update(ctx, c, s) })
		}
		return nil
	})
	if err != nil {
		return err
	}

	// 3. Function-level settings (destinations need every function to exist).
	err = forEach(p.Steps, isFunction, func(s *Step) error { return applySettings(ctx, c, s, run, progress) })
	if err != nil {
		return err
	}

	// 4. Functions no longer in the file.
	return forEach(p.Steps, func(s *Step) bool { return s.Op == OpDelete }, func(s *Step) error {
		return run(s, "deleting", func() error {
			if err := c.DeleteFunction(ctx, s.Name); err != nil && !client.IsNotFound(err) {
				return err
			}
			return nil
		})
	})
}

// applyParallelism is how many steps of one phase Apply runs at a time.
const applyParallelism = 4

// forEach runs f on the selected steps, applyParallelism at a time, starting
// them in plan order; after a failure no further step starts. It waits for
// the running ones and returns the failures joined.
func forEach(steps []Step, selected func(*Step) bool, f func(*Step) error) error {
	sem := make(chan struct{}, applyParallelism)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(errs) > 0
	}
	for i := range steps {
		s := &steps[i]
		if !selected(s) {
			continue
		}
		sem <- struct{}{}
		if failed() {
			<-sem
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(s); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// lineWriter serialises writes, so progress lines of steps running at the
// same time do not mix.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// applySettings applies the function-level settings of s: reserved
// concurrency, asynchronous invocation, tags, a published version and
// provisioned concurrency, in that order.
func applySettings(ctx context.Context, c *client.Client, s *Step, run func(*Step, string, func() error) error, progress io.Writer) error {
	w := s.want
	rc := w.ReservedConcurrency
	if s.Op == OpUpdate && changed(s.Diffs, "reservedConcurrency") || s.Op != OpUpdate && rc != nil {
		if err := run(s, "setting concurrency of", func() error {
			if rc == nil {
				return c.DeleteFunctionConcurrency(ctx, s.Name)
			}
			return c.PutFunctionConcurrency(ctx, s.Name, *rc)
		}); err != nil {
			return err
		}
	}
	hasEIC := w.MaximumEventAge != nil || w.MaximumRetryAttempts != nil || w.OnSuccess != "" || w.OnFailure != ""
	if s.Op == OpUpdate && (changed(s.Diffs, "maximumEventAge") || changed(s.Diffs, "maximumRetryAttempts") || changed(s.Diffs, "destinations")) ||
		s.Op != OpUpdate && hasEIC {
		if err := run(s, "configuring asynchronous invocation of", func() error {
			if !hasEIC {
				return c.DeleteFunctionEventInvokeConfig(ctx, s.Name)
			}
			return putEventInvokeConfig(ctx, c, s.Name, w)
		}); err != nil {
			return err
		}
	}
	if s.Op == OpUpdate && changed(s.Diffs, "tags") {
		if err := run(s, "tagging", func() error { return retag(ctx, c, s) }); err != nil {
			return err
		}
	}
	version := ""
	if s.live != nil {
		version = s.live.LatestVersion
	}
	if s.Publish {
		start := time.Now()
		v, err := c.PublishVersion(ctx, s.Name, client.PublishVersionInput{CodeSha256: s.artifact.CodeSHA256})
		if err != nil {
			fmt.Fprintf(progress, "  ✗ function %s: publishing a version failed: %v\n", s.Name, err)
			return fmt.Errorf("publish a version of function %s: %w", s.Name, err)
		}
		version = v.Version
		fmt.Fprintf(progress, "  ✓ function %s version %s published (%.1fs)\n", s.Name, v.Version, time.Since(start).Seconds())
	}
	if s.Op == OpUpdate && (changed(s.Diffs, "provisionedConcurrency") || changed(s.Diffs, "aliases")) ||
		s.Op != OpUpdate && w.ProvisionedConcurrency > 0 {
		return run(s, "provisioning", func() error { return provision(ctx, c, s.Name, w.ProvisionedConcurrency, version) })
	}
	return nil
}

// done is the past form of a progress label.
func done(label string) string {
	switch label {
	case "creating":
		return "created"
	case "replacing":
		return "replaced"
	case "updating":
		return "updated"
	case "deleting":
		return "deleted"
	case "publishing":
		return "published"
	case "setting concurrency of":
		return "concurrency set"
	case "configuring asynchronous invocation of":
		return "asynchronous invocation configured"
	case "tagging":
		return "tagged"
	case "provisioning":
		return "provisioned"
	}
	return "done"
}

func create(ctx context.Context, c *client.Client, s *Step) error {
	w := s.want
	in := client.CreateFunctionInput{
		FunctionName:  w.Name,
		Runtime:       w.Runtime,
		Handler:       w.Handler,
		ZipFile:       s.artifact.Zip,
		Description:   w.Description,
		Timeout:       w.Timeout,
		MemorySize:    w.MemorySize,
		Environment:   w.Environment,
		Architectures: []string{w.Architecture},
		Layers:        w.Layers,
		Tags:          w.Tags,
	}
	extra := client.CreateFunctionExtra{EphemeralStorage: &client.EphemeralStorage{Size: w.EphemeralStorage}}
	if _, err := c.CreateFunctionWith(ctx, in, extra); err != nil {
		return err
	}
	f, err := c.WaitActive(ctx, w.Name)
	if err != nil {
		return err
	}
	if f.CodeSha256 != s.artifact.CodeSHA256 {
		return fmt.Errorf("server reports CodeSha256 %s, uploaded %s", f.CodeSha256, s.artifact.CodeSHA256)
	}
	return nil
}

func update(ctx context.Context, c *client.Client, s *Step) error {
	rev := s.live.Configuration.RevisionId
	if s.Code.Status == CodeChanged {
		f, err := c.UpdateFunctionCode(ctx, s.Name, client.UpdateFunctionCodeInput{ZipFile: s.artifact.Zip, RevisionId: rev})
		if err != nil {
			return fmt.Errorf("update code: %w", err)
		}
		if f, err = c.WaitUpdated(ctx, s.Name); err != nil {
			return err
		}
		if f.CodeSha256 != s.artifact.CodeSHA256 {
			return fmt.Errorf("server reports CodeSha256 %s, uploaded %s", f.CodeSha256, s.artifact.CodeSHA256)
		}
		rev = f.RevisionId
	}
	patch, ok := configurationPatch(s)
	if ok {
		patch.RevisionId = rev
		if _, err := c.PatchFunctionConfiguration(ctx, s.Name, patch); err != nil {
			return fmt.Errorf("update configuration: %w", err)
		}
		if _, err := c.WaitUpdated(ctx, s.Name); err != nil {
			return err
		}
	}
	_, err := c.WaitActive(ctx, s.Name)
	return err
}

// putEventInvokeConfig sets the asynchronous invocation configuration w
// asks for; destinations that are function names become their ARNs.
func putEventInvokeConfig(ctx context.Context, c *client.Client, name string, w *desired) error {
	in := client.EventInvokeConfig{MaximumEventAgeInSeconds: w.MaximumEventAge, MaximumRetryAttempts: w.MaximumRetryAttempts}
	arn := func(dest string) (*client.Destination, error) {
		if dest == "" {
			return nil, nil
		}
		if strings.HasPrefix(dest, "arn:") {
			return &client.Destination{Destination: dest}, nil
		}
		f, err := c.GetFunctionConfiguration(ctx, dest)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", dest, err)
		}
		return &client.Destination{Destination: f.FunctionArn}, nil
	}
	if w.OnSuccess != "" || w.OnFailure != "" {
		var dc client.DestinationConfig
		var err error
		if dc.OnSuccess, err = arn(w.OnSuccess); err != nil {
			return err
		}
		if dc.OnFailure, err = arn(w.OnFailure); err != nil {
			return err
		}
		in.DestinationConfig = &dc
	}
	_, err := c.PutFunctionEventInvokeConfig(ctx, name, in)
	return err
}

// provision points the "provisioned" alias of function name at version and
// keeps n environments provisioned on it; n 0 removes both.
func provision(ctx context.Context, c *client.Client, name string, n int, version string) error {
	if n == 0 {
		if err := c.DeleteProvisionedConcurrencyConfig(ctx, name, ProvisionedAlias); err != nil && !client.IsNotFound(err) {
			return err
		}
		if err := c.DeleteAlias(ctx, name, ProvisionedAlias); err != nil && !client.IsNotFound(err) {
			return err
		}
		return nil
	}
	if version == "" {
		return fmt.Errorf("no published version to provision")
	}
	a, err := c.GetAlias(ctx, name, ProvisionedAlias)
	switch {
	case client.IsNotFound(err):
		_, err = c.CreateAlias(ctx, name, ProvisionedAlias, client.AliasInput{FunctionVersion: version})
	case err == nil && a.FunctionVersion != version:
		_, err = c.UpdateAlias(ctx, name, ProvisionedAlias, client.AliasInput{FunctionVersion: version})
	}
	if err != nil {
		return fmt.Errorf("alias %s: %w", ProvisionedAlias, err)
	}
	pc, err := c.GetProvisionedConcurrencyConfig(ctx, name, ProvisionedAlias)
	if err != nil {
		return err
	}
	if pc == nil || pc.RequestedProvisionedConcurrentExecutions != n {
		if _, err := c.PutProvisionedConcurrencyConfig(ctx, name, ProvisionedAlias, n); err != nil {
			return fmt.Errorf("provisioned concurrency: %w", err)
		}
	}
	return nil
}

// retag applies the tag diffs of s.
func retag(ctx context.Context, c *client.Client, s *Step) error {
	arn := s.live.Configuration.FunctionArn
	set := map[string]string{}
	var remove []string
	for _, d := range s.Diffs {
		key, ok := strings.CutPrefix(d.Path, "tags.")
		if !ok {
			continue
		}
		if d.Kind == DiffDelete {
			remove = append(remove, key)
		} else {
			set[key] = s.want.Tags[key]
		}
	}
	if len(set) > 0 {
		if err := c.TagResource(ctx, arn, set); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		return c.UntagResource(ctx, arn, remove)
	}
	return nil
}

// configurationPatch is the UpdateFunctionConfiguration request for the
// configuration diffs of s (tags are not part of it); false when there is
// nothing to send.
func configurationPatch(s *Step) (client.ConfigurationPatch, bool) {
	w := s.want
	var p client.ConfigurationPatch
	ok := false
	set := func(path string, apply func()) {
		if changed(s.Diffs, path) {
			apply()
			ok = true
		}
	}
	set("handler", func() { p.Handler = &w.Handler })
	set("runtime", func() { p.Runtime = &w.Runtime })
	set("description", func() { p.Description = &w.Description })
	set("memorySize", func() { p.MemorySize = &w.MemorySize })
	set("timeout", func() { p.Timeout = &w.Timeout })
	set("ephemeralStorageSize", func() { p.EphemeralStorage = &client.EphemeralStorage{Size: w.EphemeralStorage} })
	set("environment", func() {
		env := w.Environment
		if env == nil {
			env = map[string]string{}
		}
		p.Environment = &env
	})
	set("layers", func() {
		l := w.Layers
		if l == nil {
			l = []string{}
		}
		p.Layers = &l
	})
	return p, ok
}

// Remove deletes the functions of st deployed for service and stage,
// writing one progress line per function, and returns their names. It
// stops at the first failure. Functions that are already gone count as
// deleted.
func Remove(ctx context.Context, c *client.Client, st *State, service, stage string, progress io.Writer) ([]string, error) {
	var done []string
	for _, f := range st.Owned(service, stage) {
		name := f.Configuration.FunctionName
		fmt.Fprintf(progress, "  - deleting %s …\n", name)
		if err := c.DeleteFunction(ctx, name); err != nil && !client.IsNotFound(err) {
			return done, fmt.Errorf("delete function %s: %w", name, err)
		}
		fmt.Fprintf(progress, "  ✓ %s deleted\n", name)
		done = append(done, name)
	}
	return done, nil
}

// RemoveLayers deletes the versions of the named layers that no function
// on the server uses any more (so a stage's removal leaves the versions
// other stages use), writing one progress line per version, and returns
// how many it deleted. Layers the server does not know are skipped.
func RemoveLayers(ctx context.Context, c *client.Client, names []string, progress io.Writer) (int, error) {
	if len(names) == 0 {
		return 0, nil
	}
	fns, err := c.ListFunctions(ctx)
	if err != nil {
		return 0, fmt.Errorf("list functions: %w", err)
	}
	used := map[string]bool{}
	for _, f := range fns {
		for _, l := range f.Layers {
			used[l.Arn] = true
		}
	}
	n := 0
	for _, name := range names {
		vs, err := c.ListLayerVersions(ctx, name)
		if client.IsNotFound(err) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("list versions of layer %s: %w", name, err)
		}
		for _, v := range vs {
			if used[v.LayerVersionArn] {
				fmt.Fprintf(progress, "  layer %s version %d is still used; kept\n", name, v.Version)
				continue
			}
			if err := c.DeleteLayerVersion(ctx, name, v.Version); err != nil && !client.IsNotFound(err) {
				return n, fmt.Errorf("delete layer %s version %d: %w", name, v.Version, err)
			}
			fmt.Fprintf(progress, "  ✓ layer %s version %d deleted\n", name, v.Version)
			n++
		}
	}
	return n, nil
}
