#include "verity/hash_tree.h"

#include "common/sha256.h"

#include <cstring>
#include <thread>

#include "common/error.h"

namespace cim::verity {

namespace {
constexpr uint64_t kChunkBlocks = 1024;  // 4 MiB reads
constexpr uint64_t kMaxTreeBytes = uint64_t(1) << 30;

// SHA-256(salt || block), with the salt's state computed once.
// One per thread: `work` is reset to the salted state before each block.
struct SaltedHasher {
    Sha256 base, work;
    explicit SaltedHasher(const std::vector<uint8_t>& salt) : work(base) { base.update(salt.data(), salt.size()); }
    SaltedHasher(const SaltedHasher& o) : base(o.base), work(o.base) {}
    void hash(const void* block, uint8_t* out) {
        work.reset(base);
        work.update(block, kBlockSize);
        work.finish(out);
    }
};

void putLe32(std::byte* p, uint32_t v) { std::memcpy(p, &v, 4); }
void putLe64(std::byte* p, uint64_t v) { std::memcpy(p, &v, 8); }
}  // namespace

Geometry Geometry::compute(uint64_t dataBlocks) {
    Geometry g;
    g.dataBlocks = dataBlocks;
    for (uint64_t n = dataBlocks; n > 1;) {
        n = (n + kHashesPerBlock - 1) / kHashesPerBlock;
        g.levelBlocks.push_back(n);
    }
    g.levelStart.resize(g.levelBlocks.size());
    uint64_t at = 0;
    for (size_t l = g.levelBlocks.size(); l-- > 0;) {  // top level first on disk
        g.levelStart[l] = at;
        at += g.levelBlocks[l];
    }
    g.treeBlocks = at;
    return g;
}

std::array<std::byte, kSuperblockSize> encodeSuperblock(const Superblock& sb) {
    if (sb.salt.size() > 256) fail(hr::invalidArg, "verity salt of {} bytes (max 256)", sb.salt.size());
    std::array<std::byte, kSuperblockSize> b{};
    std::memcpy(b.data(), "verity\0\0", 8);
    putLe32(&b[8], 1);
    putLe32(&b[12], sb.hashType);
    std::memcpy(&b[16], sb.uuid.data(), 16);
    std::memcpy(&b[32], "sha256", 6);
    putLe32(&b[64], sb.dataBlockSize);
    putLe32(&b[68], sb.hashBlockSize);
    putLe64(&b[72], sb.dataBlocks);
    uint16_t saltSize = static_cast<uint16_t>(sb.salt.size());
    std::memcpy(&b[80], &saltSize, 2);
    if (!sb.salt.empty()) std::memcpy(&b[88], sb.salt.data(), sb.salt.size());
    return b;
}

Superblock decodeSuperblock(std::span<const std::byte> b) {
    if (b.size() < kSuperblockSize) fail(hr::corrupt, "verity superblock truncated");
    if (std::memcmp(b.data(), "verity\0\0", 8) != 0) fail(hr::corrupt, "verity superblock signature missing");
    Superblock sb;
    uint32_t version;
    std::memcpy(&version, &b[8], 4);
    std::memcpy(&sb.hashType, &b[12], 4);
    std::memcpy(sb.uuid.data(), &b[16], 16);
    char alg[33] = {};
    std::memcpy(alg, &b[32], 32);
    std::memcpy(&sb.dataBlockSize, &b[64], 4);
    std::memcpy(&sb.hashBlockSize, &b[68], 4);
    std::memcpy(&sb.dataBlocks, &b[72], 8);
    uint16_t saltSize;
    std::memcpy(&saltSize, &b[80], 2);
    if (version != 1 || sb.hashType != 1) fail(hr::corrupt, "verity superblock version {} type {}", version, sb.hashType);
    if (std::strcmp(alg, "sha256") != 0) fail(hr::corrupt, "verity hash algorithm '{}' is not supported", alg);
    if (sb.dataBlockSize != kBlockSize || sb.hashBlockSize != kBlockSize) {
        fail(hr::corrupt, "verity block sizes {}/{} are not supported", sb.dataBlockSize, sb.hashBlockSize);
    }
    if (saltSize > 256) fail(hr::corrupt, "verity salt of {} bytes", saltSize);
    sb.salt.assign(reinterpret_cast<const uint8_t*>(&b[88]), reinterpret_cast<const uint8_t*>(&b[88]) + saltSize);
    return sb;
}

Digest build(const io::File& file, uint64_t dataBlocks, uint64_t hashOffset, const std::vector<uint8_t>& salt,
             const std::array<uint8_t, 16>& uuid, unsigned threads) {
    if (hashOffset % kBlockSize) fail(hr::invalidArg, "hash offset {} is not block aligned", hashOffset);
    Geometry g = Geometry::compute(dataBlocks);
    if (g.treeBlocks * kBlockSize > kMaxTreeBytes) fail(hr::invalidArg, "image too large to seal ({} data blocks)", dataBlocks);
    SaltedHasher hasher(salt);

    // Level 0 (digests of the data blocks), hashed by `threads` workers over disjoint ranges.
    std::vector<uint8_t> level(std::max<uint64_t>(dataBlocks, 1) * kDigestSize);
    threads = std::max(1u, std::min(threads, 8u));
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    uint64_t per = (dataBlocks + threads - 1) / threads;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            try {
                SaltedHasher local(hasher);
                std::vector<std::byte> buf(kChunkBlocks * kBlockSize);
                uint64_t end = std::min(dataBlocks, (t + 1) * per);
                for (uint64_t b = t * per; b < end; b += kChunkBlocks) {
                    uint64_t n = std::min(kChunkBlocks, end - b);
                    file.readExact(b * kBlockSize, std::span(buf).first(n * kBlockSize));
                    for (uint64_t i = 0; i < n; ++i) local.hash(buf.data() + i * kBlockSize, &level[(b + i) * kDigestSize]);
                }
            } catch (...) {
                errors[t] = std::current_exception();
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors) {
        if (e) std::rethrow_exception(e);
    }

    Digest root{};
    if (dataBlocks <= 1) {
        std::memcpy(root.data(), level.data(), kDigestSize);  // no hash blocks: root = H(salt || block 0)
    }
    uint64_t treeOffset = hashOffset + kBlockSize;
    for (size_t l = 0; l < g.levels(); ++l) {
        // Pack this level's digests into zero-padded hash blocks and write them.
        std::vector<uint8_t> blocks(g.levelBlocks[l] * kBlockSize, 0);
        std::memcpy(blocks.data(), level.data(), level.size());
        file.writeExact(treeOffset + g.levelStart[l] * kBlockSize, std::as_bytes(std::span(blocks)));
        std::vector<uint8_t> next(g.levelBlocks[l] * kDigestSize);
        for (uint64_t i = 0; i < g.levelBlocks[l]; ++i) hasher.hash(&blocks[i * kBlockSize], &next[i * kDigestSize]);
        level = std::move(next);
        if (l + 1 == g.levels()) std::memcpy(root.data(), level.data(), kDigestSize);
    }
    Superblock sb;
    sb.uuid = uuid;
    sb.dataBlocks = dataBlocks;
    sb.salt = salt;
    std::vector<std::byte> sbBlock(kBlockSize);
    auto enc = encodeSuperblock(sb);
    std::memcpy(sbBlock.data(), enc.data(), enc.size());
    file.writeExact(hashOffset, sbBlock);
    return root;
}

Verifier::Verifier(const io::File& file, uint64_t treeOffset, uint64_t dataBlocks, std::vector<uint8_t> salt,
                   const Digest& expectedRoot)
    : geometry_(Geometry::compute(dataBlocks)), salt_(std::move(salt)), root_(expectedRoot), path_(file.path()) {
    if (geometry_.treeBlocks * kBlockSize > kMaxTreeBytes) fail(hr::corrupt, "{}: hash tree too large", path_);
    if (dataBlocks == 0) fail(hr::corrupt, "{}: nothing to verify", path_);
    if (geometry_.levels() == 0) return;  // one data block: verifyBlock compares with the root
    std::vector<std::byte> tree(geometry_.treeBlocks * kBlockSize);
    file.readExact(treeOffset, tree);
    // Top block against the root, then each level against the digests in the level above.
    size_t top = geometry_.levels() - 1;
    if (hashBlock(&tree[geometry_.levelStart[top] * kBlockSize]) != root_) {
        fail(hr::integrity, "{}: integrity violation: the root hash does not match the image", path_);
    }
    for (size_t l = top; l-- > 0;) {
        const std::byte* parent = &tree[geometry_.levelStart[l + 1] * kBlockSize];
        for (uint64_t i = 0; i < geometry_.levelBlocks[l]; ++i) {
            Digest d = hashBlock(&tree[(geometry_.levelStart[l] + i) * kBlockSize]);
            if (std::memcmp(d.data(), parent + i * kDigestSize, kDigestSize) != 0) {
                fail(hr::integrity, "{}: integrity violation: hash block {} of level {} is corrupt", path_, i, l);
            }
        }
    }
    level0_.assign(tree.begin() + static_cast<ptrdiff_t>(geometry_.levelStart[0] * kBlockSize),
                   tree.begin() + static_cast<ptrdiff_t>((geometry_.levelStart[0] + geometry_.levelBlocks[0]) * kBlockSize));
}

Digest Verifier::hashBlock(const std::byte* block) const {
    return Sha256().update(salt_.data(), salt_.size()).update(block, kBlockSize).finish();
}

void Verifier::verifyBlock(uint64_t index, const std::byte* block) const {
    if (index >= geometry_.dataBlocks) fail(hr::corrupt, "{}: block {} is outside the verified area", path_, index);
    Digest d = hashBlock(block);
    const void* expected = geometry_.levels() == 0 ? static_cast<const void*>(root_.data())
                                                   : static_cast<const void*>(&level0_[index * kDigestSize]);
    if (std::memcmp(d.data(), expected, kDigestSize) != 0) {
        fail(hr::integrity, "{}: integrity violation: data block {} (bytes {}..{}) does not match its hash", path_, index,
             index * kBlockSize, (index + 1) * kBlockSize - 1);
    }
}

}  // namespace cim::verity
