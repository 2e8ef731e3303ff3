#include "fuse/posix_view.h"

#include <sys/sysmacros.h>

#include <cstring>

#include "common/error.h"
#include "common/utf.h"
#include "format/layout.h"

namespace cim::fuse {

namespace {

constexpr int64_t kUnixEpochAsFileTime = 116444736000000000;  // 1970-01-01 in FILETIME ticks
constexpr mode_t kDefaultDirMode = 0555, kDefaultFileMode = 0444, kLinkMode = 0777;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
        if (x != y) return false;
    }
    return true;
}

std::optional<uint32_t> u32Value(const format::ExtendedAttribute& ea) {
    if (ea.value.size() != 4) return std::nullopt;
    return format::load<uint32_t>(ea.value.data());
}

uint16_t u16At(std::span<const std::byte> b, size_t at) { return format::load<uint16_t>(b.data() + at); }

// A UTF-16 name inside a symlink/mount-point PathBuffer; nullopt if out of bounds or odd.
std::optional<std::u16string> pathBufferString(std::span<const std::byte> pathBuffer, uint16_t off, uint16_t len) {
    if (off % 2 || len % 2 || size_t(off) + len > pathBuffer.size()) return std::nullopt;
    std::u16string s(len / 2, u'\0');
    std::memcpy(s.data(), pathBuffer.data() + off, len);
    return s;
}

std::string windowsToLinuxPath(std::u16string s) {
    // A substitute name starts with the NT namespace prefix "\??\"; print names never do.
    if (s.size() >= 4 && s.compare(0, 4, u"\\??\\") == 0) s.erase(0, 4);
    std::string out = utf16ToUtf8(s);
    for (char& c : out) {
        if (c == '\\') c = '/';
    }
    return out;
}

mode_t typeFromTag(uint32_t tag) {
    switch (tag) {
    case kTagSymlink:
    case kTagMountPoint:
    case kTagLxSymlink: return S_IFLNK;
    case kTagAfUnix: return S_IFSOCK;
    case kTagLxFifo: return S_IFIFO;
    case kTagLxChr: return S_IFCHR;
    case kTagLxBlk: return S_IFBLK;
    default: return 0;
    }
}

bool hasReparse(const image::FileNode& node) { return node.rec.reparseOffset != format::kNullOffset; }

// The type from the structure of the record: directory-ness and the reparse tag. A link tag whose
// buffer cannot be parsed leaves the file a plain file or directory (its data stays readable).
mode_t structuralType(const image::Image& img, const image::FileNode& node, std::string* target) {
    mode_t t = hasReparse(node) ? typeFromTag(node.rec.reparseTag) : 0;
    if (t == S_IFLNK) {
        auto link = linkTarget(img.reparseData(node));
        if (link) {
            if (target) *target = std::move(*link);
            return S_IFLNK;
        }
        t = 0;
    }
    if (node.isDirectory()) return S_IFDIR;  // other special tags on a directory are ignored
    return t;  // 0: decided by $LXMOD or regular
}

}  // namespace

bool isLinuxMetadataEa(std::string_view name) {
    return equalsIgnoreCase(name, "$LXUID") || equalsIgnoreCase(name, "$LXGID") || equalsIgnoreCase(name, "$LXMOD") ||
           equalsIgnoreCase(name, "$LXDEV");
}

LinuxMetadata linuxMetadata(const std::vector<format::ExtendedAttribute>& eas) {
    LinuxMetadata md;
    for (const auto& ea : eas) {
        if (equalsIgnoreCase(ea.name, "$LXUID")) md.uid = u32Value(ea);
        else if (equalsIgnoreCase(ea.name, "$LXGID")) md.gid = u32Value(ea);
        else if (equalsIgnoreCase(ea.name, "$LXMOD")) md.mode = u32Value(ea);
        else if (equalsIgnoreCase(ea.name, "$LXDEV") && ea.value.size() == 8) {
            md.devMajor = format::load<uint32_t>(ea.value.data());
            md.devMinor = format::load<uint32_t>(ea.value.data() + 4);
        }
    }
    return md;
}

std::optional<std::string> linkTarget(std::span<const std::byte> b) {
    if (b.size() < 8) return std::nullopt;
    uint32_t tag = format::load<uint32_t>(b.data());
    size_t dataLen = u16At(b, 4);
    if (dataLen > b.size() - 8) return std::nullopt;
    auto data = b.subspan(8, dataLen);
    switch (tag) {
    case kTagLxSymlink: {
        if (data.size() < 4 || format::load<uint32_t>(data.data()) != 2) return std::nullopt;
        std::string t(reinterpret_cast<const char*>(data.data() + 4), data.size() - 4);
        if (t.empty() || t.find('\0') != std::string::npos) return std::nullopt;
        return t;
    }
    case kTagSymlink:
    case kTagMountPoint: {
        size_t header = tag == kTagSymlink ? 12 : 8;  // symlinks add a u32 Flags field
        if (data.size() < header) return std::nullopt;
        uint16_t subOff = u16At(data, 0), subLen = u16At(data, 2), printOff = u16At(data, 4), printLen = u16At(data, 6);
        auto pathBuffer = data.subspan(header);
        auto print = pathBufferString(pathBuffer, printOff, printLen);
        if (print && !print->empty()) return windowsToLinuxPath(*print);
        auto sub = pathBufferString(pathBuffer, subOff, subLen);
        if (sub && !sub->empty()) return windowsToLinuxPath(*sub);
        return std::nullopt;
    }
    default: return std::nullopt;
    }
}

struct timespec fileTimeToTimespec(int64_t fileTime) {
    // Floor division so that times before 1970 (down to 1601) stay correct. Seconds and ticks are
    // split before the epoch is subtracted: any stored value (even INT64_MIN) stays in range.
    int64_t sec = fileTime / 10000000 - kUnixEpochAsFileTime / 10000000, rem = fileTime % 10000000;
    if (rem < 0) {
        rem += 10000000;
        sec -= 1;
    }
    struct timespec ts {};
    ts.tv_sec = static_cast<time_t>(sec);
    ts.tv_nsec = static_cast<long>(rem * 100);
    return ts;
}

mode_t fileType(const image::Image& img, const image::FileNode& node) {
    mode_t t = structuralType(img, node, nullptr);
    if (t != 0) return t;
    auto eaBytes = img.extendedAttributes(node);
    if (!eaBytes.empty()) {
        auto md = linuxMetadata(format::parseEaChain(eaBytes, hr::corrupt));
        if (md.mode) {
            mode_t lx = *md.mode & S_IFMT;
            if (lx == S_IFIFO || lx == S_IFSOCK || lx == S_IFCHR || lx == S_IFBLK) return lx;
        }
    }
    return S_IFREG;
}

PosixNode describe(const image::Image& img, const image::FileNode& node, uint32_t nlink) {
    PosixNode out;
    struct stat& st = out.st;
    mode_t type = structuralType(img, node, &out.linkTarget);

    LinuxMetadata md;
    auto eaBytes = img.extendedAttributes(node);
    if (!eaBytes.empty()) md = linuxMetadata(format::parseEaChain(eaBytes, hr::corrupt));
    if (type == 0) {
        // No structural type: a data-less special file may be described by $LXMOD alone.
        mode_t lx = md.mode ? (*md.mode & S_IFMT) : 0;
        type = (lx == S_IFIFO || lx == S_IFSOCK || lx == S_IFCHR || lx == S_IFBLK) ? lx : S_IFREG;
    }

    mode_t perms;
    if (md.mode) perms = *md.mode & 07777;
    else if (type == S_IFDIR) perms = kDefaultDirMode;
    else if (type == S_IFLNK) perms = kLinkMode;
    else perms = kDefaultFileMode;
    if (type == S_IFLNK) perms = kLinkMode;  // Linux ignores a symlink's permission bits

    st.st_ino = node.id;
    st.st_mode = type | perms;
    st.st_nlink = nlink;
    st.st_uid = md.uid.value_or(0);
    st.st_gid = md.gid.value_or(0);
    if ((type == S_IFCHR || type == S_IFBLK) && md.devMajor) st.st_rdev = makedev(*md.devMajor, *md.devMinor);
    if (type == S_IFLNK) st.st_size = static_cast<off_t>(out.linkTarget.size());
    else if (type == S_IFREG) st.st_size = static_cast<off_t>(node.size());
    else st.st_size = 0;
    st.st_blksize = 4096;
    st.st_blocks = (st.st_size + 511) / 512;
    st.st_atim = fileTimeToTimespec(node.rec.lastAccessTime);
    st.st_mtim = fileTimeToTimespec(node.rec.lastWriteTime);
    st.st_ctim = fileTimeToTimespec(node.rec.changeTime);
    return out;
}

}  // namespace cim::fuse
