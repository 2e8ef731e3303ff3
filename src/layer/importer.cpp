#include "layer/importer.h"

#include <cstring>

#include "format/layout.h"
#include "layer/layer_error.h"
#include "layer/linux_ea.h"
#include "layer/tar_entry.h"

namespace cim::layer {

namespace {
constexpr int64_t kUnixEpochFiletime = 116444736000000000;
}

LayerApplier::LayerApplier(image::Writer& w, LayerFormat f, std::function<bool(const ImagePath&)> parentHas)
    : w_(w), format_(f), parentHas_(std::move(parentHas)) {
    if (f == LayerFormat::Linux) {
        LinuxMetadata md;
        md.mode = 040755;
        defaultDirEas_ = buildLinuxEas(md, "implicit directory");
    }
}

void LayerApplier::rethrow(const Error& e, const std::string& what) const {
    hresult c = e.code();
    if (c == hr::invalidArg || c == hr::pathNotFound || c == hr::fileNotFound || c == hr::accessDenied || c == hr::directory ||
        c == hr::fileExists || c == hr::handleEof) {
        c = kInvalidData;
    }
    throw Error(c, fmt::format("{}: {}", what, e.what()));
}

image::Node* LayerApplier::find(const ImagePath& p) const {
    image::Node* cur = &w_.root();
    for (const auto& c : p.components) {
        if (!cur->directory) return nullptr;
        auto it = cur->children.find(c);
        if (it == cur->children.end()) return nullptr;
        cur = it->second.get();
    }
    return cur;
}

std::u16string LayerApplier::key(const ImagePath& p) const {
    const UpcaseTable* up = w_.root().children.key_comp().table;
    std::u16string k;
    for (const auto& c : p.components) {
        for (char16_t ch : c) k.push_back((*up)[ch]);
        k.push_back(u'\\');
    }
    return k;
}

void LayerApplier::cancelLink(const ImagePath& p) {
    if (linkIndex_.empty()) return;
    auto it = linkIndex_.find(key(p));
    if (it != linkIndex_.end()) {
        links_[it->second].cancelled = true;
        linkIndex_.erase(it);
    }
}

void LayerApplier::createImplicitDirectory(const ImagePath& p) {
    image::FileMetadata md;
    md.attributes = format::kAttrDirectory;
    md.securityDescriptor = nullSecurityDescriptor();
    if (format_ == LayerFormat::Linux) {
        md.extendedAttributes = defaultDirEas_;
        md.creationTime = md.lastWriteTime = md.changeTime = md.lastAccessTime = kUnixEpochFiletime;
    }
    w_.createFile(p, md);
}

// Makes sure the first `count` components name a directory, creating missing ones.
void LayerApplier::ensureDirectory(const std::vector<std::u16string>& comps, size_t count, const std::string& what) {
    image::Node* cur = &w_.root();
    for (size_t i = 0; i < count; ++i) {
        auto it = cur->children.find(comps[i]);
        bool hidden = it != cur->children.end() && (it->second->flags & format::kFlagTombstone) && !it->second->directory;
        if (it == cur->children.end() || hidden) {
            ImagePath p;
            p.components.assign(comps.begin(), comps.begin() + static_cast<ptrdiff_t>(i) + 1);
            cancelLink(p);
            try {
                createImplicitDirectory(p);  // over a tombstone: an opaque directory, as it should be
            } catch (const Error& e) {
                rethrow(e, what);
            }
            it = cur->children.find(comps[i]);
        } else if (!it->second->directory || (it->second->flags & format::kFlagMergeLink)) {
            failData("{}: parent '{}' is not a directory", what, displayPath({comps.begin(), comps.begin() + static_cast<ptrdiff_t>(i) + 1}));
        }
        cur = it->second.get();
    }
}

void LayerApplier::apply(LayerOp& op) {
    if (stream_) failData("{}: internal error: previous stream still open", op.what);
    ++entries_;
    try {
        switch (op.kind) {
            case OpKind::whiteout: {
                ensureDirectory(op.path.components, op.path.components.size() - 1, op.what);
                image::Node* n = find(op.path);
                bool isFile = n && !n->directory && !(n->flags & (format::kFlagTombstone | format::kFlagMergeLink));
                if (!isFile) w_.tombstone(op.path);  // a directory of this layer becomes opaque
                return;
            }
            case OpKind::opaque: {
                ensureDirectory(op.path.components, op.path.components.size(), op.what);
                w_.tombstone(op.path);
                return;
            }
            case OpKind::hardLink: {
                cancelLink(op.path);
                linkIndex_[key(op.path)] = links_.size();
                links_.push_back({op.path, op.target, op.what});
                return;
            }
            case OpKind::altStream: {
                image::Node* n = find(op.path);
                if (!n || ((n->flags & (format::kFlagTombstone | format::kFlagMergeLink)) && !n->directory)) {
                    failData("{}: alternate stream of a file that is not in the layer", op.what);
                }
                stream_ = w_.createAlternateStream(op.path, op.size);
                break;
            }
            case OpKind::file: {
                if (!op.path.components.empty()) ensureDirectory(op.path.components, op.path.components.size() - 1, op.what);
                cancelLink(op.path);
                image::FileMetadata md;
                md.attributes = op.attributes;
                md.fileSize = static_cast<int64_t>(op.size);
                md.creationTime = op.creationTime;
                md.lastWriteTime = op.lastWriteTime;
                md.changeTime = op.changeTime;
                md.lastAccessTime = op.lastAccessTime;
                md.securityDescriptor = op.securityDescriptor;
                md.extendedAttributes = op.extendedAttributes;
                md.reparseData = op.reparseData;
                stream_ = w_.createFile(op.path, md);
                if (op.regular) dataBytes_ += op.size;
                break;
            }
        }
        streamWhat_ = op.what;
        if (op.size == 0) {
            if (stream_) w_.closeStream(stream_);
            stream_ = 0;
        } else if (op.hasInline) {
            w_.write(stream_, op.inlineData);
            w_.closeStream(stream_);
            stream_ = 0;
        }
    } catch (const Error& e) {
        if (e.code() == kInvalidData || std::string_view(e.what()).starts_with(op.what)) throw;
        rethrow(e, op.what);
    }
}

void LayerApplier::write(std::span<const std::byte> d) {
    try {
        w_.write(stream_, d);
    } catch (const Error& e) {
        rethrow(e, streamWhat_);
    }
}

void LayerApplier::endStream() {
    try {
        w_.closeStream(stream_);
    } catch (const Error& e) {
        rethrow(e, streamWhat_);
    }
    stream_ = 0;
}

void LayerApplier::finish() {
    for (auto& l : links_) {
        if (l.cancelled) continue;
        try {
            ensureDirectory(l.path.components, l.path.components.size() - 1, l.what);
            image::Node* t = find(l.target);
            bool merge = t && (t->flags & format::kFlagMergeLink);
            bool present = t && !merge && !((t->flags & format::kFlagTombstone) && !t->directory);
            if (present) {
                if (t->directory) failData("{}: hard link to the directory '{}'", l.what, displayPath(l.target.components));
                w_.createHardLink(l.path, l.target);
            } else if (merge) {
                w_.createMergeLink(l.path, l.target);
            } else if (parentHas_) {
                if (!parentHas_(l.target)) {
                    failData("{}: hard link target '{}' is neither in this layer nor in its parent layers", l.what,
                             displayPath(l.target.components));
                }
                w_.createMergeLink(l.path, l.target);
            } else {
                failData("{}: hard link target '{}' does not exist in this layer, which has no parent layers (hard link to nothing)",
                         l.what, displayPath(l.target.components));
            }
        } catch (const Error& e) {
            if (e.code() == kInvalidData) throw;
            rethrow(e, l.what);
        }
    }
    links_.clear();
    linkIndex_.clear();
    if (format_ == LayerFormat::Windows && !parentHas_) baseLayerHives();
}

void LayerApplier::baseLayerHives() {
    auto path = [](std::initializer_list<const char16_t*> cs) {
        ImagePath p;
        for (auto c : cs) p.components.emplace_back(c);
        return p;
    };
    image::Node* config = find(path({u"Files", u"Windows", u"System32", u"config"}));
    if (!config || !config->directory) return;
    static const std::pair<const char16_t*, const char16_t*> kHives[] = {
        {u"SYSTEM", u"SYSTEM_BASE"},
        {u"SOFTWARE", u"SOFTWARE_BASE"},
        {u"SAM", u"SAM_BASE"},
        {u"SECURITY", u"SECURITY_BASE"},
        {u"DEFAULT", u"DEFAULTUSER_BASE"},
    };
    ImagePath hives = path({u"Hives"});
    image::Node* h = find(hives);
    if (!h || !h->directory) {
        image::FileMetadata md;
        md.attributes = format::kAttrDirectory;
        md.securityDescriptor = nullSecurityDescriptor();
        w_.createFile(hives, md);
    }
    for (const auto& [name, base] : kHives) {
        ImagePath src = path({u"Files", u"Windows", u"System32", u"config", name});
        image::Node* f = find(src);
        if (!f || f->directory || (f->flags & (format::kFlagTombstone | format::kFlagMergeLink))) continue;
        w_.createHardLink(path({u"Hives", base}), src);
    }
    static const char kLayout[] = "vhd-with-hives\n";
    image::FileMetadata md;
    md.attributes = 0x80;  // FILE_ATTRIBUTE_NORMAL (stored as no flags)
    md.fileSize = sizeof(kLayout) - 1;
    md.securityDescriptor = nullSecurityDescriptor();
    uint64_t s = w_.createFile(path({u"layout"}), md);
    w_.write(s, std::as_bytes(std::span(kLayout, sizeof(kLayout) - 1)));
    w_.closeStream(s);
}

}  // namespace cim::layer
