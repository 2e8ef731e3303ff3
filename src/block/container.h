// Read access to a block container (file or device): header, directory, CIM descriptors, seal.
// Opened with an expected root hash, every read is checked against the container's hash tree.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "block/format.h"
#include "io/file.h"

namespace cim::block {

using Hash = std::array<uint8_t, 32>;

// Checks data blocks of a sealed container (implemented over verity::HashTreeVerifier).
class BlockVerifier {
public:
    virtual ~BlockVerifier() = default;
    virtual void verify(uint64_t blockIndex, const std::byte* block) const = 0;
};

struct CimEntry {
    std::string name;
    uint64_t descriptorOffset;
    uint32_t descriptorLength;
};

struct SourceInfo {
    std::string name;
    Hash identity{};
    Hash rootHash{};
    bool verified = false;
};

struct Descriptor {
    format::FilesystemHeader fs{};
    std::vector<RegionExtent> regions;
    std::vector<SourceInfo> sources;
    Hash identity{};  // SHA-256 of the descriptor bytes
};

class Container {
public:
    // Opens `path` read-only. With `expectedRoot` the container must be sealed with that root hash
    // (0x80070143 "integrity violation" otherwise) and every later read is verified.
    static std::shared_ptr<Container> open(const std::string& path, const Hash* expectedRoot = nullptr);

    const std::string& path() const { return path_; }
    const ContainerHeader& header() const { return header_; }
    const std::vector<CimEntry>& cims() const { return cims_; }
    const std::optional<SealRecord>& seal() const { return seal_; }
    bool verified() const { return verifier_ != nullptr; }
    // Bytes [offset, offset+out.size()) of the committed area (< dataEnd), verified if opened so.
    void read(uint64_t offset, std::span<std::byte> out) const;
    const CimEntry& find(const std::string& name) const;  // 0x80070002 if absent
    Descriptor descriptor(const CimEntry& e) const;

    // Parses the container header from block 0 (validates magic, version, digest, bounds).
    static ContainerHeader parseHeader(std::span<const std::byte> block0, const std::string& path, uint64_t fileSize);
    // Reads the seal record of a container whose header is known, or nullopt if not sealed.
    static std::optional<SealRecord> readSeal(const io::File& f, const ContainerHeader& h);

private:
    std::string path_;
    std::shared_ptr<const io::File> file_;
    ContainerHeader header_{};
    std::vector<CimEntry> cims_;
    std::optional<SealRecord> seal_;
    std::unique_ptr<BlockVerifier> verifier_;
};

// Reads and parses the directory of a container (shared by the reader and by writers appending
// one more CIM to an existing container).
std::vector<CimEntry> parseDirectory(std::span<const std::byte> bytes, uint32_t count, const std::string& path);
std::vector<std::byte> buildDirectory(const std::vector<CimEntry>& entries);

}  // namespace cim::block
