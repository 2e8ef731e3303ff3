// Upcase tables and the one name comparator used for both sorting and searching link tables.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string_view>

namespace cim {

// 0x10000 entries: the uppercase of each BMP code unit. Images store their own table; readers
// always use the stored one.
using UpcaseTable = std::array<char16_t, 0x10000>;

// The table opencim writes by default (simple Unicode uppercase, NTFS-like).
const UpcaseTable& defaultUpcaseTable();
// The identity table: makes an image case-sensitive (Linux layers).
const UpcaseTable& identityUpcaseTable();

// Compares two names as the v2 reader does: BMP units through the upcase table, surrogate pairs as
// whole code points without upcasing; the shorter of two equal prefixes sorts first. Malformed
// surrogates compare as their raw unit value.
std::strong_ordering compareNames(const UpcaseTable& up, std::u16string_view a, std::u16string_view b);

struct NameLess {
    const UpcaseTable* table;
    bool operator()(std::u16string_view a, std::u16string_view b) const {
        return compareNames(*table, a, b) < 0;
    }
};

}  // namespace cim
