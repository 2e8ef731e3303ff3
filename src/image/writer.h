// cim::image::Writer — builds one CIM: the semantics of CimCreateFile, CimWriteStream,
// CimCreateHardLink, CimDeletePath, CimTombstoneFile, CimCreateMergeLink and CimCommitImage.
// Not thread-safe (the C ABI serialises calls per handle).
#pragma once
#include <openssl/evp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/path.h"
#include "common/upcase.h"
#include "image/image.h"
#include "image/target.h"
#include "image/tree.h"

namespace cim::image {

struct FileMetadata {
    uint32_t attributes = 0;
    int64_t fileSize = 0;
    int64_t creationTime = 0, lastWriteTime = 0, changeTime = 0, lastAccessTime = 0;
    std::span<const std::byte> securityDescriptor;
    std::span<const std::byte> reparseData;
    std::span<const std::byte> extendedAttributes;
};

class Writer {
public:
    // `base` is the image a fork starts from (nullptr for a new image); its region list must be a
    // prefix of the new image's (parentSets describe it).
    Writer(std::unique_ptr<ImageTarget> target, const UpcaseTable& upcase, bool consistent,
           std::shared_ptr<const Image> base = nullptr, std::vector<format::RegionSet> parentSets = {});
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    const std::string& name() const { return name_; }
    bool committed() const { return committed_; }

    // Returns a stream serial (> 0) when the file has data to write, 0 otherwise.
    uint64_t createFile(const ImagePath& path, const FileMetadata& md);
    uint64_t createAlternateStream(const ImagePath& path, uint64_t size);
    void write(uint64_t stream, std::span<const std::byte> data);
    void closeStream(uint64_t stream);
    bool isOpenStream(uint64_t stream) const { return stream != 0 && stream_ && stream_->serial == stream; }
    void createHardLink(const ImagePath& path, const ImagePath& existing);
    void deletePath(const ImagePath& path);
    void tombstone(const ImagePath& path);
    void createMergeLink(const ImagePath& path, const ImagePath& target);
    // Copies a whole file from a source image (merge): the data streams point at `regionMap[r]`.
    NodePtr importNode(const Image& src, const FileNode& f, const std::vector<uint32_t>& regionMap);
    Node& root() { return *root_; }
    void setRoot(NodePtr r) { root_ = std::move(r); }
    // Switches the name comparison table of an image that has no entries yet (a merged CIM takes
    // its topmost source's table, so case-sensitive Linux layers merge case-sensitively). The
    // table must outlive the writer.
    void useUpcaseTable(const UpcaseTable& table);
    NodePtr newNode() { return std::make_shared<Node>(upcase_); }

    // Hooks run at commit before the tree is serialized (merged CIMs build their tree here).
    void setBeforeCommit(std::function<void(Writer&)> fn) { beforeCommit_ = std::move(fn); }
    void addExternalRegion(ExternalRegion r) { externals_.push_back(r); }
    uint32_t externalRegionIndex(size_t i) const;  // combined index of external region i
    void setMergeSources(std::vector<MergeSourceRecord> s) { mergeSources_ = std::move(s); }

    void commit();

    // Stores bytes as a deduplicated metadata object (optionally with a u16 length prefix).
    format::RegionOffset putMetadata(std::span<const std::byte> bytes, bool u16Prefix);

private:
    struct OpenStream {
        uint64_t serial;
        NodePtr node;
        std::u16string altName;  // empty: primary stream
        bool alt = false;
        std::string display;
        uint64_t declared = 0, written = 0;
        RegionWriter* region = nullptr;
        uint64_t objectStart = 0;
        EVP_MD_CTX* sha = nullptr;
    };
    struct DedupKey {
        uint8_t kind;
        uint64_t length;
        std::array<uint8_t, 24> digest;
        bool operator==(const DedupKey&) const = default;
    };
    struct DedupHash {
        size_t operator()(const DedupKey& k) const;
    };

    // Returns the directory that will hold the last component (throws 0x80070003 if missing).
    Node& parentOf(const ImagePath& path, const char* op);
    NodePtr lookup(const ImagePath& path) const;
    void requireNoStream(const char* op);
    void finishStream(bool complete);
    void loadBase(const Image& base);
    format::RegionOffset ownOffset(RegionWriter& r, uint64_t byteOffset) const;
    RegionWriter& region(format::RegionType t);
    void recordObject(RegionWriter& r, uint64_t offset, uint64_t length, const uint8_t* digest32);
    format::Stream storeSmall(std::span<const std::byte> bytes);

    std::unique_ptr<ImageTarget> target_;
    std::string name_;
    const UpcaseTable* upcase_;
    bool consistent_;
    std::vector<format::RegionSet> parentSets_;
    uint32_t parentRegionCount_ = 0;
    NodePtr root_;
    std::vector<std::unique_ptr<RegionWriter>> regions_;  // own: metadata, data, small data
    std::vector<std::vector<format::ObjectIdEntry>> objectIds_;
    std::unordered_map<DedupKey, format::RegionOffset, DedupHash> dedup_;
    std::unique_ptr<OpenStream> stream_;
    uint64_t nextSerial_ = 1;
    std::vector<ExternalRegion> externals_;
    std::vector<MergeSourceRecord> mergeSources_;
    std::function<void(Writer&)> beforeCommit_;
    std::shared_ptr<const Image> base_;
    format::Guid randomId_;
    bool committed_ = false;
};

}  // namespace cim::image
