// Sealing block containers (CimSealImage) and reading their verification information.
#pragma once
#include <cstdint>
#include <string>

#include "block/container.h"

namespace cim::block {

struct VerificationInfo {
    bool sealed = false;
    Hash rootHash{};
};

// Seals a container created with the verified flag: dm-verity tree at dataEnd, then the seal
// record. Sealing a sealed container returns its existing root hash.
Hash sealContainer(const std::string& path, unsigned threads = 2);
VerificationInfo verificationInfo(const std::string& path);

// Appends a fixed VHD footer (reproducible unique ID); no-op if one is already there.
void appendContainerVhdFooter(const std::string& path);

// Size of the fixed header of a block container (block 0), as CimSealImage reports it.
inline constexpr uint64_t kFixedHeaderSize = kBlockSize;

}  // namespace cim::block
