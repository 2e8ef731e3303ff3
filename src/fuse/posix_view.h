// The POSIX view of a CIM file: the file type, mode, owner, device number, link count, size and
// times that a Linux mount shows, derived from Windows metadata (attributes, reparse points) and,
// when present, the WSL Linux-metadata EAs ($LXUID/$LXGID/$LXMOD/$LXDEV). See docs/mounting.md.
#pragma once
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/ea.h"
#include "image/image.h"

namespace cim::fuse {

// Reparse tags that change what a file is on Linux (MS-FSCC 2.1.2.1).
inline constexpr uint32_t kTagMountPoint = 0xA0000003;
inline constexpr uint32_t kTagSymlink = 0xA000000C;
inline constexpr uint32_t kTagLxSymlink = 0xA000001D;
inline constexpr uint32_t kTagAfUnix = 0x80000023;
inline constexpr uint32_t kTagLxFifo = 0x80000024;
inline constexpr uint32_t kTagLxChr = 0x80000025;
inline constexpr uint32_t kTagLxBlk = 0x80000026;

// The WSL metadata EAs of one file; absent fields were not stored.
struct LinuxMetadata {
    std::optional<uint32_t> uid, gid, mode;
    std::optional<uint32_t> devMajor, devMinor;
};

// True for the EA names that carry Linux metadata ($LXUID, $LXGID, $LXMOD, $LXDEV; any case).
bool isLinuxMetadataEa(std::string_view name);
// Decodes the $LX* EAs; values of the wrong size are ignored (treated as absent).
LinuxMetadata linuxMetadata(const std::vector<format::ExtendedAttribute>& eas);

// The target of a link reparse point as a Linux path, or nullopt when the buffer is not a link
// (or is malformed): symlink and mount-point buffers give their print name (else the substitute
// name without its "\??\" prefix) with '\' turned into '/'; LX symlinks give their UTF-8 target.
std::optional<std::string> linkTarget(std::span<const std::byte> reparse);

// FILETIME (100 ns ticks since 1601-01-01 UTC) to a timespec relative to the Unix epoch.
struct timespec fileTimeToTimespec(int64_t fileTime);

// Everything getattr/readlink need for one file.
struct PosixNode {
    struct stat st {};
    std::string linkTarget;  // for S_IFLNK
};

// Builds the POSIX view of `node`. `nlink` is the link count to report (the caller knows it:
// hard links for files, 2 + subdirectories for directories). st_ino is the file ID.
PosixNode describe(const image::Image& img, const image::FileNode& node, uint32_t nlink);

// The file type (S_IFMT bits) `describe` would report, from the record and reparse data only:
// cheap enough for counting subdirectories.
mode_t fileType(const image::Image& img, const image::FileNode& node);

}  // namespace cim::fuse
