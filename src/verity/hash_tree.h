// dm-verity hash trees, hash format version 1: SHA-256, 4096-byte data and hash blocks, a salt of
// 0..256 bytes (opencim uses 32 zero bytes so that sealing is reproducible).
//
// On-disk layout produced by build(), relative to the caller's `hashOffset` (a multiple of 512):
//
//   hashOffset                 the 512-byte verity superblock, then zeros up to the tree start
//   treeOffsetFor(hashOffset)  = alignUp(hashOffset + 512, 4096), cryptsetup's hash_start_block
//                              the tree: the top level's single block first, then the next level
//                              down, ..., level 0 (digests of the data blocks) last
//
// With a 4096-aligned hashOffset (the usual case: right after the data) the superblock occupies a
// whole block, so the tree starts at hashOffset + 4096 and the hash area is 4096 * (1 + treeBlocks)
// bytes. `veritysetup verify --hash-offset=<hashOffset> <data> <hash> <root hex>` accepts it
// (shared/reference/verity-and-vhd.md, part A).
//
// The root hash is never stored on disk: it is H(salt || top hash block), or H(salt || data
// block 0) when there is a single data block and therefore no hash block at all.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/file.h"

namespace cim::verity {

inline constexpr uint32_t kBlockSize = 4096;                           // data and hash block size
inline constexpr uint32_t kDigestSize = 32;                            // SHA-256
inline constexpr uint32_t kHashesPerBlock = kBlockSize / kDigestSize;  // 128
inline constexpr uint32_t kSuperblockSize = 512;
inline constexpr uint32_t kMaxSaltSize = 256;
// Largest data area we accept: its byte size must fit in off_t (pread/pwrite offsets).
inline constexpr uint64_t kMaxDataBlocks = static_cast<uint64_t>(INT64_MAX) / kBlockSize;

using Digest = std::array<uint8_t, kDigestSize>;

// What a hash tree covers and how it is salted. Block sizes and the hash are fixed (see above).
struct VerityParams {
    uint64_t dataBlocks = 0;
    std::vector<uint8_t> salt = std::vector<uint8_t>(32, 0);
};

// Shape of the tree for a number of data blocks. Level 0 holds the digests of the data blocks,
// level i those of level i-1's blocks; the top level (levels() - 1) has exactly one block.
// dataBlocks <= 1 gives no levels and no hash blocks (for 1 the root is the block's own digest).
struct Geometry {
    uint64_t dataBlocks = 0;
    std::vector<uint64_t> levelBlocks;  // index = level: number of hash blocks in that level
    std::vector<uint64_t> levelStart;   // index = level: first block, counted from the tree start
    uint64_t treeBlocks = 0;            // all hash blocks (excludes the superblock)

    // Throws hr::invalidArg when dataBlocks > kMaxDataBlocks.
    static Geometry compute(uint64_t dataBlocks);
    size_t levels() const { return levelBlocks.size(); }
    uint64_t treeBytes() const { return treeBlocks * kBlockSize; }
};

// Where the tree starts for a superblock at `hashOffset` (cryptsetup: ceil((off + 512) / 4096)).
// Throws hr::invalidArg unless hashOffset is a multiple of 512 (and small enough not to overflow).
uint64_t treeOffsetFor(uint64_t hashOffset);

// The 512-byte on-disk superblock (little-endian; layout in the reference, part A.2).
struct Superblock {
    uint32_t hashType = 1;
    std::array<uint8_t, 16> uuid{};  // RFC 4122 byte order
    uint32_t dataBlockSize = kBlockSize;
    uint32_t hashBlockSize = kBlockSize;
    uint64_t dataBlocks = 0;
    std::vector<uint8_t> salt;
};

// Throws hr::invalidArg for a salt over 256 bytes or dataBlocks 0 or > kMaxDataBlocks (what the
// decoder would reject). The algorithm is always "sha256".
std::array<uint8_t, kSuperblockSize> encodeSuperblock(const Superblock& sb);
// Strict decoder for untrusted bytes (needs >= 512): hr::corrupt for a bad signature, version,
// salt size > 256, data_blocks 0 or > kMaxDataBlocks, unterminated algorithm name; hr::notSupported
// for a well-formed superblock we cannot use (hash type 0, algorithm other than sha256, block
// sizes other than 4096).
Superblock decodeSuperblock(std::span<const uint8_t> bytes);
inline Superblock decodeSuperblock(std::span<const std::byte> bytes) {
    return decodeSuperblock(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// Reads exactly out.size() bytes at a byte offset, or throws (short reads are errors).
using ReadFn = std::function<void(uint64_t offset, std::span<uint8_t> out)>;
// Writes all of data at a byte offset, or throws.
using WriteFn = std::function<void(uint64_t offset, std::span<const uint8_t> data)>;

struct BuildOptions {
    std::array<uint8_t, 16> uuid{};  // stored in the superblock only; does not affect the root
    // Worker threads for level 0 (the bulk of the work). The output never depends on it. With more
    // than one thread both callbacks are called concurrently, from the workers, for disjoint
    // ranges, so they must be thread-safe (pread/pwrite are); with 1 everything runs on the caller.
    unsigned threads = 2;
};

// Builds the tree over data blocks [0, params.dataBlocks) and writes the superblock and tree at
// `hashOffset` (layout at the top of this file). `readData` offsets are relative to the start of
// the data area; `writeHash` offsets are absolute (hashOffset + ...). Returns the root hash.
// params.dataBlocks == 0 is rejected (hr::invalidArg): dm-verity has no representation for an
// empty device (veritysetup's --data-blocks=0 means "the whole device") and its root would be
// meaningless. Memory: one read chunk per thread plus dataBlocks / 4 bytes for level 1.
Digest build(const VerityParams& params, const ReadFn& readData, const WriteFn& writeHash, uint64_t hashOffset,
             const BuildOptions& options = {});
// Same over file descriptors (pread/pwrite): data at dataOffset in dataFd, hash area at hashOffset
// in hashFd. When dataFd == hashFd the hash area must not overlap the data (hr::invalidArg).
Digest build(int dataFd, uint64_t dataOffset, int hashFd, uint64_t hashOffset, const VerityParams& params,
             const BuildOptions& options = {});
// Convenience for the single-file layout of block CIMs and hcsshim layers: data from offset 0 of
// `file`, hash area at `hashOffset` in the same file.
Digest build(const io::File& file, uint64_t dataBlocks, uint64_t hashOffset, const std::vector<uint8_t>& salt,
             const std::array<uint8_t, 16>& uuid, unsigned threads = 2);

// Checks data blocks against a tree whose root is already trusted. Construction reads the top
// hash block and checks it against `expectedRoot`; verifyBlock() then verifies only the hash
// blocks on the path from a data block to the top, caching the verified ones, so opening is cheap
// and a large image costs reads proportional to what is used. Every mismatch throws
// hr::integrity with "integrity violation" in the message.
//
// Thread-safe: verifyBlock may be called from many threads at once; `read` is then called
// concurrently too. The tree must not be rewritten while a verifier is live (cached blocks are
// trusted), which is the point of verifying it.
class HashTreeVerifier {
public:
    // `read` is a random-access reader for the device/file holding the hash area; `hashOffset` is
    // where the superblock sits (the superblock itself is not read: the root does not cover it,
    // callers that use it must check it themselves). `name` prefixes error messages (e.g. a path).
    // Throws hr::invalidArg for unusable params (0 blocks, salt > 256, misaligned or overflowing
    // offsets) and hr::integrity when the top block does not hash to expectedRoot. With a single
    // data block there is no hash block, so a wrong root is only detected by verifyBlock(0).
    HashTreeVerifier(ReadFn read, uint64_t hashOffset, VerityParams params, const Digest& expectedRoot,
                     std::string name = {});

    // Checks one 4096-byte data block. hr::corrupt if blockIndex >= dataBlocks (nothing vouches for
    // it), hr::integrity naming the data block (and the hash block, if that is what failed).
    void verifyBlock(uint64_t blockIndex, const uint8_t* block) const;
    void verifyBlock(uint64_t blockIndex, const std::byte* block) const {
        verifyBlock(blockIndex, reinterpret_cast<const uint8_t*>(block));
    }

    uint64_t dataBlocks() const { return geometry_.dataBlocks; }
    const Geometry& geometry() const { return geometry_; }

private:
    using Block = std::array<uint8_t, kBlockSize>;
    using BlockPtr = std::shared_ptr<const Block>;

    Digest hashOf(const uint8_t* block) const;
    // The hash block `index` of `level`, read and checked against its (verified) parent.
    BlockPtr verifiedHashBlock(size_t level, uint64_t index, uint64_t forDataBlock) const;
    std::string prefix() const;

    ReadFn read_;
    VerityParams params_;
    Geometry geometry_;
    uint64_t treeOffset_ = 0;
    Digest root_{};
    std::string name_;
    BlockPtr top_;  // verified against the root at construction; null when there are no levels

    // Verified hash blocks below the top, keyed by block number from the tree start. Bounded: when
    // full it is simply emptied (only speed depends on it). shared_ptr so an eviction cannot free
    // a block another thread is still comparing against.
    mutable std::shared_mutex cacheMutex_;
    mutable std::unordered_map<uint64_t, BlockPtr> cache_;
};

// Adapter for block/verified.cpp (the sealed block-CIM reader): tree at `treeOffset` (= hash
// offset + 4096) of `file`, which must outlive the verifier. New code should use HashTreeVerifier.
class Verifier {
public:
    Verifier(const io::File& file, uint64_t treeOffset, uint64_t dataBlocks, std::vector<uint8_t> salt,
             const Digest& expectedRoot);
    void verifyBlock(uint64_t index, const std::byte* block) const { impl_.verifyBlock(index, block); }
    uint64_t dataBlocks() const { return impl_.dataBlocks(); }

private:
    HashTreeVerifier impl_;
};

}  // namespace cim::verity
