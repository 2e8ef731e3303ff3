// Where an image being written lives: a standard CIM directory or a block container. The writer
// asks its target for region storage while writing and hands it the finished pieces to publish
// atomically at commit.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/guid.h"
#include "format/layout.h"
#include "image/region_writer.h"

namespace cim::image {

// A region of a merged CIM that lives in one of its sources (block CIMs only).
struct ExternalRegion {
    uint32_t source;  // index in the merge's source list (0 = topmost)
    uint32_t region;  // region index inside that source
    uint64_t length;
};

// What a source of a merged CIM is, recorded so that opening the merge can check it.
struct MergeSourceRecord {
    std::string name;                      // "<block file name>/<cim name>" as added
    std::array<uint8_t, 32> identity{};    // SHA-256 of the source's CIM descriptor
    std::array<uint8_t, 32> rootHash{};    // sealed root hash of the source's block file (verified merges)
    bool verified = false;
};

struct PublishInfo {
    format::Guid regionSetId;
    format::RegionOffset filesystemOffset = 0;
    std::vector<format::RegionSet> parentSets;           // standard forks
    std::vector<RegionWriter*> ownRegions;               // in region-index order after the parents'
    std::vector<std::vector<format::ObjectIdEntry>> objectIds;  // per own region
    std::vector<ExternalRegion> externalRegions;         // merged block CIMs, after own regions
    std::vector<MergeSourceRecord> mergeSources;
};

class ImageTarget {
public:
    virtual ~ImageTarget() = default;
    // Creates storage for own region `index` of `type`. Called once per region, in index order.
    virtual std::unique_ptr<RegionWriter> createRegion(uint16_t index, format::RegionType type) = 0;
    // Makes the image durable and visible under its name. Throws on failure (nothing visible).
    virtual void publish(const PublishInfo& info) = 0;
    // Removes whatever was written aside. Never throws.
    virtual void abort() noexcept = 0;
    // Display name for messages, e.g. "/layers/layer.bcim:layer.cim".
    virtual std::string displayName() const = 0;
};

}  // namespace cim::image
