// A streaming, bounds-checked tar reader over a Decompressor: ustar, POSIX PAX ('x', 'g'), GNU
// ('L', 'K', old 'S' sparse, 'D') and GNU PAX sparse formats 0.0, 0.1 and 1.0 (expanded to zeros).
// One pass, no seeking, memory bounded by the largest extension header (kMaxMetaBytes).
//
// Strictness (each a clear ERROR_INVALID_DATA naming the entry): bad header checksums, malformed
// numbers, unknown entry types, PAX/GNU extension headers over kMaxMetaBytes, data shorter than
// declared, sparse maps that overlap or exceed the file, sizes over the uncompressed limit, and a
// stream that ends without the end-of-archive (zero) block — a truncated download must not import
// as a smaller layer.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "layer/decompressor.h"
#include "layer/tar_entry.h"

namespace cim::layer {

inline constexpr size_t kMaxMetaBytes = 16u << 20;  // one PAX / GNU long-name header body

class TarReader {
public:
    // `limit`: largest logical file size accepted (the expanded size of sparse files counts).
    TarReader(Decompressor& src, uint64_t limit);

    // The next entry (skipping what is left of the previous one's data), or nullopt at the end of
    // the archive. Type 'V' labels are skipped.
    std::optional<TarEntry> next();
    // Reads the current entry's data (zeros for sparse holes); returns 0 at its end. Data shorter
    // than declared throws.
    size_t read(std::span<std::byte> out);
    // Contiguous data of the current entry without copying when possible (never sparse holes
    // larger than `max`); empty at its end.
    std::span<const std::byte> readChunk(size_t max);
    uint64_t remaining() const { return logicalRemaining_; }
    const std::string& archiveName() const { return src_.name(); }
    std::string describe(const TarEntry& e) const;  // "<archive>: entry '<name>' at offset N"

private:
    struct RawHeader;
    bool readBlock(std::byte* b);
    std::string readMetaBody(uint64_t size, const std::string& what);
    void skipStored(uint64_t n, const std::string& what);
    void drain();
    void readSparse10Map(TarEntry& e);

    Decompressor& src_;
    uint64_t limit_;
    std::map<std::string, std::string> global_;
    bool ended_ = false;
    // The current entry's data.
    std::string current_;            // description for messages
    uint64_t storedRemaining_ = 0;   // bytes of archive data left in this entry
    uint64_t padding_ = 0;           // zero bytes after the data up to the 512 boundary
    uint64_t logicalRemaining_ = 0;  // bytes the caller still has to read
    uint64_t logicalPos_ = 0;
    std::vector<SparseSegment> segments_;  // sparse map (empty: contiguous data)
    size_t segIndex_ = 0;
    bool sparse_ = false;
    std::vector<std::byte> zeros_;
};

}  // namespace cim::layer
