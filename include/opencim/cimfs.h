/*
 * opencim — a portable implementation of Microsoft's CimFS (Composite Image File System).
 *
 * This header is the whole public C ABI of libopencim.so.1. It is valid C99 and C++, has no
 * dependencies beyond <stdint.h>, and contains no macros that change struct layout.
 *
 * The first part (CimCreateImage ... CimDismountImage) mirrors Microsoft's cimfs.h: same names,
 * parameter order and flag values, with UTF-8 `const char *` strings instead of PCWSTR. The
 * second part ("opencim additions") is opencim's own: last-error messages, mount paths, the
 * in-process reader API and layer import.
 *
 * Conventions that hold for every function below:
 *  - Every function that can fail returns an HRESULT (0 = success, negative = failure) and sets
 *    this thread's CimGetLastErrorMessage() to "Operation: image: path: reason" on failure. Every
 *    call clears the message on entry.
 *  - Strings are UTF-8 and NUL-terminated. Paths inside an image accept '\' and '/' as
 *    separators, a leading separator is optional and the root is the empty path "".
 *  - Handles are validated through a handle table: NULL, closed and foreign handles return
 *    0x80070006 (E_HANDLE) and never crash. A handle value is never reused after it is closed.
 *  - No call aborts the process or lets a C++ exception escape.
 *  - Image handles are not meant to be used by two threads at once; doing so is serialised by a
 *    per-handle lock (never a crash). Reader handles are fully thread-safe.
 *
 * Return codes callers test for (see docs/errors.md for the full table):
 *   S_OK 0x00000000, E_INVALIDARG 0x80070057, E_HANDLE 0x80070006, file not found 0x80070002,
 *   path not found 0x80070003, already exists 0x800700B7 / file exists 0x80070050,
 *   corrupt image 0x80070570, integrity violation 0x80070143, buffer too small 0x8007007A,
 *   out of memory 0x8007000E, not supported 0x80070032, write past declared size 0x80070026,
 *   no more entries 0x80070012, sharing violation 0x80070020, not implemented 0x80004001.
 */
#ifndef OPENCIM_CIMFS_H
#define OPENCIM_CIMFS_H

#include <stdint.h>

#if defined(_WIN32)
#define CIMFS_API __declspec(dllimport)
#else
#define CIMFS_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header: major.minor.patch. The SONAME carries the major version. */
#define OPENCIM_VERSION_MAJOR 1
#define OPENCIM_VERSION_MINOR 0
#define OPENCIM_VERSION_PATCH 0

#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

typedef struct CIMFS_IMAGE_HANDLE__ *CIMFS_IMAGE_HANDLE;   /* an image being written */
typedef struct CIMFS_STREAM_HANDLE__ *CIMFS_STREAM_HANDLE; /* one stream being written */

/** Same layout and text form as a Windows GUID. */
typedef struct CIMFS_GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} CIMFS_GUID;

/** Metadata of a file or directory passed to CimCreateFile (96 bytes on 64-bit targets). */
typedef struct CIMFS_FILE_METADATA {
    uint32_t Attributes;                  /*  0  FILE_ATTRIBUTE_* (0x10 directory, 0x400 reparse) */
    int64_t FileSize;                     /*  8  size of the primary stream */
    int64_t CreationTime;                 /* 16  FILETIME: 100 ns ticks since 1601-01-01 UTC */
    int64_t LastWriteTime;                /* 24 */
    int64_t ChangeTime;                   /* 32 */
    int64_t LastAccessTime;               /* 40 */
    const void *SecurityDescriptorBuffer; /* 48  self-relative SD, may be NULL */
    uint32_t SecurityDescriptorSize;      /* 56 */
    const void *ReparseDataBuffer;        /* 64  full REPARSE_DATA_BUFFER (tag, length, data) */
    uint32_t ReparseDataSize;             /* 72 */
    const void *ExtendedAttributes;       /* 80  FILE_FULL_EA_INFORMATION chain, may be NULL */
    uint32_t EACount;                     /* 88  BYTE length of that chain (as hcsshim passes it) */
} CIMFS_FILE_METADATA;

/** One image of a merged mount/open: ImageDir is the directory of a standard CIM or the block
 *  file / device of a block CIM; ImageName the .cim file name or the CIM's name in the block. */
typedef struct CIMFS_IMAGE_PATH {
    const char *ImageDir;
    const char *ImageName;
} CIMFS_IMAGE_PATH;

/* ---- CimCreateImage2 flags ---- */
#define CIM_CREATE_IMAGE_NONE 0x0u
#define CIM_CREATE_IMAGE_DO_NOT_EXPAND_PE_IMAGES 0x1u /* accepted; opencim always stores plain data */
#define CIM_CREATE_IMAGE_FIXED_SIZE_CHUNKS 0x2u       /* accepted; no effect */
#define CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM 0x4u        /* imageContainingPath is a block device */
#define CIM_CREATE_IMAGE_SINGLE_FILE_CIM 0x8u         /* imageContainingPath is a block file */
#define CIM_CREATE_IMAGE_CONSISTENT_CIM 0x10u         /* same calls => byte-identical output */
#define CIM_CREATE_IMAGE_VERIFIED_CIM 0x40u           /* seal with CimSealImage after commit */

/* ---- mount flags (CimMountImage and friends, and the opencim reader open functions) ---- */
#define CIM_MOUNT_IMAGE_NONE 0x0u
#define CIM_MOUNT_CHILD_ONLY 0x1u        /* accepted and ignored, as on current Windows */
#define CIM_MOUNT_ENABLE_DAX 0x2u        /* accepted, no effect */
#define CIM_MOUNT_BLOCK_DEVICE_CIM 0x10u
#define CIM_MOUNT_SINGLE_FILE_CIM 0x20u
#define CIM_MOUNT_VERIFIED_CIM 0x80u

/* ---- CimAddFsToMergedImage2 flags ---- */
#define CIM_MERGE_NONE 0x0u
#define CIM_MERGE_SINGLE_FILE 0x1u
#define CIM_MERGE_BLOCK_DEVICE 0x2u
#define CIM_MERGE_VERIFIED_CIM 0x4u

/* =============================== Writing images =============================== */

/**
 * Starts writing a standard CIM in directory `imageContainingPath`.
 * existing=NULL,new=X: new image X (0x80070050 if X exists). existing=X,new=NULL or X: X is
 * rewritten (its old region files become the new image's parent regions). existing=X,new=Y:
 * fork, Y starts with X's content (0x80070050 if Y exists). Nothing is visible until
 * CimCommitImage. Errors: E_INVALIDARG, 0x80070003 (directory missing), 0x80070002 (existing
 * image missing), 0x80070050, 0x80070570 (existing image corrupt).
 */
CIMFS_API HRESULT CimCreateImage(const char *imageContainingPath, const char *existingImageName,
                                 const char *newImageName, CIMFS_IMAGE_HANDLE *cimImageHandle);

/**
 * CimCreateImage with CIM_CREATE_IMAGE_* flags. With SINGLE_FILE (0x8) or BLOCK_DEVICE (0x4),
 * `imageContainingPath` is the block file or device and `newImageName` the CIM's name inside it;
 * a block file may hold several CIMs (an existing unsealed block file gets one more). Forking
 * block CIMs is not supported (E_INVALIDARG). Unknown flag bits, or both block bits: E_INVALIDARG.
 */
CIMFS_API HRESULT CimCreateImage2(const char *imageContainingPath, uint32_t flags,
                                  const char *existingImageName, const char *newImageName,
                                  CIMFS_IMAGE_HANDLE *cimImageHandle);

/** Makes the image durable and visible under its name (write aside, then rename). Afterwards the
 *  handle accepts no more changes but must still be closed. A stream left open, or short, fails
 *  the commit with a message naming its path. For a merged CIM this performs the merge. */
CIMFS_API HRESULT CimCommitImage(CIMFS_IMAGE_HANDLE cimImageHandle);

/** Frees the handle; uncommitted changes are discarded (temporary files removed). Harmless on
 *  NULL or stale handles. Open stream handles of this image become invalid. */
CIMFS_API void CimCloseImage(CIMFS_IMAGE_HANDLE cimImageHandle);

/**
 * Adds a file (or a directory when Attributes has 0x10) and returns a handle to write its
 * primary stream (`cimStreamHandle` may be NULL for directories and empty files). An existing
 * file at the path is replaced; an existing directory keeps its children and gets the new
 * metadata. Only one stream may be open per image: 0x80070020 otherwise.
 * Errors: E_INVALIDARG (bad path/metadata), 0x80070003 (parent missing), 0x80070020.
 */
CIMFS_API HRESULT CimCreateFile(CIMFS_IMAGE_HANDLE cimImageHandle, const char *imageRelativePath,
                                const CIMFS_FILE_METADATA *fileMetadata,
                                CIMFS_STREAM_HANDLE *cimStreamHandle);

/** Appends data. Bytes past the size declared at creation are refused with 0x80070026 and
 *  nothing is written past it. E_POINTER (0x80004003) for a NULL buffer with a non-zero size. */
CIMFS_API HRESULT CimWriteStream(CIMFS_STREAM_HANDLE cimStreamHandle, const void *buffer,
                                 uint32_t bufferSize);

/** Closes a stream. Fewer bytes written than declared: 0x80070026 with "incomplete write" and
 *  the path in the message (the handle is closed anyway, the file keeps no data). */
CIMFS_API HRESULT CimCloseStream(CIMFS_STREAM_HANDLE cimStreamHandle);

/** Adds alternate stream `file:stream` (or `file:stream:$DATA`) of `size` bytes to an existing
 *  file or directory. Errors: E_INVALIDARG (no stream name, other stream type), 0x80070003. */
CIMFS_API HRESULT CimCreateAlternateStream(CIMFS_IMAGE_HANDLE cimImageHandle,
                                           const char *imageRelativePath, uint64_t size,
                                           CIMFS_STREAM_HANDLE *cimStreamHandle);

/** New hard link at `imageRelativePath` (first!) to existing file `existingImageRelativePath`.
 *  Errors: 0x80070003 (target or parent missing), 0x80070005 (target is a directory). */
CIMFS_API HRESULT CimCreateHardLink(CIMFS_IMAGE_HANDLE cimImageHandle, const char *imageRelativePath,
                                    const char *existingImageRelativePath);

/** Removes a file, link, alternate stream (`file:stream`) or a directory with its subtree; in a
 *  fork also items inherited from the parent. Errors: 0x80070003 (missing). */
CIMFS_API HRESULT CimDeletePath(CIMFS_IMAGE_HANDLE cimImageHandle, const char *imageRelativePath);

/** Block CIMs: records that `imageRelativePath` is deleted, hiding it (and, for a directory, its
 *  subtree) in every source below this one when merged. Tombstoning a directory that exists in
 *  this image, or creating a directory over a tombstone, makes an opaque directory. Tombstones
 *  are invisible when the CIM is read alone. The parent must exist (0x80070003). */
CIMFS_API HRESULT CimTombstoneFile(CIMFS_IMAGE_HANDLE cimImageHandle, const char *imageRelativePath);

/** Block CIMs: a hard link resolved at merge time against the merged view (its target may live in
 *  any source and may itself be a merge link). Not validated when written; an unresolvable link
 *  fails the merge with a message naming it. Invisible when the CIM is read alone. */
CIMFS_API HRESULT CimCreateMergeLink(CIMFS_IMAGE_HANDLE cimImageHandle, const char *imageRelativePath,
                                     const char *existingImageRelativePath);

/** Adds a source to a merged CIM (a freshly created, empty block CIM). Call topmost first.
 *  `fsPath` is "<block path>/<cim name>". Commit performs the merge; at least 2 sources. */
CIMFS_API HRESULT CimAddFsToMergedImage(CIMFS_IMAGE_HANDLE cimImageHandle, const char *fsPath);

/** As CimAddFsToMergedImage with CIM_MERGE_* flags: exactly one of SINGLE_FILE/BLOCK_DEVICE,
 *  matching the merged CIM's own type, plus VERIFIED_CIM iff the merged CIM is verified. */
CIMFS_API HRESULT CimAddFsToMergedImage2(CIMFS_IMAGE_HANDLE cimImageHandle, const char *fsPath,
                                         uint32_t flags);

/** Seals a block file created with CIM_CREATE_IMAGE_VERIFIED_CIM: appends a SHA-256 dm-verity
 *  (format 1) hash tree and a seal record, and returns the 32-byte root hash in `hash`.
 *  *hashSize receives 32, *fixedHeaderSize the size of the block file's fixed header (4096).
 *  Sealing a sealed file returns its existing hash. Errors: 0x80070002, E_INVALIDARG (not a
 *  verified block CIM), 0x80070570. */
CIMFS_API HRESULT CimSealImage(const char *blockCimPath, uint64_t *hashSize, uint64_t *fixedHeaderSize,
                               uint8_t *hash);

/** Reports the seal of a block file: *isSealed 0/1; when sealed the 32-byte root hash is copied
 *  to `hash` (may be NULL to query sizes). opencim has no signatures: *signatureSize = 0 and
 *  `signature` (may be NULL) is not written. */
CIMFS_API HRESULT CimGetVerificationInformation(const char *blockCimPath, uint32_t *isSealed,
                                                uint64_t *hashSize, uint64_t *signatureSize,
                                                uint64_t *fixedHeaderSize, uint8_t *hash,
                                                uint8_t *signature);

/* =============================== Mounting (FUSE) =============================== */

/** Mounts an image read-only at $OPENCIM_MOUNT_ROOT/<guid> (default /run/opencim/volumes) through
 *  FUSE, served by a thread of the calling process. Errors: 0x800700B7 (GUID mounted),
 *  0x80070002 (image missing), E_INVALIDARG (flags), 0x80070032 (no FUSE on this machine). */
CIMFS_API HRESULT CimMountImage(const char *imageContainingPath, const char *imageName,
                                uint32_t mountImageFlags, const CIMFS_GUID *volumeId);

/** Mounts a sealed block CIM checking every read against `hash` (hashSize must be 32). A wrong
 *  root hash fails here with 0x80070143; tampered data later reads as EIO. */
CIMFS_API HRESULT CimMountVerifiedImage(const char *imageContainingPath, const char *imageName,
                                        uint32_t mountImageFlags, const CIMFS_GUID *volumeId,
                                        uint16_t hashSize, const uint8_t *hash);

/** Mounts a merged CIM: backingImagePaths = [merged, topmost source, ..., base source]. */
CIMFS_API HRESULT CimMergeMountImage(uint32_t numCimPaths, const CIMFS_IMAGE_PATH *backingImagePaths,
                                     uint32_t flags, const CIMFS_GUID *volumeId);

/** Verified merged mount; `hash` is the merged CIM's root hash (every source must be sealed). */
CIMFS_API HRESULT CimMergeMountVerifiedImage(uint32_t numCimPaths,
                                             const CIMFS_IMAGE_PATH *backingImagePaths,
                                             uint32_t flags, const CIMFS_GUID *volumeId,
                                             uint16_t hashSize, const uint8_t *hash);

/** Unmounts and removes the mount directory. 0x80070002 if nothing is mounted under the GUID. */
CIMFS_API HRESULT CimDismountImage(const CIMFS_GUID *volumeId);

/* =============================== opencim additions =============================== */

/** This thread's message for its last failed call, "" if none. Valid until this thread's next
 *  call into the library. Never NULL. */
CIMFS_API const char *CimGetLastErrorMessage(void);

/** Mount path of a volume GUID ($OPENCIM_MOUNT_ROOT/<lowercase guid>), whether mounted or not.
 *  *bufferSize in: capacity, out: bytes needed including the NUL. Too small: 0x8007007A. */
CIMFS_API HRESULT CimGetVolumeMountPath(const CIMFS_GUID *volumeId, char *buffer, uint32_t *bufferSize);

/** Appends a 512-byte fixed-VHD footer to a block file (after sealing, as hcsshim's WithVHDFooter
 *  does) so it attaches as a fixed VHD; the file is first padded to a multiple of 512. The footer
 *  is outside the sealed area, so the root hash is unchanged, and readers ignore it. The unique
 *  ID is derived from the container, so the result is reproducible. Appending twice is a no-op.
 *  Errors: 0x80070002, 0x80070570 (not a block CIM), E_INVALIDARG (a block device). */
CIMFS_API HRESULT CimAppendVhdFooter(const char *blockCimPath);

/* ---- Reader API: in-process access without mounting ---- */

typedef struct CIMFS_READER_HANDLE__ *CIMFS_READER_HANDLE; /* an open image, thread-safe */

/** What CimStatPath and CimEnumerateDirectory report. Size must be set by the caller to
 *  sizeof(CIMFS_FILE_INFO) (lets the struct grow); 64 bytes in version 1. */
typedef struct CIMFS_FILE_INFO {
    uint32_t Size;                   /*  0  in: sizeof(CIMFS_FILE_INFO) */
    uint32_t Attributes;             /*  4  FILE_ATTRIBUTE_* as stored (0x10 dir, 0x400 reparse) */
    uint64_t FileId;                 /*  8  same for every hard link of a file */
    int64_t FileSize;                /* 16  primary stream size (0 for directories) */
    int64_t CreationTime;            /* 24 */
    int64_t LastWriteTime;           /* 32 */
    int64_t ChangeTime;              /* 40 */
    int64_t LastAccessTime;          /* 48 */
    uint32_t LinkCount;              /* 56  number of names of this file in the image */
    uint32_t ReparseTag;             /* 60  0 when not a reparse point */
} CIMFS_FILE_INFO;

/** Opens a CIM for reading. flags: 0 for a standard CIM (imageContainingPath = directory,
 *  imageName = .cim file name), CIM_MOUNT_SINGLE_FILE_CIM or CIM_MOUNT_BLOCK_DEVICE_CIM for a
 *  block CIM (path = block file/device, name = CIM name). A sealed block CIM opened without a
 *  hash is read unverified. Errors: 0x80070002, 0x80070570 (corrupt), E_INVALIDARG. */
CIMFS_API HRESULT CimOpenImage(const char *imageContainingPath, const char *imageName, uint32_t flags,
                               CIMFS_READER_HANDLE *readerHandle);

/** Opens a sealed block CIM verifying every read against root hash `hash` (hashSize 32).
 *  Wrong hash: 0x80070143 ("integrity violation"); later tampered reads: 0x80070143 too. */
CIMFS_API HRESULT CimOpenVerifiedImage(const char *imageContainingPath, const char *imageName,
                                       uint32_t flags, uint16_t hashSize, const uint8_t *hash,
                                       CIMFS_READER_HANDLE *readerHandle);

/** Opens a merged CIM: paths = [merged, topmost, ..., base] as for CimMergeMountImage. A source
 *  that changed since the merge is detected (0x80070570). */
CIMFS_API HRESULT CimOpenMergedImage(uint32_t numCimPaths, const CIMFS_IMAGE_PATH *imagePaths,
                                     uint32_t flags, CIMFS_READER_HANDLE *readerHandle);

/** Verified variant: `hash` is the merged CIM's root hash; every source must be sealed and is
 *  verified against the root hash recorded for it in the merged CIM. */
CIMFS_API HRESULT CimOpenMergedVerifiedImage(uint32_t numCimPaths, const CIMFS_IMAGE_PATH *imagePaths,
                                             uint32_t flags, uint16_t hashSize, const uint8_t *hash,
                                             CIMFS_READER_HANDLE *readerHandle);

/** Closes a reader. Harmless on NULL or stale handles. */
CIMFS_API void CimCloseReader(CIMFS_READER_HANDLE readerHandle);

/** Stats a path (file, directory, or "file:stream" for an alternate stream, whose FileSize is the
 *  stream's size). Errors: 0x80070002 (missing leaf), 0x80070003 (missing parent), 0x8007010B
 *  (a component is not a directory), E_INVALIDARG. */
CIMFS_API HRESULT CimStatPath(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                              CIMFS_FILE_INFO *info);

/** Copies the security descriptor / EA chain / reparse buffer of a path into `buffer`.
 *  *bufferSize in: capacity; out: bytes (0 if the file has none). Too small: 0x8007007A with the
 *  needed size. buffer may be NULL when *bufferSize is 0 (size query). */
CIMFS_API HRESULT CimGetSecurityDescriptor(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                                           void *buffer, uint32_t *bufferSize);
CIMFS_API HRESULT CimGetExtendedAttributes(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                                           void *buffer, uint32_t *bufferSize);
CIMFS_API HRESULT CimGetReparseData(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                                    void *buffer, uint32_t *bufferSize);

/** Reads up to bufferSize bytes at `offset` of a file's primary stream, or of an alternate stream
 *  with "file:stream". *bytesRead < bufferSize only at end of file. Directories: 0x80070005. */
CIMFS_API HRESULT CimReadFile(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                              uint64_t offset, void *buffer, uint32_t bufferSize, uint32_t *bytesRead);

/** Returns entry `index` (0-based, sorted as stored) of a directory: its UTF-8 name in `nameBuffer`
 *  (*nameSize in: capacity, out: bytes incl. NUL; 0x8007007A when too small) and, if `info` is not
 *  NULL, its stat. index >= count: 0x80070012 (ERROR_NO_MORE_FILES). Not a directory: 0x8007010B. */
CIMFS_API HRESULT CimEnumerateDirectory(CIMFS_READER_HANDLE readerHandle, const char *imageRelativePath,
                                        uint32_t index, char *nameBuffer, uint32_t *nameSize,
                                        CIMFS_FILE_INFO *info);

/** Returns alternate stream `index` of a file: name (without ':' and ':$DATA') and size.
 *  index >= count: 0x80070012. */
CIMFS_API HRESULT CimEnumerateAlternateStreams(CIMFS_READER_HANDLE readerHandle,
                                               const char *imageRelativePath, uint32_t index,
                                               char *nameBuffer, uint32_t *nameSize, uint64_t *streamSize);


/* ---- Layer import / export (OCI layer tarballs <-> block CIMs) ---- */

#define CIM_LAYER_FORMAT_AUTO 0u    /* Windows if the tar has Files/ or Hives/ at its root, else Linux */
#define CIM_LAYER_FORMAT_WINDOWS 1u /* Files/, Hives/, UtilityVM/; MSWINDOWS.* PAX records */
#define CIM_LAYER_FORMAT_LINUX 2u   /* POSIX metadata in WSL EAs/reparse points; case-sensitive image */

#define CIM_IMPORT_VERIFIED 0x1u  /* seal the block file; write <dir>/integrity_checksum (hex root hash) */
#define CIM_IMPORT_VHD_FOOTER 0x2u /* append a 512-byte fixed VHD footer (after sealing) */
#define CIM_IMPORT_PROGRESS 0x4u  /* draw a progress bar on stderr when it is a terminal */

/** Options of CimImportLayer. Size must be sizeof(CIMFS_IMPORT_OPTIONS) (lets the struct grow). */
typedef struct CIMFS_IMPORT_OPTIONS {
    uint32_t Size;                        /*  0 */
    uint32_t Flags;                       /*  4  CIM_IMPORT_* */
    uint32_t LayerFormat;                 /*  8  CIM_LAYER_FORMAT_* */
    uint32_t Threads;                     /* 12  worker threads, 0 = number of CPUs (output never depends on it) */
    uint64_t MaxUncompressedBytes;        /* 16  refuse archives that expand beyond this, 0 = 1 TiB */
    uint32_t NumParentLayers;             /* 24  parent layers, topmost first (block type checks) */
    uint32_t Reserved;                    /* 28 */
    const CIMFS_IMAGE_PATH *ParentLayers; /* 32 */
} CIMFS_IMPORT_OPTIONS;

/** What CimImportLayer reports. Size must be sizeof(CIMFS_IMPORT_RESULT). */
typedef struct CIMFS_IMPORT_RESULT {
    uint32_t Size;        /*  0 */
    uint32_t Reserved;    /*  4 */
    uint64_t Entries;     /*  8  tar entries applied */
    uint64_t DataBytes;   /* 16  bytes of regular file data (hcsshim's layer size) */
    uint8_t RootHash[32]; /* 24  root hash when CIM_IMPORT_VERIFIED, else zeros */
} CIMFS_IMPORT_RESULT;

/** Imports an OCI layer tar (plain, gzip, zstd or xz; detected) from `tarPath` ("-" = stdin) into a
 *  new single-file block CIM `cimName` in `blockPath`, streamed in one pass, reproducibly
 *  (consistent CIM). Nothing is published unless the whole import succeeds. `options` and
 *  `result` may be NULL. Errors: 0x80070002 (tar missing), 0x80070050 (block file exists),
 *  0x8007000D (ERROR_INVALID_DATA: hostile or corrupt archive, message names the entry),
 *  0x80070032 (a Windows entry with only an SDDL security descriptor). See docs/layers.md. */
CIMFS_API HRESULT CimImportLayer(const char *tarPath, const char *blockPath, const char *cimName,
                                 const CIMFS_IMPORT_OPTIONS *options, CIMFS_IMPORT_RESULT *result);

/** As CimImportLayer, reading the tar from an open file descriptor (not closed). */
CIMFS_API HRESULT CimImportLayerFromFd(int tarFd, const char *blockPath, const char *cimName,
                                       const CIMFS_IMPORT_OPTIONS *options, CIMFS_IMPORT_RESULT *result);

/** Writes a CIM back as a PAX tar (layer format as imported: Windows or Linux). `tarPath` "-" =
 *  stdout. `flags` as for CimOpenImage (0 = standard CIM, block flags for a block CIM). */
CIMFS_API HRESULT CimExportLayer(const char *imageContainingPath, const char *imageName, uint32_t flags,
                                 uint32_t layerFormat, const char *tarPath);


/* ---- Logging ---- */

/** Receives diagnostic lines (level 1 error, 2 warning, 3 info, 4 debug). Called on the thread
 *  doing the work; must not call back into the library. */
typedef void (*CIMFS_LOG_CALLBACK)(void *context, uint32_t level, const char *message);

/** Installs (or with NULL removes) the process-wide log callback. Without one, lines go to stderr
 *  when the environment variable OPENCIM_LOG=1 is set. */
CIMFS_API HRESULT CimSetLogCallback(CIMFS_LOG_CALLBACK callback, void *context);

/* ---- Container root filesystems (docs/rootfs.md) ---- */

/** The volume GUID of a container: a name-based (v5) UUID of `containerId` in opencim's fixed
 *  namespace 7a9e2f54-1c3b-5d6e-8f01-0c1dca5e0b1e, so anyone who knows the ID finds the mount. */
CIMFS_API HRESULT CimGetContainerVolumeId(const char *containerId, CIMFS_GUID *volumeId);

/** Prepares and mounts a container's root filesystem from a JSON layer description (layers
 *  topmost first; see docs/rootfs.md): one layer is mounted directly; several are merged once
 *  into a cached merged CIM (reused by every container with the same layers) and merge-mounted;
 *  verified layers give a verified mount. The mount is served by this process. The mount path is
 *  copied to `mountPath` (*mountPathSize in: capacity, out: bytes incl. NUL; may be NULL/0 to
 *  skip). Errors: E_INVALIDARG (malformed description, bad container ID), 0x80070002 (a layer is
 *  missing), 0x80070143 (wrong root hash), 0x800700B7 (already mounted). Nothing is left mounted
 *  on failure. */
CIMFS_API HRESULT CimMountContainerRootfs(const char *containerId, const char *layerDescriptionJson,
                                          char *mountPath, uint32_t *mountPathSize);

/** Unmounts a container's rootfs by ID (also a dead mount left by a killed process) and removes
 *  its mount directory and state. Calling it twice, or for an unknown ID, succeeds. */
CIMFS_API HRESULT CimCleanupContainerRootfs(const char *containerId);

/** Removes merged CIMs in `mergedCacheDir` (NULL = the default cache) that no mounted container
 *  uses; *removedCount (may be NULL) receives how many. */
CIMFS_API HRESULT CimGarbageCollectMergedCims(const char *mergedCacheDir, uint32_t *removedCount);

#ifdef __cplusplus
}
#endif

#endif /* OPENCIM_CIMFS_H */
