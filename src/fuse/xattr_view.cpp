#include "fuse/xattr_view.h"

#include "format/ea.h"
#include "layer/linux_ea.h"

#include <cstring>

#include "common/error.h"
#include "common/utf.h"
#include "format/layout.h"

namespace cim::fuse {

namespace {

constexpr std::string_view kAttrib = "system.ntfs_attrib";
constexpr std::string_view kAttribBe = "system.ntfs_attrib_be";
constexpr std::string_view kAcl = "system.ntfs_acl";
constexpr std::string_view kReparse = "system.ntfs_reparse_data";
constexpr std::string_view kEa = "system.ntfs_ea";
constexpr std::string_view kTimes = "system.ntfs_times";
constexpr std::string_view kCrtime = "system.ntfs_crtime";
constexpr std::string_view kStreamPrefix = "user.";

template <typename T>
void append(std::vector<std::byte>& out, T v) {
    size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
}

// Linux xattrs of an imported Linux layer, carried as "$XATTR.<escaped name>" EAs
// (src/layer/linux_ea.h). Malformed carriers are skipped rather than failing every listxattr.
std::vector<std::pair<std::string, std::vector<std::byte>>> linuxXattrs(const image::Image& img, const image::FileNode& node) {
    std::vector<std::pair<std::string, std::vector<std::byte>>> out;
    if (node.rec.eaOffset == format::kNullOffset || node.rec.eaLength == 0) return out;
    for (auto& ea : format::parseEaChain(img.extendedAttributes(node), hr::corrupt)) {
        std::optional<std::string> name;
        try {
            name = layer::decodeXattrEaName(ea.name);
        } catch (const Error&) {
            continue;
        }
        if (name) out.emplace_back(std::move(*name), std::move(ea.value));
    }
    return out;
}

}  // namespace

std::vector<std::string> xattrNames(const image::Image& img, const image::FileNode& node) {
    std::vector<std::string> names{std::string(kAttrib), std::string(kAttribBe), std::string(kTimes),
                                   std::string(kCrtime)};
    if (node.rec.sdOffset != format::kNullOffset) names.emplace_back(kAcl);
    if (node.rec.reparseOffset != format::kNullOffset) names.emplace_back(kReparse);
    if (node.rec.eaOffset != format::kNullOffset && node.rec.eaLength != 0) names.emplace_back(kEa);
    for (const auto& s : img.alternateStreams(node)) names.push_back(std::string(kStreamPrefix) + utf16ToUtf8(s.name));
    for (auto& x : linuxXattrs(img, node)) names.push_back(std::move(x.first));
    return names;
}

std::optional<std::vector<std::byte>> xattrValue(const image::Image& img, const image::FileNode& node,
                                                 std::string_view name) {
    std::vector<std::byte> out;
    const auto& r = node.rec;
    // Linux xattrs (security.capability, user.*, trusted.*) come first: a Linux layer has no
    // alternate streams, so its user.* names are its own.
    if (!name.starts_with("system.ntfs_")) {
        for (auto& x : linuxXattrs(img, node)) {
            if (x.first == name) return std::move(x.second);
        }
    }
    if (name == kAttrib) {
        append<uint32_t>(out, node.attributes());
    } else if (name == kAttribBe) {
        append<uint32_t>(out, __builtin_bswap32(node.attributes()));
    } else if (name == kTimes) {
        // ntfs-3g's order: creation, last data change, last access, last MFT change.
        append<int64_t>(out, r.creationTime);
        append<int64_t>(out, r.lastWriteTime);
        append<int64_t>(out, r.lastAccessTime);
        append<int64_t>(out, r.changeTime);
    } else if (name == kCrtime) {
        append<int64_t>(out, r.creationTime);
    } else if (name == kAcl) {
        if (r.sdOffset == format::kNullOffset) return std::nullopt;
        out = img.securityDescriptor(node);
    } else if (name == kReparse) {
        if (r.reparseOffset == format::kNullOffset) return std::nullopt;
        out = img.reparseData(node);
    } else if (name == kEa) {
        out = img.extendedAttributes(node);
        if (out.empty()) return std::nullopt;
    } else if (name.starts_with(kStreamPrefix) && name.size() > kStreamPrefix.size()) {
        std::u16string wanted = utf8ToUtf16(name.substr(kStreamPrefix.size()), true);
        for (const auto& s : img.alternateStreams(node)) {
            if (compareNames(img.upcase(), s.name, wanted) != 0) continue;
            uint64_t len = format::streamLength(s.stream);
            if (len > kMaxXattrValue) {
                fail(hr::insufficientBuffer, "{}: alternate stream '{}' of file {} has {} bytes, more than an xattr holds",
                     img.name(), utf16ToUtf8(s.name), node.id, len);
            }
            out.resize(static_cast<size_t>(len));
            size_t got = img.readStream(s.stream, 0, out);
            out.resize(got);
            return out;
        }
        return std::nullopt;
    } else {
        return std::nullopt;
    }
    return out;
}

}  // namespace cim::fuse
