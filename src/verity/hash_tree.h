// dm-verity (hash format version 1) hash trees over a block container: SHA-256, 4096-byte data
// and hash blocks, a 512-byte verity superblock at the hash offset, the tree right after it with
// the top level first. `veritysetup verify --hash-offset=<hashOffset> file file <root>` accepts
// what build() writes (shared/reference/verity-and-vhd.md, part A).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "io/file.h"

namespace cim::verity {

inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kDigestSize = 32;
inline constexpr uint32_t kHashesPerBlock = kBlockSize / kDigestSize;  // 128
inline constexpr uint32_t kSuperblockSize = 512;

using Digest = std::array<uint8_t, kDigestSize>;

// Where each level of the tree lives. Level 0 holds the digests of the data blocks; the top
// level has one block. Offsets are in blocks from the start of the tree (after the superblock).
struct Geometry {
    uint64_t dataBlocks = 0;
    std::vector<uint64_t> levelBlocks;  // index = level
    std::vector<uint64_t> levelStart;   // index = level; the top level starts at 0
    uint64_t treeBlocks = 0;

    static Geometry compute(uint64_t dataBlocks);
    size_t levels() const { return levelBlocks.size(); }
};

struct Superblock {
    uint32_t hashType = 1;
    std::array<uint8_t, 16> uuid{};
    uint32_t dataBlockSize = kBlockSize, hashBlockSize = kBlockSize;
    uint64_t dataBlocks = 0;
    std::vector<uint8_t> salt;
};

std::array<std::byte, kSuperblockSize> encodeSuperblock(const Superblock& sb);
// Strict: signature, version 1, hash type 1, "sha256", 4096/4096, salt <= 256 (else hr::corrupt).
Superblock decodeSuperblock(std::span<const std::byte> bytes);

// Hashes data blocks [0, dataBlocks) of `file`, writes the superblock block at `hashOffset` and
// the tree after it, and returns the root hash. Output does not depend on `threads`.
Digest build(const io::File& file, uint64_t dataBlocks, uint64_t hashOffset, const std::vector<uint8_t>& salt,
             const std::array<uint8_t, 16>& uuid, unsigned threads = 2);

// Verifies data blocks against a tree. Construction reads the whole tree, checks it against the
// expected root and every level against the one above (hr::integrity, "integrity violation", on
// any mismatch); verifyBlock() is then one SHA-256 and a compare, safe from any number of threads.
class Verifier {
public:
    Verifier(const io::File& file, uint64_t treeOffset, uint64_t dataBlocks, std::vector<uint8_t> salt,
             const Digest& expectedRoot);
    void verifyBlock(uint64_t index, const std::byte* block) const;
    uint64_t dataBlocks() const { return geometry_.dataBlocks; }

private:
    Digest hashBlock(const std::byte* block) const;
    Geometry geometry_;
    std::vector<uint8_t> salt_;
    std::vector<std::byte> level0_;  // digests of the data blocks (verified)
    Digest root_{};
    std::string path_;
};

}  // namespace cim::verity
