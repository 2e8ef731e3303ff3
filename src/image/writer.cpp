#include "image/writer.h"

#include "common/sha256.h"

#include <cstring>
#include <unordered_map>

#include "common/error.h"
#include "common/utf.h"
#include "format/ea.h"
#include "format/link_table.h"

namespace cim::image {

using namespace cim::format;

namespace {
constexpr uint32_t kMaxReparseSize = 16 * 1024;  // MAXIMUM_REPARSE_DATA_BUFFER_SIZE
constexpr int64_t kSmallDataLimit = kPageSize;   // smaller objects go to the 8-aligned region

Sha256Digest sha256(std::span<const std::byte> a, std::span<const std::byte> b = {}) {
    return Sha256().update(a).update(b).finish();
}

std::string show(const ImagePath& p) {
    std::string s = displayPath(p.components);
    if (p.hasStream) s += ":" + utf16ToUtf8(p.stream);
    return s.empty() ? "\\" : s;
}
}  // namespace

size_t Writer::DedupHash::operator()(const DedupKey& k) const {
    size_t h;
    std::memcpy(&h, k.digest.data(), sizeof h);
    return h ^ (k.length * 31) ^ k.kind;
}

Writer::Writer(std::unique_ptr<ImageTarget> target, const UpcaseTable& upcase, bool consistent,
               std::shared_ptr<const Image> base, std::vector<RegionSet> parentSets)
    : target_(std::move(target)),
      upcase_(&upcase),
      consistent_(consistent),
      parentSets_(std::move(parentSets)),
      base_(std::move(base)),
      randomId_(Guid::random()) {
    name_ = target_->displayName();
    for (const auto& s : parentSets_) parentRegionCount_ += s.count;
    if (base_ && base_->regionCount() != parentRegionCount_) {
        fail(hr::corrupt, "{}: base image has {} regions, its region sets list {}", name_, base_->regionCount(), parentRegionCount_);
    }
    if (parentRegionCount_ + 3 > kMaxRegions) fail(hr::invalidArg, "{}: too many parent regions", name_);
    const RegionType types[] = {RegionType::metadata, RegionType::data, RegionType::smallData};
    for (uint16_t i = 0; i < 3; ++i) {
        regions_.push_back(target_->createRegion(i, types[i]));
        objectIds_.emplace_back();
    }
    root_ = newNode();
    root_->directory = true;
    if (base_) loadBase(*base_);
}

Writer::~Writer() {
    if (stream_ && stream_->sha) EVP_MD_CTX_free(stream_->sha);
    if (!committed_) target_->abort();
}

void Writer::useUpcaseTable(const UpcaseTable& table) {
    if (!root_->children.empty() || stream_) fail(hr::fail, "{}: internal: upcase table changed after entries were added", name_);
    upcase_ = &table;
    root_ = newNode();
    root_->directory = true;
}

RegionWriter& Writer::region(RegionType t) { return *regions_[static_cast<size_t>(t)]; }

RegionOffset Writer::ownOffset(RegionWriter& r, uint64_t byteOffset) const {
    return makeOffset(parentRegionCount_ + static_cast<uint32_t>(r.type()), byteOffset);
}

uint32_t Writer::externalRegionIndex(size_t i) const {
    return parentRegionCount_ + static_cast<uint32_t>(regions_.size() + i);
}

void Writer::recordObject(RegionWriter& r, uint64_t offset, uint64_t length, const uint8_t* digest) {
    ObjectIdEntry e{};
    e.length = length;
    std::memcpy(e.digest, digest, 24);
    e.offset = offset;
    objectIds_[static_cast<size_t>(r.type())].push_back(e);
}

RegionOffset Writer::putMetadata(std::span<const std::byte> bytes, bool u16Prefix) {
    if (u16Prefix && bytes.size() > 0xFFFF) fail(hr::invalidArg, "{}: object of {} bytes exceeds 65535", name_, bytes.size());
    uint16_t len = static_cast<uint16_t>(bytes.size());
    std::span<const std::byte> prefix = u16Prefix ? std::as_bytes(std::span(&len, 1)) : std::span<const std::byte>{};
    auto d = sha256(prefix, bytes);
    DedupKey key{0, prefix.size() + bytes.size(), {}};
    std::memcpy(key.digest.data(), d.data(), 24);
    if (auto it = dedup_.find(key); it != dedup_.end()) return it->second;
    RegionWriter& r = region(RegionType::metadata);
    uint64_t off = r.beginObject();
    if (!prefix.empty()) r.append(prefix);
    r.append(bytes);
    recordObject(r, off, key.length, d.data());
    RegionOffset ro = ownOffset(r, off);
    dedup_.emplace(key, ro);
    return ro;
}

Stream Writer::storeSmall(std::span<const std::byte> bytes) {
    auto d = sha256(bytes);
    DedupKey key{static_cast<uint8_t>(RegionType::smallData), bytes.size(), {}};
    std::memcpy(key.digest.data(), d.data(), 24);
    if (auto it = dedup_.find(key); it != dedup_.end()) return makeStream(it->second, bytes.size(), StreamType::data);
    RegionWriter& r = region(RegionType::smallData);
    uint64_t off = r.appendObject(bytes);
    recordObject(r, off, bytes.size(), d.data());
    RegionOffset ro = ownOffset(r, off);
    dedup_.emplace(key, ro);
    return makeStream(ro, bytes.size(), StreamType::data);
}

void Writer::loadBase(const Image& base) {
    std::unordered_map<uint32_t, NodePtr> byId;
    std::function<NodePtr(const FileNode&)> load = [&](const FileNode& f) -> NodePtr {
        if (auto it = byId.find(f.id); it != byId.end()) return it->second;
        NodePtr n = newNode();
        byId[f.id] = n;
        n->directory = f.isDirectory();
        n->flags = f.rec.flags;
        n->creationTime = f.rec.creationTime;
        n->lastWriteTime = f.rec.lastWriteTime;
        n->changeTime = f.rec.changeTime;
        n->lastAccessTime = f.rec.lastAccessTime;
        n->sd = f.rec.sdOffset;
        n->ea = f.rec.eaOffset;
        n->eaLength = f.rec.eaLength;
        n->reparse = f.rec.reparseOffset;
        n->reparseTag = f.rec.reparseTag;
        n->parentFileId = f.id;
        if (!n->directory) n->data = f.rec.defaultStream;
        for (auto& s : base.alternateStreams(f)) n->streams.emplace(std::move(s.name), s.stream);
        if (n->directory) {
            for (auto& c : base.children(f, true)) {
                FileNode child = base.file(c.id);
                if (child.isDirectory() && byId.count(c.id)) {
                    fail(hr::corrupt, "{}: directory {} is linked twice", base.name(), c.id);
                }
                n->children.emplace(std::move(c.name), load(child));
            }
        }
        return n;
    };
    root_ = load(base.file(base.rootId()));
}

NodePtr Writer::lookup(const ImagePath& path) const {
    NodePtr cur = root_;
    for (const auto& c : path.components) {
        if (!cur->directory) return nullptr;
        auto it = cur->children.find(c);
        if (it == cur->children.end()) return nullptr;
        cur = it->second;
    }
    return cur;
}

Node& Writer::parentOf(const ImagePath& path, const char* op) {
    if (path.components.empty()) fail(hr::invalidArg, "{}: {}: the root has no parent", op, name_);
    Node* cur = root_.get();
    for (size_t i = 0; i + 1 < path.components.size(); ++i) {
        auto it = cur->children.find(path.components[i]);
        if (it == cur->children.end() || !it->second->directory || (it->second->flags & kFlagMergeLink)) {
            fail(hr::pathNotFound, "{}: {}: {}: parent directory does not exist", op, name_, show(path));
        }
        cur = it->second.get();
    }
    return *cur;
}

void Writer::requireNoStream(const char* op) {
    if (committed_) fail(hr::invalidArg, "{}: {}: the image is already committed", op, name_);
    if (!stream_) return;
    if (stream_->written == stream_->declared) {
        finishStream(true);  // a complete stream the caller did not close: close it for them
        return;
    }
    fail(hr::sharingViolation, "{}: {}: stream {} is still open ({} of {} bytes written)", op, name_, stream_->display,
         stream_->written, stream_->declared);
}

void Writer::finishStream(bool complete) {
    std::unique_ptr<OpenStream> s = std::move(stream_);
    Stream result{};
    if (s->region) {
        if (complete) {
            uint8_t d[32];
            unsigned dl = 0;
            EVP_DigestFinal_ex(s->sha, d, &dl);
            DedupKey key{static_cast<uint8_t>(s->region->type()), s->declared, {}};
            std::memcpy(key.digest.data(), d, 24);
            if (auto it = dedup_.find(key); it != dedup_.end()) {
                s->region->rewind(s->objectStart);  // identical object already stored: drop the copy
                result = makeStream(it->second, s->declared, StreamType::data);
            } else {
                recordObject(*s->region, s->objectStart, s->declared, d);
                RegionOffset ro = ownOffset(*s->region, s->objectStart);
                dedup_.emplace(key, ro);
                result = makeStream(ro, s->declared, StreamType::data);
            }
        } else {
            s->region->rewind(s->objectStart);
        }
        EVP_MD_CTX_free(s->sha);
        s->sha = nullptr;
    }
    if (complete) {
        if (s->alt) s->node->streams[s->altName] = result;
        else if (!s->node->directory) s->node->data = result;
    }
}

uint64_t Writer::createFile(const ImagePath& path, const FileMetadata& md) {
    const char* op = "CimCreateFile";
    requireNoStream(op);
    if (path.hasStream) fail(hr::invalidArg, "{}: {}: {}: use CimCreateAlternateStream for streams", op, name_, show(path));
    bool dir = (md.attributes & kAttrDirectory) != 0;
    if (!dir && md.fileSize < 0) fail(hr::invalidArg, "{}: {}: {}: negative file size", op, name_, show(path));
    if (!dir && uint64_t(md.fileSize) > kOffsetMask) fail(hr::invalidArg, "{}: {}: {}: file size too large", op, name_, show(path));
    if (md.securityDescriptor.size() > 0xFFFF) fail(hr::invalidArg, "{}: {}: {}: security descriptor over 65535 bytes", op, name_, show(path));
    if (!md.securityDescriptor.empty() && md.securityDescriptor.size() < 20) {
        fail(hr::invalidArg, "{}: {}: {}: security descriptor of {} bytes is too short", op, name_, show(path), md.securityDescriptor.size());
    }
    if (md.extendedAttributes.size() > 0xFFFF) fail(hr::invalidArg, "{}: {}: {}: extended attributes over 65535 bytes", op, name_, show(path));
    if (!md.extendedAttributes.empty()) {
        try {
            parseEaChain(md.extendedAttributes, hr::invalidArg);
        } catch (const Error& e) {
            throw withContext(e, fmt::format("{}: {}: {}", op, name_, show(path)));
        }
    }
    uint32_t tag = 0;
    if (!md.reparseData.empty()) {
        if (md.reparseData.size() < 8 || md.reparseData.size() > kMaxReparseSize) {
            fail(hr::invalidArg, "{}: {}: {}: reparse buffer of {} bytes", op, name_, show(path), md.reparseData.size());
        }
        uint16_t dataLen;
        std::memcpy(&tag, md.reparseData.data(), 4);
        std::memcpy(&dataLen, md.reparseData.data() + 4, 2);
        if (size_t(dataLen) + 8 != md.reparseData.size()) {
            fail(hr::invalidArg, "{}: {}: {}: reparse data length {} does not match buffer size {}", op, name_, show(path), dataLen,
                 md.reparseData.size());
        }
    }

    Node* target;
    NodePtr node;
    if (path.components.empty()) {
        if (!dir) fail(hr::invalidArg, "{}: {}: the root must be a directory", op, name_);
        node = root_;
    } else {
        Node& parent = parentOf(path, op);
        const auto& leaf = path.components.back();
        auto it = parent.children.find(leaf);
        if (dir && it != parent.children.end() && it->second->directory) {
            node = it->second;  // directory over directory: new metadata, children kept
            parent.children.erase(it);
            parent.children.emplace(leaf, node);
        } else {
            bool wasTombstone = it != parent.children.end() && (it->second->flags & kFlagTombstone) && !it->second->directory;
            if (it != parent.children.end()) parent.children.erase(it);
            node = newNode();
            node->directory = dir;
            // A directory created over a tombstone of this layer is opaque: it hides lower layers.
            if (dir && wasTombstone) node->flags |= kFlagTombstone;
            parent.children.emplace(leaf, node);
        }
    }
    target = node.get();
    target->flags = static_cast<uint16_t>((target->flags & kFlagTombstone & (dir ? 0xFFFF : 0)) | flagsFromAttributes(md.attributes));
    target->creationTime = md.creationTime;
    target->lastWriteTime = md.lastWriteTime;
    target->changeTime = md.changeTime;
    target->lastAccessTime = md.lastAccessTime;
    target->sd = md.securityDescriptor.empty() ? kNullOffset : putMetadata(md.securityDescriptor, true);
    target->ea = md.extendedAttributes.empty() ? kNullOffset : putMetadata(md.extendedAttributes, false);
    target->eaLength = static_cast<uint16_t>(md.extendedAttributes.size());
    target->reparse = md.reparseData.empty() ? kNullOffset : putMetadata(md.reparseData, true);
    target->reparseTag = tag;
    target->data = Stream{};

    auto s = std::make_unique<OpenStream>();
    s->serial = nextSerial_++;
    s->node = node;
    s->display = show(path);
    s->declared = dir ? 0 : uint64_t(md.fileSize);
    if (s->declared > 0) {
        s->region = &region(md.fileSize < kSmallDataLimit ? RegionType::smallData : RegionType::data);
        s->objectStart = s->region->beginObject();
        s->sha = EVP_MD_CTX_new();
        if (!s->sha) throw std::bad_alloc();
        EVP_DigestInit_ex(s->sha, EVP_sha256(), nullptr);
    }
    stream_ = std::move(s);
    return stream_->serial;
}

uint64_t Writer::createAlternateStream(const ImagePath& path, uint64_t size) {
    const char* op = "CimCreateAlternateStream";
    requireNoStream(op);
    if (!path.hasStream) fail(hr::invalidArg, "{}: {}: {}: path is not of the form file:stream", op, name_, show(path));
    if (size > kOffsetMask) fail(hr::invalidArg, "{}: {}: {}: stream size too large", op, name_, show(path));
    NodePtr node = lookup(path);
    if (!node || (node->flags & (kFlagMergeLink)) || ((node->flags & kFlagTombstone) && !node->directory)) {
        fail(hr::pathNotFound, "{}: {}: {}: file does not exist", op, name_, show(path));
    }
    node->streams[path.stream] = Stream{};
    auto s = std::make_unique<OpenStream>();
    s->serial = nextSerial_++;
    s->node = node;
    s->alt = true;
    s->altName = path.stream;
    s->display = show(path);
    s->declared = size;
    if (size > 0) {
        s->region = &region(size < uint64_t(kSmallDataLimit) ? RegionType::smallData : RegionType::data);
        s->objectStart = s->region->beginObject();
        s->sha = EVP_MD_CTX_new();
        if (!s->sha) throw std::bad_alloc();
        EVP_DigestInit_ex(s->sha, EVP_sha256(), nullptr);
    }
    stream_ = std::move(s);
    return stream_->serial;
}

void Writer::write(uint64_t serial, std::span<const std::byte> data) {
    if (!isOpenStream(serial)) fail(hr::invalidHandle, "CimWriteStream: {}: the stream is closed", name_);
    OpenStream& s = *stream_;
    if (!s.alt && s.node->directory) fail(hr::invalidArg, "CimWriteStream: {}: {}: cannot write to a directory", name_, s.display);
    uint64_t room = s.declared - s.written;
    size_t n = static_cast<size_t>(std::min<uint64_t>(room, data.size()));
    if (n) {
        s.region->append(data.first(n));
        EVP_DigestUpdate(s.sha, data.data(), n);
        s.written += n;
    }
    if (n < data.size()) {
        fail(hr::handleEof, "CimWriteStream: {}: {}: write of {} bytes exceeds the declared size {} ({} bytes refused)", name_,
             s.display, data.size(), s.declared, data.size() - n);
    }
}

void Writer::closeStream(uint64_t serial) {
    if (!isOpenStream(serial)) return;  // already closed implicitly (complete): nothing to do
    OpenStream& s = *stream_;
    if (s.written != s.declared) {
        std::string msg = fmt::format("CimCloseStream: {}: {}: incomplete write: {} of {} bytes written; the {} was removed",
                                      name_, s.display, s.written, s.declared, s.alt ? "stream" : "file");
        NodePtr node = s.node;
        bool alt = s.alt;
        std::u16string altName = s.altName;
        finishStream(false);
        if (alt) {
            node->streams.erase(altName);
        } else {
            // Remove every name of the half-written file.
            std::function<void(Node&)> prune = [&](Node& dir) {
                for (auto it = dir.children.begin(); it != dir.children.end();) {
                    if (it->second == node) it = dir.children.erase(it);
                    else {
                        if (it->second->directory) prune(*it->second);
                        ++it;
                    }
                }
            };
            prune(*root_);
        }
        throw Error(hr::handleEof, msg);
    }
    finishStream(true);
}

void Writer::createHardLink(const ImagePath& path, const ImagePath& existing) {
    const char* op = "CimCreateHardLink";
    requireNoStream(op);
    if (path.hasStream || existing.hasStream) fail(hr::invalidArg, "{}: {}: alternate streams cannot be linked", op, name_);
    NodePtr target = lookup(existing);
    if (!target || (target->flags & kFlagMergeLink) || ((target->flags & kFlagTombstone) && !target->directory)) {
        fail(hr::pathNotFound, "{}: {}: {}: link target {} does not exist", op, name_, show(path), show(existing));
    }
    if (target->directory) fail(hr::accessDenied, "{}: {}: {}: link target {} is a directory", op, name_, show(path), show(existing));
    Node& parent = parentOf(path, op);
    parent.children.erase(path.components.back());
    parent.children.emplace(path.components.back(), target);
}

void Writer::deletePath(const ImagePath& path) {
    const char* op = "CimDeletePath";
    requireNoStream(op);
    if (path.components.empty()) fail(hr::invalidArg, "{}: {}: the root cannot be deleted", op, name_);
    if (path.hasStream) {
        NodePtr node = lookup(path);
        if (!node || node->streams.erase(path.stream) == 0) {
            fail(hr::pathNotFound, "{}: {}: {}: no such stream", op, name_, show(path));
        }
        return;
    }
    Node& parent = parentOf(path, op);
    if (parent.children.erase(path.components.back()) == 0) {
        fail(hr::pathNotFound, "{}: {}: {}: no such file or directory", op, name_, show(path));
    }
}

void Writer::tombstone(const ImagePath& path) {
    const char* op = "CimTombstoneFile";
    requireNoStream(op);
    if (path.hasStream) fail(hr::invalidArg, "{}: {}: {}: streams cannot be tombstoned", op, name_, show(path));
    Node& parent = parentOf(path, op);
    const auto& leaf = path.components.back();
    auto it = parent.children.find(leaf);
    if (it != parent.children.end() && it->second->directory) {
        it->second->flags |= kFlagTombstone;  // existing directory of this layer becomes opaque
        return;
    }
    if (it != parent.children.end()) parent.children.erase(it);
    NodePtr n = newNode();
    n->flags = kFlagTombstone;
    parent.children.emplace(leaf, n);
}

void Writer::createMergeLink(const ImagePath& path, const ImagePath& target) {
    const char* op = "CimCreateMergeLink";
    requireNoStream(op);
    if (path.hasStream || target.hasStream) fail(hr::invalidArg, "{}: {}: alternate streams cannot be linked", op, name_);
    if (target.components.empty()) fail(hr::invalidArg, "{}: {}: {}: merge link target is the root", op, name_, show(path));
    Node& parent = parentOf(path, op);
    std::u16string t;
    for (size_t i = 0; i < target.components.size(); ++i) {
        if (i) t.push_back(u'\\');
        t += target.components[i];
    }
    NodePtr n = newNode();
    n->flags = kFlagMergeLink;
    n->data = storeSmall(std::as_bytes(std::span(t.data(), t.size())));
    parent.children.erase(path.components.back());
    parent.children.emplace(path.components.back(), n);
}

NodePtr Writer::importNode(const Image& src, const FileNode& f, const std::vector<uint32_t>& regionMap) {
    auto remap = [&](RegionOffset o) -> RegionOffset {
        if (o == kNullOffset) return o;
        uint32_t r = offsetRegion(o);
        if (r >= regionMap.size()) fail(hr::corrupt, "{}: region {} out of range", src.name(), r);
        return makeOffset(regionMap[r], offsetBytes(o));
    };
    NodePtr n = newNode();
    n->directory = f.isDirectory();
    n->flags = static_cast<uint16_t>(f.rec.flags & 0x1F);
    n->creationTime = f.rec.creationTime;
    n->lastWriteTime = f.rec.lastWriteTime;
    n->changeTime = f.rec.changeTime;
    n->lastAccessTime = f.rec.lastAccessTime;
    // Small metadata objects are copied so the merged CIM's metadata is self-contained.
    auto sd = src.securityDescriptor(f);
    if (!sd.empty()) n->sd = putMetadata(sd, true);
    auto ea = src.extendedAttributes(f);
    if (!ea.empty()) {
        n->ea = putMetadata(ea, false);
        n->eaLength = static_cast<uint16_t>(ea.size());
    }
    auto rp = src.reparseData(f);
    if (!rp.empty()) {
        n->reparse = putMetadata(rp, true);
        n->reparseTag = f.rec.reparseTag;
    }
    if (!n->directory) {
        Stream s = f.rec.defaultStream;
        if (streamType(s) == StreamType::peImage) {
            fail(hr::notSupported, "{}: file {}: PE image streams cannot be merged", src.name(), f.id);
        }
        s.dataOffset = remap(s.dataOffset);
        n->data = s;
    }
    for (auto& as : src.alternateStreams(f)) {
        Stream s = as.stream;
        s.dataOffset = remap(s.dataOffset);
        n->streams.emplace(std::move(as.name), s);
    }
    return n;
}

void Writer::commit() {
    if (committed_) fail(hr::invalidArg, "CimCommitImage: {}: already committed", name_);
    if (stream_) {
        if (stream_->written != stream_->declared) {
            fail(hr::handleEof, "CimCommitImage: {}: {}: incomplete write: {} of {} bytes written", name_, stream_->display,
                 stream_->written, stream_->declared);
        }
        finishStream(true);
    }
    if (beforeCommit_) beforeCommit_(*this);

    // 1. File IDs in depth-first order of sorted names: deterministic for the same tree.
    std::vector<Node*> order;
    std::unordered_map<Node*, bool> seen;
    std::function<void(Node*)> number = [&](Node* n) {
        if (seen[n]) return;
        seen[n] = true;
        order.push_back(n);
        n->assignedId = static_cast<uint32_t>(order.size());
        if (n->directory) {
            for (auto& [name, child] : n->children) number(child.get());
        }
    };
    number(root_.get());
    if (order.size() > UINT32_MAX - kFilesPerTable) fail(hr::invalidArg, "{}: too many files", name_);

    // 2. Link tables, stream tables and file records.
    std::vector<File> records(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
        Node* n = order[i];
        File& r = records[i];
        r.flags = n->flags;
        r.eaLength = n->eaLength;
        r.reparseTag = n->reparseTag;
        r.creationTime = n->creationTime;
        r.lastWriteTime = n->lastWriteTime;
        r.changeTime = n->changeTime;
        r.lastAccessTime = n->lastAccessTime;
        r.sdOffset = n->sd;
        r.eaOffset = n->ea;
        r.reparseOffset = n->reparse;
        r.parentFileId = 0;
        if (n->directory) {
            if (n->children.empty()) {
                r.defaultStream = makeStream(kNullOffset, 0, StreamType::linkTable);
            } else {
                std::vector<std::pair<std::u16string, std::vector<std::byte>>> entries;
                entries.reserve(n->children.size());
                for (auto& [name, child] : n->children) {
                    std::vector<std::byte> e(4);
                    std::memcpy(e.data(), &child->assignedId, 4);
                    entries.emplace_back(name, std::move(e));
                }
                auto table = buildLinkTable(entries, kDirectoryEntrySize);
                r.defaultStream = makeStream(putMetadata(table, false), table.size(), StreamType::linkTable);
            }
        } else {
            r.defaultStream = n->data;
        }
        if (!n->streams.empty()) {
            std::vector<std::pair<std::u16string, std::vector<std::byte>>> entries;
            for (auto& [name, s] : n->streams) {
                std::vector<std::byte> e(sizeof(Stream));
                std::memcpy(e.data(), &s, sizeof s);
                entries.emplace_back(name, std::move(e));
            }
            auto table = buildLinkTable(entries, kStreamEntrySize);
            r.streamTableOffset = putMetadata(table, false);
        }
    }
    std::vector<FileTableDirectoryEntry> dir;
    for (size_t t = 0; t * kFilesPerTable < records.size(); ++t) {
        size_t count = std::min<size_t>(kFilesPerTable, records.size() - t * kFilesPerTable);
        auto bytes = std::as_bytes(std::span(records.data() + t * kFilesPerTable, count));
        dir.push_back({putMetadata(bytes, false), static_cast<uint16_t>(count), static_cast<uint16_t>(sizeof(File)), 0});
    }
    Filesystem fs{};
    fs.upcaseTableOffset = (base_ && std::memcmp(&base_->upcase(), upcase_, kUpcaseTableBytes) == 0)
                               ? base_->filesystem().upcaseTableOffset
                               : putMetadata(std::as_bytes(std::span(upcase_->data(), upcase_->size())), false);
    fs.fileTableDirectoryOffset = putMetadata(std::as_bytes(std::span(dir)), false);
    fs.fileTableDirectoryLength = static_cast<uint32_t>(dir.size());
    fs.rootDirectory = root_->assignedId;
    RegionWriter& meta = region(RegionType::metadata);
    uint64_t fsOff = meta.beginObject();
    meta.append(std::as_bytes(std::span(&fs, 1)));

    // 3. The region set's GUID: random, or derived from the content for consistent CIMs.
    PublishInfo info;
    info.filesystemOffset = ownOffset(meta, fsOff);
    info.parentSets = parentSets_;
    if (consistent_) {
        Sha256 c;
        for (const auto& ids : objectIds_) c.update(ids.data(), ids.size() * sizeof(ObjectIdEntry));
        c.update(&fs, sizeof fs);
        for (const auto& s : parentSets_) c.update(&s, sizeof s);
        auto d = c.finish();
        info.regionSetId = Guid::fromContent(d.data(), d.size());
    } else {
        info.regionSetId = randomId_;
    }
    for (auto& r : regions_) info.ownRegions.push_back(r.get());
    info.objectIds = objectIds_;
    info.externalRegions = externals_;
    info.mergeSources = mergeSources_;
    target_->publish(info);
    committed_ = true;
}

}  // namespace cim::image
