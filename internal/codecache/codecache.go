// Package codecache unpacks deployment packages once per CodeSha256 into a
// local, read-only directory tree shared by every execution environment of
// every function that uses the same code. Concurrent requests for the same
// sha wait for one extraction; a finished tree is found again after a
// restart.
//
// It imports internal/codezip.
package codecache

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/lambdad/lambdad/internal/codezip"
)

// Fetch returns the zip bytes of a CodeSha256.
type Fetch func(ctx context.Context, sha string) ([]byte, error)

// Cache maps CodeSha256 to unpacked directories under a root.
type Cache struct {
	root  string
	fetch Fetch

	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	dir  string
	err  error
}

// New returns a cache rooted at root (created if missing).
func New(root string, fetch Fetch) (*Cache, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("code cache %s: %w", root, err)
	}
	// Temporary trees of extractions a crash interrupted.
	if stale, err := filepath.Glob(filepath.Join(root, ".extract-*")); err == nil {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	return &Cache{root: root, fetch: fetch, inflight: map[string]*call{}}, nil
}

// dirName turns a base64 CodeSha256 into a file-name-safe token.
func dirName(sha string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(sha)
	if err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("invalid CodeSha256 %q", sha)
	}
	return hex.EncodeToString(raw), nil
}

// Dir returns the unpacked tree of sha, extracting it on first use. The
// tree must be treated as read-only.
func (c *Cache) Dir(ctx context.Context, sha string) (string, error) {
	name, err := dirName(sha)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.root, name)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	c.mu.Lock()
	if cl, ok := c.inflight[sha]; ok {
		c.mu.Unlock()
		select {
		case <-cl.done:
			return cl.dir, cl.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[sha] = cl
	c.mu.Unlock()

	cl.dir, cl.err = c.extract(ctx, sha, dir)
	close(cl.done)
	c.mu.Lock()
	delete(c.inflight, sha)
	c.mu.Unlock()
	return cl.dir, cl.err
}

func (c *Cache) extract(ctx context.Context, sha, dir string) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	zip, err := c.fetch(ctx, sha)
	if err != nil {
		return "", fmt.Errorf("fetch code %s: %w", sha, err)
	}
	sum := sha256.Sum256(zip)
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != sha {
		return "", fmt.Errorf("code %s: stored zip hashes to %s", sha, got)
	}
	// codezip.Extract writes into a temporary directory and renames it into
	// place, so a crash never leaves a half-written tree at dir.
	if err := codezip.Extract(zip, dir); err != nil && !errors.Is(err, codezip.ErrExists) {
		return "", fmt.Errorf("unpack code %s: %w", sha, err)
	}
	if err := readOnly(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// readOnly removes write permission from every file and directory of the
// tree, so no environment can change code another one runs.
func readOnly(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return os.Chmod(p, fi.Mode().Perm()&^0o222)
	})
}

// Remove deletes the tree of sha (e.g. after its last function is gone).
func (c *Cache) Remove(sha string) error {
	name, err := dirName(sha)
	if err != nil {
		return err
	}
	dir := filepath.Join(c.root, name)
	// Restore write permission on directories so RemoveAll can unlink.
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
