// The extended attributes that carry Linux metadata in a CIM:
//  - WSL's $LXUID, $LXGID, $LXMOD (u32 LE each) and, for character and block devices, $LXDEV
//    (u32 major, u32 minor), in that order (linux-metadata-conventions.md §1);
//  - one EA per Linux xattr, opencim's own encoding (WSL's is unconfirmed, so a distinct prefix
//    keeps the two from being confused):
//        EA name  = "$XATTR." + the xattr name with every byte outside [a-z0-9._-] written as %XX
//                   (upper-case hex), then upper-cased as NTFS stores EA names;
//        EA value = the xattr value, raw.
//    Because only lower-case letters are left unescaped, the name survives NTFS-style
//    upper-casing: decoding lower-cases every unescaped letter and undoes %XX. Example:
//    "security.capability" -> "$XATTR.SECURITY.CAPABILITY", "user.Foo" -> "$XATTR.USER.%46OO".
//    Xattr EAs follow the $LX* ones, sorted by EA name. A name that would exceed 254 bytes, a
//    value over 65535 bytes or a chain over 65535 bytes is refused with a clear error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "layer/tar_entry.h"

namespace cim::layer {

inline constexpr char kXattrEaPrefix[] = "$XATTR.";

struct LinuxMetadata {
    uint32_t uid = 0, gid = 0, mode = 0;  // mode: full st_mode (type bits + 07777)
    std::optional<std::pair<uint32_t, uint32_t>> dev;
    std::vector<Xattr> xattrs;
};

std::string encodeXattrEaName(std::string_view xattrName);
// nullopt if `eaName` is not an xattr carrier; throws on a malformed one.
std::optional<std::string> decodeXattrEaName(std::string_view eaName);

// Builds the EA chain (throws ERROR_INVALID_DATA naming `what` when it does not fit).
std::vector<std::byte> buildLinuxEas(const LinuxMetadata& md, const std::string& what);
// Parses a chain; missing $LX* fields stay nullopt / default.
struct ParsedLinuxEas {
    std::optional<uint32_t> uid, gid, mode;
    std::optional<std::pair<uint32_t, uint32_t>> dev;
    std::vector<Xattr> xattrs;
};
ParsedLinuxEas parseLinuxEas(std::span<const std::byte> chain, const std::string& what);

}  // namespace cim::layer
