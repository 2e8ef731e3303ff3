// The extended attributes a mounted CIM shows for one file. Windows metadata keeps ntfs-3g's
// names (system.ntfs_attrib, system.ntfs_acl, system.ntfs_reparse_data, system.ntfs_ea,
// system.ntfs_times, system.ntfs_crtime) and alternate data streams appear as user.<stream>, as
// with ntfs-3g's streams_interface=xattr. The table is in docs/mounting.md.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"

namespace cim::fuse {

inline constexpr size_t kMaxXattrValue = 65536;  // the VFS limit (XATTR_SIZE_MAX)

// Every name, in a stable order (system.* first, then one user.<stream> per alternate stream).
std::vector<std::string> xattrNames(const image::Image& img, const image::FileNode& node);

// The value of `name`, or nullopt when the file has no such attribute (ENODATA). An alternate
// stream larger than kMaxXattrValue throws Error(hr::insufficientBuffer): it is read through
// the "<file>:<stream>" path instead.
std::optional<std::vector<std::byte>> xattrValue(const image::Image& img, const image::FileNode& node,
                                                 std::string_view name);

}  // namespace cim::fuse
