// cim::image::Image — a read-only view of one CIM (standard, block, merged; verified or not).
// All methods are const and thread-safe: region sources use pread, lazy caches use call_once.
// Everything read from disk is bounds-checked; corruption throws Error(hr::corrupt).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/path.h"
#include "common/upcase.h"
#include "format/layout.h"
#include "image/region_source.h"

namespace cim::image {

struct FileNode {
    uint32_t id = 0;
    format::File rec{};
    bool isDirectory() const { return format::streamType(rec.defaultStream) == format::StreamType::linkTable; }
    bool isTombstone() const { return (rec.flags & format::kFlagTombstone) != 0 && !isDirectory(); }
    bool isOpaqueDirectory() const { return (rec.flags & format::kFlagTombstone) != 0 && isDirectory(); }
    bool isMergeLink() const { return (rec.flags & format::kFlagMergeLink) != 0; }
    // Entries that exist only for merging and are invisible when the image is read.
    bool isHidden() const { return isTombstone() || isMergeLink(); }
    uint32_t attributes() const {
        return format::attributesFromFlags(rec.flags, isDirectory(), rec.reparseOffset != format::kNullOffset);
    }
    uint64_t size() const { return isDirectory() ? 0 : format::streamLength(rec.defaultStream); }
};

struct DirEntry {
    std::u16string name;
    uint32_t id;
};

struct AltStream {
    std::u16string name;
    format::Stream stream;
};

// The result of resolving a path: the file, and the alternate stream if one was named.
struct Resolved {
    FileNode node;
    std::optional<AltStream> stream;
};

class Image {
public:
    // `regions` is the combined region list; `fsOffset` addresses the Filesystem object.
    Image(std::string displayName, std::vector<std::shared_ptr<RegionSource>> regions, format::RegionOffset fsOffset);

    const std::string& name() const { return name_; }
    uint32_t rootId() const { return fs_.rootDirectory; }
    const format::Filesystem& filesystem() const { return fs_; }
    const UpcaseTable& upcase() const { return *upcase_; }
    uint32_t fileCount() const { return fileCount_; }  // highest valid file ID
    size_t regionCount() const { return regions_.size(); }
    const RegionSource& region(size_t i) const { return *regions_.at(i); }
    const std::vector<std::shared_ptr<RegionSource>>& regions() const { return regions_; }

    FileNode file(uint32_t id) const;
    // Children of a directory in stored order; hidden entries (tombstones, merge links) are skipped
    // unless includeHidden.
    std::vector<DirEntry> children(const FileNode& dir, bool includeHidden = false) const;
    std::optional<uint32_t> findChild(const FileNode& dir, std::u16string_view name, bool includeHidden = false) const;
    // Throws 0x80070002 (leaf missing), 0x80070003 (parent missing), 0x8007010B (not a directory).
    Resolved resolve(const ImagePath& path) const;
    // Parses a UTF-8 path; "file:stream" names an alternate stream when no file has that name.
    Resolved resolve(std::string_view utf8Path) const;

    std::vector<std::byte> securityDescriptor(const FileNode& f) const;
    std::vector<std::byte> extendedAttributes(const FileNode& f) const;
    std::vector<std::byte> reparseData(const FileNode& f) const;
    std::vector<AltStream> alternateStreams(const FileNode& f) const;
    // Reads from a data stream; returns bytes read (short only at end of stream).
    size_t readStream(const format::Stream& s, uint64_t offset, std::span<std::byte> out) const;
    // The UTF-16 target of a merge link.
    std::u16string mergeLinkTarget(const FileNode& f) const;

    // Number of directory entries naming each file (hard links), from one walk of the tree.
    uint32_t linkCount(uint32_t id) const;
    // Visits every visible path depth-first, parents before children (cycles are skipped).
    void walk(const std::function<void(const std::vector<std::u16string>& path, const FileNode&)>& fn,
              bool includeHidden = false) const;

    // Bounds-checked raw access: `length` bytes at a RegionOffset.
    std::vector<std::byte> readObject(format::RegionOffset off, size_t length) const;
    // A pointer into a memory-resident region, or nullptr (then use readObject).
    const std::byte* objectPointer(format::RegionOffset off, size_t length) const;

private:
    void checkRange(format::RegionOffset off, uint64_t length, const char* what) const;
    std::vector<std::byte> readCounted16(format::RegionOffset off, const char* what) const;
    std::span<const std::byte> linkTableBytes(format::RegionOffset off, uint64_t length, std::vector<std::byte>& buf) const;

    std::string name_;
    std::vector<std::shared_ptr<RegionSource>> regions_;
    format::Filesystem fs_{};
    std::vector<format::FileTableDirectoryEntry> tables_;
    std::unique_ptr<UpcaseTable> upcase_;
    uint32_t fileCount_ = 0;
    mutable std::once_flag linkCountOnce_;
    mutable std::vector<uint32_t> linkCounts_;
};

}  // namespace cim::image
