package codezip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdad/lambdad/internal/lambda"
)

type zentry struct {
	name string
	body string
	mode fs.FileMode
}

func buildZip(t testing.TB, entries ...zentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("CreateHeader(%q): %v", e.name, err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatalf("write %q: %v", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("close zip: %v", err)
	}
	return buf.Bytes()
}

// lyingZip declares a small uncompressed size for a large deflated body.
func lyingZip(t *testing.T, actual, declared int) []byte {
	t.Helper()
	body := bytes.Repeat([]byte("A"), actual)
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestCompression)
	fw.Write(body)
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{
		Name: "bomb.txt", Method: zip.Deflate,
		CRC32:              crc32.ChecksumIEEE(body[:declared]),
		CompressedSize64:   uint64(comp.Len()),
		UncompressedSize64: uint64(declared),
	}
	w, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	zw.Close()
	return buf.Bytes()
}

func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var le *lambda.Error
	if !errors.As(err, &le) || le.Type != lambda.ErrTypeInvalidParameterValue || le.Message != msg {
		t.Fatalf("err = %v, want InvalidParameterValueException %q", err, msg)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	link := fs.ModeSymlink | 0o777
	tests := []struct {
		name string
		zip  func(t *testing.T) []byte
		msg  string
	}{
		{"corrupt", func(t *testing.T) []byte { return []byte("this is not a zip") }, lambda.MsgCouldNotUnzip},
		{"truncated", func(t *testing.T) []byte { b := buildZip(t, zentry{name: "a", body: "x"}); return b[:len(b)-10] }, lambda.MsgCouldNotUnzip},
		{"dotdot", func(t *testing.T) []byte { return buildZip(t, zentry{name: "../evil", body: "x"}) }, lambda.MsgCouldNotUnzip},
		{"nested dotdot", func(t *testing.T) []byte { return buildZip(t, zentry{name: "a/../../evil", body: "x"}) }, lambda.MsgCouldNotUnzip},
		{"absolute", func(t *testing.T) []byte { return buildZip(t, zentry{name: "/etc/passwd", body: "x"}) }, lambda.MsgCouldNotUnzip},
		{"backslash dotdot", func(t *testing.T) []byte { return buildZip(t, zentry{name: `..\evil`, body: "x"}) }, lambda.MsgCouldNotUnzip},
		{"symlink absolute", func(t *testing.T) []byte { return buildZip(t, zentry{name: "l", body: "/etc", mode: link}) }, lambda.MsgCouldNotUnzip},
		{"symlink escaping", func(t *testing.T) []byte { return buildZip(t, zentry{name: "d/l", body: "../../x", mode: link}) }, lambda.MsgCouldNotUnzip},
		{"write through symlink", func(t *testing.T) []byte {
			return buildZip(t, zentry{name: "l", body: "d", mode: link}, zentry{name: "l/x", body: "x"})
		}, lambda.MsgCouldNotUnzip},
		{"symlink chain escaping", func(t *testing.T) []byte {
			return buildZip(t, zentry{name: "d/e", body: "..", mode: link}, zentry{name: "x", body: "d/e", mode: link}, zentry{name: "y", body: "x/..", mode: link})
		}, lambda.MsgCouldNotUnzip},
		{"size lie", func(t *testing.T) []byte { return lyingZip(t, 1<<20, 10) }, lambda.MsgCouldNotUnzip},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := tc.zip(t)
			_, err := Validate(b)
			wantInvalid(t, err, tc.msg)
			dest := filepath.Join(t.TempDir(), "out")
			wantInvalid(t, Extract(b, dest), tc.msg)
			if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("destination exists after failed Extract: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".extract-*")); len(left) != 0 {
				t.Fatalf("temporary directories left behind: %v", left)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	l := Limits{MaxZipped: 1 << 20, MaxUnzipped: 1000}
	b := buildZip(t, zentry{name: "a", body: strings.Repeat("x", 600)}, zentry{name: "b", body: strings.Repeat("y", 600)})
	_, err := l.Validate(b)
	wantInvalid(t, err, "Unzipped size must be smaller than 1000 bytes")
	if err := l.Extract(b, filepath.Join(t.TempDir(), "o")); err == nil {
		t.Fatal("Extract above MaxUnzipped succeeded")
	}
	small := Limits{MaxZipped: 10, MaxUnzipped: 1000}
	_, err = small.Validate(b)
	var le *lambda.Error
	if !errors.As(err, &le) || le.Type != lambda.ErrTypeRequestEntityTooLarge || le.Message != "Zipped size must be smaller than 10 bytes" {
		t.Fatalf("Validate(too big) = %v", err)
	}
}

func TestDefaultUnzippedLimitMessage(t *testing.T) {
	t.Parallel()
	// Header-declared size above 250 MB is rejected before decompressing.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "big", Method: zip.Store, UncompressedSize64: lambda.MaxUnzippedCodeBytes + 1, CompressedSize64: 0})
	w.Write(nil)
	zw.Close()
	_, err := Validate(buf.Bytes())
	wantInvalid(t, err, "Unzipped size must be smaller than 262144000 bytes")
}

func TestExtract(t *testing.T) {
	t.Parallel()
	b := buildZip(t,
		zentry{name: "bootstrap", body: "#!/bin/sh\necho hi\n", mode: 0o755},
		zentry{name: "lib/", mode: fs.ModeDir | 0o755},
		zentry{name: "lib/data.txt", body: "data"},
		zentry{name: "deep/er/file.py", body: "print(1)"},
		zentry{name: "lib/link", body: "data.txt", mode: fs.ModeSymlink | 0o777},
		zentry{name: "up", body: "lib/../deep", mode: fs.ModeSymlink | 0o777},
	)
	info, err := Validate(b)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if info.Files != 3 {
		t.Errorf("Files = %d, want 3", info.Files)
	}
	dest := filepath.Join(t.TempDir(), "code", "sha")
	if err := Extract(b, dest); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	st, err := os.Stat(filepath.Join(dest, "bootstrap"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("bootstrap mode = %v, %v, want 0755", st.Mode(), err)
	}
	st, err = os.Stat(filepath.Join(dest, "lib/data.txt"))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("data.txt mode = %v, %v, want 0644", st.Mode(), err)
	}
	got, err := os.ReadFile(filepath.Join(dest, "lib/link"))
	if err != nil || string(got) != "data" {
		t.Fatalf("read through symlink = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "up/er/file.py")); err != nil {
		t.Fatalf("dir symlink: %v", err)
	}
	if err := Extract(b, dest); !errors.Is(err, ErrExists) {
		t.Fatalf("second Extract = %v, want ErrExists", err)
	}
}

// FuzzExtract feeds arbitrary bytes to Extract: it must never panic, and a
// successful extraction must leave nothing outside the destination and no
// symlink resolving outside it.
func FuzzExtract(f *testing.F) {
	link := fs.ModeSymlink | 0o777
	f.Add(buildZip(f, zentry{name: "a", body: "x"}))
	f.Add(buildZip(f, zentry{name: "d/", mode: fs.ModeDir | 0o755}, zentry{name: "d/l", body: "../a", mode: link}, zentry{name: "a", body: "1"}))
	f.Add(buildZip(f, zentry{name: "../x", body: "x"}))
	f.Add(buildZip(f, zentry{name: "l", body: "..", mode: link}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		base := t.TempDir()
		dest := filepath.Join(base, "out")
		err := Limits{MaxZipped: 1 << 20, MaxUnzipped: 1 << 20}.Extract(b, dest)
		names, _ := os.ReadDir(base)
		if err != nil {
			if len(names) != 0 {
				t.Fatalf("failed Extract left %v", names)
			}
			return
		}
		if len(names) != 1 || names[0].Name() != "out" {
			t.Fatalf("Extract wrote %v next to the destination", names)
		}
		realDest, _ := filepath.EvalSymlinks(dest)
		filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			r, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling link inside the root is harmless
			}
			if r != realDest && !strings.HasPrefix(r, realDest+string(filepath.Separator)) {
				t.Fatalf("symlink %s resolves outside the root to %s", p, r)
			}
			return nil
		})
	})
}
