package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// family is the part of a prefix that names its kind of daemon: a prefix
// "lambdad-1f8cdeeb" (lambdad derives one per data dir) belongs to the
// family "lambdad-". Prefixes without a '-' have no family.
func family(prefix string) string {
	i := strings.LastIndexByte(prefix, '-')
	if i <= 0 {
		return ""
	}
	return prefix[:i+1]
}

// sweepOrphans removes what crashed daemons of the same family left
// behind under other prefixes — environments (killed), cgroups, state
// dirs — skipping every prefix whose lock a live daemon holds. Without it,
// a daemon that crashed on a data dir never used again would leak forever.
// It returns how many prefixes it cleaned.
func (n *Namespaced) sweepOrphans() (int, error) {
	fam := family(n.opts.Prefix)
	if fam == "" {
		return 0, nil
	}
	prefixes := map[string]bool{}
	stateParent := filepath.Dir(n.opts.StateDir)
	if ents, err := os.ReadDir(stateParent); err == nil {
		for _, e := range ents {
			if e.IsDir() && strings.HasPrefix(e.Name(), fam) {
				prefixes[e.Name()] = true
			}
		}
	}
	// Only prefixes with a state dir beside ours count: its lock tells a
	// crashed daemon from a live one. (cgroups of a prefix whose state dir
	// is elsewhere may belong to a live daemon and are left alone.)
	delete(prefixes, n.opts.Prefix)
	var errs []error
	cleaned := 0
	for p := range prefixes {
		if !prefixRE.MatchString(p) {
			continue
		}
		dir := filepath.Join(stateParent, p)
		lockPath := filepath.Join(dir, "lock")
		if recent(dir) || recent(lockPath) {
			// A daemon may be starting there: it creates the dir and the
			// lock file before it takes the lock.
			continue
		}
		lock, err := os.OpenFile(lockPath, os.O_RDWR, 0)
		if err != nil {
			continue // not a sandbox state dir
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close() // a live daemon owns it
			continue
		}
		if err := sweepPrefix(n, p); err != nil {
			errs = append(errs, err)
		} else {
			cleaned++
		}
		os.Remove(filepath.Join(dir, "root"))
		os.Remove(lockPath)
		lock.Close()
		os.Remove(dir)
	}
	return cleaned, errors.Join(errs...)
}

// recent reports whether path was modified in the last 30 seconds.
func recent(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) < 30*time.Second
}

// sweepPrefix kills and removes the environments and cgroups of prefix p.
func sweepPrefix(n *Namespaced, p string) error {
	d := &cgroupDriver{v2: n.cg.v2, parents: map[string]string{}}
	for k, parent := range n.cg.parents {
		d.parents[k] = filepath.Join(filepath.Dir(parent), p)
	}
	if _, err := d.sweep(); err != nil {
		return fmt.Errorf("sweep prefix %s: %w", p, err)
	}
	return d.teardown()
}
