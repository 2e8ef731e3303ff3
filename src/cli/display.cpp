#include "cli/display.h"

#include <cstring>
#include <ctime>

#include "cli/errors.h"
#include "cli/tree_import.h"
#include "common/utf.h"
#include "format/ea.h"

namespace cim::cli {

namespace {

constexpr uint32_t kTagMountPoint = 0xA0000003;
constexpr uint32_t kTagSymlink = 0xA000000C;

// Splits a FILETIME into unix seconds (floored) and 100 ns ticks within the second.
std::pair<int64_t, int64_t> splitFiletime(int64_t ft) {
    int64_t t = ft - kFiletimeUnixEpoch;
    int64_t sec = t / 10000000, rem = t % 10000000;
    if (rem < 0) {
        rem += 10000000;
        --sec;
    }
    return {sec, rem};
}

std::string formatUtc(int64_t sec, const char* fmt) {
    time_t t = static_cast<time_t>(sec);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return "?";
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
    return std::string(buf, n);
}

uint32_t loadU32(std::span<const std::byte> b, size_t off) {
    uint32_t v;
    std::memcpy(&v, b.data() + off, 4);
    return v;
}

uint16_t loadU16(std::span<const std::byte> b, size_t off) {
    uint16_t v;
    std::memcpy(&v, b.data() + off, 2);
    return v;
}

}  // namespace

std::string toHex(std::span<const std::byte> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 2);
    for (std::byte b : bytes) {
        s.push_back(digits[static_cast<uint8_t>(b) >> 4]);
        s.push_back(digits[static_cast<uint8_t>(b) & 15]);
    }
    return s;
}

std::string toHex(std::span<const uint8_t> bytes) { return toHex(std::as_bytes(bytes)); }

std::vector<uint8_t> parseHex(const std::string& text, size_t size, const char* what) {
    if (text.size() != size * 2) {
        throw UsageError(fmt::format("{} must be {} hex digits, got {} characters", what, size * 2, text.size()));
    }
    auto nibble = [&](char c) -> uint8_t {
        if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
        if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
        if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
        throw UsageError(fmt::format("{}: '{}' is not a hex digit", what, c));
    };
    std::vector<uint8_t> out(size);
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
    return out;
}

std::string filetimeIso(int64_t ft) {
    if (ft == 0) return "-";
    auto [sec, ticks] = splitFiletime(ft);
    return formatUtc(sec, "%Y-%m-%dT%H:%M:%S") + fmt::format(".{:07}Z", ticks);
}

std::string filetimeShort(int64_t ft) {
    if (ft == 0) return "-               ";
    return formatUtc(splitFiletime(ft).first, "%Y-%m-%d %H:%M");
}

std::string attributeLetters(uint32_t a) {
    std::string s = "------";
    if (a & 0x10) s[0] = 'd';
    if (a & 0x1) s[1] = 'r';
    if (a & 0x2) s[2] = 'h';
    if (a & 0x4) s[3] = 's';
    if (a & 0x20) s[4] = 'a';
    if (a & 0x400) s[5] = 'L';
    return s;
}

std::string attributeNames(uint32_t a) {
    static const std::pair<uint32_t, const char*> names[] = {
        {0x1, "READONLY"}, {0x2, "HIDDEN"}, {0x4, "SYSTEM"},       {0x10, "DIRECTORY"},     {0x20, "ARCHIVE"},
        {0x80, "NORMAL"},  {0x200, "SPARSE_FILE"}, {0x400, "REPARSE_POINT"}, {0x800, "COMPRESSED"},
    };
    std::string s;
    uint32_t rest = a;
    for (const auto& [bit, name] : names) {
        if (!(a & bit)) continue;
        if (!s.empty()) s += '|';
        s += name;
        rest &= ~bit;
    }
    if (rest) s += fmt::format("{}{:#x}", s.empty() ? "" : "|", rest);
    return s.empty() ? "0" : s;
}

std::string reparseTagName(uint32_t tag) {
    switch (tag) {
        case kTagLxSymlink: return "LX_SYMLINK";
        case kTagAfUnix: return "AF_UNIX";
        case kTagLxFifo: return "LX_FIFO";
        case kTagLxChr: return "LX_CHR";
        case kTagLxBlk: return "LX_BLK";
        case kTagSymlink: return "SYMLINK";
        case kTagMountPoint: return "MOUNT_POINT";
        default: return fmt::format("{:#010x}", tag);
    }
}

std::string fileType(const CIMFS_FILE_INFO& info) {
    if (info.Attributes & 0x10) return "directory";
    switch (info.ReparseTag) {
        case 0: return "file";
        case kTagLxSymlink:
        case kTagSymlink: return "symlink";
        case kTagMountPoint: return "junction";
        case kTagAfUnix: return "socket";
        case kTagLxFifo: return "fifo";
        case kTagLxChr: return "chardev";
        case kTagLxBlk: return "blockdev";
        default: return "reparse";
    }
}

std::optional<std::string> symlinkTarget(std::span<const std::byte> r) {
    if (r.size() < 8) return std::nullopt;
    uint32_t tag = loadU32(r, 0);
    size_t len = loadU16(r, 4);
    if (len > r.size() - 8) return std::nullopt;
    auto data = r.subspan(8, len);
    if (tag == kTagLxSymlink) {
        if (data.size() < 4 || loadU32(data, 0) != kLxSymlinkVersion) return std::nullopt;
        return std::string(reinterpret_cast<const char*>(data.data() + 4), data.size() - 4);
    }
    if (tag == kTagSymlink || tag == kTagMountPoint) {
        // SubstituteNameOffset/Length, PrintNameOffset/Length (u16 each), [u32 Flags for symlinks], PathBuffer.
        size_t head = tag == kTagSymlink ? 12 : 8;
        if (data.size() < head) return std::nullopt;
        size_t off = loadU16(data, 4), n = loadU16(data, 6);
        if (n == 0) off = loadU16(data, 0), n = loadU16(data, 2);  // no print name: use the substitute name
        auto path = data.subspan(head);
        if (off > path.size() || n > path.size() - off || n % 2) return std::nullopt;
        std::u16string w(n / 2, u'\0');
        std::memcpy(w.data(), path.data() + off, n);
        return utf16ToUtf8(w);
    }
    return std::nullopt;
}

std::vector<DecodedEa> decodeEas(std::span<const std::byte> chain) {
    std::vector<DecodedEa> out;
    for (auto& ea : format::parseEaChain(chain, static_cast<int32_t>(0x80070570u))) {
        DecodedEa d;
        d.name = ea.name;
        d.flags = ea.flags;
        d.value = ea.value;
        std::span<const std::byte> v = d.value;
        if ((d.name == "$LXUID" || d.name == "$LXGID") && v.size() == 4) {
            d.meaning = fmt::format("{} {}", d.name == "$LXUID" ? "uid" : "gid", loadU32(v, 0));
        } else if (d.name == "$LXMOD" && v.size() == 4) {
            d.meaning = fmt::format("mode 0{:o}", loadU32(v, 0));
        } else if (d.name == "$LXDEV" && v.size() == 8) {
            d.meaning = fmt::format("dev {}:{}", loadU32(v, 0), loadU32(v, 4));
        }
        out.push_back(std::move(d));
    }
    return out;
}

std::string dumpJson(const Json& j) { return j.dump(2, ' ', false, Json::error_handler_t::replace); }

Json infoJson(const CIMFS_FILE_INFO& i) {
    Json j;
    j["type"] = fileType(i);
    j["attributes"] = i.Attributes;
    j["attributeNames"] = attributeNames(i.Attributes);
    j["size"] = i.FileSize;
    j["fileId"] = i.FileId;
    j["linkCount"] = i.LinkCount;
    j["reparseTag"] = i.ReparseTag;
    j["creationTime"] = i.CreationTime;
    j["lastWriteTime"] = i.LastWriteTime;
    j["changeTime"] = i.ChangeTime;
    j["lastAccessTime"] = i.LastAccessTime;
    j["mtime"] = filetimeIso(i.LastWriteTime);
    return j;
}

}  // namespace cim::cli
