// Opening images for reading.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "format/guid.h"
#include "format/layout.h"
#include "image/image.h"

namespace cim::image {

// Parsed filesystem file of a standard CIM: its header and the region sets it names, in combined
// order (parents first, its own set last).
struct StandardHeader {
    format::FilesystemHeader header{};
    std::vector<format::RegionSet> regionSets;
};
StandardHeader readStandardHeader(const std::string& dir, const std::string& name);

// Region file path for set `id` index `i` in `dir`: the exact lowercase name, or a
// case-insensitive match found by scanning the directory.
std::string regionFilePath(const std::string& dir, const char* prefix, const format::Guid& id, uint32_t i);

// Validates a region header read from `src` and returns its region type.
format::RegionType checkRegionHeader(const RegionSource& src);

// Opens a standard CIM (`dir`/`name` plus its region files).
std::shared_ptr<Image> openStandard(const std::string& dir, const std::string& name);

}  // namespace cim::image
