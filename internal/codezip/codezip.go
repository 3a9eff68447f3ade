// Package codezip validates uploaded deployment packages (zip files) and
// unpacks them safely: entries escaping the root, absolute paths, symlinks
// pointing outside the root, entries beneath symlinks, size lies (zip bombs)
// and archives above Lambda's size limits are rejected with AWS's
// InvalidParameterValueException; extraction writes into a temporary
// directory and renames it into place, so nothing is half-written.
//
// It imports the standard library and internal/lambda only.
package codezip

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lambdad/lambdad/internal/lambda"
)

// Limits bounds what an archive may contain.
type Limits struct {
	MaxZipped   int64 // compressed archive size in bytes
	MaxUnzipped int64 // total uncompressed size in bytes
}

// DefaultLimits are Lambda's: 50 MB zipped direct upload, 250 MB unzipped.
var DefaultLimits = Limits{MaxZipped: lambda.MaxZippedCodeBytes, MaxUnzipped: lambda.MaxUnzippedCodeBytes}

// maxSymlinkTarget bounds a symlink entry's content.
const maxSymlinkTarget = 4096

// Info describes a valid archive.
type Info struct {
	Files        int   // regular files
	UnzippedSize int64 // total uncompressed bytes of regular files and links
}

// errCorrupt wraps every structural problem; its client-visible text is AWS's.
func errUnzip(format string, args ...any) error {
	return fmt.Errorf("%w: %s", lambda.InvalidParameter(lambda.MsgCouldNotUnzip), fmt.Sprintf(format, args...))
}

func errUnzippedTooLarge(limit int64) error {
	return lambda.InvalidParameter("Unzipped size must be smaller than %d bytes", limit)
}

// Validate checks b against DefaultLimits by fully decompressing it (CRC and
// declared sizes are verified) and returns its Info. Errors are
// *lambda.Error (InvalidParameterValueException, or RequestEntityTooLarge for
// an archive above the zipped limit), possibly wrapped with detail.
func Validate(b []byte) (Info, error) { return DefaultLimits.Validate(b) }

// Validate checks b against l; see the package-level Validate.
func (l Limits) Validate(b []byte) (Info, error) {
	entries, err := l.scan(b)
	if err != nil {
		return Info{}, err
	}
	var info Info
	for _, e := range entries {
		if e.f.Mode()&fs.ModeSymlink != 0 {
			target, err := symlinkTarget(e.f, e.name)
			if err != nil {
				return Info{}, err
			}
			info.UnzippedSize += int64(len(target))
			continue
		}
		n, err := l.copyEntry(io.Discard, e.f, l.MaxUnzipped-info.UnzippedSize)
		info.UnzippedSize += n
		if err != nil {
			return Info{}, err
		}
		if e.f.Mode().IsRegular() {
			info.Files++
		}
	}
	return info, nil
}

type entry struct {
	f    *zip.File
	name string // cleaned, relative, slash-separated
}

// scan opens the archive and checks names, types and declared sizes without
// decompressing regular files.
func (l Limits) scan(b []byte) ([]entry, error) {
	if int64(len(b)) > l.MaxZipped {
		return nil, lambda.RequestEntityTooLarge(fmt.Sprintf("Zipped size must be smaller than %d bytes", l.MaxZipped))
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, errUnzip("open archive: %v", err)
	}
	var (
		entries  []entry
		declared uint64
		symlinks = map[string]bool{}
	)
	for _, f := range zr.File {
		name, err := cleanName(f.Name)
		if err != nil {
			return nil, err
		}
		mode := f.Mode()
		switch {
		case mode.IsDir(), mode.IsRegular():
		case mode&fs.ModeSymlink != 0:
			if f.UncompressedSize64 > maxSymlinkTarget {
				return nil, errUnzip("symlink %q: target too long", f.Name)
			}
			symlinks[name] = true
		default:
			return nil, errUnzip("entry %q: unsupported file type %v", f.Name, mode.Type())
		}
		declared += f.UncompressedSize64
		if declared > uint64(l.MaxUnzipped) {
			return nil, errUnzippedTooLarge(l.MaxUnzipped)
		}
		if name == "" { // the root itself
			continue
		}
		entries = append(entries, entry{f: f, name: name})
	}
	// No entry may live beneath a symlink: extraction would write through it.
	targets := map[string]string{}
	for _, e := range entries {
		for dir := path.Dir(e.name); dir != "."; dir = path.Dir(dir) {
			if symlinks[dir] {
				return nil, errUnzip("entry %q lies beneath symlink %q", e.f.Name, dir)
			}
		}
		if symlinks[e.name] {
			t, err := symlinkTarget(e.f, e.name)
			if err != nil {
				return nil, err
			}
			targets[e.name] = t
		}
	}
	// Resolve every link through the others (x -> d/e, d/e -> .., y -> x/..).
	for name, t := range targets {
		if !staysInside(targets, path.Dir(name), t) {
			return nil, errUnzip("symlink %q resolves outside the root", name)
		}
	}
	return entries, nil
}

// maxLinkHops bounds symlink resolution like the kernel's ELOOP limit.
const maxLinkHops = 40

// staysInside resolves target relative to dir (both relative to the root)
// following the archive's own symlinks, and reports whether resolution never
// climbs above the root. Loops count as escaping.
func staysInside(links map[string]string, dir, target string) bool {
	var cur []string
	if dir != "." {
		cur = strings.Split(dir, "/")
	}
	queue := strings.Split(target, "/")
	hops := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return false
			}
			cur = cur[:len(cur)-1]
			continue
		}
		p := strings.Join(append(append([]string(nil), cur...), c), "/")
		t, ok := links[p]
		if !ok {
			cur = append(cur, c)
			continue
		}
		if hops++; hops > maxLinkHops || strings.HasPrefix(t, "/") {
			return false
		}
		queue = append(strings.Split(t, "/"), queue...)
	}
	return true
}

// cleanName returns name as a clean relative path or rejects it.
func cleanName(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", errUnzip("entry with an invalid name %q", name)
	}
	if strings.Contains(name, `\`) {
		name = strings.ReplaceAll(name, `\`, "/")
	}
	if strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':') {
		return "", errUnzip("entry %q has an absolute path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", errUnzip("entry %q escapes the root", name)
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// copyEntry decompresses f into w, failing if it yields more than its
// declared size or more than budget bytes. Symlink targets are checked to stay
// within the root.
func (l Limits) copyEntry(w io.Writer, f *zip.File, budget int64) (int64, error) {
	if f.Mode().IsDir() {
		return 0, nil
	}
	rc, err := f.Open()
	if err != nil {
		return 0, errUnzip("open entry %q: %v", f.Name, err)
	}
	defer rc.Close()
	limit := int64(f.UncompressedSize64)
	if limit > budget {
		return 0, errUnzippedTooLarge(l.MaxUnzipped)
	}
	n, err := io.Copy(w, io.LimitReader(rc, limit+1))
	if err != nil {
		return n, errUnzip("read entry %q: %v", f.Name, err)
	}
	if n != limit {
		return n, errUnzip("entry %q: declared size %d, actual %d", f.Name, limit, n)
	}
	return n, nil
}

func symlinkTarget(f *zip.File, name string) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", errUnzip("open symlink %q: %v", f.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return "", errUnzip("read symlink %q: %v", f.Name, err)
	}
	target := string(b)
	if target == "" || len(b) > maxSymlinkTarget || strings.ContainsRune(target, 0) {
		return "", errUnzip("symlink %q has an invalid target", f.Name)
	}
	if strings.HasPrefix(target, "/") {
		return "", errUnzip("symlink %q points outside the root (%q)", f.Name, target)
	}
	resolved := path.Join(path.Dir(name), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return "", errUnzip("symlink %q points outside the root (%q)", f.Name, target)
	}
	return target, nil
}

// ErrExists reports that Extract's destination already exists.
var ErrExists = errors.New("destination already exists")

// Extract validates b against DefaultLimits and unpacks it into destDir,
// which must not exist. It extracts into a temporary sibling directory and
// renames it into place, so destDir either appears complete or not at all.
// Executable bits are preserved (files are 0644 or 0755, directories 0755);
// symlinks inside the root are recreated. If destDir appears concurrently,
// Extract returns an error wrapping ErrExists and leaves the existing tree.
func Extract(b []byte, destDir string) error { return DefaultLimits.Extract(b, destDir) }

// Extract unpacks b into destDir under l; see the package-level Extract.
func (l Limits) Extract(b []byte, destDir string) (err error) {
	if _, err := os.Lstat(destDir); err == nil {
		return fmt.Errorf("extract to %s: %w", destDir, ErrExists)
	}
	entries, err := l.scan(b)
	if err != nil {
		return err
	}
	parent := filepath.Dir(destDir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("extract: create parent: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".extract-*")
	if err != nil {
		return fmt.Errorf("extract: temp dir: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return fmt.Errorf("extract: open root: %w", err)
	}
	defer root.Close()

	var total int64
	var links []entry
	for _, e := range entries {
		mode := e.f.Mode()
		switch {
		case mode.IsDir():
			if err := root.MkdirAll(e.name, 0o755); err != nil {
				return errUnzip("create directory %q: %v", e.f.Name, err)
			}
		case mode&fs.ModeSymlink != 0:
			links = append(links, e)
		default:
			n, err := l.writeFile(root, e, l.MaxUnzipped-total)
			total += n
			if err != nil {
				return err
			}
		}
	}
	// Symlinks last, so no file is ever written through one.
	for _, e := range links {
		target, err := symlinkTarget(e.f, e.name)
		if err != nil {
			return err
		}
		total += int64(len(target))
		if total > l.MaxUnzipped {
			return errUnzippedTooLarge(l.MaxUnzipped)
		}
		if d := path.Dir(e.name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return errUnzip("create directory for %q: %v", e.f.Name, err)
			}
		}
		_ = root.Remove(e.name) // a duplicate entry replaces an earlier one
		if err := root.Symlink(target, e.name); err != nil {
			return errUnzip("create symlink %q: %v", e.f.Name, err)
		}
	}
	// Lexical checks cannot see chains (x -> d/e, d/e -> .., y -> x/..):
	// resolve every link for real and reject any that leaves the root.
	if len(links) > 0 {
		realTmp, err := filepath.EvalSymlinks(tmp)
		if err != nil {
			return fmt.Errorf("extract: resolve root: %w", err)
		}
		for _, e := range links {
			r, err := filepath.EvalSymlinks(filepath.Join(tmp, filepath.FromSlash(e.name)))
			if err != nil {
				continue // dangling inside the root: harmless
			}
			if r != realTmp && !strings.HasPrefix(r, realTmp+string(filepath.Separator)) {
				return errUnzip("symlink %q resolves outside the root", e.f.Name)
			}
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("extract: chmod: %w", err)
	}
	if err := os.Rename(tmp, destDir); err != nil {
		if _, serr := os.Lstat(destDir); serr == nil {
			return fmt.Errorf("extract to %s: %w", destDir, ErrExists)
		}
		return fmt.Errorf("extract: rename into place: %w", err)
	}
	return nil
}

func (l Limits) writeFile(root *os.Root, e entry, budget int64) (int64, error) {
	if d := path.Dir(e.name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return 0, errUnzip("create directory for %q: %v", e.f.Name, err)
		}
	}
	perm := os.FileMode(0o644)
	if e.f.Mode().Perm()&0o111 != 0 {
		perm = 0o755
	}
	_ = root.Remove(e.name) // a duplicate entry replaces an earlier one
	out, err := root.OpenFile(e.name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, errUnzip("create file %q: %v", e.f.Name, err)
	}
	n, cerr := l.copyEntry(out, e.f, budget)
	if err := out.Close(); err != nil && cerr == nil {
		cerr = fmt.Errorf("extract: close %q: %w", e.f.Name, err)
	}
	if cerr != nil {
		return n, cerr
	}
	// The umask may have dropped bits; set them explicitly.
	if err := root.Chmod(e.name, perm); err != nil {
		return n, fmt.Errorf("extract: chmod %q: %w", e.f.Name, err)
	}
	return n, nil
}
