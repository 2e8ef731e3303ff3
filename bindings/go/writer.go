package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// CimFsWriter writes one CIM: a standard CIM (Create) or a block CIM (CreateBlockCIM*). Its
// methods mirror hcsshim's pkg/cimfs. Files are added with AddFile and their data written with
// Write; the image becomes visible only when it is committed (Commit or Close).
//
// Lifetime:
//   - Commit makes the image durable and visible; the writer accepts no more changes.
//   - Close commits (unless already committed), always releases the native handle (also when the
//     commit fails, unlike hcsshim, which leaks it), then seals a WithDataIntegrity block CIM.
//   - Discard releases the handle without committing: nothing is published.
//
// After Close or Discard every method returns an error that matches fs.ErrClosed. The writer
// serialises its own methods, but one image is meant to be written from one goroutine.
type CimFsWriter struct {
	mu sync.Mutex
	// name is the image for messages: dir/name.cim or blockPath/cimName.
	name string
	// handle is the CIMFS_IMAGE_HANDLE, 0 once closed.
	handle uintptr
	// activeName, activeStream, activeLeft: the stream being written, as in hcsshim.
	activeName   string
	activeStream uintptr
	activeLeft   uint64
	committed    bool
	// sealPath is the block file to seal on Close ("" unless WithDataIntegrity).
	sealPath string
	// rootHash is the seal's root hash after Close of a verified CIM.
	rootHash []byte
}

func newWriter(name string, h uintptr, sealPath string) *CimFsWriter {
	w := &CimFsWriter{name: name, handle: h, sealPath: sealPath}
	// Safety net only: an abandoned writer is discarded (never committed) when collected.
	runtime.SetFinalizer(w, func(w *CimFsWriter) { _ = w.Discard() })
	return w
}

// Create starts a standard CIM in directory imagePath. With oldFSName == "" a new image
// newFSName is created; with both names the new image is forked from oldFSName; with only
// oldFSName that image is rewritten in place. Empty names are passed to the library as NULL.
func Create(imagePath string, oldFSName string, newFSName string) (*CimFsWriter, error) {
	const op = "Create"
	fsName := oldFSName
	if newFSName != "" {
		fsName = newFSName
	}
	image := filepath.Join(imagePath, fsName)
	dir, err := newCstr(op, image, imagePath)
	if err != nil {
		return nil, err
	}
	var oldName, newName cstr
	if oldFSName != "" {
		if oldName, err = newCstr(op, image, oldFSName); err != nil {
			return nil, err
		}
	}
	if newFSName != "" {
		if newName, err = newCstr(op, image, newFSName); err != nil {
			return nil, err
		}
	}
	var h C.goHandle
	res, msg := call(func() C.HRESULT { return C.goCreateImage(dir.p(), oldName.p(), newName.p(), &h) })
	if err := newError(op, image, "", res, msg); err != nil {
		return nil, err
	}
	return newWriter(image, uintptr(h), ""), nil
}

// CreateBlockCIM creates block CIM `name` in the block file or device at blockPath, as a
// consistent CIM (hcsshim's default for layers).
func CreateBlockCIM(blockPath, name string, blockType BlockCIMType) (*CimFsWriter, error) {
	return CreateBlockCIMWithOptions(context.Background(), &BlockCIM{Type: blockType, BlockPath: blockPath, CimName: name},
		WithConsistentCIM())
}

// CreateBlockCIMWithOptions creates a block CIM with options (WithConsistentCIM,
// WithDataIntegrity). A block file may already hold other (unsealed) CIMs; this one is added.
// ctx is accepted for hcsshim compatibility; the call itself does not block on I/O for long.
func CreateBlockCIMWithOptions(ctx context.Context, bCIM *BlockCIM, options ...BlockCIMOpt) (*CimFsWriter, error) {
	const op = "CreateBlockCIM"
	_ = ctx
	if err := bCIM.validate(op); err != nil {
		return nil, err
	}
	config := &blockCIMConfig{}
	for _, o := range options {
		if err := o(config); err != nil {
			return nil, goError(op, bCIM.String(), "", err)
		}
	}
	flags := CimCreateFlagSingleFileCim
	if bCIM.Type == BlockCIMTypeDevice {
		flags = CimCreateFlagBlockDeviceCim
	}
	if config.consistentCIM {
		flags |= CimCreateFlagConsistentCim
	}
	sealPath := ""
	if config.dataIntegrity {
		flags |= CimCreateFlagVerifiedCim
		sealPath = bCIM.BlockPath
	}
	path, err := newCstr(op, bCIM.String(), bCIM.BlockPath)
	if err != nil {
		return nil, err
	}
	name, err := newCstr(op, bCIM.String(), bCIM.CimName)
	if err != nil {
		return nil, err
	}
	var h C.goHandle
	res, msg := call(func() C.HRESULT { return C.goCreateImage2(path.p(), C.uint32_t(flags), nil, name.p(), &h) })
	if err := newError(op, bCIM.String(), "", res, msg); err != nil {
		return nil, err
	}
	return newWriter(bCIM.String(), uintptr(h), sealPath), nil
}

// Name returns the image being written (directory/name or block path/CIM name).
func (c *CimFsWriter) Name() string { return c.name }

// RootHash returns the root hash of a WithDataIntegrity block CIM after a successful Close
// (nil otherwise). GetVerificationInfo reads the same value from the block file.
func (c *CimFsWriter) RootHash() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.rootHash...)
}

// live returns the image handle or the closed error. Callers hold c.mu.
func (c *CimFsWriter) live(op, path string) (C.goHandle, error) {
	if c.handle == 0 {
		return 0, errClosed(op, c.name, path)
	}
	return C.goHandle(c.handle), nil
}

// closeStream closes the active stream, reporting an incomplete write like hcsshim.
func (c *CimFsWriter) closeStream() error {
	if c.activeStream == 0 {
		return nil
	}
	s, name, left := C.goHandle(c.activeStream), c.activeName, c.activeLeft
	c.activeStream, c.activeName, c.activeLeft = 0, "", 0
	res, msg := call(func() C.HRESULT { return C.goCloseStream(s) })
	if err := newError("closeStream", c.name, name, res, msg); err != nil {
		return err
	}
	if left > 0 {
		return goError("closeStream", c.name, name, fmt.Errorf("incomplete write, %d bytes left in the stream: %w", left, HRHandleEOF))
	}
	return nil
}

// pathOp runs one path operation with the active stream closed first (as hcsshim does).
func (c *CimFsWriter) pathOp(op, path string, f func(h C.goHandle, p cstr) (HRESULT, string)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.live(op, path)
	if err != nil {
		return err
	}
	if err := c.closeStream(); err != nil {
		return err
	}
	p, err := newCstr(op, c.name, path)
	if err != nil {
		return err
	}
	res, msg := f(h, p)
	runtime.KeepAlive(c)
	return newError(op, c.name, path, res, msg)
}

// AddFile adds a file, or a directory when info.FileAttributes has FileAttributeDirectory, at
// path and makes it the active stream: write its fileSize bytes with Write. A file already at
// path is replaced; the parent directory must exist. securityDescriptor (self-relative),
// extendedAttributes (FILE_FULL_EA_INFORMATION chain) and reparseData (REPARSE_DATA_BUFFER)
// may be nil. Unlike hcsshim, a nil security descriptor is stored as "none", not replaced by
// a NULL-DACL descriptor. Signature and semantics otherwise as hcsshim's AddFile.
func (c *CimFsWriter) AddFile(path string, info *FileBasicInfo, fileSize int64, securityDescriptor []byte, extendedAttributes []byte, reparseData []byte) error {
	const op = "AddFile"
	if info == nil {
		return goError(op, c.name, path, fmt.Errorf("nil FileBasicInfo: %w", HRInvalidArg))
	}
	for _, b := range [][]byte{securityDescriptor, extendedAttributes, reparseData} {
		if uint64(len(b)) > math.MaxUint32 {
			return goError(op, c.name, path, fmt.Errorf("metadata buffer of %d bytes: %w", len(b), HRInvalidArg))
		}
	}
	// hcsshim strips one trailing separator; so does the library, but do it here too so the
	// active stream's name matches what the caller will see in messages.
	path = strings.TrimSuffix(path, `\`)
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.live(op, path)
	if err != nil {
		return err
	}
	if err := c.closeStream(); err != nil {
		return err
	}
	p, err := newCstr(op, c.name, path)
	if err != nil {
		return err
	}
	var s C.goHandle
	res, msg := call(func() C.HRESULT {
		return C.goCreateFile(h, p.p(), C.uint32_t(info.FileAttributes), C.int64_t(fileSize),
			C.int64_t(info.CreationTime), C.int64_t(info.LastWriteTime), C.int64_t(info.ChangeTime), C.int64_t(info.LastAccessTime),
			bytesPtr(securityDescriptor), C.uint32_t(len(securityDescriptor)),
			bytesPtr(reparseData), C.uint32_t(len(reparseData)),
			bytesPtr(extendedAttributes), C.uint32_t(len(extendedAttributes)), &s)
	})
	runtime.KeepAlive(c)
	if err := newError(op, c.name, path, res, msg); err != nil {
		return err
	}
	c.activeStream, c.activeName = uintptr(s), path
	if info.FileAttributes&FileAttributeDirectory == 0 && fileSize > 0 {
		c.activeLeft = uint64(fileSize)
	}
	return nil
}

// maxChunk is the largest single CimWriteStream (its size parameter is 32-bit).
const maxChunk = 1 << 30

// Write appends p to the active stream (io.Writer). Writing more than the size declared with
// AddFile or CreateAlternateStream writes nothing and fails with an error matching
// HRHandleEOF ("wrote too much").
func (c *CimFsWriter) Write(p []byte) (int, error) {
	const op = "Write"
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.live(op, c.activeName); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil // also for directories, which may have no stream to write
	}
	if c.activeStream == 0 {
		return 0, goError(op, c.name, "", fmt.Errorf("no active stream: %w", HRInvalidHandle))
	}
	if uint64(len(p)) > c.activeLeft {
		return 0, goError(op, c.name, c.activeName, fmt.Errorf("wrote too much: %d bytes, %d left: %w", len(p), c.activeLeft, HRHandleEOF))
	}
	s := C.goHandle(c.activeStream)
	written := 0
	for written < len(p) {
		chunk := p[written:]
		if len(chunk) > maxChunk {
			chunk = chunk[:maxChunk]
		}
		res, msg := call(func() C.HRESULT { return C.goWriteStream(s, bytesPtr(chunk), C.uint32_t(len(chunk))) })
		if err := newError(op, c.name, c.activeName, res, msg); err != nil {
			return written, err
		}
		written += len(chunk)
		c.activeLeft -= uint64(len(chunk))
	}
	runtime.KeepAlive(c)
	return written, nil
}

// CreateAlternateStream creates alternate stream "file:stream" of size bytes on an existing
// file or directory and makes it the active stream (write its data with Write).
func (c *CimFsWriter) CreateAlternateStream(path string, size uint64) error {
	const op = "CreateAlternateStream"
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.live(op, path)
	if err != nil {
		return err
	}
	if err := c.closeStream(); err != nil {
		return err
	}
	p, err := newCstr(op, c.name, path)
	if err != nil {
		return err
	}
	var s C.goHandle
	res, msg := call(func() C.HRESULT { return C.goCreateAlternateStream(h, p.p(), C.uint64_t(size), &s) })
	runtime.KeepAlive(c)
	if err := newError(op, c.name, path, res, msg); err != nil {
		return err
	}
	c.activeStream, c.activeName, c.activeLeft = uintptr(s), path, size
	return nil
}

// AddLink adds a hard link at newPath to the existing file oldPath (hcsshim's order: old
// first; the library's CimCreateHardLink takes the new path first).
func (c *CimFsWriter) AddLink(oldPath string, newPath string) error {
	const op = "AddLink"
	oldC, err := newCstr(op, c.name, oldPath)
	if err != nil {
		return err
	}
	return c.pathOp(op, newPath, func(h C.goHandle, p cstr) (HRESULT, string) {
		return call(func() C.HRESULT { return C.goCreateHardLink(h, p.p(), oldC.p()) })
	})
}

// AddMergedLink adds a link at newPath to oldPath that is resolved when block CIMs are merged,
// so oldPath may live in another (lower) source or be another merged link.
func (c *CimFsWriter) AddMergedLink(oldPath string, newPath string) error {
	const op = "AddMergedLink"
	oldC, err := newCstr(op, c.name, oldPath)
	if err != nil {
		return err
	}
	return c.pathOp(op, newPath, func(h C.goHandle, p cstr) (HRESULT, string) {
		return call(func() C.HRESULT { return C.goCreateMergeLink(h, p.p(), oldC.p()) })
	})
}

// Unlink removes the file, link, stream or directory (with its subtree) at path.
func (c *CimFsWriter) Unlink(path string) error {
	return c.pathOp("Unlink", path, func(h C.goHandle, p cstr) (HRESULT, string) {
		return call(func() C.HRESULT { return C.goDeletePath(h, p.p()) })
	})
}

// AddTombstone records that path is deleted, hiding it in every lower source of a merge
// (Unlink only removes what this CIM has).
func (c *CimFsWriter) AddTombstone(path string) error {
	return c.pathOp("AddTombstone", path, func(h C.goHandle, p cstr) (HRESULT, string) {
		return call(func() C.HRESULT { return C.goTombstoneFile(h, p.p()) })
	})
}

// addFsToMerged adds one source to a merged CIM (used by MergeBlockCIMsWithOpts).
func (c *CimFsWriter) addFsToMerged(fsPath string, flags uint32) error {
	return c.pathOp("MergeBlockCIMs", fsPath, func(h C.goHandle, p cstr) (HRESULT, string) {
		return call(func() C.HRESULT { return C.goAddFsToMergedImage2(h, p.p(), C.uint32_t(flags)) })
	})
}

// Commit closes the active stream and makes the image durable and visible under its name. The
// writer accepts no more changes but must still be closed (Close or Discard). Committing twice
// is a no-op.
func (c *CimFsWriter) Commit() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.commitLocked()
}

func (c *CimFsWriter) commitLocked() error {
	const op = "Commit"
	h, err := c.live(op, "")
	if err != nil {
		return err
	}
	if c.committed {
		return nil
	}
	if err := c.closeStream(); err != nil {
		return err
	}
	res, msg := call(func() C.HRESULT { return C.goCommitImage(h) })
	runtime.KeepAlive(c)
	if err := newError(op, c.name, "", res, msg); err != nil {
		return err
	}
	c.committed = true
	return nil
}

// Close commits the image (unless Commit already did), releases the native handle whatever
// happened, and seals a block CIM created WithDataIntegrity. It returns the first error. A
// second Close returns an error matching fs.ErrClosed.
func (c *CimFsWriter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle == 0 {
		return errClosed("Close", c.name, "")
	}
	err := c.commitLocked()
	c.release()
	if err != nil {
		return err
	}
	if c.sealPath != "" {
		hash, err := SealBlockCIM(c.sealPath)
		if err != nil {
			return err
		}
		c.rootHash = hash
	}
	return nil
}

// Discard releases the native handle without committing: nothing written since Create is
// published. Returns an error matching fs.ErrClosed if the writer is already closed, so
// `defer w.Discard()` after a successful Close is harmless when its result is ignored.
func (c *CimFsWriter) Discard() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handle == 0 {
		return errClosed("Discard", c.name, "")
	}
	c.release()
	return nil
}

// release closes the active stream (ignoring its status) and the image. Callers hold c.mu.
func (c *CimFsWriter) release() {
	if c.activeStream != 0 {
		s := C.goHandle(c.activeStream)
		C.goCloseStream(s)
		c.activeStream, c.activeName, c.activeLeft = 0, "", 0
	}
	C.goCloseImage(C.goHandle(c.handle))
	c.handle = 0
	runtime.SetFinalizer(c, nil)
}
