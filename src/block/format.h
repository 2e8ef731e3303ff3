// The opencim block container: one file or raw block device holding one or more named CIMs.
// Byte layout, versioning and evolution rules: docs/format.md ("Block container").
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "format/layout.h"

namespace cim::block {

inline constexpr char kContainerMagic[8] = {'O', 'C', 'I', 'M', 'B', 'L', 'K', '1'};
inline constexpr char kSealMagic[8] = {'O', 'C', 'I', 'M', 'S', 'E', 'A', 'L'};
inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kContainerVersionMajor = 1;
inline constexpr uint32_t kContainerVersionMinor = 0;
inline constexpr uint32_t kHeaderDigestOffset = kBlockSize - 32;

// Container flags (header.flags).
inline constexpr uint32_t kContainerVerified = 0x1;    // created for sealing (CIM_CREATE_IMAGE_VERIFIED_CIM)
inline constexpr uint32_t kContainerConsistent = 0x2;  // built reproducibly
inline constexpr uint32_t kContainerDevice = 0x4;      // written to a block device

#pragma pack(push, 1)
// Block 0. The last 32 bytes of the block are the SHA-256 of the 4064 bytes before them.
struct ContainerHeader {
    char magic[8];
    uint32_t versionMajor;
    uint32_t versionMinor;
    uint32_t blockSize;
    uint32_t flags;
    uint64_t directoryOffset;  // 0 while the container holds no CIM
    uint32_t directoryLength;
    uint32_t cimCount;
    uint64_t dataEnd;  // first byte after committed content; multiple of kBlockSize
    uint64_t generation;
    uint8_t directoryDigest[32];
};

// Directory entry; followed by the UTF-8 name, then zero padding to a multiple of 8.
struct DirectoryEntry {
    uint64_t descriptorOffset;
    uint32_t descriptorLength;
    uint16_t nameLength;
    uint16_t reserved;
};

// One region of a CIM. source 0: bytes [offset, offset+length) of this container. source k >= 1:
// region `sourceRegion` of merge source k-1 (merged CIMs), offset unused.
struct RegionExtent {
    uint64_t offset;
    uint64_t length;
    uint32_t source;
    uint32_t sourceRegion;
};

// Descriptor of one CIM: FilesystemHeader (v2, parentCount 0), then this, then regionCount
// RegionExtents, then sourceCount SourceRecords.
struct DescriptorTail {
    uint32_t regionCount;
    uint32_t sourceCount;
};

// Followed by the UTF-8 source name and zero padding to a multiple of 8.
struct SourceRecord {
    uint8_t identity[32];  // SHA-256 of the source CIM's descriptor
    uint8_t rootHash[32];  // the source block file's sealed root hash (verified merges), else 0
    uint32_t flags;        // 1 = verified
    uint16_t nameLength;
    uint16_t reserved;
};

// Written after the hash tree by CimSealImage (not covered by the tree; it records the tree).
struct SealRecord {
    char magic[8];
    uint32_t version;         // 1
    uint32_t hashAlgorithm;   // 1 = SHA-256
    uint64_t hashOffset;      // = data end: where the dm-verity superblock starts
    uint64_t dataBlocks;
    uint64_t hashAreaSize;    // superblock block + tree blocks, bytes
    uint8_t salt[32];
    uint8_t rootHash[32];
    uint8_t digest[32];       // SHA-256 of the bytes above
};
#pragma pack(pop)

static_assert(sizeof(ContainerHeader) == 88);
static_assert(sizeof(DirectoryEntry) == 16);
static_assert(sizeof(RegionExtent) == 24);
static_assert(sizeof(SourceRecord) == 72);
static_assert(sizeof(SealRecord) == 136);

constexpr uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace cim::block
