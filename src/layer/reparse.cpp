#include "layer/reparse.h"

#include <cstring>

#include "layer/layer_error.h"

namespace cim::layer {

namespace {

void put16(std::vector<std::byte>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }
void put32(std::vector<std::byte>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
uint16_t get16(std::span<const std::byte> b, size_t at) {
    uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}
constexpr size_t kMaxReparse = 16 * 1024;

bool startsWith(const std::u16string& s, std::u16string_view p) { return s.size() >= p.size() && std::u16string_view(s).substr(0, p.size()) == p; }

}  // namespace

std::vector<std::byte> windowsLinkReparse(const std::u16string& target, bool mountPoint) {
    std::u16string sub = target;
    bool relative = true;
    if (startsWith(target, u"\\\\?\\")) {
        sub = u"\\??\\" + target.substr(4);
        relative = false;
    } else if (startsWith(target, u"\\\\")) {
        sub = u"\\??\\UNC\\" + target.substr(2);
        relative = false;
    } else if (target.size() >= 2 && target[1] == u':' &&
               ((target[0] >= u'A' && target[0] <= u'Z') || (target[0] >= u'a' && target[0] <= u'z'))) {
        sub = u"\\??\\" + target;
        relative = false;
    }
    size_t subLen = sub.size() * 2, printLen = target.size() * 2;
    size_t header = mountPoint ? 16 : 20;
    size_t total = header + subLen + 2 + printLen + 2;
    if (total > kMaxReparse || subLen > 0xFFFF || printLen > 0xFFFF) {
        fail(hr::invalidArg, "link target of {} characters is too long for a reparse point", target.size());
    }
    std::vector<std::byte> b(total);
    put32(b, 0, mountPoint ? kTagMountPoint : kTagSymlink);
    put16(b, 4, static_cast<uint16_t>(total - 8));
    put16(b, 8, 0);
    put16(b, 10, static_cast<uint16_t>(subLen));
    put16(b, 12, static_cast<uint16_t>(subLen + 2));
    put16(b, 14, static_cast<uint16_t>(printLen));
    if (!mountPoint) put32(b, 16, relative ? 1 : 0);
    std::memcpy(b.data() + header, sub.data(), subLen);
    std::memcpy(b.data() + header + subLen + 2, target.data(), printLen);
    return b;
}

std::optional<WindowsLink> decodeWindowsLink(std::span<const std::byte> b, const std::string& what) {
    uint32_t tag = reparseTag(b);
    if (tag != kTagSymlink && tag != kTagMountPoint) return std::nullopt;
    bool mp = tag == kTagMountPoint;
    size_t header = mp ? 16 : 20;
    if (b.size() < header) failData("{}: reparse buffer of {} bytes is truncated", what, b.size());
    size_t printOff = get16(b, 12), printLen = get16(b, 14);
    if (printLen % 2 || header + printOff + printLen > b.size()) failData("{}: reparse print name out of bounds", what);
    WindowsLink l;
    l.mountPoint = mp;
    l.printName.resize(printLen / 2);
    std::memcpy(l.printName.data(), b.data() + header + printOff, printLen);
    return l;
}

std::vector<std::byte> lxSymlinkReparse(const std::string& target) {
    size_t total = 12 + target.size();
    if (total > kMaxReparse) fail(hr::invalidArg, "symlink target of {} bytes is too long for a reparse point", target.size());
    std::vector<std::byte> b(total);
    put32(b, 0, kTagLxSymlink);
    put16(b, 4, static_cast<uint16_t>(total - 8));
    put32(b, 8, 2);
    std::memcpy(b.data() + 12, target.data(), target.size());
    return b;
}

std::vector<std::byte> emptyReparse(uint32_t tag) {
    std::vector<std::byte> b(8);
    put32(b, 0, tag);
    return b;
}

uint32_t reparseTag(std::span<const std::byte> b) {
    if (b.size() < 8) return 0;
    uint32_t t;
    std::memcpy(&t, b.data(), 4);
    return t;
}

std::string decodeLxSymlink(std::span<const std::byte> b, const std::string& what) {
    if (reparseTag(b) != kTagLxSymlink || b.size() < 12) failData("{}: not an LX symlink reparse buffer", what);
    uint32_t version;
    std::memcpy(&version, b.data() + 8, 4);
    if (version != 2) failData("{}: LX symlink version {} (expected 2)", what, version);
    std::string t(reinterpret_cast<const char*>(b.data() + 12), b.size() - 12);
    if (t.find('\0') != std::string::npos) failData("{}: LX symlink target contains a NUL", what);
    return t;
}

}  // namespace cim::layer
