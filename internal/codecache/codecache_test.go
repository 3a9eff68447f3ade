package codecache

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

func makeZip(t *testing.T, files map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), base64.StdEncoding.EncodeToString(sum[:])
}

func TestDirOncePerSha(t *testing.T) {
	z, sha := makeZip(t, map[string]string{"bootstrap": "#!/bin/sh\n", "lib/x.txt": "x"})
	var fetches atomic.Int32
	root := t.TempDir()
	c, err := New(root, func(ctx context.Context, s string) ([]byte, error) {
		fetches.Add(1)
		return z, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.Dir(context.Background(), sha)
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		}()
	}
	wg.Wait()
	for _, d := range dirs[1:] {
		if d != dirs[0] {
			t.Fatalf("dirs differ: %v", dirs)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("fetched %d times, want 1", n)
	}
	b, err := os.ReadFile(filepath.Join(dirs[0], "lib/x.txt"))
	if err != nil || string(b) != "x" {
		t.Fatalf("read unpacked file: %q %v", b, err)
	}
	fi, _ := os.Stat(filepath.Join(dirs[0], "bootstrap"))
	if fi.Mode().Perm()&0o222 != 0 || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode %v, want executable and read-only", fi.Mode())
	}
	// A new cache on the same root (a restart) finds the tree without fetching.
	c2, _ := New(root, func(ctx context.Context, s string) ([]byte, error) {
		t.Error("fetched after restart")
		return z, nil
	})
	if d, err := c2.Dir(context.Background(), sha); err != nil || d != dirs[0] {
		t.Errorf("after restart Dir = %q, %v", d, err)
	}
	if err := c2.Remove(sha); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("tree still there after Remove: %v", err)
	}
}

func TestRejectsCorruptStore(t *testing.T) {
	z, sha := makeZip(t, map[string]string{"a": "a"})
	other, _ := makeZip(t, map[string]string{"b": "b"})
	_ = z
	c, _ := New(t.TempDir(), func(ctx context.Context, s string) ([]byte, error) { return other, nil })
	if _, err := c.Dir(context.Background(), sha); err == nil {
		t.Fatal("Dir accepted a zip whose hash differs from its CodeSha256")
	}
	if _, err := c.Dir(context.Background(), "not-base64!"); err == nil {
		t.Fatal("Dir accepted an invalid sha")
	}
}
