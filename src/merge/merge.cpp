#include "merge/merge.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "block/block_image.h"
#include "common/error.h"
#include "common/utf.h"
#include "io/file.h"
#include "opencim/cimfs.h"

namespace cim::merge {

using image::FileNode;
using image::Image;
using image::NodePtr;

namespace {

struct Source {
    std::string spec;
    std::shared_ptr<Image> image;
    std::vector<uint32_t> regionMap;  // source region -> merged region index
};

// One name while a directory is merged: the winning entry, or the same-named directories of
// several layers when it is a directory that merges.
struct Pending {
    enum Kind { file, directory, tombstone, mergeLink } kind;
    size_t layer = 0;
    FileNode winner;
    std::vector<std::pair<size_t, FileNode>> dirLayers;
    bool closed = false;  // no lower layer contributes any more
};

struct PendingLink {
    NodePtr parent;
    std::u16string name;
    std::u16string target;
    std::string display;
};

class Merger {
public:
    Merger(image::Writer& w, std::vector<Source>& sources) : w_(w), sources_(sources) {}

    void run() {
        std::vector<std::pair<size_t, FileNode>> roots;
        for (size_t i = 0; i < sources_.size(); ++i) roots.emplace_back(i, sources_[i].image->file(sources_[i].image->rootId()));
        NodePtr root = importNode(roots.front().first, roots.front().second);
        w_.setRoot(root);
        mergeDirectory(*root, roots, u"");
        resolveLinks();
    }

private:
    NodePtr importNode(size_t layer, const FileNode& f) {
        auto key = (uint64_t(layer) << 32) | f.id;
        if (!f.isDirectory()) {
            if (auto it = imported_.find(key); it != imported_.end()) return it->second;  // hard link in that layer
        }
        NodePtr n = w_.importNode(*sources_[layer].image, f, sources_[layer].regionMap);
        if (!f.isDirectory()) imported_[key] = n;
        return n;
    }

    void mergeDirectory(image::Node& out, const std::vector<std::pair<size_t, FileNode>>& layers, const std::u16string& path) {
        if (++depth_ > 4096) fail(hr::corrupt, "directory nesting deeper than 4096 levels");
        std::map<std::u16string, Pending, image::NameKeyLess> names(out.children.key_comp());
        for (const auto& [layer, dir] : layers) {
            const Image& img = *sources_[layer].image;
            for (auto& e : img.children(dir, true)) {
                FileNode child = img.file(e.id);
                auto it = names.find(e.name);
                if (it == names.end()) {
                    Pending p;
                    p.layer = layer;
                    p.winner = child;
                    if (child.isTombstone()) p.kind = Pending::tombstone, p.closed = true;
                    else if (child.isMergeLink()) p.kind = Pending::mergeLink, p.closed = true;
                    else if (child.isDirectory()) {
                        p.kind = Pending::directory;
                        p.dirLayers.emplace_back(layer, child);
                        p.closed = child.isOpaqueDirectory();  // an opaque directory hides lower ones
                    } else p.kind = Pending::file, p.closed = true;
                    names.emplace(std::move(e.name), std::move(p));
                    continue;
                }
                Pending& p = it->second;
                if (p.closed) continue;
                // Only an open directory reaches here: a lower directory merges into it, anything
                // else ends the merge of that name (the upper directory wins).
                if (child.isDirectory() && !child.isHidden()) {
                    p.dirLayers.emplace_back(layer, child);
                    if (child.isOpaqueDirectory()) p.closed = true;
                } else {
                    p.closed = true;
                }
            }
        }
        for (auto& [name, p] : names) {
            std::u16string childPath = path.empty() ? name : path + u"\\" + name;
            switch (p.kind) {
            case Pending::tombstone: break;  // hidden here and below; not part of the merged tree
            case Pending::file: out.children.emplace(name, importNode(p.layer, p.winner)); break;
            case Pending::mergeLink: {
                links_.push_back({nullptr, name, sources_[p.layer].image->mergeLinkTarget(p.winner), utf16ToUtf8(childPath)});
                pendingParents_.push_back(&out);
                break;
            }
            case Pending::directory: {
                NodePtr d = importNode(p.dirLayers.front().first, p.dirLayers.front().second);
                mergeDirectory(*d, p.dirLayers, childPath);
                out.children.emplace(name, d);
                break;
            }
            }
        }
        --depth_;
    }

    NodePtr lookup(const std::u16string& target) {
        image::Node* cur = &w_.root();
        NodePtr found;
        size_t start = 0;
        while (start <= target.size()) {
            size_t end = target.find(u'\\', start);
            if (end == std::u16string::npos) end = target.size();
            std::u16string comp = target.substr(start, end - start);
            start = end + 1;
            if (comp.empty()) continue;
            if (!cur || !cur->directory) return nullptr;
            auto it = cur->children.find(comp);
            if (it == cur->children.end()) return nullptr;
            found = it->second;
            cur = found.get();
        }
        return found;
    }

    void resolveLinks() {
        // Chains resolve in rounds: each round binds the links whose target exists now.
        std::vector<bool> done(links_.size(), false);
        for (size_t round = 0, remaining = links_.size(); remaining > 0; ++round) {
            size_t bound = 0;
            for (size_t i = 0; i < links_.size(); ++i) {
                if (done[i]) continue;
                NodePtr t = lookup(links_[i].target);
                if (!t) continue;
                if (t->directory) {
                    fail(hr::accessDenied, "merge link {} -> {}: the target is a directory", links_[i].display,
                         utf16ToUtf8(links_[i].target));
                }
                pendingParents_[i]->children.emplace(links_[i].name, t);
                done[i] = true;
                ++bound;
                --remaining;
            }
            if (bound == 0) {
                for (size_t i = 0; i < links_.size(); ++i) {
                    if (!done[i]) {
                        fail(hr::pathNotFound, "merge link {} -> {} cannot be resolved: the target exists in no source",
                             links_[i].display, utf16ToUtf8(links_[i].target));
                    }
                }
            }
        }
    }

    image::Writer& w_;
    std::vector<Source>& sources_;
    std::unordered_map<uint64_t, NodePtr> imported_;
    std::vector<PendingLink> links_;
    std::vector<image::Node*> pendingParents_;
    int depth_ = 0;
};

uint32_t blockTypeOf(uint32_t createFlags) {
    if (createFlags & CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM) return CIM_MERGE_BLOCK_DEVICE;
    if (createFlags & CIM_CREATE_IMAGE_SINGLE_FILE_CIM) return CIM_MERGE_SINGLE_FILE;
    return 0;
}

}  // namespace

void checkMergeSource(const image::Writer& w, uint32_t createFlags, const std::vector<capi::MergeSourceSpec>& added,
                      const std::string& fsPath, uint32_t flags) {
    const char* op = "CimAddFsToMergedImage2";
    if (w.committed()) fail(hr::invalidArg, "{}: {}: the merged image is already committed", op, w.name());
    uint32_t type = blockTypeOf(createFlags);
    if (!type) fail(hr::invalidArg, "{}: {}: only block CIMs can be merged (create the merged CIM as a block CIM)", op, w.name());
    if (flags & ~uint32_t(CIM_MERGE_SINGLE_FILE | CIM_MERGE_BLOCK_DEVICE | CIM_MERGE_VERIFIED_CIM)) {
        fail(hr::invalidArg, "{}: {}: {}: unknown merge flags {:#x}", op, w.name(), fsPath, flags);
    }
    uint32_t srcType = flags & (CIM_MERGE_SINGLE_FILE | CIM_MERGE_BLOCK_DEVICE);
    if (srcType != CIM_MERGE_SINGLE_FILE && srcType != CIM_MERGE_BLOCK_DEVICE) {
        fail(hr::invalidArg, "{}: {}: {}: exactly one of the single-file and block-device flags is required", op, w.name(), fsPath);
    }
    if (srcType != type) fail(hr::invalidArg, "{}: {}: {}: source block type does not match the merged CIM's", op, w.name(), fsPath);
    bool verified = createFlags & CIM_CREATE_IMAGE_VERIFIED_CIM;
    if (bool(flags & CIM_MERGE_VERIFIED_CIM) != verified) {
        fail(hr::invalidArg, "{}: {}: {}: verified and unverified CIMs cannot be merged together", op, w.name(), fsPath);
    }
    auto [blockPath, name] = block::splitSourcePath(fsPath);
    if (!io::exists(blockPath)) fail(hr::fileNotFound, "{}: {}: {}: block CIM does not exist", op, w.name(), blockPath);
    for (const auto& a : added) {
        if (a.path == fsPath) fail(hr::invalidArg, "{}: {}: {}: source added twice", op, w.name(), fsPath);
    }
    if (added.size() >= 0x1000) fail(hr::invalidArg, "{}: {}: too many sources", op, w.name());
}

void prepareMerge(image::Writer& w, const std::vector<capi::MergeSourceSpec>& specs, uint32_t createFlags) {
    const char* op = "CimCommitImage";
    if (specs.size() < 2) fail(hr::invalidArg, "{}: {}: need at least 2 source CIMs to merge, got {}", op, w.name(), specs.size());
    if (!w.root().children.empty()) fail(hr::invalidArg, "{}: {}: a merged CIM must be empty apart from its sources", op, w.name());
    bool verified = createFlags & CIM_CREATE_IMAGE_VERIFIED_CIM;
    auto sources = std::make_shared<std::vector<Source>>();
    std::vector<image::MergeSourceRecord> records;
    for (size_t s = 0; s < specs.size(); ++s) {
        auto [blockPath, name] = block::splitSourcePath(specs[s].path);
        image::MergeSourceRecord rec;
        rec.name = specs[s].path;
        std::shared_ptr<block::Container> c;
        try {
            c = block::Container::open(blockPath);
            if (verified) {
                if (!c->seal()) fail(hr::invalidArg, "source is not sealed; seal it before a verified merge");
                std::memcpy(rec.rootHash.data(), c->seal()->rootHash, 32);
                rec.verified = true;
                c = block::Container::open(blockPath, &rec.rootHash);  // read its metadata verified
            }
            auto d = c->descriptor(c->find(name));
            if (!d.sources.empty()) fail(hr::invalidArg, "source is itself a merged CIM");
            rec.identity = d.identity;
            Source src{specs[s].path, block::openBlock(c, name), {}};
            src.regionMap.assign(src.image->regionCount(), 0);
            sources->push_back(std::move(src));
        } catch (const Error& e) {
            throw withContext(e, fmt::format("{}: {}: source {}", op, w.name(), specs[s].path));
        }
        records.push_back(std::move(rec));
    }
    // Names compare the way the topmost layer's do (identity table for case-sensitive Linux
    // layers, so Makefile and makefile stay two files).
    w.useUpcaseTable(sources->front().image->upcase());
    // External regions: every region of every source, in source order.
    size_t k = 0;
    for (size_t s = 0; s < sources->size(); ++s) {
        auto& src = (*sources)[s];
        for (size_t r = 0; r < src.image->regionCount(); ++r) {
            w.addExternalRegion({static_cast<uint32_t>(s), static_cast<uint32_t>(r), src.image->region(r).size()});
            src.regionMap[r] = w.externalRegionIndex(k++);
        }
    }
    w.setMergeSources(std::move(records));
    w.setBeforeCommit([sources](image::Writer& writer) {
        Merger m(writer, *sources);
        m.run();
    });
}

}  // namespace cim::merge
