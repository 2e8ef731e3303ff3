// What a mount call names: one CIM (standard or block) or a merged CIM with its sources, the
// CIM_MOUNT_* flags, and an optional expected root hash. Validates the flags the way every mount
// entry point (C ABI, CLI) must, and opens the image.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "block/container.h"
#include "image/image.h"

namespace cim::fuse {

struct MountSource {
    // One entry (dir, name) for a single CIM; [merged, topmost source, ..., base] for a merge.
    std::vector<std::pair<std::string, std::string>> paths;
    bool merged = false;
    uint32_t flags = 0;                   // CIM_MOUNT_*
    std::optional<block::Hash> rootHash;  // verified mounts (CimMountVerifiedImage & co.)
};

// Checks `flags` (E_INVALIDARG naming `op` for unknown bits, both block types, a merge or a
// verified mount without a block type, ...).
void checkMountFlags(const char* op, const MountSource& src);

// Opens the image a mount will serve. Verified sources check the root hash now (0x80070143 with
// "integrity violation" when it does not match) and every later read. CIM_MOUNT_VERIFIED_CIM
// without a hash verifies against the root hash sealed into the block CIM itself.
std::shared_ptr<const image::Image> openMountSource(const char* op, const MountSource& src);

}  // namespace cim::fuse
