// Block CIMs: creating a Writer whose target is a block container, and opening block and merged
// CIMs for reading.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "block/container.h"
#include "image/image.h"
#include "image/writer.h"

namespace cim::block {

// flags are CIM_CREATE_IMAGE_* with exactly one of SINGLE_FILE / BLOCK_DEVICE set. `upcase`
// (internal option, not in the C ABI): the image's upcase table, default defaultUpcaseTable();
// identityUpcaseTable() makes a case-sensitive image (Linux layers). Must outlive the writer.
std::unique_ptr<image::Writer> createBlockImage(const std::string& path, const char* existing, const char* newName,
                                                uint32_t flags, const UpcaseTable* upcase = nullptr);

// Opens CIM `name` of the container at `path`; with `rootHash` the container is verified.
std::shared_ptr<image::Image> openBlock(const std::string& path, const std::string& name, const Hash* rootHash = nullptr);
// Opens the same CIM from an already opened container.
std::shared_ptr<image::Image> openBlock(const std::shared_ptr<Container>& c, const std::string& name);

// Opens a merged CIM: paths[0] is the merged CIM, paths[1..] its sources topmost first, each as
// (block path, cim name). With `rootHash` (the merged container's), sources are verified
// against the root hashes recorded in the merged CIM.
std::shared_ptr<image::Image> openMerged(const std::vector<std::pair<std::string, std::string>>& paths,
                                         const Hash* rootHash = nullptr);

// Splits "<block path>/<cim name>" as CimAddFsToMergedImage receives it.
std::pair<std::string, std::string> splitSourcePath(const std::string& fsPath);

}  // namespace cim::block
