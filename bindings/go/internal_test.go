package cimfs

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"testing"
)

func TestStructLayoutMatchesC(t *testing.T) {
	// The contract's values (spec/c-abi.md, cimfs.h comments) for 64-bit targets.
	contract := map[string]uintptr{
		"sizeof(CIMFS_GUID)": 16, "CIMFS_GUID.Data1": 0, "CIMFS_GUID.Data2": 4, "CIMFS_GUID.Data3": 6, "CIMFS_GUID.Data4": 8,
		"sizeof(CIMFS_FILE_METADATA)": 96, "CIMFS_FILE_METADATA.Attributes": 0, "CIMFS_FILE_METADATA.FileSize": 8,
		"CIMFS_FILE_METADATA.CreationTime": 16, "CIMFS_FILE_METADATA.LastWriteTime": 24, "CIMFS_FILE_METADATA.ChangeTime": 32,
		"CIMFS_FILE_METADATA.LastAccessTime": 40, "CIMFS_FILE_METADATA.SecurityDescriptorBuffer": 48,
		"CIMFS_FILE_METADATA.SecurityDescriptorSize": 56, "CIMFS_FILE_METADATA.ReparseDataBuffer": 64,
		"CIMFS_FILE_METADATA.ReparseDataSize": 72, "CIMFS_FILE_METADATA.ExtendedAttributes": 80, "CIMFS_FILE_METADATA.EACount": 88,
		"sizeof(CIMFS_IMAGE_PATH)": 16, "CIMFS_IMAGE_PATH.ImageDir": 0, "CIMFS_IMAGE_PATH.ImageName": 8,
		"sizeof(CIMFS_FILE_INFO)": 64, "CIMFS_FILE_INFO.Size": 0, "CIMFS_FILE_INFO.Attributes": 4, "CIMFS_FILE_INFO.FileId": 8,
		"CIMFS_FILE_INFO.FileSize": 16, "CIMFS_FILE_INFO.CreationTime": 24, "CIMFS_FILE_INFO.LastWriteTime": 32,
		"CIMFS_FILE_INFO.ChangeTime": 40, "CIMFS_FILE_INFO.LastAccessTime": 48, "CIMFS_FILE_INFO.LinkCount": 56,
		"CIMFS_FILE_INFO.ReparseTag":   60,
		"sizeof(CIMFS_IMPORT_OPTIONS)": 40, "CIMFS_IMPORT_OPTIONS.Size": 0, "CIMFS_IMPORT_OPTIONS.Flags": 4,
		"CIMFS_IMPORT_OPTIONS.LayerFormat": 8, "CIMFS_IMPORT_OPTIONS.Threads": 12, "CIMFS_IMPORT_OPTIONS.MaxUncompressedBytes": 16,
		"CIMFS_IMPORT_OPTIONS.NumParentLayers": 24, "CIMFS_IMPORT_OPTIONS.Reserved": 28, "CIMFS_IMPORT_OPTIONS.ParentLayers": 32,
		"sizeof(CIMFS_IMPORT_RESULT)": 56, "CIMFS_IMPORT_RESULT.Size": 0, "CIMFS_IMPORT_RESULT.Reserved": 4,
		"CIMFS_IMPORT_RESULT.Entries": 8, "CIMFS_IMPORT_RESULT.DataBytes": 16, "CIMFS_IMPORT_RESULT.RootHash": 24,
	}
	entries := structLayout()
	if len(entries) != len(contract) {
		t.Errorf("%d layout entries, contract lists %d", len(entries), len(contract))
	}
	for _, e := range entries {
		if e.Go != e.C {
			t.Errorf("%s: Go (cgo) says %d, C says %d", e.Name, e.Go, e.C)
		}
		if want, ok := contract[e.Name]; !ok {
			t.Errorf("%s: not in the contract table", e.Name)
		} else if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
			if e.C != want {
				t.Errorf("%s: C says %d, the contract %d", e.Name, e.C, want)
			}
		}
	}
}

// TestStaleAndForeignHandles sends handle values the library never issued, or already
// closed, through the real calls: the library must answer E_HANDLE (fs.ErrClosed), not crash.
func TestStaleAndForeignHandles(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "", "h.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddFile("a.txt", &FileBasicInfo{}, 1, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenImage(filepath.Join(dir, "h.cim"))
	if err != nil {
		t.Fatal(err)
	}
	stale := r.h.Load()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []uintptr{stale, stale + 1000, 0xdeadbeef, ^uintptr(0)} {
		fake := &Reader{image: "fake"}
		fake.h.Store(h)
		_, err := fake.Stat("a.txt")
		if !errors.Is(err, fs.ErrClosed) || !errors.Is(err, HRInvalidHandle) {
			t.Errorf("Stat with handle %#x: %v", h, err)
		}
		var pe *PathError
		if !errors.As(err, &pe) || pe.Message == "" {
			t.Errorf("Stat with handle %#x: no library message: %v", h, err)
		}
		fake.h.Store(0) // do not let the finalizer close a handle this test invented
	}
	// Writer handles: a foreign image handle.
	fw := &CimFsWriter{name: "fake", handle: 0xfeedface}
	if err := fw.AddFile("x", &FileBasicInfo{}, 0, nil, nil, nil); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("AddFile with a foreign handle: %v", err)
	}
	if err := fw.Commit(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Commit with a foreign handle: %v", err)
	}
	if err := fw.Close(); !errors.Is(err, fs.ErrClosed) { // close of a foreign handle: harmless in C
		t.Logf("Close with a foreign handle: %v", err)
	}
}
