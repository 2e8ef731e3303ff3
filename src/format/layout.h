// The v2 standard CIM on-disk structures (docs/format.md, shared/reference/cim-format-v2.md).
// All integers little-endian; every struct is packed and its size/offsets asserted. Never read
// these by casting disk bytes: use format::load<T>() on a bounds-checked buffer.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

static_assert(std::endian::native == std::endian::little, "opencim assumes a little-endian host");

namespace cim::format {

inline constexpr char kMagic[8] = {'c', 'i', 'm', 'f', 'i', 'l', 'e', '0'};
inline constexpr uint32_t kVersionMajor = 2;
inline constexpr uint32_t kMaxVersionMajor = 3;
inline constexpr uint32_t kPageSize = 4096;
inline constexpr uint32_t kFilesPerTable = 1024;
inline constexpr uint32_t kMaxRegions = 0x10000;
inline constexpr uint32_t kUpcaseTableBytes = 0x10000 * 2;

enum class FileType : uint8_t { filesystem = 0, region = 1, objectId = 2 };
enum class RegionType : uint8_t { metadata = 0, data = 1, smallData = 2 };
enum class StreamType : uint8_t { data = 0, linkTable = 1, peImage = 2 };

// RegionOffset: bits 0-47 byte offset in the region (header included), bits 48-63 region index.
using RegionOffset = uint64_t;
inline constexpr RegionOffset kNullOffset = 0;
inline constexpr uint64_t kOffsetMask = (uint64_t(1) << 48) - 1;
constexpr RegionOffset makeOffset(uint32_t region, uint64_t byteOffset) {
    return (uint64_t(region) << 48) | (byteOffset & kOffsetMask);
}
constexpr uint32_t offsetRegion(RegionOffset o) { return static_cast<uint32_t>(o >> 48); }
constexpr uint64_t offsetBytes(RegionOffset o) { return o & kOffsetMask; }

#pragma pack(push, 1)
struct Version {
    uint32_t major;
    uint32_t minor;
};

struct CommonHeader {
    char magic[8];
    uint32_t headerLength;
    uint8_t type;
    uint8_t reserved;
    uint16_t reserved2;
    Version version;
    uint64_t reserved3;
};

struct RegionSet {
    uint8_t id[16];
    uint16_t count;
    uint16_t reserved;
    uint32_t reserved1;
};

struct FilesystemHeader {
    CommonHeader common;
    RegionSet regions;
    RegionOffset filesystemOffset;
    uint32_t reserved;
    uint16_t reserved1;
    uint16_t parentCount;
};

struct RegionHeader {
    CommonHeader common;
    uint16_t index;
    uint8_t type;
    uint8_t reserved;
    uint32_t reserved2;
};

struct ObjectIdHeader {
    CommonHeader common;
    uint16_t index;
    uint8_t type;
    uint8_t reserved;
    uint32_t reserved2;
    uint32_t tableOffset;
    uint32_t count;
};

struct ObjectIdEntry {
    uint64_t length;
    uint8_t digest[24];
    uint64_t offset;
};

struct Filesystem {
    RegionOffset upcaseTableOffset;
    RegionOffset fileTableDirectoryOffset;
    uint32_t fileTableDirectoryLength;
    uint32_t rootDirectory;
};

struct FileTableDirectoryEntry {
    RegionOffset offset;
    uint16_t count;
    uint16_t entrySize;
    uint32_t reserved;
};

struct Stream {
    RegionOffset dataOffset;
    uint64_t lengthAndType;  // bits 0-47 length, 48-55 type, bit 56 sparse
};

struct File {
    uint16_t flags;
    uint16_t eaLength;
    uint32_t reparseTag;
    int64_t creationTime;
    int64_t lastWriteTime;
    int64_t changeTime;
    int64_t lastAccessTime;
    Stream defaultStream;
    RegionOffset sdOffset;
    RegionOffset eaOffset;
    RegionOffset reparseOffset;
    RegionOffset streamTableOffset;
    uint32_t parentFileId;
    uint16_t baseRegionIndex;
    uint16_t reserved;
};

struct PeImage {
    RegionOffset dataOffset;
    uint64_t dataLength;
    uint32_t imageLength;
    uint16_t mappingCount;
    uint16_t flags;
};

struct PeImageMapping {
    uint32_t fileOffset;
    uint32_t delta;
};

struct LinkTableHeader {
    uint32_t length;     // total bytes, header included
    uint32_t linkCount;  // entries
};
#pragma pack(pop)

static_assert(sizeof(CommonHeader) == 32);
static_assert(sizeof(RegionSet) == 24);
static_assert(sizeof(FilesystemHeader) == 72);
static_assert(offsetof(FilesystemHeader, filesystemOffset) == 56);
static_assert(offsetof(FilesystemHeader, parentCount) == 70);
static_assert(sizeof(RegionHeader) == 40);
static_assert(sizeof(ObjectIdHeader) == 48);
static_assert(sizeof(ObjectIdEntry) == 40);
static_assert(sizeof(Filesystem) == 24);
static_assert(sizeof(FileTableDirectoryEntry) == 16);
static_assert(sizeof(Stream) == 16);
static_assert(sizeof(File) == 96);
static_assert(offsetof(File, defaultStream) == 40);
static_assert(offsetof(File, sdOffset) == 56);
static_assert(offsetof(File, streamTableOffset) == 80);
static_assert(offsetof(File, parentFileId) == 88);
static_assert(sizeof(PeImage) == 24);
static_assert(sizeof(LinkTableHeader) == 8);

// File record flags. Bits 0-4 are Windows' (read-only, hidden, system, archive, sparse); bits 8-9
// are opencim extensions for block CIM layers (docs/format.md): a v2 reader ignores them.
inline constexpr uint16_t kFlagReadOnly = 0x1;
inline constexpr uint16_t kFlagHidden = 0x2;
inline constexpr uint16_t kFlagSystem = 0x4;
inline constexpr uint16_t kFlagArchive = 0x8;
inline constexpr uint16_t kFlagSparse = 0x10;
inline constexpr uint16_t kFlagTombstone = 0x100;  // deleted in lower layers; on a directory: opaque
inline constexpr uint16_t kFlagMergeLink = 0x200;  // default stream holds the UTF-16 target path

// FILE_ATTRIBUTE_* values the format can represent.
inline constexpr uint32_t kAttrReadOnly = 0x1;
inline constexpr uint32_t kAttrHidden = 0x2;
inline constexpr uint32_t kAttrSystem = 0x4;
inline constexpr uint32_t kAttrDirectory = 0x10;
inline constexpr uint32_t kAttrArchive = 0x20;
inline constexpr uint32_t kAttrSparse = 0x200;
inline constexpr uint32_t kAttrReparsePoint = 0x400;

inline uint16_t flagsFromAttributes(uint32_t a) {
    uint16_t f = 0;
    if (a & kAttrReadOnly) f |= kFlagReadOnly;
    if (a & kAttrHidden) f |= kFlagHidden;
    if (a & kAttrSystem) f |= kFlagSystem;
    if (a & kAttrArchive) f |= kFlagArchive;
    if (a & kAttrSparse) f |= kFlagSparse;
    return f;
}

inline uint32_t attributesFromFlags(uint16_t f, bool directory, bool reparse) {
    uint32_t a = 0;
    if (f & kFlagReadOnly) a |= kAttrReadOnly;
    if (f & kFlagHidden) a |= kAttrHidden;
    if (f & kFlagSystem) a |= kAttrSystem;
    if (f & kFlagArchive) a |= kAttrArchive;
    if (f & kFlagSparse) a |= kAttrSparse;
    if (directory) a |= kAttrDirectory;
    if (reparse) a |= kAttrReparsePoint;
    return a;
}

constexpr uint64_t streamLength(const Stream& s) { return s.lengthAndType & kOffsetMask; }
constexpr StreamType streamType(const Stream& s) { return static_cast<StreamType>((s.lengthAndType >> 48) & 0xFF); }
constexpr bool streamSparse(const Stream& s) { return ((s.lengthAndType >> 56) & 1) != 0; }
constexpr Stream makeStream(RegionOffset off, uint64_t length, StreamType type, bool sparse = false) {
    return Stream{off, (length & kOffsetMask) | (uint64_t(static_cast<uint8_t>(type)) << 48) |
                           (uint64_t(sparse ? 1 : 0) << 56)};
}

// Copies a struct out of bytes known to be in bounds.
template <typename T>
T load(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

CommonHeader makeCommonHeader(FileType type, uint32_t headerLength, uint32_t major = kVersionMajor);

}  // namespace cim::format
