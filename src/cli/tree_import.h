// Importing a Linux directory tree into an open CIM through the C ABI, carrying Linux metadata the
// way WSL does on NTFS (shared/reference/linux-metadata-conventions.md):
//  - every entry gets the EAs $LXUID, $LXGID, $LXMOD (full st_mode) and, for character and block
//    devices, $LXDEV (u32 major, u32 minor), in that order, as a FILE_FULL_EA_INFORMATION chain;
//  - symlinks, FIFOs, sockets and devices are reparse points with the WSL tags (LX_SYMLINK carries
//    version 2 + the UTF-8 target without NUL; the others carry no data), size 0;
//  - regular files and directories carry no reparse point;
//  - hard links (same st_dev/st_ino, st_nlink > 1) become CimCreateHardLink to the first name;
//  - times: CreationTime = LastWriteTime = mtime, ChangeTime = ctime, LastAccessTime = atime, as
//    FILETIME (unix ns / 100 + 116444736000000000);
//  - attributes: 0x10 for directories, 0x20 (archive) otherwise, plus 0x400 for reparse points;
//  - every entry gets hcsshim's 20-byte null-DACL security descriptor (no access control);
//  - children are added in byte order of their names, so the same tree gives the same calls
//    (and with CIM_CREATE_IMAGE_CONSISTENT_CIM the same image bytes).
// Not carried: xattrs (their EA encoding is not settled), ACLs, file birth time.
// Refused with a clear error: names that are not UTF-8 or contain '\', and names that differ only
// in case within one directory (CIM directories are case-insensitive, one would silently replace
// the other).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "opencim/cimfs.h"

namespace cim::cli {

// WSL reparse tags (MS-FSCC 2.1.2.1).
inline constexpr uint32_t kTagLxSymlink = 0xA000001D;
inline constexpr uint32_t kTagAfUnix = 0x80000023;
inline constexpr uint32_t kTagLxFifo = 0x80000024;
inline constexpr uint32_t kTagLxChr = 0x80000025;
inline constexpr uint32_t kTagLxBlk = 0x80000026;
inline constexpr uint32_t kLxSymlinkVersion = 2;

inline constexpr uint32_t kAttrDirectory = 0x10;
inline constexpr uint32_t kAttrArchive = 0x20;
inline constexpr uint32_t kAttrReparsePoint = 0x400;

inline constexpr int64_t kFiletimeUnixEpoch = 116444736000000000;  // 1970-01-01 in FILETIME ticks

// Unix seconds + nanoseconds -> FILETIME (100 ns ticks since 1601).
constexpr int64_t filetimeFromUnix(int64_t sec, int64_t nsec) { return sec * 10000000 + nsec / 100 + kFiletimeUnixEpoch; }

// The $LXUID/$LXGID/$LXMOD[/$LXDEV] chain. `dev` is (major, minor), given for char/block devices.
std::vector<std::byte> lxExtendedAttributes(uint32_t uid, uint32_t gid, uint32_t mode,
                                            std::optional<std::pair<uint32_t, uint32_t>> dev);
// The WSL reparse tag for a st_mode's file type, 0 for regular files and directories.
uint32_t lxReparseTag(uint32_t mode);
// The full reparse buffer (tag, length, reserved, data) for a non-regular, non-directory mode;
// `symlinkTarget` is used for symlinks only. Empty for regular files and directories.
std::vector<std::byte> lxReparseBuffer(uint32_t mode, std::string_view symlinkTarget);
// hcsshim's self-relative security descriptor with a NULL DACL (D:NO_ACCESS_CONTROL).
const std::vector<std::byte>& nullSecurityDescriptor();

struct TreeImportStats {
    uint64_t directories = 0;
    uint64_t files = 0;         // regular files (first names)
    uint64_t symlinks = 0;
    uint64_t special = 0;       // FIFOs, sockets, devices
    uint64_t hardLinks = 0;     // additional names of files already added
    uint64_t bytes = 0;         // data bytes written
    uint64_t entries() const { return directories + files + symlinks + special + hardLinks; }
};

struct TreeImportOptions {
    // Give the destination directory the source root's metadata (CimCreateFile on it).
    bool rootMetadata = true;
    // Called after each entry is added, with its image path (for progress output).
    std::function<void(const std::string& imagePath)> onEntry;
};

// Adds everything below `srcDir` (not following symlinks, not crossing into other trees through
// them) to the image under `imageDir` ("" = the image root; it must already exist in the image).
// Throws cim::Error with the library's message (or the failing system call) and the source path.
TreeImportStats importTree(CIMFS_IMAGE_HANDLE image, const std::string& srcDir, const std::string& imageDir = "",
                           const TreeImportOptions& options = {});

}  // namespace cim::cli
