#include "block/verified.h"

#include <cstring>

#include "common/error.h"
#include "verity/hash_tree.h"

namespace cim::block {

namespace {
class VerityBlockVerifier final : public BlockVerifier {
public:
    VerityBlockVerifier(const io::File& f, const SealRecord& s, const Hash& root)
        : verifier_(f, s.hashOffset + kBlockSize, s.dataBlocks, std::vector<uint8_t>(s.salt, s.salt + 32), root) {}
    void verify(uint64_t blockIndex, const std::byte* block) const override { verifier_.verifyBlock(blockIndex, block); }

private:
    verity::Verifier verifier_;
};
}  // namespace

std::unique_ptr<BlockVerifier> makeVerityVerifier(std::shared_ptr<const io::File> file, const SealRecord& seal,
                                                  const Hash& expectedRoot, const std::string& path) {
    // The seal record is not covered by the tree; the caller's root hash is the trust anchor.
    // The superblock must agree with the record, then the tree is checked against the root.
    std::vector<std::byte> sb(verity::kSuperblockSize);
    file->readExact(seal.hashOffset, sb);
    auto super = verity::decodeSuperblock(sb);
    if (super.dataBlocks != seal.dataBlocks || super.salt.size() != 32 || std::memcmp(super.salt.data(), seal.salt, 32) != 0) {
        fail(hr::integrity, "{}: integrity violation: the verity superblock does not match the seal record", path);
    }
    return std::make_unique<VerityBlockVerifier>(*file, seal, expectedRoot);
}

}  // namespace cim::block
