package cimfs

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"unsafe"
)

// LayerFormat says how a layer tarball maps onto a CIM.
type LayerFormat uint32

const (
	// LayerFormatAuto picks Windows when the tar has Files/ or Hives/ at its root, else Linux.
	LayerFormatAuto LayerFormat = 0
	// LayerFormatWindows: Files/, Hives/, UtilityVM/ and MSWINDOWS.* PAX records.
	LayerFormatWindows LayerFormat = 1
	// LayerFormatLinux: POSIX metadata kept in WSL extended attributes and reparse points.
	LayerFormatLinux LayerFormat = 2
)

// ImportOptions are the options of ImportLayer (all optional).
type ImportOptions struct {
	// Verified seals the block file and writes <dir>/integrity_checksum (hex root hash).
	Verified bool
	// VHDFooter appends a 512-byte fixed VHD footer after sealing.
	VHDFooter bool
	// Progress draws a progress bar on stderr when it is a terminal.
	Progress bool
	Format   LayerFormat
	// Threads is the number of worker threads, 0 = number of CPUs (the output never depends on it).
	Threads int
	// MaxUncompressedBytes refuses archives expanding beyond it; 0 = 1 TiB.
	MaxUncompressedBytes uint64
	// ParentLayers are the layers below this one, topmost first (block type checks).
	ParentLayers []*BlockCIM
}

// ImportResult is what an import reports.
type ImportResult struct {
	Entries   uint64 // tar entries applied
	DataBytes uint64 // bytes of regular file data
	RootHash  []byte // root hash when Verified, else nil
}

// ImportLayer imports the OCI layer tarball at tarPath (plain, gzip, zstd or xz) into the new
// single-file block CIM cimName in blockPath, in one pass, reproducibly. Nothing is published
// unless the whole import succeeds. opts may be nil.
func ImportLayer(tarPath, blockPath, cimName string, opts *ImportOptions) (*ImportResult, error) {
	const op = "ImportLayer"
	tp, err := newCstr(op, blockPath, tarPath)
	if err != nil {
		return nil, err
	}
	return importLayer(op, tp, -1, blockPath, cimName, opts)
}

// ImportLayerFromReader imports a layer read from r. An *os.File is read directly through its
// descriptor; any other reader is copied into a pipe whose read end the library reads.
func ImportLayerFromReader(r io.Reader, blockPath, cimName string, opts *ImportOptions) (*ImportResult, error) {
	const op = "ImportLayer"
	if f, ok := r.(*os.File); ok {
		res, err := importLayer(op, nil, int(f.Fd()), blockPath, cimName, opts)
		runtime.KeepAlive(f)
		return res, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, goError(op, blockPath, "", err)
	}
	readErr := make(chan error, 1)
	go func() { readErr <- feedPipe(pw, r) }()
	res, err := importLayer(op, nil, int(pr.Fd()), blockPath, cimName, opts)
	// Closing the read end unblocks the feeder if the library stopped reading early.
	pr.Close()
	rerr := <-readErr
	if err != nil {
		return nil, err
	}
	if rerr != nil {
		// The library accepted what it got, but the caller's reader failed: the layer may be
		// incomplete. The block file is new (import refuses existing ones), so remove it.
		_ = os.Remove(blockPath)
		return nil, goError(op, blockPath, "", fmt.Errorf("reading the layer: %w", rerr))
	}
	return res, nil
}

// feedPipe copies r into the pipe's write end and closes it (the library then sees EOF; after
// a read error it sees a truncated archive and fails). It returns r's error, not the pipe's:
// a write error only means the library stopped reading, which its own result reports.
func feedPipe(pw *os.File, r io.Reader) error {
	defer pw.Close()
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := pw.Write(buf[:n]); werr != nil {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func importLayer(op string, tarPath cstr, fd int, blockPath, cimName string, opts *ImportOptions) (*ImportResult, error) {
	image := (&BlockCIM{BlockPath: blockPath, CimName: cimName}).String()
	bp, err := newCstr(op, image, blockPath)
	if err != nil {
		return nil, err
	}
	cn, err := newCstr(op, image, cimName)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ImportOptions{}
	}
	var flags uint32
	if opts.Verified {
		flags |= 0x1
	}
	if opts.VHDFooter {
		flags |= 0x2
	}
	if opts.Progress {
		flags |= 0x4
	}
	if opts.Threads < 0 || opts.Threads > math.MaxUint32 {
		return nil, goError(op, image, "", fmt.Errorf("threads %d: %w", opts.Threads, HRInvalidArg))
	}
	var parents *imagePaths
	if len(opts.ParentLayers) > 0 {
		if parents, err = newImagePaths(op, opts.ParentLayers); err != nil {
			return nil, err
		}
		defer parents.free()
	} else {
		parents = &imagePaths{}
	}
	var out C.CIMFS_IMPORT_RESULT
	res, msg := call(func() C.HRESULT {
		return C.goImportLayer(tarPath.p(), C.int(fd), bp.p(), cn.p(), C.uint32_t(flags), C.uint32_t(opts.Format),
			C.uint32_t(opts.Threads), C.uint64_t(opts.MaxUncompressedBytes), parents.n, parents.p, &out)
	})
	if err := newError(op, image, "", res, msg); err != nil {
		return nil, err
	}
	r := &ImportResult{Entries: uint64(out.Entries), DataBytes: uint64(out.DataBytes)}
	if opts.Verified {
		r.RootHash = C.GoBytes(unsafe.Pointer(&out.RootHash[0]), C.int(len(out.RootHash)))
	}
	return r, nil
}
