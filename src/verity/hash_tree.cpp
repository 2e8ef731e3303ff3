#include "verity/hash_tree.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/sha256.h"

namespace cim::verity {

namespace {

// Data is read in chunks of this many blocks (4 MiB). A multiple of kHashesPerBlock, so each
// chunk owns whole level-0 hash blocks and a worker can write and hash them without waiting for
// its neighbours.
constexpr uint64_t kChunkBlocks = 8 * kHashesPerBlock;
static_assert(kChunkBlocks % kHashesPerBlock == 0);
constexpr unsigned kMaxThreads = 64;
// Verified hash blocks the verifier keeps (64 MiB): enough for the level-0 blocks of 8 GiB of data.
constexpr size_t kMaxCachedHashBlocks = 16384;

constexpr char kSignature[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
constexpr char kAlgorithm[] = "sha256";

// Explicit little-endian accessors: the superblock comes from disk, so it is never cast to a
// struct, and the encoding does not depend on the host's byte order.
void putLe16(uint8_t* p, uint16_t v) {
    for (int i = 0; i < 2; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putLe32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putLe64(uint8_t* p, uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t getLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t getLe32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
uint64_t getLe64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

uint64_t ceilDiv(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }  // no overflow near 2^64

// SHA-256(salt || block) for many blocks: the salted state is computed once and copied into the
// working context before each block, which avoids allocating a context per block. One per thread.
class SaltedHasher {
public:
    explicit SaltedHasher(std::span<const uint8_t> salt) : work_(base_) { base_.update(salt.data(), salt.size()); }
    SaltedHasher(const SaltedHasher& o) : base_(o.base_), work_(o.base_) {}
    SaltedHasher& operator=(const SaltedHasher&) = delete;

    void hash(const uint8_t* block, uint8_t* out) {
        work_.reset(base_);
        work_.update(block, kBlockSize);
        work_.finish(out);
    }

private:
    Sha256 base_, work_;
};

// Joins every started thread on scope exit, so an exception while starting workers (or in the
// caller) never leaves a joinable std::thread behind (which would call std::terminate).
struct ThreadGroup {
    std::vector<std::thread> threads;
    ~ThreadGroup() {
        for (auto& t : threads) {
            if (t.joinable()) t.join();
        }
    }
};

void checkSalt(const std::vector<uint8_t>& salt) {
    if (salt.size() > kMaxSaltSize)
        fail(hr::invalidArg, "dm-verity salt of {} bytes (at most {})", salt.size(), kMaxSaltSize);
}

}  // namespace

Geometry Geometry::compute(uint64_t dataBlocks) {
    if (dataBlocks > kMaxDataBlocks) {
        fail(hr::invalidArg, "dm-verity: {} data blocks is more than the supported {}", dataBlocks, kMaxDataBlocks);
    }
    Geometry g;
    g.dataBlocks = dataBlocks;
    // Same as cryptsetup's "smallest L with (n - 1) >> (7 L) == 0": keep grouping 128 digests per
    // block until one block remains. n <= 1 needs no level at all.
    for (uint64_t n = dataBlocks; n > 1;) {
        n = ceilDiv(n, kHashesPerBlock);
        g.levelBlocks.push_back(n);
    }
    g.levelStart.resize(g.levelBlocks.size());
    uint64_t at = 0;
    for (size_t l = g.levelBlocks.size(); l-- > 0;) {  // on disk the top level comes first
        g.levelStart[l] = at;
        at += g.levelBlocks[l];
    }
    g.treeBlocks = at;
    return g;
}

uint64_t treeOffsetFor(uint64_t hashOffset) {
    if (hashOffset % 512 != 0) fail(hr::invalidArg, "dm-verity hash offset {} is not a multiple of 512", hashOffset);
    if (hashOffset > kMaxDataBlocks * kBlockSize - kBlockSize)
        fail(hr::invalidArg, "dm-verity hash offset {} is too large", hashOffset);
    return ceilDiv(hashOffset + kSuperblockSize, kBlockSize) * kBlockSize;
}

std::array<uint8_t, kSuperblockSize> encodeSuperblock(const Superblock& sb) {
    checkSalt(sb.salt);
    if (sb.dataBlocks == 0 || sb.dataBlocks > kMaxDataBlocks) {
        fail(hr::invalidArg, "dm-verity superblock data block count {} is out of range", sb.dataBlocks);
    }
    std::array<uint8_t, kSuperblockSize> b{};  // every padding byte is zero
    std::memcpy(&b[0], kSignature, sizeof kSignature);
    putLe32(&b[8], 1);  // superblock version
    putLe32(&b[12], sb.hashType);
    std::memcpy(&b[16], sb.uuid.data(), 16);
    std::memcpy(&b[32], kAlgorithm, sizeof kAlgorithm - 1);
    putLe32(&b[64], sb.dataBlockSize);
    putLe32(&b[68], sb.hashBlockSize);
    putLe64(&b[72], sb.dataBlocks);
    putLe16(&b[80], static_cast<uint16_t>(sb.salt.size()));
    if (!sb.salt.empty()) std::memcpy(&b[88], sb.salt.data(), sb.salt.size());
    return b;
}

Superblock decodeSuperblock(std::span<const uint8_t> b) {
    if (b.size() < kSuperblockSize)
        fail(hr::corrupt, "dm-verity superblock truncated ({} of {} bytes)", b.size(), kSuperblockSize);
    if (std::memcmp(b.data(), kSignature, sizeof kSignature) != 0)
        fail(hr::corrupt, "dm-verity superblock signature missing");
    uint32_t version = getLe32(&b[8]);
    if (version != 1) fail(hr::corrupt, "dm-verity superblock version {} (expected 1)", version);

    Superblock sb;
    sb.hashType = getLe32(&b[12]);
    std::memcpy(sb.uuid.data(), &b[16], 16);
    sb.dataBlockSize = getLe32(&b[64]);
    sb.hashBlockSize = getLe32(&b[68]);
    sb.dataBlocks = getLe64(&b[72]);
    uint16_t saltSize = getLe16(&b[80]);

    // The algorithm name must be NUL-terminated inside its 32 bytes; printing it is then safe.
    const uint8_t* alg = &b[32];
    const uint8_t* algEnd = std::find(alg, alg + 32, uint8_t{0});
    if (algEnd == alg + 32) fail(hr::corrupt, "dm-verity superblock algorithm name is not terminated");
    std::string algorithm(alg, algEnd);
    for (char c : algorithm) {
        if (c < 0x20 || c > 0x7e) fail(hr::corrupt, "dm-verity superblock algorithm name is not printable");
    }

    if (saltSize > kMaxSaltSize)
        fail(hr::corrupt, "dm-verity superblock salt size {} (at most {})", saltSize, kMaxSaltSize);
    if (sb.dataBlocks == 0 || sb.dataBlocks > kMaxDataBlocks) {
        fail(hr::corrupt, "dm-verity superblock data block count {} is out of range", sb.dataBlocks);
    }
    if (sb.hashType != 1) fail(hr::notSupported, "dm-verity hash type {} is not supported (only 1)", sb.hashType);
    if (algorithm != kAlgorithm)
        fail(hr::notSupported, "dm-verity hash algorithm '{}' is not supported (only sha256)", algorithm);
    if (sb.dataBlockSize != kBlockSize || sb.hashBlockSize != kBlockSize) {
        fail(hr::notSupported, "dm-verity block sizes {}/{} are not supported (only 4096/4096)", sb.dataBlockSize,
             sb.hashBlockSize);
    }
    sb.salt.assign(&b[88], &b[88] + saltSize);
    return sb;
}

Digest build(const VerityParams& params, const ReadFn& readData, const WriteFn& writeHash, uint64_t hashOffset,
             const BuildOptions& options) {
    checkSalt(params.salt);
    const uint64_t n = params.dataBlocks;
    if (n == 0) fail(hr::invalidArg, "dm-verity: cannot build a hash tree over 0 data blocks");
    const Geometry g = Geometry::compute(n);
    const uint64_t treeOffset = treeOffsetFor(hashOffset);
    if (g.treeBytes() > kMaxDataBlocks * kBlockSize - treeOffset) {
        fail(hr::invalidArg, "dm-verity hash area at {} would end past the largest file offset", hashOffset);
    }
    const SaltedHasher hasher(params.salt);
    Digest root{};

    if (g.levels() == 0) {
        // One data block: there are no hash blocks and the root is the block's own digest.
        std::vector<uint8_t> block(kBlockSize);
        readData(0, block);
        SaltedHasher(hasher).hash(block.data(), root.data());
    } else {
        // Level 0, streamed: each chunk of data yields whole level-0 hash blocks, which are written
        // at once and hashed into `upper` (the contents of level 1, or the root's input), so memory
        // stays at a chunk per thread plus n/4 bytes whatever the image size. Workers take chunks
        // in order from a shared counter; each chunk's results land in fixed slots, so the output
        // is the same for any thread count or scheduling.
        const uint64_t chunks = ceilDiv(n, kChunkBlocks);
        std::vector<uint8_t> upper(g.levelBlocks[0] * kDigestSize);
        std::atomic<uint64_t> nextChunk{0};
        std::atomic<bool> failed{false};
        std::exception_ptr error;
        std::mutex errorMutex;

        auto worker = [&] {
            try {
                SaltedHasher h(hasher);
                std::vector<uint8_t> data(kChunkBlocks * kBlockSize);
                std::vector<uint8_t> hashes(kChunkBlocks / kHashesPerBlock * kBlockSize);
                for (;;) {
                    uint64_t c = nextChunk.fetch_add(1);
                    if (c >= chunks || failed.load()) return;
                    uint64_t first = c * kChunkBlocks, count = std::min(kChunkBlocks, n - first);
                    readData(first * kBlockSize, std::span(data).first(count * kBlockSize));
                    uint64_t hashBlocks = ceilDiv(count, kHashesPerBlock);
                    // Unused digest slots of the last hash block stay zero, as dm-verity requires.
                    std::fill(hashes.begin(), hashes.begin() + static_cast<ptrdiff_t>(hashBlocks * kBlockSize), 0);
                    for (uint64_t i = 0; i < count; ++i) h.hash(&data[i * kBlockSize], &hashes[i * kDigestSize]);
                    uint64_t firstHashBlock = first / kHashesPerBlock;
                    writeHash(treeOffset + (g.levelStart[0] + firstHashBlock) * kBlockSize,
                              std::span(hashes).first(hashBlocks * kBlockSize));
                    for (uint64_t j = 0; j < hashBlocks; ++j) {
                        h.hash(&hashes[j * kBlockSize], &upper[(firstHashBlock + j) * kDigestSize]);
                    }
                }
            } catch (...) {
                failed = true;
                std::lock_guard lock(errorMutex);
                if (!error) error = std::current_exception();
            }
        };
        unsigned threads =
            static_cast<unsigned>(std::clamp<uint64_t>(options.threads, 1, std::min<uint64_t>(kMaxThreads, chunks)));
        if (threads == 1) {
            worker();
        } else {
            ThreadGroup group;
            for (unsigned t = 0; t < threads; ++t) group.threads.emplace_back(worker);
        }
        if (error) std::rethrow_exception(error);

        // Upper levels: small (1/128 of the level below each), done on this thread.
        SaltedHasher h(hasher);
        for (size_t l = 1; l < g.levels(); ++l) {
            std::vector<uint8_t> blocks(g.levelBlocks[l] * kBlockSize, 0);
            std::memcpy(blocks.data(), upper.data(), upper.size());
            writeHash(treeOffset + g.levelStart[l] * kBlockSize, blocks);
            std::vector<uint8_t> next(g.levelBlocks[l] * kDigestSize);
            for (uint64_t i = 0; i < g.levelBlocks[l]; ++i) h.hash(&blocks[i * kBlockSize], &next[i * kDigestSize]);
            upper = std::move(next);
        }
        // The top level has one block, so one digest is left: H(salt || top block).
        std::memcpy(root.data(), upper.data(), kDigestSize);
    }

    // Superblock last, so a build that fails part-way leaves no new superblock before a partial tree.
    Superblock sb;
    sb.uuid = options.uuid;
    sb.dataBlocks = n;
    sb.salt = params.salt;
    std::vector<uint8_t> head(treeOffset - hashOffset, 0);  // superblock + zeros up to the tree
    auto enc = encodeSuperblock(sb);
    std::memcpy(head.data(), enc.data(), enc.size());
    writeHash(hashOffset, head);
    return root;
}

Digest build(int dataFd, uint64_t dataOffset, int hashFd, uint64_t hashOffset, const VerityParams& params,
             const BuildOptions& options) {
    const uint64_t n = params.dataBlocks;
    if (n > kMaxDataBlocks || dataOffset > kMaxDataBlocks * kBlockSize - n * kBlockSize) {
        fail(hr::invalidArg, "dm-verity data area ({} blocks at {}) is out of range", n, dataOffset);
    }
    if (dataFd == hashFd) {
        const uint64_t hashEnd = treeOffsetFor(hashOffset) + Geometry::compute(n).treeBytes();
        const uint64_t dataEnd = dataOffset + n * kBlockSize;
        if (hashOffset < dataEnd && dataOffset < hashEnd) {
            fail(hr::invalidArg, "dm-verity hash area [{}, {}) overlaps the data [{}, {})", hashOffset, hashEnd,
                 dataOffset, dataEnd);
        }
    }
    auto readData = [dataFd, dataOffset](uint64_t offset, std::span<uint8_t> out) {
        size_t done = 0;
        while (done < out.size()) {
            ssize_t r =
                ::pread(dataFd, out.data() + done, out.size() - done, static_cast<off_t>(dataOffset + offset + done));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) failErrno(errno, fmt::format("dm-verity: read of data at {}", dataOffset + offset + done));
            if (r == 0) {
                fail(hr::corrupt, "dm-verity: data area ends at {} before the {} bytes at {}",
                     dataOffset + offset + done, out.size(), dataOffset + offset);
            }
            done += static_cast<size_t>(r);
        }
    };
    auto writeHash = [hashFd](uint64_t offset, std::span<const uint8_t> data) {
        size_t done = 0;
        while (done < data.size()) {
            ssize_t r = ::pwrite(hashFd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) failErrno(errno, fmt::format("dm-verity: write of hash area at {}", offset + done));
            done += static_cast<size_t>(r);
        }
    };
    return build(params, readData, writeHash, hashOffset, options);
}

Digest build(const io::File& file, uint64_t dataBlocks, uint64_t hashOffset, const std::vector<uint8_t>& salt,
             const std::array<uint8_t, 16>& uuid, unsigned threads) {
    return build(file.fd(), 0, file.fd(), hashOffset, VerityParams{dataBlocks, salt}, BuildOptions{uuid, threads});
}

// ---- verification ----

HashTreeVerifier::HashTreeVerifier(ReadFn read, uint64_t hashOffset, VerityParams params, const Digest& expectedRoot,
                                   std::string name)
    : read_(std::move(read)), params_(std::move(params)), root_(expectedRoot), name_(std::move(name)) {
    if (!read_) fail(hr::invalidArg, "{}: no reader for the hash tree", prefix());
    checkSalt(params_.salt);
    if (params_.dataBlocks == 0) fail(hr::invalidArg, "{}: a hash tree over 0 data blocks verifies nothing", prefix());
    geometry_ = Geometry::compute(params_.dataBlocks);
    treeOffset_ = treeOffsetFor(hashOffset);
    if (geometry_.treeBytes() > kMaxDataBlocks * kBlockSize - treeOffset_) {
        fail(hr::invalidArg, "{}: hash tree at {} would end past the largest file offset", prefix(), hashOffset);
    }
    if (geometry_.levels() == 0) return;  // one data block: verifyBlock(0) compares with the root

    // Only the top block is read now; the rest is verified on demand, starting from it.
    auto top = std::make_shared<Block>();
    size_t topLevel = geometry_.levels() - 1;
    read_(treeOffset_ + geometry_.levelStart[topLevel] * kBlockSize, *top);
    if (hashOf(top->data()) != root_) {
        fail(hr::integrity, "{}: integrity violation: the hash tree does not match the expected root hash", prefix());
    }
    top_ = std::move(top);
}

std::string HashTreeVerifier::prefix() const { return name_.empty() ? std::string("dm-verity") : name_; }

Digest HashTreeVerifier::hashOf(const uint8_t* block) const {
    // A fresh context per call: no state is shared between threads.
    return Sha256().update(params_.salt.data(), params_.salt.size()).update(block, kBlockSize).finish();
}

HashTreeVerifier::BlockPtr HashTreeVerifier::verifiedHashBlock(size_t level, uint64_t index,
                                                               uint64_t forDataBlock) const {
    const size_t topLevel = geometry_.levels() - 1;
    if (level == topLevel) return top_;  // index is necessarily 0: the top level has one block
    const uint64_t treeBlock = geometry_.levelStart[level] + index;
    {
        std::shared_lock lock(cacheMutex_);
        if (auto it = cache_.find(treeBlock); it != cache_.end()) return it->second;
    }
    // Not cached: verify against the parent (recursively; at most ~8 levels) without holding the
    // lock during I/O. Two threads may verify the same block at once; both get the same answer.
    BlockPtr parent = verifiedHashBlock(level + 1, index / kHashesPerBlock, forDataBlock);
    auto block = std::make_shared<Block>();
    const uint64_t offset = treeOffset_ + treeBlock * kBlockSize;
    read_(offset, *block);
    Digest d = hashOf(block->data());
    if (std::memcmp(d.data(), parent->data() + (index % kHashesPerBlock) * kDigestSize, kDigestSize) != 0) {
        fail(hr::integrity,
             "{}: integrity violation: hash block {} of level {} (byte offset {}) does not match the tree, while "
             "verifying "
             "data block {}",
             prefix(), index, level, offset, forDataBlock);
    }
    std::unique_lock lock(cacheMutex_);
    if (cache_.size() >= kMaxCachedHashBlocks) cache_.clear();
    auto [it, inserted] = cache_.emplace(treeBlock, std::move(block));
    return it->second;
}

void HashTreeVerifier::verifyBlock(uint64_t blockIndex, const uint8_t* block) const {
    if (blockIndex >= geometry_.dataBlocks) {
        fail(hr::corrupt, "{}: data block {} is outside the {} blocks the hash tree covers", prefix(), blockIndex,
             geometry_.dataBlocks);
    }
    Digest d = hashOf(block);
    bool ok;
    if (geometry_.levels() == 0) {
        ok = d == root_;
    } else {
        BlockPtr hashBlock = verifiedHashBlock(0, blockIndex / kHashesPerBlock, blockIndex);
        ok = std::memcmp(d.data(), hashBlock->data() + (blockIndex % kHashesPerBlock) * kDigestSize, kDigestSize) == 0;
    }
    if (!ok) {
        fail(hr::integrity, "{}: integrity violation: data block {} (bytes {}..{}) does not match the hash tree",
             prefix(), blockIndex, blockIndex * kBlockSize, (blockIndex + 1) * kBlockSize - 1);
    }
}

namespace {
// The adapter gets the tree start; with the 4096-aligned layout the superblock is the block before.
uint64_t hashOffsetBeforeTree(uint64_t treeOffset) {
    if (treeOffset < kBlockSize || treeOffset % kBlockSize != 0) {
        fail(hr::invalidArg, "dm-verity tree offset {} is not a block boundary after a superblock", treeOffset);
    }
    return treeOffset - kBlockSize;
}
}  // namespace

Verifier::Verifier(const io::File& file, uint64_t treeOffset, uint64_t dataBlocks, std::vector<uint8_t> salt,
                   const Digest& expectedRoot)
    : impl_([&file](uint64_t offset, std::span<uint8_t> out) { file.readExact(offset, std::as_writable_bytes(out)); },
            hashOffsetBeforeTree(treeOffset), VerityParams{dataBlocks, std::move(salt)}, expectedRoot, file.path()) {}

}  // namespace cim::verity
