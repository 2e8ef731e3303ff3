// Glue between a sealed container and the dm-verity hash tree verifier.
#pragma once
#include <memory>

#include "block/container.h"

namespace cim::block {

// Checks the seal record against `expectedRoot` (0x80070143 "integrity violation" on mismatch)
// and returns a verifier for the container's data blocks.
std::unique_ptr<BlockVerifier> makeVerityVerifier(std::shared_ptr<const io::File> file, const SealRecord& seal,
                                                  const Hash& expectedRoot, const std::string& path);

}  // namespace cim::block
