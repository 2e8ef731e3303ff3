#include "layer/linux_ea.h"

#include <algorithm>
#include <cstring>

#include "format/ea.h"
#include "layer/layer_error.h"

namespace cim::layer {

namespace {

std::vector<std::byte> u32(uint32_t v) {
    std::vector<std::byte> b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool iequalsPrefix(std::string_view s, std::string_view p) {
    if (s.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
        char a = s[i], b = p[i];
        if (a >= 'a' && a <= 'z') a = char(a - 32);
        if (b >= 'a' && b <= 'z') b = char(b - 32);
        if (a != b) return false;
    }
    return true;
}

}  // namespace

std::string encodeXattrEaName(std::string_view name) {
    std::string out = kXattrEaPrefix;
    for (unsigned char c : name) {
        if ((c >= 'a' && c <= 'z')) out.push_back(static_cast<char>(c - 32));
        else if ((c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') out.push_back(static_cast<char>(c));
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::optional<std::string> decodeXattrEaName(std::string_view ea) {
    std::string_view prefix = kXattrEaPrefix;
    if (!iequalsPrefix(ea, prefix)) return std::nullopt;
    std::string out;
    for (size_t i = prefix.size(); i < ea.size(); ++i) {
        char c = ea[i];
        if (c == '%') {
            if (i + 2 >= ea.size()) fail(hr::corrupt, "malformed xattr EA name '{}'", printable(ea));
            int h = hexValue(ea[i + 1]), l = hexValue(ea[i + 2]);
            if (h < 0 || l < 0) fail(hr::corrupt, "malformed xattr EA name '{}'", printable(ea));
            out.push_back(static_cast<char>(h * 16 + l));
            i += 2;
        } else if (c >= 'A' && c <= 'Z') {
            out.push_back(static_cast<char>(c + 32));
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') {
            out.push_back(c);
        } else {
            fail(hr::corrupt, "malformed xattr EA name '{}'", printable(ea));
        }
    }
    if (out.empty()) fail(hr::corrupt, "xattr EA name '{}' has an empty xattr name", printable(ea));
    return out;
}

std::vector<std::byte> buildLinuxEas(const LinuxMetadata& md, const std::string& what) {
    std::vector<format::ExtendedAttribute> eas;
    eas.push_back({0, "$LXUID", u32(md.uid)});
    eas.push_back({0, "$LXGID", u32(md.gid)});
    eas.push_back({0, "$LXMOD", u32(md.mode)});
    if (md.dev) {
        auto v = u32(md.dev->first);
        auto m = u32(md.dev->second);
        v.insert(v.end(), m.begin(), m.end());
        eas.push_back({0, "$LXDEV", v});
    }
    std::vector<format::ExtendedAttribute> xs;
    for (const auto& x : md.xattrs) {
        std::string n = encodeXattrEaName(x.name);
        if (n.size() > 254) failData("{}: xattr '{}' has a name too long for an extended attribute ({} bytes encoded)", what, printable(x.name), n.size());
        if (x.value.size() > 0xFFFF) failData("{}: xattr '{}' has a value of {} bytes (at most 65535 fit)", what, printable(x.name), x.value.size());
        auto p = reinterpret_cast<const std::byte*>(x.value.data());
        xs.push_back({0, std::move(n), std::vector<std::byte>(p, p + x.value.size())});
    }
    std::sort(xs.begin(), xs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (size_t i = 1; i < xs.size(); ++i) {
        if (xs[i].name == xs[i - 1].name) failData("{}: two xattrs map to the extended attribute '{}'", what, xs[i].name);
    }
    eas.insert(eas.end(), std::make_move_iterator(xs.begin()), std::make_move_iterator(xs.end()));
    size_t total = 0;
    for (const auto& e : eas) total += (8 + e.name.size() + 1 + e.value.size() + 3) & ~size_t(3);
    if (total > 0xFFFF) failData("{}: the xattrs need {} bytes of extended attributes; a CIM file holds at most 65535", what, total);
    return format::buildEaChain(eas);
}

ParsedLinuxEas parseLinuxEas(std::span<const std::byte> chain, const std::string& what) {
    ParsedLinuxEas out;
    if (chain.empty()) return out;
    auto eas = format::parseEaChain(chain, hr::corrupt);
    auto get32 = [&](const format::ExtendedAttribute& e) -> uint32_t {
        if (e.value.size() != 4) fail(hr::corrupt, "{}: EA {} has {} bytes (expected 4)", what, e.name, e.value.size());
        uint32_t v;
        std::memcpy(&v, e.value.data(), 4);
        return v;
    };
    for (const auto& e : eas) {
        if (e.name == "$LXUID") out.uid = get32(e);
        else if (e.name == "$LXGID") out.gid = get32(e);
        else if (e.name == "$LXMOD") out.mode = get32(e);
        else if (e.name == "$LXDEV") {
            if (e.value.size() != 8) fail(hr::corrupt, "{}: EA $LXDEV has {} bytes (expected 8)", what, e.value.size());
            uint32_t ma, mi;
            std::memcpy(&ma, e.value.data(), 4);
            std::memcpy(&mi, e.value.data() + 4, 4);
            out.dev = {ma, mi};
        } else if (auto n = decodeXattrEaName(e.name)) {
            out.xattrs.push_back({*n, std::string(reinterpret_cast<const char*>(e.value.data()), e.value.size())});
        }
    }
    std::sort(out.xattrs.begin(), out.xattrs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

}  // namespace cim::layer
