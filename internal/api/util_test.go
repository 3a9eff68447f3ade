package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
)

func lambdaSha(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func errorsAs[T any](err error, target *T) bool { return errors.As(err, target) }

// hugeDeclaredZip is a tiny archive whose header declares more than 250 MB.
func hugeDeclaredZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "big.bin", Method: zip.Store, UncompressedSize64: 262144001})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(nil)
	zw.Close()
	return buf.Bytes()
}
