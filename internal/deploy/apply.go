package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lambdad/lambdad/sdk/client"
)

// ErrRefused reports that a plan has refusals: nothing was changed.
var ErrRefused = errors.New("the plan asks for what this server cannot do")

// Apply carries out p through c, step by step in plan order (functions to
// create, replace and update, then functions to delete), writing one
// progress line per step to progress. Code is uploaded only when its
// CodeSha256 differs from the deployed one, and only the changed
// properties are sent. Each function is waited for until it is Active with
// its last update Successful. Updates carry the RevisionId read while
// planning, so a function changed by someone else since fails the step
// (PreconditionFailedException) instead of being overwritten.
//
// Apply stops at the first failing step and returns its error; the steps
// before it stay applied (planning again shows what is left). A plan with
// refusals is not applied at all (ErrRefused).
func Apply(ctx context.Context, c *client.Client, p *Plan, progress io.Writer) error {
	if len(p.Refusals) > 0 {
		return fmt.Errorf("%w: %s", ErrRefused, strings.Join(p.Refusals, "; "))
	}
	for _, phase := range []func(*Step) bool{
		func(s *Step) bool { return s.Op == OpCreate || s.Op == OpReplace || s.Op == OpUpdate },
		func(s *Step) bool { return s.Op == OpDelete },
	} {
		for i := range p.Steps {
			s := &p.Steps[i]
			if !phase(s) {
				continue
			}
			start := time.Now()
			fmt.Fprintf(progress, "  %s %s %s …\n", opSymbols[s.Op], verb(s.Op), s.Name)
			if err := applyStep(ctx, c, s); err != nil {
				fmt.Fprintf(progress, "  ✗ %s %s failed: %v\n", s.Op, s.Name, err)
				return fmt.Errorf("%s function %s: %w", s.Op, s.Name, err)
			}
			fmt.Fprintf(progress, "  ✓ %s %s (%.1fs)\n", s.Name, pastTense(s.Op), time.Since(start).Seconds())
		}
	}
	return nil
}

func verb(op string) string {
	switch op {
	case OpCreate:
		return "creating"
	case OpUpdate:
		return "updating"
	case OpReplace:
		return "replacing"
	case OpDelete:
		return "deleting"
	}
	return op
}

func pastTense(op string) string {
	switch op {
	case OpCreate:
		return "created"
	case OpUpdate:
		return "updated"
	case OpReplace:
		return "replaced"
	case OpDelete:
		return "deleted"
	}
	return op
}

func applyStep(ctx context.Context, c *client.Client, s *Step) error {
	switch s.Op {
	case OpCreate:
		return create(ctx, c, s)
	case OpReplace:
		if err := c.DeleteFunction(ctx, s.Name); err != nil && !client.IsNotFound(err) {
			return err
		}
		return create(ctx, c, s)
	case OpUpdate:
		return update(ctx, c, s)
	case OpDelete:
		if err := c.DeleteFunction(ctx, s.Name); err != nil && !client.IsNotFound(err) {
			return err
		}
		return nil
	}
	return nil
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
