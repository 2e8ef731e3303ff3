// One tar entry after all of its extension headers (PAX 'x'/'g', GNU 'L'/'K', sparse maps) have
// been applied: raw names, numeric metadata, times, PAX records and xattrs. Format-neutral: the
// Windows and Linux mappers decide what it means in a CIM.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cim::layer {

// A point in time as seconds + nanoseconds since the Unix epoch (nsec in [0, 1e9), floor form:
// -1.5 s is {-2, 500000000}).
struct TarTime {
    int64_t sec = 0;
    uint32_t nsec = 0;
    bool present = false;
};

// FILETIME (100 ns ticks since 1601-01-01 UTC) of a TarTime.
int64_t toFiletime(const TarTime& t);
// And back.
TarTime fromFiletime(int64_t ft);

struct Xattr {
    std::string name;   // e.g. "security.capability" (raw bytes)
    std::string value;  // raw bytes
};

enum class EntryType : char {
    regular = '0',
    hardLink = '1',
    symlink = '2',
    charDevice = '3',
    blockDevice = '4',
    directory = '5',
    fifo = '6',
};

struct SparseSegment {
    uint64_t offset = 0;
    uint64_t length = 0;
};

struct TarEntry {
    EntryType type = EntryType::regular;
    std::string path;      // raw bytes as in the archive (no normalisation)
    std::string linkPath;  // hard link / symlink target, raw
    uint64_t size = 0;     // logical data size (the expanded size of a sparse file); 0 unless regular
    uint32_t mode = 0;     // permission bits incl. setuid/setgid/sticky (07777)
    uint64_t uid = 0, gid = 0;
    uint32_t devMajor = 0, devMinor = 0;
    TarTime mtime, atime, ctime, birthtime;
    std::map<std::string, std::string> pax;  // every PAX record in effect (global + local)
    std::vector<Xattr> xattrs;               // SCHILY.xattr.* and LIBARCHIVE.xattr.*, sorted by name
    uint64_t headerOffset = 0;               // decompressed offset of the entry's first header
    bool sparse = false;
};

}  // namespace cim::layer
