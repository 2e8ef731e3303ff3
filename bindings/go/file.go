package cimfs

import (
	"fmt"
	"io"
	"sync"
)

// File is an open file (or alternate stream) of a Reader: io.Reader, io.ReaderAt, io.Seeker
// and io.Closer. ReadAt may be called concurrently; Read and Seek share an offset and are
// serialised. A File holds no native handle of its own: closing it only stops further use,
// and it stops working when its Reader is closed.
type File struct {
	r    *Reader
	path string
	cp   cstr
	size int64
	info FileInfo

	mu     sync.Mutex
	offset int64
	closed bool
}

// Open opens path for reading. Directories cannot be opened (an error matching
// HRAccessDenied); "file:stream" opens an alternate stream.
func (r *Reader) Open(path string) (*File, error) {
	const op = "Open"
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
	if fi.IsDir() {
		return nil, goError(op, r.image, path, fmt.Errorf("is a directory: %w", HRAccessDenied))
	}
	return &File{r: r, path: path, cp: p, size: fi.Size, info: fi}, nil
}

// Name returns the path the file was opened with.
func (f *File) Name() string { return f.path }

// Size returns the size of the stream.
func (f *File) Size() int64 { return f.size }

// Stat returns the metadata read when the file was opened.
func (f *File) Stat() (*FileInfo, error) {
	if f.isClosed() {
		return nil, errClosed("Stat", f.r.image, f.path)
	}
	fi := f.info
	return &fi, nil
}

func (f *File) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	const op = "ReadAt"
	if f.isClosed() {
		return 0, errClosed(op, f.r.image, f.path)
	}
	if off < 0 {
		return 0, goError(op, f.r.image, f.path, fmt.Errorf("negative offset %d: %w", off, HRInvalidArg))
	}
	if off >= f.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := p
	if rem := f.size - off; int64(len(want)) > rem {
		want = want[:rem]
	}
	n, err := f.r.readAt(op, f.path, f.cp, want, off)
	if err != nil {
		return n, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Read implements io.Reader.
func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errClosed("Read", f.r.image, f.path)
	}
	if f.offset >= f.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	if rem := f.size - f.offset; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := f.r.readAt("Read", f.path, f.cp, p, f.offset)
	f.offset += int64(n)
	if err == nil && n == 0 && len(p) > 0 {
		err = io.ErrUnexpectedEOF // the image holds less data than its metadata declares
	}
	return n, err
}

// Seek implements io.Seeker.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, errClosed("Seek", f.r.image, f.path)
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.offset + offset
	case io.SeekEnd:
		abs = f.size + offset
	default:
		return 0, goError("Seek", f.r.image, f.path, fmt.Errorf("invalid whence %d: %w", whence, HRInvalidArg))
	}
	if abs < 0 {
		return 0, goError("Seek", f.r.image, f.path, fmt.Errorf("negative position %d: %w", abs, HRInvalidArg))
	}
	f.offset = abs
	return abs, nil
}

// Close marks the file closed; a second Close returns an error matching fs.ErrClosed.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errClosed("Close", f.r.image, f.path)
	}
	f.closed = true
	return nil
}
