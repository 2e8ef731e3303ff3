// Where a reader gets region bytes from: a standard CIM's region file, an extent of a block file,
// memory (metadata loaded at open), or a verifying wrapper. Readers see one list of regions per
// image, indexed by the region index of a RegionOffset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace cim::io {
class File;
}

namespace cim::image {

class RegionSource {
public:
    virtual ~RegionSource() = default;
    virtual uint64_t size() const = 0;
    // Reads exactly out.size() bytes at offset. Callers check offset + size <= size() first;
    // implementations still refuse out-of-range reads (hr::corrupt).
    virtual void read(uint64_t offset, std::span<std::byte> out) const = 0;
    // A name for messages, e.g. "region_<guid>_0" or "layer.bcim@0x5000".
    virtual std::string describe() const = 0;
    // Non-null when the whole region is in memory (metadata regions).
    virtual const std::byte* memory() const { return nullptr; }
};

// A byte range [base, base+length) of a shared file.
std::shared_ptr<RegionSource> fileRegion(std::shared_ptr<const io::File> file, uint64_t base, uint64_t length,
                                         std::string name);
// Copies a region into memory (for metadata: every lookup is then pointer work, no syscalls).
std::shared_ptr<RegionSource> loadIntoMemory(const RegionSource& src);

}  // namespace cim::image
