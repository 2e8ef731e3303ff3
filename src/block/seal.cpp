#include "block/seal.h"

#include <fcntl.h>
#include "common/sha256.h"

#include <cstring>

#include "common/error.h"
#include "block/vhd_footer.h"
#include "verity/hash_tree.h"

namespace cim::block {

namespace {
ContainerHeader readHeader(const io::File& f) {
    uint64_t size = f.size();
    if (size < kBlockSize) fail(hr::corrupt, "{}: {} bytes is too small for a block CIM", f.path(), size);
    std::vector<std::byte> b0(kBlockSize);
    f.readExact(0, b0);
    return Container::parseHeader(b0, f.path(), size);
}
}  // namespace

Hash sealContainer(const std::string& path, unsigned threads) {
    io::File f = io::File::open(path, O_RDWR);
    ContainerHeader h = readHeader(f);
    if (!(h.flags & kContainerVerified)) {
        fail(hr::invalidArg, "{}: not a verified block CIM (create it with CIM_CREATE_IMAGE_VERIFIED_CIM)", path);
    }
    if (auto s = Container::readSeal(f, h)) {
        Hash r;
        std::memcpy(r.data(), s->rootHash, 32);
        return r;
    }
    uint64_t dataBlocks = h.dataEnd / kBlockSize;
    std::vector<uint8_t> salt(32, 0);  // fixed salt: sealing is reproducible
    // The verity UUID is derived from the container header so the same image seals identically.
    std::array<uint8_t, 16> uuid{};
    {
        std::vector<std::byte> b0(kBlockSize);
        f.readExact(0, b0);
        auto d = Sha256::of(b0);
        std::memcpy(uuid.data(), d.data(), 16);
        uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0F) | 0x50);
        uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3F) | 0x80);
    }
    verity::Digest root = verity::build(f, dataBlocks, h.dataEnd, salt, uuid, threads);
    auto g = verity::Geometry::compute(dataBlocks);

    SealRecord r{};
    std::memcpy(r.magic, kSealMagic, 8);
    r.version = 1;
    r.hashAlgorithm = 1;
    r.hashOffset = h.dataEnd;
    r.dataBlocks = dataBlocks;
    r.hashAreaSize = kBlockSize + g.treeBlocks * kBlockSize;
    std::memcpy(r.rootHash, root.data(), 32);
    auto rd = Sha256::of(&r, offsetof(SealRecord, digest));
    std::memcpy(r.digest, rd.data(), 32);
    std::vector<std::byte> block(kBlockSize);
    std::memcpy(block.data(), &r, sizeof r);
    uint64_t at = h.dataEnd + r.hashAreaSize;
    f.sync();  // the tree is durable before the record that makes the container sealed
    f.writeExact(at, block);
    if (!f.isBlockDevice()) f.truncate(at + kBlockSize);
    f.sync();
    return root;
}

void appendContainerVhdFooter(const std::string& path) {
    io::File f = io::File::open(path, O_RDWR);
    if (f.isBlockDevice()) fail(hr::invalidArg, "{}: a block device cannot carry a VHD footer", path);
    ContainerHeader h = readHeader(f);
    uint64_t size = f.size();
    if (size >= h.dataEnd + kVhdFooterSize) {
        std::vector<std::byte> tail(kVhdFooterSize);
        f.readExact(size - kVhdFooterSize, tail);
        if (isFixedVhdFooter(reinterpret_cast<const uint8_t*>(tail.data()))) return;
    }
    // Unique ID from block 0 and the seal (if any): the same image always gets the same footer.
    std::vector<std::byte> b0(kBlockSize);
    f.readExact(0, b0);
    Sha256 c;
    c.update(b0);
    if (auto s = Container::readSeal(f, h)) c.update(s->rootHash, 32);
    auto d = c.finish();
    uint8_t id[16];
    std::memcpy(id, d.data(), 16);
    appendVhdFooter(f.fd(), id);
    f.sync();
}

VerificationInfo verificationInfo(const std::string& path) {
    io::File f = io::File::open(path, O_RDONLY);
    ContainerHeader h = readHeader(f);
    VerificationInfo info;
    if (auto s = Container::readSeal(f, h)) {
        info.sealed = true;
        std::memcpy(info.rootHash.data(), s->rootHash, 32);
    }
    return info;
}

}  // namespace cim::block
