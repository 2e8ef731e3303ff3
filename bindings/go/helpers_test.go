package cimfs_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// entry is one item written by the helpers: a file with data, or a directory.
type entry struct {
	path string
	data string
	dir  bool
}

// testContent is hcsshim's cim_test.go content.
var testContent = []entry{
	{path: "foobar.txt", data: "foobar test data"},
	{path: "foo", dir: true},
	{path: "foo/bar.txt", data: "bar test data"},
}

var testTime = cimfs.NewFiletime(time.Date(2024, 5, 6, 7, 8, 9, 123456700, time.UTC))

func basicInfo(dir bool) *cimfs.FileBasicInfo {
	attr := cimfs.FileAttributeArchive
	if dir {
		attr = cimfs.FileAttributeDirectory
	}
	return &cimfs.FileBasicInfo{
		CreationTime: testTime, LastAccessTime: testTime, LastWriteTime: testTime, ChangeTime: testTime,
		FileAttributes: attr,
	}
}

func writeEntries(t testing.TB, w *cimfs.CimFsWriter, entries []entry) {
	t.Helper()
	for _, e := range entries {
		if e.dir {
			if err := w.AddFile(e.path, basicInfo(true), 0, nil, nil, nil); err != nil {
				t.Fatalf("AddFile(%s): %v", e.path, err)
			}
			continue
		}
		if err := w.AddFile(e.path, basicInfo(false), int64(len(e.data)), nil, nil, nil); err != nil {
			t.Fatalf("AddFile(%s): %v", e.path, err)
		}
		if n, err := w.Write([]byte(e.data)); err != nil || n != len(e.data) {
			t.Fatalf("Write(%s) = %d, %v", e.path, n, err)
		}
	}
}

// newBlockCIM writes a single-file block CIM <dir>/<name>.bcim holding "layer.cim".
func newBlockCIM(t testing.TB, dir, name string, entries []entry, opts ...cimfs.BlockCIMOpt) *cimfs.BlockCIM {
	t.Helper()
	b := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, name+".bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIMWithOptions(context.Background(), b, opts...)
	if err != nil {
		t.Fatalf("CreateBlockCIMWithOptions(%s): %v", b, err)
	}
	writeEntries(t, w, entries)
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%s): %v", b, err)
	}
	return b
}

// checkContent asserts that every file of entries reads back and every directory stats as one.
func checkContent(t testing.TB, r *cimfs.Reader, entries []entry) {
	t.Helper()
	for _, e := range entries {
		fi, err := r.Stat(e.path)
		if err != nil {
			t.Fatalf("Stat(%s): %v", e.path, err)
		}
		if fi.IsDir() != e.dir {
			t.Fatalf("Stat(%s).IsDir() = %v", e.path, fi.IsDir())
		}
		if e.dir {
			continue
		}
		got, err := r.ReadFile(e.path)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", e.path, err)
		}
		if !bytes.Equal(got, []byte(e.data)) {
			t.Fatalf("ReadFile(%s) = %q, want %q", e.path, got, e.data)
		}
	}
}

func readString(t testing.TB, r *cimfs.Reader, path string) string {
	t.Helper()
	b, err := r.ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	return string(b)
}

// wantHR asserts that err carries HRESULT h (through errors.Is) and is a *cimfs.PathError.
func wantHR(t testing.TB, err error, h cimfs.HRESULT) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", h)
	}
	if !errors.Is(err, h) {
		t.Fatalf("error %q (HRESULT %#08x) does not match %v", err, uint32(cimfs.HRESULTOf(err)), h)
	}
	var pe *cimfs.PathError
	if !errors.As(err, &pe) {
		t.Fatalf("error %q is %T, not *cimfs.PathError", err, err)
	}
}
