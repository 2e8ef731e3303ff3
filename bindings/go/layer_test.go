package cimfs_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// layerTar builds a small Linux layer tarball of testContent.
func layerTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range testContent {
		h := &tar.Header{Name: e.path, Mode: 0o644, ModTime: mtime, Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX}
		if e.dir {
			h.Name, h.Mode, h.Typeflag, h.Size = e.path+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importOrSkip fails the test on any import error (import is implemented: never a skip).
func importOrSkip(t *testing.T, res *cimfs.ImportResult, err error) *cimfs.ImportResult {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func checkImported(t *testing.T, blockPath string, res *cimfs.ImportResult) {
	t.Helper()
	if res.Entries != uint64(len(testContent)) || res.DataBytes != uint64(len("foobar test data")+len("bar test data")) {
		t.Errorf("import result %+v", res)
	}
	r, err := cimfs.OpenBlockImage(&cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: blockPath, CimName: "layer.cim"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkContent(t, r, testContent)
}

func TestImportLayerFromPath(t *testing.T) {
	dir := t.TempDir()
	tarPath := filepath.Join(dir, "layer.tar")
	if err := os.WriteFile(tarPath, layerTar(t), 0o644); err != nil {
		t.Fatal(err)
	}
	block := filepath.Join(dir, "layer.bcim")
	res, err := cimfs.ImportLayer(tarPath, block, "layer.cim", &cimfs.ImportOptions{Format: cimfs.LayerFormatLinux})
	res = importOrSkip(t, res, err)
	checkImported(t, block, res)

	_, err = cimfs.ImportLayer(tarPath, block, "layer.cim", nil)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("import onto an existing block file: %v", err)
	}
	_, err = cimfs.ImportLayer(filepath.Join(dir, "missing.tar"), filepath.Join(dir, "other.bcim"), "layer.cim", nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("import of a missing tar: %v", err)
	}
}

func TestImportLayerFromReader(t *testing.T) {
	dir := t.TempDir()
	data := layerTar(t)
	// Through a pipe (any io.Reader).
	block := filepath.Join(dir, "pipe.bcim")
	res, err := cimfs.ImportLayerFromReader(bytes.NewReader(data), block, "layer.cim", &cimfs.ImportOptions{Format: cimfs.LayerFormatLinux})
	res = importOrSkip(t, res, err)
	checkImported(t, block, res)

	// Directly from an *os.File's descriptor.
	tarPath := filepath.Join(dir, "layer.tar")
	if err := os.WriteFile(tarPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block = filepath.Join(dir, "fd.bcim")
	res, err = cimfs.ImportLayerFromReader(f, block, "layer.cim", &cimfs.ImportOptions{Format: cimfs.LayerFormatLinux, Verified: true})
	res = importOrSkip(t, res, err)
	checkImported(t, block, res)
	hash, err := cimfs.GetVerificationInfo(block)
	if err != nil || !bytes.Equal(hash, res.RootHash) {
		t.Fatalf("verified import: root hash %x, sealed %x, %v", res.RootHash, hash, err)
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("network went away")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestImportLayerFromFailingReader: a reader that fails half-way must fail the import (not hang,
// not publish a partial layer).
func TestImportLayerFromFailingReader(t *testing.T) {
	dir := t.TempDir()
	data := layerTar(t)
	block := filepath.Join(dir, "partial.bcim")
	done := make(chan error, 1)
	go func() {
		_, err := cimfs.ImportLayerFromReader(&failingReader{data: data[:len(data)/2]}, block, "layer.cim", nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("import of a truncated stream succeeded")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("import from a failing reader hangs")
	}
	if _, err := os.Stat(block); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed import left %s: %v", block, err)
	}
}
