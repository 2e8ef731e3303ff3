package cimfs

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"strings"
	"unsafe"
)

// call runs one library call and, if it failed, reads the library's message. The message is
// per OS thread and only valid until that thread's next library call, so the goroutine stays
// locked to its thread from the call until the message has been copied. LockOSThread nests,
// so callers that hold their own lock keep it.
func call(f func() C.HRESULT) (HRESULT, string) {
	runtime.LockOSThread()
	h := HRESULT(f())
	var msg string
	if h < 0 {
		msg = C.GoString(C.CimGetLastErrorMessage())
	}
	runtime.UnlockOSThread()
	return h, msg
}

// cstr is a NUL-terminated copy of a Go string in Go memory. Passing &b[0] to C is allowed by
// the cgo rules (the memory holds no Go pointers) and avoids a C.malloc per call.
type cstr []byte

// newCstr converts s; a string with an embedded NUL cannot be passed to C unchanged, so it is
// refused as the library refuses control characters (E_INVALIDARG).
func newCstr(op, image, s string) (cstr, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &PathError{Op: op, Image: image, Path: s, Err: HRInvalidArg,
			Message: op + ": " + image + ": " + strings.ReplaceAll(s, "\x00", `\0`) + ": embedded NUL character"}
	}
	b := make(cstr, len(s)+1)
	copy(b, s)
	return b, nil
}

// p returns the C view of the string; nil for a nil cstr (an absent optional name).
func (b cstr) p() *C.char {
	if b == nil {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// bytesPtr returns a pointer to the first byte of b, or nil when b is empty.
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// imagePaths is a CIMFS_IMAGE_PATH array in C memory (the struct holds pointers, which Go
// memory passed to C may not).
type imagePaths struct {
	p *C.CIMFS_IMAGE_PATH
	n C.uint32_t
}

func newImagePaths(op string, cims []*BlockCIM) (*imagePaths, error) {
	for _, b := range cims {
		if strings.IndexByte(b.BlockPath, 0) >= 0 || strings.IndexByte(b.CimName, 0) >= 0 {
			return nil, goError(op, b.String(), "", HRInvalidArg)
		}
	}
	ip := &imagePaths{p: C.goNewImagePaths(C.uint32_t(len(cims))), n: C.uint32_t(len(cims))}
	if ip.p == nil {
		return nil, goError(op, "", "", HROutOfMemory)
	}
	for i, b := range cims {
		C.goSetImagePath(ip.p, C.uint32_t(i), C.CString(b.BlockPath), C.CString(b.CimName))
	}
	return ip, nil
}

func (ip *imagePaths) free() {
	if ip != nil && ip.p != nil {
		C.goFreeImagePaths(ip.p, ip.n)
		ip.p = nil
	}
}
