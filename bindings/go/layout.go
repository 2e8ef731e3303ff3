package cimfs

/*
#include <stddef.h>
#include "shim.h"

// What C itself reports: sizeof/offsetof of every public struct, in the order of cLayoutNames.
static const size_t goCLayout[] = {
    sizeof(CIMFS_GUID), offsetof(CIMFS_GUID, Data1), offsetof(CIMFS_GUID, Data2),
    offsetof(CIMFS_GUID, Data3), offsetof(CIMFS_GUID, Data4),

    sizeof(CIMFS_FILE_METADATA), offsetof(CIMFS_FILE_METADATA, Attributes),
    offsetof(CIMFS_FILE_METADATA, FileSize), offsetof(CIMFS_FILE_METADATA, CreationTime),
    offsetof(CIMFS_FILE_METADATA, LastWriteTime), offsetof(CIMFS_FILE_METADATA, ChangeTime),
    offsetof(CIMFS_FILE_METADATA, LastAccessTime), offsetof(CIMFS_FILE_METADATA, SecurityDescriptorBuffer),
    offsetof(CIMFS_FILE_METADATA, SecurityDescriptorSize), offsetof(CIMFS_FILE_METADATA, ReparseDataBuffer),
    offsetof(CIMFS_FILE_METADATA, ReparseDataSize), offsetof(CIMFS_FILE_METADATA, ExtendedAttributes),
    offsetof(CIMFS_FILE_METADATA, EACount),

    sizeof(CIMFS_IMAGE_PATH), offsetof(CIMFS_IMAGE_PATH, ImageDir), offsetof(CIMFS_IMAGE_PATH, ImageName),

    sizeof(CIMFS_FILE_INFO), offsetof(CIMFS_FILE_INFO, Size), offsetof(CIMFS_FILE_INFO, Attributes),
    offsetof(CIMFS_FILE_INFO, FileId), offsetof(CIMFS_FILE_INFO, FileSize),
    offsetof(CIMFS_FILE_INFO, CreationTime), offsetof(CIMFS_FILE_INFO, LastWriteTime),
    offsetof(CIMFS_FILE_INFO, ChangeTime), offsetof(CIMFS_FILE_INFO, LastAccessTime),
    offsetof(CIMFS_FILE_INFO, LinkCount), offsetof(CIMFS_FILE_INFO, ReparseTag),

    sizeof(CIMFS_IMPORT_OPTIONS), offsetof(CIMFS_IMPORT_OPTIONS, Size), offsetof(CIMFS_IMPORT_OPTIONS, Flags),
    offsetof(CIMFS_IMPORT_OPTIONS, LayerFormat), offsetof(CIMFS_IMPORT_OPTIONS, Threads),
    offsetof(CIMFS_IMPORT_OPTIONS, MaxUncompressedBytes), offsetof(CIMFS_IMPORT_OPTIONS, NumParentLayers),
    offsetof(CIMFS_IMPORT_OPTIONS, Reserved), offsetof(CIMFS_IMPORT_OPTIONS, ParentLayers),

    sizeof(CIMFS_IMPORT_RESULT), offsetof(CIMFS_IMPORT_RESULT, Size), offsetof(CIMFS_IMPORT_RESULT, Reserved),
    offsetof(CIMFS_IMPORT_RESULT, Entries), offsetof(CIMFS_IMPORT_RESULT, DataBytes),
    offsetof(CIMFS_IMPORT_RESULT, RootHash),
};
static size_t goCLayoutAt(int i) { return goCLayout[i]; }
static int goCLayoutLen(void) { return (int)(sizeof goCLayout / sizeof goCLayout[0]); }
*/
import "C"

import "unsafe"

// layoutEntry is one size or offset of a public struct as seen from Go (through cgo's
// translation, which is what this package passes to C) and as C computes it.
type layoutEntry struct {
	Name string
	Go   uintptr
	C    uintptr
}

// structLayout returns every entry of the layout check (layout_test.go). It lives in a non-test
// file because cgo cannot be used in _test.go files.
func structLayout() []layoutEntry {
	var g C.CIMFS_GUID
	var md C.CIMFS_FILE_METADATA
	var ip C.CIMFS_IMAGE_PATH
	var fi C.CIMFS_FILE_INFO
	var io C.CIMFS_IMPORT_OPTIONS
	var ir C.CIMFS_IMPORT_RESULT
	goSide := []struct {
		name string
		v    uintptr
	}{
		{"sizeof(CIMFS_GUID)", unsafe.Sizeof(g)}, {"CIMFS_GUID.Data1", unsafe.Offsetof(g.Data1)},
		{"CIMFS_GUID.Data2", unsafe.Offsetof(g.Data2)}, {"CIMFS_GUID.Data3", unsafe.Offsetof(g.Data3)},
		{"CIMFS_GUID.Data4", unsafe.Offsetof(g.Data4)},

		{"sizeof(CIMFS_FILE_METADATA)", unsafe.Sizeof(md)}, {"CIMFS_FILE_METADATA.Attributes", unsafe.Offsetof(md.Attributes)},
		{"CIMFS_FILE_METADATA.FileSize", unsafe.Offsetof(md.FileSize)}, {"CIMFS_FILE_METADATA.CreationTime", unsafe.Offsetof(md.CreationTime)},
		{"CIMFS_FILE_METADATA.LastWriteTime", unsafe.Offsetof(md.LastWriteTime)}, {"CIMFS_FILE_METADATA.ChangeTime", unsafe.Offsetof(md.ChangeTime)},
		{"CIMFS_FILE_METADATA.LastAccessTime", unsafe.Offsetof(md.LastAccessTime)},
		{"CIMFS_FILE_METADATA.SecurityDescriptorBuffer", unsafe.Offsetof(md.SecurityDescriptorBuffer)},
		{"CIMFS_FILE_METADATA.SecurityDescriptorSize", unsafe.Offsetof(md.SecurityDescriptorSize)},
		{"CIMFS_FILE_METADATA.ReparseDataBuffer", unsafe.Offsetof(md.ReparseDataBuffer)},
		{"CIMFS_FILE_METADATA.ReparseDataSize", unsafe.Offsetof(md.ReparseDataSize)},
		{"CIMFS_FILE_METADATA.ExtendedAttributes", unsafe.Offsetof(md.ExtendedAttributes)},
		{"CIMFS_FILE_METADATA.EACount", unsafe.Offsetof(md.EACount)},

		{"sizeof(CIMFS_IMAGE_PATH)", unsafe.Sizeof(ip)}, {"CIMFS_IMAGE_PATH.ImageDir", unsafe.Offsetof(ip.ImageDir)},
		{"CIMFS_IMAGE_PATH.ImageName", unsafe.Offsetof(ip.ImageName)},

		{"sizeof(CIMFS_FILE_INFO)", unsafe.Sizeof(fi)}, {"CIMFS_FILE_INFO.Size", unsafe.Offsetof(fi.Size)},
		{"CIMFS_FILE_INFO.Attributes", unsafe.Offsetof(fi.Attributes)}, {"CIMFS_FILE_INFO.FileId", unsafe.Offsetof(fi.FileId)},
		{"CIMFS_FILE_INFO.FileSize", unsafe.Offsetof(fi.FileSize)}, {"CIMFS_FILE_INFO.CreationTime", unsafe.Offsetof(fi.CreationTime)},
		{"CIMFS_FILE_INFO.LastWriteTime", unsafe.Offsetof(fi.LastWriteTime)}, {"CIMFS_FILE_INFO.ChangeTime", unsafe.Offsetof(fi.ChangeTime)},
		{"CIMFS_FILE_INFO.LastAccessTime", unsafe.Offsetof(fi.LastAccessTime)}, {"CIMFS_FILE_INFO.LinkCount", unsafe.Offsetof(fi.LinkCount)},
		{"CIMFS_FILE_INFO.ReparseTag", unsafe.Offsetof(fi.ReparseTag)},

		{"sizeof(CIMFS_IMPORT_OPTIONS)", unsafe.Sizeof(io)}, {"CIMFS_IMPORT_OPTIONS.Size", unsafe.Offsetof(io.Size)},
		{"CIMFS_IMPORT_OPTIONS.Flags", unsafe.Offsetof(io.Flags)}, {"CIMFS_IMPORT_OPTIONS.LayerFormat", unsafe.Offsetof(io.LayerFormat)},
		{"CIMFS_IMPORT_OPTIONS.Threads", unsafe.Offsetof(io.Threads)},
		{"CIMFS_IMPORT_OPTIONS.MaxUncompressedBytes", unsafe.Offsetof(io.MaxUncompressedBytes)},
		{"CIMFS_IMPORT_OPTIONS.NumParentLayers", unsafe.Offsetof(io.NumParentLayers)},
		{"CIMFS_IMPORT_OPTIONS.Reserved", unsafe.Offsetof(io.Reserved)},
		{"CIMFS_IMPORT_OPTIONS.ParentLayers", unsafe.Offsetof(io.ParentLayers)},

		{"sizeof(CIMFS_IMPORT_RESULT)", unsafe.Sizeof(ir)}, {"CIMFS_IMPORT_RESULT.Size", unsafe.Offsetof(ir.Size)},
		{"CIMFS_IMPORT_RESULT.Reserved", unsafe.Offsetof(ir.Reserved)}, {"CIMFS_IMPORT_RESULT.Entries", unsafe.Offsetof(ir.Entries)},
		{"CIMFS_IMPORT_RESULT.DataBytes", unsafe.Offsetof(ir.DataBytes)}, {"CIMFS_IMPORT_RESULT.RootHash", unsafe.Offsetof(ir.RootHash)},
	}
	n := int(C.goCLayoutLen())
	out := make([]layoutEntry, 0, len(goSide))
	for i, e := range goSide {
		c := ^uintptr(0) // a C table shorter than the Go one is a mismatch, not a crash
		if i < n {
			c = uintptr(C.goCLayoutAt(C.int(i)))
		}
		out = append(out, layoutEntry{Name: e.name, Go: e.v, C: c})
	}
	if n > len(goSide) {
		out = append(out, layoutEntry{Name: "number of C entries", Go: uintptr(len(goSide)), C: uintptr(n)})
	}
	return out
}
