#include "common/upcase.h"

namespace cim {

namespace {
struct Run {
    uint32_t first, last, step;
    int32_t delta;
};
constexpr Run kRuns[] = {
#include "common/upcase_data.inc"
};

UpcaseTable buildDefault() {
    UpcaseTable t;
    for (uint32_t c = 0; c < 0x10000; ++c) t[c] = static_cast<char16_t>(c);
    for (const Run& r : kRuns) {
        for (uint32_t c = r.first; c <= r.last; c += r.step) t[c] = static_cast<char16_t>(int32_t(c) + r.delta);
    }
    return t;
}

UpcaseTable buildIdentity() {
    UpcaseTable t;
    for (uint32_t c = 0; c < 0x10000; ++c) t[c] = static_cast<char16_t>(c);
    return t;
}

// Reads one comparison unit: an upcased BMP unit, or a whole supplementary code point.
uint32_t nextUnit(const UpcaseTable& up, std::u16string_view s, size_t& i) {
    char16_t c = s[i++];
    if (c >= 0xD800 && c <= 0xDBFF && i < s.size() && s[i] >= 0xDC00 && s[i] <= 0xDFFF) {
        uint32_t cp = 0x10000 + ((uint32_t(c) - 0xD800) << 10) + (uint32_t(s[i]) - 0xDC00);
        ++i;
        return cp;
    }
    return up[c];
}
}  // namespace

const UpcaseTable& defaultUpcaseTable() {
    static const UpcaseTable t = buildDefault();
    return t;
}

const UpcaseTable& identityUpcaseTable() {
    static const UpcaseTable t = buildIdentity();
    return t;
}

std::strong_ordering compareNames(const UpcaseTable& up, std::u16string_view a, std::u16string_view b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        uint32_t x = nextUnit(up, a, i);
        uint32_t y = nextUnit(up, b, j);
        if (x != y) return x <=> y;
    }
    return (a.size() - i) == 0 ? ((b.size() - j) == 0 ? std::strong_ordering::equal : std::strong_ordering::less)
                               : std::strong_ordering::greater;
}

}  // namespace cim
