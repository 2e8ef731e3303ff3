package cimfs

import (
	"errors"
	"fmt"
	"io/fs"
)

// HRESULT is the status code every opencim call returns: 0 for success, negative for failure.
// A Win32 error e appears as 0x80070000|e. HRESULT implements error; use errors.Is with the
// io/fs sentinels (see Is) or with one of the HR* constants below.
type HRESULT int32

// The HRESULTs of docs/errors.md, written as the unsigned hex of the docs minus 1<<32.
// Compare with errors.Is(err, cimfs.HRIntegrityViolation).
const (
	HRInvalidArg         HRESULT = 0x80070057 - 1<<32 // E_INVALIDARG: bad argument, flags, name or path
	HRInvalidHandle      HRESULT = 0x80070006 - 1<<32 // E_HANDLE: NULL, closed or foreign handle
	HRFileNotFound       HRESULT = 0x80070002 - 1<<32 // image, block file, CIM name, volume, or a path's last component
	HRPathNotFound       HRESULT = 0x80070003 - 1<<32 // a parent directory, link target or delete target
	HRFileExists         HRESULT = 0x80070050 - 1<<32 // creating onto an existing image or CIM name
	HRAlreadyExists      HRESULT = 0x800700B7 - 1<<32 // mounting a GUID that is already mounted
	HRAccessDenied       HRESULT = 0x80070005 - 1<<32 // link to a directory, reading a directory as a file, ...
	HRSharingViolation   HRESULT = 0x80070020 - 1<<32 // another operation while a stream is open
	HRHandleEOF          HRESULT = 0x80070026 - 1<<32 // write past the declared size; incomplete write
	HRDirectory          HRESULT = 0x8007010B - 1<<32 // a path component is not a directory
	HRNoMoreFiles        HRESULT = 0x80070012 - 1<<32 // enumeration index past the end
	HRInsufficientBuffer HRESULT = 0x8007007A - 1<<32 // caller buffer too small
	HRCorrupt            HRESULT = 0x80070570 - 1<<32 // not a CIM, unsupported version, out-of-bounds data
	HRIntegrityViolation HRESULT = 0x80070143 - 1<<32 // verified CIM: wrong root hash or tampered block
	HRInvalidData        HRESULT = 0x8007000D - 1<<32 // hostile or corrupt layer tarball
	HROutOfMemory        HRESULT = 0x8007000E - 1<<32
	HRNotSupported       HRESULT = 0x80070032 - 1<<32 // e.g. no FUSE on this machine
	HRNotImplemented     HRESULT = 0x80004001 - 1<<32 // E_NOTIMPL: reserved for future work
	HRPointer            HRESULT = 0x80004003 - 1<<32 // E_POINTER
	HRDiskFull           HRESULT = 0x80070070 - 1<<32
	HRFail               HRESULT = 0x80004005 - 1<<32 // E_FAIL
)

var hrNames = map[HRESULT]string{
	HRInvalidArg:         "invalid argument",
	HRInvalidHandle:      "invalid or closed handle",
	HRFileNotFound:       "file not found",
	HRPathNotFound:       "path not found",
	HRFileExists:         "file exists",
	HRAlreadyExists:      "already exists",
	HRAccessDenied:       "access denied",
	HRSharingViolation:   "sharing violation",
	HRHandleEOF:          "reached the end of the stream",
	HRDirectory:          "not a directory",
	HRNoMoreFiles:        "no more files",
	HRInsufficientBuffer: "buffer too small",
	HRCorrupt:            "file or image is corrupt",
	HRIntegrityViolation: "integrity violation",
	HRInvalidData:        "invalid data",
	HROutOfMemory:        "out of memory",
	HRNotSupported:       "not supported",
	HRNotImplemented:     "not implemented",
	HRPointer:            "invalid pointer",
	HRDiskFull:           "disk full",
	HRFail:               "unspecified failure",
}

// Error returns a short description and the code, e.g. "file not found (0x80070002)".
func (h HRESULT) Error() string {
	if n, ok := hrNames[h]; ok {
		return fmt.Sprintf("%s (%#08x)", n, uint32(h))
	}
	return fmt.Sprintf("HRESULT %#08x", uint32(h))
}

// Failed reports whether h is a failure code (negative).
func (h HRESULT) Failed() bool { return h < 0 }

// Is makes errors.Is(err, fs.ErrNotExist) and friends work, like syscall.Errno.Is:
//
//	0x80070002, 0x80070003 -> fs.ErrNotExist     0x800700B7, 0x80070050 -> fs.ErrExist
//	0x80070057 -> fs.ErrInvalid                 0x80070005 -> fs.ErrPermission
//	0x80070006 -> fs.ErrClosed
//
// os.ErrNotExist etc. are the same values, so errors.Is(err, os.ErrNotExist) works too.
func (h HRESULT) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return h == HRFileNotFound || h == HRPathNotFound
	case fs.ErrExist:
		return h == HRAlreadyExists || h == HRFileExists
	case fs.ErrInvalid:
		return h == HRInvalidArg
	case fs.ErrPermission:
		return h == HRAccessDenied
	case fs.ErrClosed:
		return h == HRInvalidHandle
	}
	return false
}

// PathError is the error type of this package: the operation, the image and the path it was
// applied to, the cause (usually an HRESULT) and the library's own message
// ("Operation: image: path: reason", from CimGetLastErrorMessage) when the library failed.
// It unwraps to Err, so errors.Is/As see the HRESULT and, through it, the io/fs sentinels.
type PathError struct {
	Op      string // the Go operation, e.g. "Stat" or "AddFile"
	Image   string // the image (directory/name or block path/CIM name) or "" if none
	Path    string // the path inside the image, or "" if none
	Err     error  // the cause: an HRESULT for library failures
	Message string // the library's message, "" for failures detected in Go
}

func (e *PathError) Error() string {
	if e.Message != "" {
		if h, ok := e.Err.(HRESULT); ok {
			return fmt.Sprintf("%s (%#08x)", e.Message, uint32(h))
		}
		return e.Message + ": " + e.Err.Error()
	}
	s := "cimfs " + e.Op
	if e.Image != "" {
		s += " " + e.Image
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": " + e.Err.Error()
}

func (e *PathError) Unwrap() error { return e.Err }

// HRESULTOf returns the HRESULT in err's chain, 0 (S_OK) if err is nil, or E_FAIL if err holds
// none (a failure that did not come from the library).
func HRESULTOf(err error) HRESULT {
	if err == nil {
		return 0
	}
	var h HRESULT
	if errors.As(err, &h) {
		return h
	}
	return HRFail
}

// newError builds the *PathError of a failed library call (nil for success).
func newError(op, image, path string, h HRESULT, msg string) error {
	if h >= 0 {
		return nil
	}
	return &PathError{Op: op, Image: image, Path: path, Err: h, Message: msg}
}

// goError builds a *PathError for a failure detected before calling the library.
func goError(op, image, path string, err error) error {
	return &PathError{Op: op, Image: image, Path: path, Err: err}
}

// errClosed is returned by methods of closed objects. It carries E_HANDLE, so it matches both
// fs.ErrClosed and HRInvalidHandle, exactly as a stale handle reported by the library does.
func errClosed(op, image, path string) error {
	return &PathError{Op: op, Image: image, Path: path, Err: HRInvalidHandle,
		Message: op + ": " + image + ": object is closed"}
}
