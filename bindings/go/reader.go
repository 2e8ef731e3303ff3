package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sync/atomic"
)

// Reader reads an image in-process, without mounting it. It is safe for concurrent use by
// many goroutines (the library's reader handles are thread-safe). Close it when done; a
// finalizer closes a forgotten Reader, but only as a safety net.
type Reader struct {
	// h is the CIMFS_READER_HANDLE, 0 once closed. Atomic so that Close may race with reads:
	// a read that loaded the handle just before Close gets E_HANDLE from the library (handle
	// values are never reused), never a crash.
	h     atomic.Uintptr
	image string
}

func newReader(image string, h C.goHandle) *Reader {
	r := &Reader{image: image}
	r.h.Store(uintptr(h))
	runtime.SetFinalizer(r, (*Reader).Close)
	return r
}

// OpenImage opens the standard CIM at cimPath (dir/name.cim).
func OpenImage(cimPath string) (*Reader, error) {
	return openOne("OpenImage", filepath.Dir(cimPath), filepath.Base(cimPath), 0, cimPath)
}

// OpenBlockImage opens a block CIM. A sealed CIM opened this way is read without verification.
func OpenBlockImage(bCIM *BlockCIM) (*Reader, error) {
	const op = "OpenBlockImage"
	if err := bCIM.validate(op); err != nil {
		return nil, err
	}
	flag, _ := bCIM.mountFlag(op)
	return openOne(op, bCIM.BlockPath, bCIM.CimName, flag, bCIM.String())
}

func openOne(op, dir, name string, flags uint32, image string) (*Reader, error) {
	d, err := newCstr(op, image, dir)
	if err != nil {
		return nil, err
	}
	n, err := newCstr(op, image, name)
	if err != nil {
		return nil, err
	}
	var h C.goHandle
	res, msg := call(func() C.HRESULT { return C.goOpenImage(d.p(), n.p(), C.uint32_t(flags), &h) })
	if err := newError(op, image, "", res, msg); err != nil {
		return nil, err
	}
	return newReader(image, h), nil
}

// OpenVerifiedBlockImage opens a sealed block CIM and checks every read against rootHash (32
// bytes). A wrong hash fails with an error matching HRIntegrityViolation whose message contains
// "integrity violation"; so does a later read of tampered data.
func OpenVerifiedBlockImage(bCIM *BlockCIM, rootHash []byte) (*Reader, error) {
	const op = "OpenVerifiedBlockImage"
	if err := bCIM.validate(op); err != nil {
		return nil, err
	}
	if len(rootHash) != cimHashSize {
		return nil, goError(op, bCIM.String(), "", fmt.Errorf("root hash of %d bytes, expected %d: %w", len(rootHash), cimHashSize, HRInvalidArg))
	}
	flag, _ := bCIM.mountFlag(op)
	d, err := newCstr(op, bCIM.String(), bCIM.BlockPath)
	if err != nil {
		return nil, err
	}
	n, err := newCstr(op, bCIM.String(), bCIM.CimName)
	if err != nil {
		return nil, err
	}
	var h C.goHandle
	res, msg := call(func() C.HRESULT {
		return C.goOpenVerifiedImage(d.p(), n.p(), C.uint32_t(flag), cimHashSize, (*C.uint8_t)(bytesPtr(rootHash)), &h)
	})
	if err := newError(op, bCIM.String(), "", res, msg); err != nil {
		return nil, err
	}
	return newReader(bCIM.String(), h), nil
}

// OpenMergedImage opens merged CIM mergedCIM over its sources (same order as for the merge).
func OpenMergedImage(mergedCIM *BlockCIM, sourceCIMs []*BlockCIM) (*Reader, error) {
	return openMerged("OpenMergedImage", mergedCIM, sourceCIMs, nil)
}

// OpenMergedVerifiedImage opens a verified merged CIM; rootHash is the merged CIM's root hash,
// every source must be sealed and is checked against the hash recorded for it by the merge.
func OpenMergedVerifiedImage(mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, rootHash []byte) (*Reader, error) {
	const op = "OpenMergedVerifiedImage"
	if len(rootHash) != cimHashSize {
		return nil, goError(op, mergedCIM.String(), "", fmt.Errorf("root hash of %d bytes, expected %d: %w", len(rootHash), cimHashSize, HRInvalidArg))
	}
	return openMerged(op, mergedCIM, sourceCIMs, rootHash)
}

func openMerged(op string, mergedCIM *BlockCIM, sourceCIMs []*BlockCIM, rootHash []byte) (*Reader, error) {
	if err := validateMerge(op, mergedCIM, sourceCIMs); err != nil {
		return nil, err
	}
	flag, _ := mergedCIM.mountFlag(op)
	paths, err := newImagePaths(op, append([]*BlockCIM{mergedCIM}, sourceCIMs...))
	if err != nil {
		return nil, err
	}
	defer paths.free()
	var h C.goHandle
	res, msg := call(func() C.HRESULT {
		return C.goOpenMergedImage(paths.n, paths.p, C.uint32_t(flag), C.uint16_t(len(rootHash)), (*C.uint8_t)(bytesPtr(rootHash)), &h)
	})
	if err := newError(op, mergedCIM.String(), "", res, msg); err != nil {
		return nil, err
	}
	return newReader(mergedCIM.String(), h), nil
}

// Image returns the image this reader was opened on.
func (r *Reader) Image() string { return r.image }

// Close releases the reader. Closing twice returns an error matching fs.ErrClosed; reads after
// Close fail the same way. Files opened from the reader stop working.
func (r *Reader) Close() error {
	h := r.h.Swap(0)
	if h == 0 {
		return errClosed("Close", r.image, "")
	}
	runtime.SetFinalizer(r, nil)
	C.goCloseReader(C.goHandle(h))
	return nil
}

// handle returns the live handle or the closed error.
func (r *Reader) handle(op, path string) (C.goHandle, error) {
	h := r.h.Load()
	if h == 0 {
		return 0, errClosed(op, r.image, path)
	}
	return C.goHandle(h), nil
}

func fileInfoFromC(ci *C.CIMFS_FILE_INFO) FileInfo {
	raw := Filetimes{
		Creation:   Filetime(ci.CreationTime),
		LastWrite:  Filetime(ci.LastWriteTime),
		Change:     Filetime(ci.ChangeTime),
		LastAccess: Filetime(ci.LastAccessTime),
	}
	return FileInfo{
		Attributes:     uint32(ci.Attributes),
		FileID:         uint64(ci.FileId),
		Size:           int64(ci.FileSize),
		LinkCount:      uint32(ci.LinkCount),
		ReparseTag:     uint32(ci.ReparseTag),
		CreationTime:   raw.Creation.Time(),
		LastWriteTime:  raw.LastWrite.Time(),
		ChangeTime:     raw.Change.Time(),
		LastAccessTime: raw.LastAccess.Time(),
		Raw:            raw,
	}
}

// Stat returns the metadata of path ("" is the root; "file:stream" stats an alternate stream).
func (r *Reader) Stat(path string) (*FileInfo, error) {
	const op = "Stat"
	h, err := r.handle(op, path)
	if err != nil {
		return nil, err
	}
	p, err := newCstr(op, r.image, path)
	if err != nil {
		return nil, err
	}
	fi, err := r.stat(op, h, path, p)
	if err != nil {
		return nil, err
	}
	return &fi, nil
}

func (r *Reader) stat(op string, h C.goHandle, path string, p cstr) (FileInfo, error) {
	var ci C.CIMFS_FILE_INFO
	res, msg := call(func() C.HRESULT { return C.goStatPath(h, p.p(), &ci) })
	runtime.KeepAlive(r)
	if err := newError(op, r.image, path, res, msg); err != nil {
		return FileInfo{}, err
	}
	return fileInfoFromC(&ci), nil
}

// ReadDir returns the entries of directory path in stored order (sorted by name).
func (r *Reader) ReadDir(path string) ([]DirEntry, error) {
	const op = "ReadDir"
	h, err := r.handle(op, path)
	if err != nil {
		return nil, err
	}
	p, err := newCstr(op, r.image, path)
	if err != nil {
		return nil, err
	}
	var entries []DirEntry
	name := make([]byte, 256)
	for i := uint32(0); ; {
		var ci C.CIMFS_FILE_INFO
		size := C.uint32_t(len(name))
		res, msg := call(func() C.HRESULT {
			return C.goEnumerateDirectory(h, p.p(), C.uint32_t(i), (*C.char)(bytesPtr(name)), &size, &ci)
		})
		switch {
		case res == HRNoMoreFiles:
			runtime.KeepAlive(r)
			return entries, nil
		case res == HRInsufficientBuffer && int(size) > len(name):
			name = make([]byte, size)
			continue
		}
		if err := newError(op, r.image, path, res, msg); err != nil {
			return nil, err
		}
		entries = append(entries, DirEntry{Name: string(name[:size-1]), Info: fileInfoFromC(&ci)})
		i++
	}
}

// Streams returns the alternate data streams of path (names without ':' and ':$DATA').
func (r *Reader) Streams(path string) ([]StreamInfo, error) {
	const op = "Streams"
	h, err := r.handle(op, path)
	if err != nil {
		return nil, err
	}
	p, err := newCstr(op, r.image, path)
	if err != nil {
		return nil, err
	}
	var streams []StreamInfo
	name := make([]byte, 256)
	for i := uint32(0); ; {
		var sz C.uint64_t
		size := C.uint32_t(len(name))
		res, msg := call(func() C.HRESULT {
			return C.goEnumerateAlternateStreams(h, p.p(), C.uint32_t(i), (*C.char)(bytesPtr(name)), &size, &sz)
		})
		switch {
		case res == HRNoMoreFiles:
			runtime.KeepAlive(r)
			return streams, nil
		case res == HRInsufficientBuffer && int(size) > len(name):
			name = make([]byte, size)
			continue
		}
		if err := newError(op, r.image, path, res, msg); err != nil {
			return nil, err
		}
		streams = append(streams, StreamInfo{Name: string(name[:size-1]), Size: uint64(sz)})
		i++
	}
}

// blob kinds of goGetBlob.
const (
	blobSecurityDescriptor = 0
	blobExtendedAttributes = 1
	blobReparseData        = 2
)

func (r *Reader) blob(op string, which int, path string) ([]byte, error) {
	h, err := r.handle(op, path)
	if err != nil {
		return nil, err
	}
	p, err := newCstr(op, r.image, path)
	if err != nil {
		return nil, err
	}
	var buf []byte
	for {
		size := C.uint32_t(len(buf))
		res, msg := call(func() C.HRESULT {
			return C.goGetBlob(C.int(which), h, p.p(), bytesPtr(buf), &size)
		})
		if res == HRInsufficientBuffer && int(size) > len(buf) {
			buf = make([]byte, size)
			continue
		}
		runtime.KeepAlive(r)
		if err := newError(op, r.image, path, res, msg); err != nil {
			return nil, err
		}
		if size == 0 {
			return nil, nil
		}
		return buf[:size], nil
	}
}

// SecurityDescriptor returns the self-relative security descriptor of path (nil if none).
func (r *Reader) SecurityDescriptor(path string) ([]byte, error) {
	return r.blob("SecurityDescriptor", blobSecurityDescriptor, path)
}

// ExtendedAttributes returns the FILE_FULL_EA_INFORMATION chain of path (nil if none).
func (r *Reader) ExtendedAttributes(path string) ([]byte, error) {
	return r.blob("ExtendedAttributes", blobExtendedAttributes, path)
}

// ReparseData returns the REPARSE_DATA_BUFFER of path (nil if it is not a reparse point).
func (r *Reader) ReparseData(path string) ([]byte, error) {
	return r.blob("ReparseData", blobReparseData, path)
}

// ReadFile returns the whole primary stream of path (or the alternate stream "file:stream").
func (r *Reader) ReadFile(path string) ([]byte, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, f.size)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:n], nil
}

// readAt reads into p at off; n < len(p) only at end of file.
func (r *Reader) readAt(op string, path string, p cstr, buf []byte, off int64) (int, error) {
	h, err := r.handle(op, path)
	if err != nil {
		return 0, err
	}
	total := 0
	for total < len(buf) {
		chunk := buf[total:]
		if len(chunk) > maxChunk {
			chunk = chunk[:maxChunk]
		}
		var n C.uint32_t
		res, msg := call(func() C.HRESULT {
			return C.goReadFile(h, p.p(), C.uint64_t(off+int64(total)), bytesPtr(chunk), C.uint32_t(len(chunk)), &n)
		})
		if err := newError(op, r.image, path, res, msg); err != nil {
			return total, err
		}
		total += int(n)
		if int(n) < len(chunk) {
			break
		}
	}
	runtime.KeepAlive(r)
	return total, nil
}
