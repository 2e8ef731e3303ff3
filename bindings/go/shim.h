/*
 * Thin C wrappers between cgo and include/opencim/cimfs.h. Included by every cgo preamble of
 * package cimfs (static inline, so each preamble gets its own copy).
 *
 * Why wrappers at all:
 *  - opencim handles are serial numbers (1, 2, 3, ...) that only look like pointers. Held in a
 *    Go pointer-typed variable, a value below 4096 makes the Go runtime throw "invalid pointer
 *    found on stack" when it copies a goroutine stack. So handles cross into Go as uintptr_t
 *    (Go: uintptr) and are cast back to the handle type only here, in C.
 *  - CIMFS_FILE_METADATA carries pointers. cgo forbids passing Go memory that contains Go
 *    pointers, so the struct is assembled here on the C stack from separate arguments, each a
 *    pointer to Go memory that contains no pointers (allowed by the cgo rules).
 */
#ifndef OPENCIM_GO_SHIM_H
#define OPENCIM_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>
#include <opencim/cimfs.h>

#if !defined(OPENCIM_VERSION_MAJOR) || OPENCIM_VERSION_MAJOR != 1
#error "bindings/go is written against opencim 1.x (include/opencim/cimfs.h OPENCIM_VERSION_MAJOR 1)"
#endif

typedef uintptr_t goHandle;

static inline HRESULT goCreateImage(const char *dir, const char *existing, const char *name, goHandle *out) {
    CIMFS_IMAGE_HANDLE h = NULL;
    HRESULT hr = CimCreateImage(dir, existing, name, &h);
    *out = (goHandle)h;
    return hr;
}

static inline HRESULT goCreateImage2(const char *dir, uint32_t flags, const char *existing, const char *name,
                                     goHandle *out) {
    CIMFS_IMAGE_HANDLE h = NULL;
    HRESULT hr = CimCreateImage2(dir, flags, existing, name, &h);
    *out = (goHandle)h;
    return hr;
}

static inline HRESULT goCommitImage(goHandle h) { return CimCommitImage((CIMFS_IMAGE_HANDLE)h); }
static inline void goCloseImage(goHandle h) { CimCloseImage((CIMFS_IMAGE_HANDLE)h); }

static inline HRESULT goCreateFile(goHandle img, const char *path, uint32_t attributes, int64_t fileSize,
                                   int64_t creation, int64_t lastWrite, int64_t change, int64_t lastAccess,
                                   const void *sd, uint32_t sdSize, const void *reparse, uint32_t reparseSize,
                                   const void *ea, uint32_t eaSize, goHandle *stream) {
    CIMFS_FILE_METADATA md = {0};
    md.Attributes = attributes;
    md.FileSize = fileSize;
    md.CreationTime = creation;
    md.LastWriteTime = lastWrite;
    md.ChangeTime = change;
    md.LastAccessTime = lastAccess;
    md.SecurityDescriptorBuffer = sd;
    md.SecurityDescriptorSize = sdSize;
    md.ReparseDataBuffer = reparse;
    md.ReparseDataSize = reparseSize;
    md.ExtendedAttributes = ea;
    md.EACount = eaSize;
    CIMFS_STREAM_HANDLE s = NULL;
    HRESULT hr = CimCreateFile((CIMFS_IMAGE_HANDLE)img, path, &md, &s);
    *stream = (goHandle)s;
    return hr;
}

static inline HRESULT goWriteStream(goHandle s, const void *buf, uint32_t n) {
    return CimWriteStream((CIMFS_STREAM_HANDLE)s, buf, n);
}
static inline HRESULT goCloseStream(goHandle s) { return CimCloseStream((CIMFS_STREAM_HANDLE)s); }

static inline HRESULT goCreateAlternateStream(goHandle img, const char *path, uint64_t size, goHandle *stream) {
    CIMFS_STREAM_HANDLE s = NULL;
    HRESULT hr = CimCreateAlternateStream((CIMFS_IMAGE_HANDLE)img, path, size, &s);
    *stream = (goHandle)s;
    return hr;
}

static inline HRESULT goCreateHardLink(goHandle img, const char *newPath, const char *existing) {
    return CimCreateHardLink((CIMFS_IMAGE_HANDLE)img, newPath, existing);
}
static inline HRESULT goCreateMergeLink(goHandle img, const char *newPath, const char *existing) {
    return CimCreateMergeLink((CIMFS_IMAGE_HANDLE)img, newPath, existing);
}
static inline HRESULT goDeletePath(goHandle img, const char *path) {
    return CimDeletePath((CIMFS_IMAGE_HANDLE)img, path);
}
static inline HRESULT goTombstoneFile(goHandle img, const char *path) {
    return CimTombstoneFile((CIMFS_IMAGE_HANDLE)img, path);
}
static inline HRESULT goAddFsToMergedImage2(goHandle img, const char *fsPath, uint32_t flags) {
    return CimAddFsToMergedImage2((CIMFS_IMAGE_HANDLE)img, fsPath, flags);
}

/* ---- reader ---- */

static inline HRESULT goOpenImage(const char *dir, const char *name, uint32_t flags, goHandle *out) {
    CIMFS_READER_HANDLE h = NULL;
    HRESULT hr = CimOpenImage(dir, name, flags, &h);
    *out = (goHandle)h;
    return hr;
}

static inline HRESULT goOpenVerifiedImage(const char *dir, const char *name, uint32_t flags, uint16_t hashSize,
                                          const uint8_t *hash, goHandle *out) {
    CIMFS_READER_HANDLE h = NULL;
    HRESULT hr = CimOpenVerifiedImage(dir, name, flags, hashSize, hash, &h);
    *out = (goHandle)h;
    return hr;
}

static inline HRESULT goOpenMergedImage(uint32_t n, const CIMFS_IMAGE_PATH *paths, uint32_t flags, uint16_t hashSize,
                                        const uint8_t *hash, goHandle *out) {
    CIMFS_READER_HANDLE h = NULL;
    HRESULT hr = hash ? CimOpenMergedVerifiedImage(n, paths, flags, hashSize, hash, &h)
                      : CimOpenMergedImage(n, paths, flags, &h);
    *out = (goHandle)h;
    return hr;
}

static inline void goCloseReader(goHandle h) { CimCloseReader((CIMFS_READER_HANDLE)h); }

static inline HRESULT goStatPath(goHandle h, const char *path, CIMFS_FILE_INFO *info) {
    info->Size = (uint32_t)sizeof(CIMFS_FILE_INFO);
    return CimStatPath((CIMFS_READER_HANDLE)h, path, info);
}

/* which: 0 security descriptor, 1 extended attributes, 2 reparse data */
static inline HRESULT goGetBlob(int which, goHandle h, const char *path, void *buf, uint32_t *size) {
    switch (which) {
    case 0: return CimGetSecurityDescriptor((CIMFS_READER_HANDLE)h, path, buf, size);
    case 1: return CimGetExtendedAttributes((CIMFS_READER_HANDLE)h, path, buf, size);
    default: return CimGetReparseData((CIMFS_READER_HANDLE)h, path, buf, size);
    }
}

static inline HRESULT goReadFile(goHandle h, const char *path, uint64_t offset, void *buf, uint32_t n,
                                 uint32_t *read) {
    return CimReadFile((CIMFS_READER_HANDLE)h, path, offset, buf, n, read);
}

static inline HRESULT goEnumerateDirectory(goHandle h, const char *path, uint32_t index, char *name,
                                           uint32_t *nameSize, CIMFS_FILE_INFO *info) {
    info->Size = (uint32_t)sizeof(CIMFS_FILE_INFO);
    return CimEnumerateDirectory((CIMFS_READER_HANDLE)h, path, index, name, nameSize, info);
}

static inline HRESULT goEnumerateAlternateStreams(goHandle h, const char *path, uint32_t index, char *name,
                                                  uint32_t *nameSize, uint64_t *streamSize) {
    return CimEnumerateAlternateStreams((CIMFS_READER_HANDLE)h, path, index, name, nameSize, streamSize);
}

/* ---- layer import: options carry a pointer, so they are assembled here ---- */

static inline HRESULT goImportLayer(const char *tarPath, int fd, const char *blockPath, const char *cimName,
                                    uint32_t flags, uint32_t format, uint32_t threads, uint64_t maxBytes,
                                    uint32_t numParents, const CIMFS_IMAGE_PATH *parents, CIMFS_IMPORT_RESULT *res) {
    CIMFS_IMPORT_OPTIONS o = {0};
    o.Size = (uint32_t)sizeof o;
    o.Flags = flags;
    o.LayerFormat = format;
    o.Threads = threads;
    o.MaxUncompressedBytes = maxBytes;
    o.NumParentLayers = numParents;
    o.ParentLayers = parents;
    res->Size = (uint32_t)sizeof *res;
    return tarPath ? CimImportLayer(tarPath, blockPath, cimName, &o, res)
                   : CimImportLayerFromFd(fd, blockPath, cimName, &o, res);
}

/* CIMFS_IMAGE_PATH arrays hold pointers, so they live in C memory (freed by goFreeImagePaths). */
static inline CIMFS_IMAGE_PATH *goNewImagePaths(uint32_t n) {
    return (CIMFS_IMAGE_PATH *)calloc(n ? n : 1, sizeof(CIMFS_IMAGE_PATH));
}
static inline void goSetImagePath(CIMFS_IMAGE_PATH *p, uint32_t i, char *dir, char *name) {
    p[i].ImageDir = dir;
    p[i].ImageName = name;
}
static inline void goFreeImagePaths(CIMFS_IMAGE_PATH *p, uint32_t n) {
    if (!p) return;
    for (uint32_t i = 0; i < n; ++i) {
        free((void *)p[i].ImageDir);
        free((void *)p[i].ImageName);
    }
    free(p);
}

#endif
