#include "block/container.h"

#include <fcntl.h>
#include "common/sha256.h"

#include <cstring>

#include "block/verified.h"
#include "common/error.h"

namespace cim::block {

using format::load;

ContainerHeader Container::parseHeader(std::span<const std::byte> b, const std::string& path, uint64_t fileSize) {
    if (b.size() < kBlockSize) fail(hr::corrupt, "{}: block container header is truncated", path);
    auto h = load<ContainerHeader>(b.data());
    if (std::memcmp(h.magic, kContainerMagic, 8) != 0) fail(hr::corrupt, "{}: not an opencim block CIM (bad magic)", path);
    if (h.versionMajor != kContainerVersionMajor) {
        fail(hr::corrupt, "{}: unsupported block container version {}.{}", path, h.versionMajor, h.versionMinor);
    }
    auto d = Sha256::of(b.data(), kHeaderDigestOffset);
    if (std::memcmp(d.data(), b.data() + kHeaderDigestOffset, 32) != 0) fail(hr::corrupt, "{}: block container header checksum mismatch", path);
    if (h.blockSize != kBlockSize) fail(hr::corrupt, "{}: block size {} is not supported", path, h.blockSize);
    if (h.dataEnd < kBlockSize || h.dataEnd % kBlockSize || h.dataEnd > fileSize) {
        fail(hr::corrupt, "{}: data end {} is invalid for a container of {} bytes", path, h.dataEnd, fileSize);
    }
    if (h.cimCount && (h.directoryOffset < kBlockSize || h.directoryOffset > h.dataEnd ||
                       h.directoryLength > h.dataEnd - h.directoryOffset)) {
        fail(hr::corrupt, "{}: directory at {} ({} bytes) lies outside the container", path, h.directoryOffset, h.directoryLength);
    }
    return h;
}

std::vector<CimEntry> parseDirectory(std::span<const std::byte> b, uint32_t count, const std::string& path) {
    std::vector<CimEntry> out;
    size_t pos = 0;
    for (uint32_t i = 0; i < count; ++i) {
        if (b.size() - pos < sizeof(DirectoryEntry)) fail(hr::corrupt, "{}: directory entry {} is truncated", path, i);
        auto e = load<DirectoryEntry>(b.data() + pos);
        pos += sizeof e;
        if (e.nameLength == 0 || e.nameLength > b.size() - pos) fail(hr::corrupt, "{}: directory entry {} has a bad name", path, i);
        CimEntry c;
        c.name.assign(reinterpret_cast<const char*>(b.data() + pos), e.nameLength);
        c.descriptorOffset = e.descriptorOffset;
        c.descriptorLength = e.descriptorLength;
        pos += alignUp(e.nameLength, 8);
        if (pos > b.size()) fail(hr::corrupt, "{}: directory entry {} overruns the directory", path, i);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<std::byte> buildDirectory(const std::vector<CimEntry>& entries) {
    std::vector<std::byte> out;
    for (const auto& c : entries) {
        DirectoryEntry e{c.descriptorOffset, c.descriptorLength, static_cast<uint16_t>(c.name.size()), 0};
        size_t at = out.size();
        out.resize(at + sizeof e + alignUp(c.name.size(), 8));
        std::memcpy(out.data() + at, &e, sizeof e);
        std::memcpy(out.data() + at + sizeof e, c.name.data(), c.name.size());
    }
    return out;
}

std::optional<SealRecord> Container::readSeal(const io::File& f, const ContainerHeader& h) {
    // The dm-verity superblock sits at dataEnd; the seal record follows the hash area. Its position
    // comes from the superblock's block count, so read the superblock's data_blocks first.
    uint64_t size = f.size();
    if (h.dataEnd + kBlockSize > size) return std::nullopt;
    std::vector<std::byte> sb(512);
    f.readExact(h.dataEnd, sb);
    if (std::memcmp(sb.data(), "verity\0\0", 8) != 0) return std::nullopt;
    uint64_t dataBlocks = load<uint64_t>(sb.data() + 72);
    if (dataBlocks != h.dataEnd / kBlockSize) return std::nullopt;
    // Hash area = superblock block + tree blocks; compute the tree size (128 hashes per block).
    uint64_t treeBlocks = 0;
    for (uint64_t n = dataBlocks; n > 1;) {
        n = (n + 127) / 128;
        treeBlocks += n;
    }
    uint64_t recordAt = h.dataEnd + kBlockSize + treeBlocks * kBlockSize;
    if (recordAt + kBlockSize > size) return std::nullopt;
    std::vector<std::byte> rb(sizeof(SealRecord));
    f.readExact(recordAt, rb);
    auto r = load<SealRecord>(rb.data());
    if (std::memcmp(r.magic, kSealMagic, 8) != 0) return std::nullopt;
    auto d = Sha256::of(rb.data(), offsetof(SealRecord, digest));
    if (std::memcmp(d.data(), r.digest, 32) != 0) fail(hr::corrupt, "{}: seal record checksum mismatch", f.path());
    if (r.version != 1 || r.hashAlgorithm != 1 || r.hashOffset != h.dataEnd || r.dataBlocks != dataBlocks ||
        r.hashAreaSize != kBlockSize + treeBlocks * kBlockSize) {
        fail(hr::corrupt, "{}: seal record does not match the container", f.path());
    }
    return r;
}

std::shared_ptr<Container> Container::open(const std::string& path, const Hash* expectedRoot) {
    auto c = std::make_shared<Container>();
    c->path_ = path;
    auto f = std::make_shared<io::File>(io::File::open(path, O_RDONLY));
    c->file_ = f;
    uint64_t size = f->size();
    std::vector<std::byte> block0(kBlockSize);
    if (size < kBlockSize) fail(hr::corrupt, "{}: {} bytes is too small for a block CIM", path, size);
    f->readExact(0, block0);
    c->header_ = parseHeader(block0, path, size);
    c->seal_ = readSeal(*f, c->header_);
    if (expectedRoot) {
        if (!c->seal_) {
            fail(hr::integrity, "{}: integrity violation: the block CIM is not sealed, so it cannot be verified", path);
        }
        c->verifier_ = makeVerityVerifier(f, *c->seal_, *expectedRoot, path);
        // Block 0 was parsed before it was verified: verify it now (the tree covers it).
        c->verifier_->verify(0, block0.data());
    }
    if (c->header_.cimCount) {
        std::vector<std::byte> dir(c->header_.directoryLength);
        c->read(c->header_.directoryOffset, dir);
        auto d = Sha256::of(dir);
        if (std::memcmp(d.data(), c->header_.directoryDigest, 32) != 0) fail(hr::corrupt, "{}: directory checksum mismatch", path);
        c->cims_ = parseDirectory(dir, c->header_.cimCount, path);
    }
    return c;
}

void Container::read(uint64_t offset, std::span<std::byte> out) const {
    uint64_t end = header_.dataEnd;
    if (offset > end || out.size() > end - offset) {
        fail(hr::corrupt, "{}: read of {} bytes at {} past the container's data end {}", path_, out.size(), offset, end);
    }
    if (!verifier_) {
        file_->readExact(offset, out);
        return;
    }
    // Verified read: whole blocks are read and checked, then the requested bytes copied out.
    uint64_t first = offset / kBlockSize, last = (offset + out.size() + kBlockSize - 1) / kBlockSize;
    constexpr uint64_t kChunkBlocks = 256;
    std::vector<std::byte> buf;
    size_t copied = 0;
    for (uint64_t b = first; b < last; b += kChunkBlocks) {
        uint64_t nb = std::min(kChunkBlocks, last - b);
        buf.resize(nb * kBlockSize);
        file_->readExact(b * kBlockSize, buf);
        for (uint64_t i = 0; i < nb; ++i) verifier_->verify(b + i, buf.data() + i * kBlockSize);
        uint64_t chunkStart = b * kBlockSize;
        uint64_t from = std::max(offset, chunkStart);
        uint64_t to = std::min<uint64_t>(offset + out.size(), chunkStart + buf.size());
        std::memcpy(out.data() + copied, buf.data() + (from - chunkStart), to - from);
        copied += to - from;
    }
}

const CimEntry& Container::find(const std::string& name) const {
    for (const auto& c : cims_) {
        if (c.name == name) return c;
    }
    fail(hr::fileNotFound, "{}: no CIM named '{}' in the block file", path_, name);
}

Descriptor Container::descriptor(const CimEntry& e) const {
    if (e.descriptorLength < sizeof(format::FilesystemHeader) + sizeof(DescriptorTail) || e.descriptorLength > (64u << 20)) {
        fail(hr::corrupt, "{}:{}: descriptor of {} bytes", path_, e.name, e.descriptorLength);
    }
    std::vector<std::byte> b(e.descriptorLength);
    read(e.descriptorOffset, b);
    Descriptor d;
    d.identity = Sha256::of(b);
    d.fs = load<format::FilesystemHeader>(b.data());
    if (std::memcmp(d.fs.common.magic, format::kMagic, 8) != 0 || d.fs.common.type != 0 ||
        d.fs.common.version.major < format::kVersionMajor || d.fs.common.version.major > format::kMaxVersionMajor) {
        fail(hr::corrupt, "{}:{}: descriptor has a bad filesystem header", path_, e.name);
    }
    size_t pos = sizeof(format::FilesystemHeader);
    auto tail = load<DescriptorTail>(b.data() + pos);
    pos += sizeof tail;
    if (tail.regionCount == 0 || tail.regionCount > format::kMaxRegions ||
        uint64_t(tail.regionCount) * sizeof(RegionExtent) > b.size() - pos) {
        fail(hr::corrupt, "{}:{}: descriptor lists {} regions", path_, e.name, tail.regionCount);
    }
    for (uint32_t i = 0; i < tail.regionCount; ++i) {
        auto r = load<RegionExtent>(b.data() + pos);
        pos += sizeof r;
        if (r.source == 0 && (r.offset > header_.dataEnd || r.length > header_.dataEnd - r.offset || r.length == 0)) {
            fail(hr::corrupt, "{}:{}: region {} at {} ({} bytes) lies outside the container", path_, e.name, i, r.offset, r.length);
        }
        if (r.source > tail.sourceCount) fail(hr::corrupt, "{}:{}: region {} names source {}", path_, e.name, i, r.source);
        d.regions.push_back(r);
    }
    // A region must not overlap block 0, the directory, this descriptor or another region: the
    // writer never produces that, and a crafted overlap would make one structure be read as another.
    auto overlaps = [](uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) { return a < b + blen && b < a + alen; };
    for (size_t i = 0; i < d.regions.size(); ++i) {
        const auto& r = d.regions[i];
        if (r.source != 0) continue;
        if (overlaps(r.offset, r.length, 0, kBlockSize) || overlaps(r.offset, r.length, e.descriptorOffset, e.descriptorLength) ||
            (header_.cimCount && overlaps(r.offset, r.length, header_.directoryOffset, header_.directoryLength))) {
            fail(hr::corrupt, "{}:{}: region {} at {} ({} bytes) overlaps the container's header, directory or descriptor", path_,
                 e.name, i, r.offset, r.length);
        }
        for (size_t j = 0; j < i; ++j) {
            const auto& o = d.regions[j];
            if (o.source == 0 && overlaps(r.offset, r.length, o.offset, o.length)) {
                fail(hr::corrupt, "{}:{}: regions {} and {} overlap", path_, e.name, j, i);
            }
        }
    }
    for (uint32_t i = 0; i < tail.sourceCount; ++i) {
        if (b.size() - pos < sizeof(SourceRecord)) fail(hr::corrupt, "{}:{}: source record {} truncated", path_, e.name, i);
        auto s = load<SourceRecord>(b.data() + pos);
        pos += sizeof s;
        if (s.nameLength > b.size() - pos) fail(hr::corrupt, "{}:{}: source record {} name overruns", path_, e.name, i);
        SourceInfo si;
        si.name.assign(reinterpret_cast<const char*>(b.data() + pos), s.nameLength);
        std::memcpy(si.identity.data(), s.identity, 32);
        std::memcpy(si.rootHash.data(), s.rootHash, 32);
        si.verified = s.flags & 1;
        pos += alignUp(s.nameLength, 8);
        if (pos > b.size()) fail(hr::corrupt, "{}:{}: source record {} overruns", path_, e.name, i);
        d.sources.push_back(std::move(si));
    }
    return d;
}

}  // namespace cim::block
