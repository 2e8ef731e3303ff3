package cimfs

import (
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// FS returns the image as an io/fs file system (fs.FS, fs.StatFS, fs.ReadDirFS, fs.ReadFileFS),
// so standard helpers (fs.WalkDir, fs.Glob, http.FS, testing/fstest) work on a CIM. Names are
// slash-separated and "." is the root, as io/fs requires; directories list in byte order;
// names with '\' or ':' do not exist (use the Reader's methods for alternate streams).
// The FS is valid while the Reader is open.
func (r *Reader) FS() fs.FS { return readerFS{r} }

type readerFS struct{ r *Reader }

// cimPath converts an io/fs name to a path inside the image.
func cimPath(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	// io/fs never treats '\' or ':' as separators, but the library reads them as a path
	// separator and a stream name. No CIM name contains either (Windows forbids them), so
	// such a name does not exist.
	if strings.ContainsAny(name, `\:`) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	if name == "." {
		return "", nil
	}
	return name, nil
}

func (f readerFS) Open(name string) (fs.File, error) {
	p, err := cimPath("open", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.r.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	info := fsInfo{name: path.Base(name), fi: *fi}
	if fi.IsDir() {
		return &fsDir{fs: f, name: name, info: info}, nil
	}
	file, err := f.r.Open(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &fsFile{File: file, info: info}, nil
}

func (f readerFS) Stat(name string) (fs.FileInfo, error) {
	p, err := cimPath("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.r.Stat(p)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return fsInfo{name: path.Base(name), fi: *fi}, nil
}

func (f readerFS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := cimPath("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := f.r.ReadDir(p)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = fsInfo{name: e.Name, fi: e.Info}
	}
	// A CIM stores names in Windows (upcased UTF-16) order; io/fs wants byte order.
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (f readerFS) ReadFile(name string) ([]byte, error) {
	p, err := cimPath("readfile", name)
	if err != nil {
		return nil, err
	}
	b, err := f.r.ReadFile(p)
	if err != nil {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: err}
	}
	return b, nil
}

// fsInfo is both the fs.FileInfo and the fs.DirEntry of an entry.
type fsInfo struct {
	name string
	fi   FileInfo
}

func (i fsInfo) Name() string               { return i.name }
func (i fsInfo) Size() int64                { return i.fi.Size }
func (i fsInfo) Mode() fs.FileMode          { return i.fi.Mode() }
func (i fsInfo) ModTime() time.Time         { return i.fi.LastWriteTime }
func (i fsInfo) IsDir() bool                { return i.fi.IsDir() }
func (i fsInfo) Sys() any                   { fi := i.fi; return &fi }
func (i fsInfo) Type() fs.FileMode          { return i.fi.Mode().Type() }
func (i fsInfo) Info() (fs.FileInfo, error) { return i, nil }

// fsFile is a regular file: File's Read, ReadAt, Seek and Close, with an fs.FileInfo Stat.
type fsFile struct {
	*File
	info fsInfo
}

func (f *fsFile) Stat() (fs.FileInfo, error) {
	if _, err := f.File.Stat(); err != nil {
		return nil, err
	}
	return f.info, nil
}

// fsDir is an open directory (fs.ReadDirFile).
type fsDir struct {
	fs      readerFS
	name    string
	info    fsInfo
	entries []fs.DirEntry
	read    bool
	closed  bool
}

func (d *fsDir) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *fsDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *fsDir) Close() error {
	if d.closed {
		return &fs.PathError{Op: "close", Path: d.name, Err: fs.ErrClosed}
	}
	d.closed = true
	return nil
}

func (d *fsDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	if !d.read {
		entries, err := d.fs.ReadDir(d.name)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = entries, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}
