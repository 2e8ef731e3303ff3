#include "format/link_table.h"

#include "common/error.h"

namespace cim::format {

LinkTableView::LinkTableView(std::span<const std::byte> bytes, size_t entrySize) : entrySize_(entrySize) {
    if (bytes.size() < sizeof(LinkTableHeader)) fail(hr::corrupt, "link table of {} bytes is too short", bytes.size());
    auto h = load<LinkTableHeader>(bytes.data());
    if (h.length < sizeof(LinkTableHeader) || h.length > bytes.size()) {
        fail(hr::corrupt, "link table length {} outside 8..{}", h.length, bytes.size());
    }
    // Every entry needs its entry bytes, a name offset and at least a 2-byte name length.
    if (h.linkCount > (h.length - sizeof(LinkTableHeader)) / (entrySize + 4 + 2)) {
        fail(hr::corrupt, "link table count {} does not fit in {} bytes", h.linkCount, h.length);
    }
    bytes_ = bytes.first(h.length);
    count_ = h.linkCount;
}

std::u16string LinkTableView::name(uint32_t i) const {
    if (i >= count_) fail(hr::corrupt, "link table index {} out of range", i);
    size_t offPos = sizeof(LinkTableHeader) + size_t(count_) * entrySize_ + size_t(i) * 4;
    auto off = load<uint32_t>(bytes_.data() + offPos);
    if (size_t(off) + 2 > bytes_.size()) fail(hr::corrupt, "link table name offset {} past end {}", off, bytes_.size());
    auto units = load<uint16_t>(bytes_.data() + off);
    if (size_t(off) + 2 + size_t(units) * 2 > bytes_.size()) {
        fail(hr::corrupt, "link table name at {} ({} units) past end {}", off, units, bytes_.size());
    }
    std::u16string s(units, u'\0');
    std::memcpy(s.data(), bytes_.data() + off + 2, size_t(units) * 2);
    return s;
}

uint32_t LinkTableView::fileId(uint32_t i) const {
    if (i >= count_) fail(hr::corrupt, "link table index {} out of range", i);
    return load<uint32_t>(bytes_.data() + sizeof(LinkTableHeader) + size_t(i) * entrySize_);
}

Stream LinkTableView::stream(uint32_t i) const {
    if (i >= count_ || entrySize_ != sizeof(Stream)) fail(hr::corrupt, "stream table index {} out of range", i);
    return load<Stream>(bytes_.data() + sizeof(LinkTableHeader) + size_t(i) * entrySize_);
}

std::vector<std::byte> buildLinkTable(const std::vector<std::pair<std::u16string, std::vector<std::byte>>>& entries,
                                      size_t entrySize) {
    size_t n = entries.size();
    size_t namesStart = sizeof(LinkTableHeader) + n * (entrySize + 4);
    size_t total = namesStart;
    for (const auto& e : entries) total += 2 + e.first.size() * 2;
    if (total > UINT32_MAX) fail(hr::invalidArg, "directory too large: link table of {} bytes", total);
    std::vector<std::byte> out(total);
    LinkTableHeader h{static_cast<uint32_t>(total), static_cast<uint32_t>(n)};
    std::memcpy(out.data(), &h, sizeof h);
    size_t namePos = namesStart;
    for (size_t i = 0; i < n; ++i) {
        const auto& [name, entry] = entries[i];
        std::memcpy(out.data() + sizeof(LinkTableHeader) + i * entrySize, entry.data(), entrySize);
        auto off = static_cast<uint32_t>(namePos);
        std::memcpy(out.data() + sizeof(LinkTableHeader) + n * entrySize + i * 4, &off, 4);
        auto units = static_cast<uint16_t>(name.size());
        std::memcpy(out.data() + namePos, &units, 2);
        std::memcpy(out.data() + namePos + 2, name.data(), name.size() * 2);
        namePos += 2 + name.size() * 2;
    }
    return out;
}

}  // namespace cim::format
