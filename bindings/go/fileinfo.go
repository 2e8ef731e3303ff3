package cimfs

import (
	"io/fs"
	"time"
)

// Filetime is a Windows FILETIME: 100-nanosecond ticks since 1601-01-01 UTC, as stored in a CIM.
type Filetime int64

// filetimeUnixOffset is the number of ticks between 1601-01-01 and 1970-01-01.
const filetimeUnixOffset = 116444736000000000

// NewFiletime converts t (rounded down to 100 ns).
func NewFiletime(t time.Time) Filetime {
	if t.IsZero() {
		return 0
	}
	return Filetime(t.Unix()*1e7 + int64(t.Nanosecond())/100 + filetimeUnixOffset)
}

// Time converts f to a time.Time in UTC; 0 gives the zero time.Time.
func (f Filetime) Time() time.Time {
	if f == 0 {
		return time.Time{}
	}
	ticks := int64(f) - filetimeUnixOffset
	sec, rem := ticks/1e7, ticks%1e7
	if rem < 0 {
		sec, rem = sec-1, rem+1e7
	}
	return time.Unix(sec, rem*100).UTC()
}

// FileBasicInfo is the metadata AddFile takes. Same fields as go-winio's FileBasicInfo (with
// Filetime for windows.Filetime), so hcsshim-style code ports by changing the type's package.
type FileBasicInfo struct {
	CreationTime, LastAccessTime, LastWriteTime, ChangeTime Filetime
	FileAttributes                                          uint32
}

// Filetimes are the raw timestamps of a file, exactly as stored.
type Filetimes struct {
	Creation, LastWrite, Change, LastAccess Filetime
}

// FileInfo is what Reader.Stat and Reader.ReadDir report.
type FileInfo struct {
	Attributes uint32 // FILE_ATTRIBUTE_* as stored
	FileID     uint64 // the same for every hard link of a file
	Size       int64  // size of the primary stream (of the alternate stream for "file:stream")
	LinkCount  uint32 // number of names of the file in the image
	ReparseTag uint32 // 0 when not a reparse point

	CreationTime, LastWriteTime, ChangeTime, LastAccessTime time.Time
	// Raw holds the same timestamps as FILETIMEs, for lossless round trips.
	Raw Filetimes
}

// IsDir reports whether the entry is a directory.
func (fi *FileInfo) IsDir() bool { return fi.Attributes&FileAttributeDirectory != 0 }

// IsReparsePoint reports whether the entry carries reparse data (symbolic links, ...).
func (fi *FileInfo) IsReparsePoint() bool { return fi.Attributes&FileAttributeReparsePoint != 0 }

// Mode returns a Unix-style mode: directory bit for directories, ModeSymlink for reparse points,
// read-only permissions otherwise (a CIM is read-only).
func (fi *FileInfo) Mode() fs.FileMode {
	switch {
	case fi.IsDir():
		return fs.ModeDir | 0o555
	case fi.IsReparsePoint():
		return fs.ModeSymlink | 0o444
	}
	return 0o444
}

// BasicInfo returns the metadata in the form AddFile takes (for copying an entry into another
// image).
func (fi *FileInfo) BasicInfo() *FileBasicInfo {
	return &FileBasicInfo{
		CreationTime:   fi.Raw.Creation,
		LastAccessTime: fi.Raw.LastAccess,
		LastWriteTime:  fi.Raw.LastWrite,
		ChangeTime:     fi.Raw.Change,
		FileAttributes: fi.Attributes,
	}
}

// DirEntry is one entry of a directory: its name and its stat.
type DirEntry struct {
	Name string
	Info FileInfo
}

// StreamInfo describes an alternate data stream ("file:name").
type StreamInfo struct {
	Name string
	Size uint64
}
