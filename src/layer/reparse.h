// Reparse buffers used by layers (full REPARSE_DATA_BUFFER: u32 tag, u16 data length, u16 0, data):
//  - Windows symlinks (IO_REPARSE_TAG_SYMLINK) and junctions (IO_REPARSE_TAG_MOUNT_POINT), built as
//    go-winio's EncodeReparsePoint does (shared/reference/windows-layer-tar.md §7);
//  - the WSL tags for Linux special files (linux-metadata-conventions.md §2).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cim::layer {

inline constexpr uint32_t kTagSymlink = 0xA000000C;
inline constexpr uint32_t kTagMountPoint = 0xA0000003;
inline constexpr uint32_t kTagLxSymlink = 0xA000001D;
inline constexpr uint32_t kTagAfUnix = 0x80000023;
inline constexpr uint32_t kTagLxFifo = 0x80000024;
inline constexpr uint32_t kTagLxChr = 0x80000025;
inline constexpr uint32_t kTagLxBlk = 0x80000026;

// `target` is UTF-16 with '\' separators. Symlink flags: 1 (relative) unless the target is
// \\?\..., \\server\share... or starts with a drive letter.
std::vector<std::byte> windowsLinkReparse(const std::u16string& target, bool mountPoint);
struct WindowsLink {
    std::u16string printName;
    bool mountPoint = false;
};
// Decodes a symlink/junction buffer; nullopt for other tags; throws on malformed buffers.
std::optional<WindowsLink> decodeWindowsLink(std::span<const std::byte> buf, const std::string& what);

// LX_SYMLINK: version 2 + UTF-8 target without NUL.
std::vector<std::byte> lxSymlinkReparse(const std::string& target);
// The data-less WSL tags (FIFO, socket, char/block device).
std::vector<std::byte> emptyReparse(uint32_t tag);
uint32_t reparseTag(std::span<const std::byte> buf);
// The target of an LX_SYMLINK buffer; throws if malformed.
std::string decodeLxSymlink(std::span<const std::byte> buf, const std::string& what);

}  // namespace cim::layer
