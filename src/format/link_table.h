// Link tables: the sorted name -> entry tables used for directories (entry = u32 file ID) and for
// alternate stream tables (entry = 16-byte Stream).
//   u32 Length (bytes, header included) | u32 LinkCount n | n entries | n u32 name offsets | names
// A name is a u16 count of UTF-16 units followed by the units. Offsets count from the table start.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "format/layout.h"

namespace cim::format {

inline constexpr size_t kDirectoryEntrySize = 4;
inline constexpr size_t kStreamEntrySize = 16;

// A validated view of a link table held in memory. The header and count are checked on
// construction; each name is bounds-checked when it is read. Violations throw hr::corrupt.
class LinkTableView {
public:
    LinkTableView(std::span<const std::byte> bytes, size_t entrySize);
    uint32_t count() const { return count_; }
    std::u16string name(uint32_t i) const;
    uint32_t fileId(uint32_t i) const;  // directories
    Stream stream(uint32_t i) const;    // stream tables
    uint32_t length() const { return static_cast<uint32_t>(bytes_.size()); }

private:
    std::span<const std::byte> bytes_;
    size_t entrySize_;
    uint32_t count_;
};

// Serializes entries that are already sorted by the image's name comparator.
// `entries[i].second` must be exactly entrySize bytes.
std::vector<std::byte> buildLinkTable(const std::vector<std::pair<std::u16string, std::vector<std::byte>>>& entries,
                                      size_t entrySize);

}  // namespace cim::format
