// The in-memory tree of an image being written. Only metadata lives here (names, attributes,
// times and RegionOffsets of objects already written to regions), so memory grows with the
// number of entries, never with file data.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/upcase.h"
#include "format/layout.h"

namespace cim::image {

struct NameKeyLess {
    const UpcaseTable* table;
    using is_transparent = void;
    bool operator()(std::u16string_view a, std::u16string_view b) const { return compareNames(*table, a, b) < 0; }
};

struct Node;
using NodePtr = std::shared_ptr<Node>;
using ChildMap = std::map<std::u16string, NodePtr, NameKeyLess>;
using StreamMap = std::map<std::u16string, format::Stream, NameKeyLess>;

// One file or directory. Hard links are several ChildMap entries sharing one Node.
struct Node {
    explicit Node(const UpcaseTable* up) : children(NameKeyLess{up}), streams(NameKeyLess{up}) {}

    bool directory = false;
    uint16_t flags = 0;  // format::kFlag*
    int64_t creationTime = 0, lastWriteTime = 0, changeTime = 0, lastAccessTime = 0;
    format::RegionOffset sd = format::kNullOffset;       // u16 length + descriptor
    format::RegionOffset ea = format::kNullOffset;       // raw EA chain
    uint16_t eaLength = 0;
    format::RegionOffset reparse = format::kNullOffset;  // u16 length + reparse buffer
    uint32_t reparseTag = 0;
    format::Stream data{};  // files: the data stream (directories: built at commit)
    ChildMap children;      // directories
    StreamMap streams;      // alternate data streams
    uint32_t parentFileId = 0;

    uint32_t assignedId = 0;  // set during commit
};

}  // namespace cim::image
