#include "layer/layer_path.h"

#include "common/utf.h"
#include "layer/layer_error.h"

namespace cim::layer {

std::vector<std::string> splitTarPath(std::string_view raw, LayerFormat f, const std::string& what) {
    if (raw.size() > 4 * kMaxPathUnits) failData("{}: name of {} bytes is too long", what, raw.size());
    for (unsigned char c : raw) {
        if (c == 0) failData("{}: name contains a NUL character", what);
        if (c < 0x20 || c == 0x7F) failData("{}: name contains the control character {:#04x}", what, c);
    }
    auto isSep = [&](char c) { return c == '/' || (f == LayerFormat::Windows && c == '\\'); };
    std::vector<std::string> out;
    size_t i = 0;
    while (i < raw.size()) {
        while (i < raw.size() && isSep(raw[i])) ++i;
        size_t s = i;
        while (i < raw.size() && !isSep(raw[i])) ++i;
        std::string_view c = raw.substr(s, i - s);
        if (c.empty() || c == ".") continue;
        if (c == "..") failData("{}: name has a '..' component (path traversal)", what);
        if (out.empty() && c.size() == 2 && c[1] == ':' && ((c[0] >= 'A' && c[0] <= 'Z') || (c[0] >= 'a' && c[0] <= 'z'))) {
            failData("{}: name starts with a drive letter", what);
        }
        out.emplace_back(c);
    }
    return out;
}

std::u16string toCimName(std::string_view c, LayerFormat f, const std::string& what) {
    std::u16string n;
    if (f == LayerFormat::Windows) {
        try {
            n = utf8ToUtf16(c, false);
        } catch (const Error&) {
            failData("{}: name component '{}' is not valid UTF-8", what, printable(c));
        }
        for (char16_t ch : n) {
            // ':' too: the mapper has already split "file:stream" off the last component, so any
            // ':' left here (e.g. "Files/C:/x") would be a name Windows cannot represent.
            if (ch == u'<' || ch == u'>' || ch == u'"' || ch == u'|' || ch == u'?' || ch == u'*' || ch == u':') {
                failData("{}: name component '{}' contains a character Windows forbids", what, printable(c));
            }
        }
    } else {
        n = utf8ToUtf16(c, true);
        for (auto& ch : n) {
            if (ch == kEscapedBackslash) failData("{}: name component '{}' contains U+F05C, reserved to escape '\\'", what, printable(c));
            if (ch == u'\\') ch = kEscapedBackslash;
        }
    }
    if (n.size() > kMaxComponentUnits) failData("{}: name component of {} UTF-16 units exceeds 255", what, n.size());
    return n;
}

ImagePath toImagePath(const std::vector<std::string>& comps, LayerFormat f, const std::string& what) {
    ImagePath p;
    size_t units = 0;
    for (const auto& c : comps) {
        p.components.push_back(toCimName(c, f, what));
        units += p.components.back().size() + 1;
    }
    if (units > kMaxPathUnits) failData("{}: path of {} UTF-16 units exceeds {}", what, units, kMaxPathUnits);
    return p;
}

std::string fromCimName(std::u16string_view name, LayerFormat f) {
    if (f == LayerFormat::Linux) {
        std::u16string n(name);
        for (auto& ch : n) {
            if (ch == kEscapedBackslash) ch = u'\\';
        }
        return utf16ToUtf8(n);
    }
    return utf16ToUtf8(name);
}

}  // namespace cim::layer
