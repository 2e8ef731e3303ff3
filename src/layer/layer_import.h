// Importing an OCI layer tar into a new single-file block CIM (CimImportLayer):
//   decompress + parse + map (producer) -> write the CIM (consumer) -> commit -> [seal] ->
//   [VHD footer] -> [integrity_checksum] -> publish.
// The block file is built under a temporary name in the target directory and renamed into place
// (RENAME_NOREPLACE) only after everything succeeded; integrity_checksum is renamed in after it.
// On any failure nothing is left behind.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "layer/layer_path.h"

namespace cim::layer {

inline constexpr uint64_t kDefaultMaxUncompressed = 1ull << 40;  // 1 TiB

struct ImportOptions {
    bool verified = false;
    bool vhdFooter = false;
    bool progress = false;
    std::optional<LayerFormat> format;  // nullopt: detect
    unsigned threads = 0;               // 0: number of CPUs
    uint64_t maxUncompressed = kDefaultMaxUncompressed;
    std::vector<std::pair<std::string, std::string>> parents;  // (block file, CIM name), topmost first
};

struct ImportResult {
    uint64_t entries = 0;
    uint64_t dataBytes = 0;
    std::array<uint8_t, 32> rootHash{};
    LayerFormat format = LayerFormat::Linux;
};

// `fd` is read to its end and not closed; `sourceName` names it in messages.
ImportResult importLayer(int fd, const std::string& sourceName, const std::string& blockPath, const std::string& cimName,
                         const ImportOptions& options);

}  // namespace cim::layer
