// libFuzzer target: link tables and name handling — cim::format::LinkTableView over hostile
// bytes (directory and stream-table entry sizes), cim::compareNames with the default and the
// identity upcase tables, cim::utf16ToUtf8 / utf8ToUtf16 and cim::parseImagePath.
// Besides "no crash", it checks properties that must hold for any input:
//  - compareNames is reflexive and antisymmetric;
//  - utf16ToUtf8(utf8ToUtf16(x, surrogateEscape=true)) == x for any bytes x (Linux names survive);
//  - strict utf8ToUtf16 either throws E_INVALIDARG or round-trips exactly.
// Input: byte 0 selects the entry size; the rest is the link table (and, split in half, names).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/path.h"
#include "common/upcase.h"
#include "common/utf.h"
#include "format/link_table.h"

using namespace cim;

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "property violated: %s\n", what);
        std::abort();
    }
}

void names(std::u16string_view a, std::u16string_view b) {
    for (const UpcaseTable* t : {&defaultUpcaseTable(), &identityUpcaseTable()}) {
        auto ab = compareNames(*t, a, b), ba = compareNames(*t, b, a);
        check(compareNames(*t, a, a) == 0, "compareNames(a, a) == 0");
        check((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0), "compareNames antisymmetric");
    }
    std::string u = utf16ToUtf8(a);
    (void)u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    size_t entrySize = (data[0] & 1) ? format::kStreamEntrySize : format::kDirectoryEntrySize;
    std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data + 1), size - 1);

    // 1. The link table.
    try {
        format::LinkTableView lt(body, entrySize);
        std::u16string prev;
        for (uint32_t i = 0; i < lt.count() && i < 4096; ++i) {
            std::u16string n;
            try {
                n = lt.name(i);
            } catch (const Error&) {
                continue;
            }
            if (entrySize == format::kDirectoryEntrySize) (void)lt.fileId(i);
            else (void)lt.stream(i);
            names(n, prev);
            prev = std::move(n);
        }
        try {
            (void)lt.name(lt.count());  // one past the end must throw, never read
            check(false, "name(count) throws");
        } catch (const Error&) {
        }
    } catch (const Error&) {
    }

    // 2. Names as UTF-16 (two halves) and UTF-8.
    std::u16string all(body.size() / 2, u'\0');
    std::memcpy(all.data(), body.data(), all.size() * 2);
    names(std::u16string_view(all).substr(0, all.size() / 2), std::u16string_view(all).substr(all.size() / 2));

    std::string_view raw(reinterpret_cast<const char*>(data + 1), size - 1);
    check(utf16ToUtf8(utf8ToUtf16(raw, true)) == raw, "surrogate escape round trip");
    try {
        std::u16string w = utf8ToUtf16(raw);
        check(utf16ToUtf8(w) == raw, "strict UTF-8 round trip");
    } catch (const Error& e) {
        check(e.code() == hr::invalidArg, "strict UTF-8 failure is E_INVALIDARG");
    }

    // 3. Image paths in every stream syntax.
    for (auto syntax : {StreamSyntax::none, StreamSyntax::optional, StreamSyntax::required}) {
        for (bool esc : {false, true}) {
            try {
                ImagePath p = parseImagePath(raw, syntax, esc);
                for (const auto& c : p.components) check(!c.empty() && c.size() <= kMaxComponentUnits, "component length");
                (void)displayPath(p.components);
            } catch (const Error& e) {
                check(e.code() == hr::invalidArg, "parseImagePath failure is E_INVALIDARG");
            }
        }
    }
    return 0;
}
