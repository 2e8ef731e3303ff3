#include "common/path.h"

#include "common/error.h"
#include "common/utf.h"

namespace cim {

namespace {
void validateComponent(const std::u16string& c) {
    if (c == u"." || c == u"..") fail(hr::invalidArg, "path component '{}' is not allowed", utf16ToUtf8(c));
    if (c.size() > kMaxComponentUnits) {
        fail(hr::invalidArg, "path component of {} UTF-16 units exceeds the limit of {}", c.size(),
             kMaxComponentUnits);
    }
    for (char16_t ch : c) {
        if (ch < 0x20 || ch == 0x7F) fail(hr::invalidArg, "path contains control character 0x{:02x}", unsigned(ch));
    }
}

bool endsWithDataType(std::u16string_view s) {
    static constexpr std::u16string_view suffix = u":$DATA";
    if (s.size() < suffix.size()) return false;
    auto tail = s.substr(s.size() - suffix.size());
    for (size_t i = 0; i < suffix.size(); ++i) {
        char16_t a = tail[i];
        if (a >= u'a' && a <= u'z') a = static_cast<char16_t>(a - 32);
        if (a != suffix[i]) return false;
    }
    return true;
}
}  // namespace

ImagePath parseImagePath(std::string_view utf8, StreamSyntax streams, bool surrogateEscape) {
    std::u16string all = utf8ToUtf16(utf8, surrogateEscape);
    if (all.size() > kMaxPathUnits) {
        fail(hr::invalidArg, "path of {} UTF-16 units exceeds the limit of {}", all.size(), kMaxPathUnits);
    }
    ImagePath out;
    std::u16string cur;
    for (char16_t ch : all) {
        if (ch == u'\\' || ch == u'/') {
            if (!cur.empty()) out.components.push_back(std::move(cur));
            cur.clear();
        } else {
            cur.push_back(ch);
        }
    }
    if (!cur.empty()) out.components.push_back(std::move(cur));

    if (streams != StreamSyntax::none && !out.components.empty()) {
        std::u16string& last = out.components.back();
        auto colon = last.find(u':');
        if (colon != std::u16string::npos) {
            std::u16string stream = last.substr(colon + 1);
            if (endsWithDataType(stream)) stream.resize(stream.size() - 6);  // "name:$DATA" -> "name"
            if (stream.find(u':') != std::u16string::npos) {
                fail(hr::invalidArg, "only $DATA alternate streams are supported");
            }
            if (stream.empty()) fail(hr::invalidArg, "alternate stream name is empty");
            validateComponent(stream);
            last.resize(colon);
            if (last.empty()) fail(hr::invalidArg, "alternate stream path has no file name");
            out.stream = std::move(stream);
            out.hasStream = true;
        } else if (streams == StreamSyntax::required) {
            fail(hr::invalidArg, "path is not of the form file:stream");
        }
    } else if (streams == StreamSyntax::required) {
        fail(hr::invalidArg, "path is not of the form file:stream");
    }
    for (const auto& c : out.components) validateComponent(c);
    return out;
}

std::string displayPath(const std::vector<std::u16string>& components) {
    std::string s;
    for (size_t i = 0; i < components.size(); ++i) {
        if (i) s.push_back('\\');
        s += utf16ToUtf8(components[i]);
    }
    return s;
}

}  // namespace cim
