// Package statbench measures the per-call cost of CimStatPath from Go (stat_test.go):
// through the binding (Reader.Stat) and through a bare cgo call (this file), to separate the
// cgo transition from the binding's own work (error handling, thread locking, conversions).
package statbench

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#cgo LDFLAGS: -lopencim
#include <stdlib.h>
#include <opencim/cimfs.h>

// The reader handle stays in C (handles are small integers, not valid Go pointers).
static CIMFS_READER_HANDLE rawReader;
static HRESULT rawOpen(const char *block, const char *name) {
    return CimOpenImage(block, name, CIM_MOUNT_SINGLE_FILE_CIM, &rawReader);
}
static HRESULT rawStat(const char *path, int64_t *size) {
    CIMFS_FILE_INFO info;
    info.Size = sizeof info;
    HRESULT hr = CimStatPath(rawReader, path, &info);
    *size = info.FileSize;
    return hr;
}
static void rawClose(void) { CimCloseReader(rawReader); rawReader = NULL; }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// Raw is a reader opened through plain cgo, with the path converted to C once.
type Raw struct{ path *C.char }

// OpenRaw opens block CIM name in block and prepares path.
func OpenRaw(block, name, path string) (*Raw, error) {
	b, n := C.CString(block), C.CString(name)
	defer C.free(unsafe.Pointer(b))
	defer C.free(unsafe.Pointer(n))
	if hr := C.rawOpen(b, n); hr < 0 {
		return nil, fmt.Errorf("CimOpenImage: %#08x", uint32(hr))
	}
	return &Raw{path: C.CString(path)}, nil
}

// Stat is one bare cgo call of CimStatPath.
func (r *Raw) Stat() (int64, error) {
	var size C.int64_t
	if hr := C.rawStat(r.path, &size); hr < 0 {
		return 0, fmt.Errorf("CimStatPath: %#08x", uint32(hr))
	}
	return int64(size), nil
}

// Close closes the reader.
func (r *Raw) Close() {
	C.rawClose()
	C.free(unsafe.Pointer(r.path))
}
