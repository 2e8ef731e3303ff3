// Applies LayerOps to an image writer in tar order. What it adds to the plain CIM calls:
//  - missing parent directories are created implicitly (real layers often omit them): Windows
//    layers get a bare directory (attributes DIRECTORY, null SD, zero times, like hcsshim's own
//    Hives directory); Linux layers get uid 0, gid 0, mode 040755 and the Unix epoch as times.
//    (In a merged view such a directory's metadata wins over a lower layer's — only a tar that
//    omits the parent's entry is affected.) The writer itself never creates parents;
//  - whiteouts: a whiteout of a path this layer already holds as a file is a no-op (OCI: whiteouts
//    never hide entries of their own layer); of a directory of this layer, it makes that directory
//    opaque; otherwise CimTombstoneFile. Opaque markers tombstone their (existing or implicit)
//    directory, which the writer turns into an opaque directory;
//  - hard links are deferred until every entry has been written, then applied in tar order
//    (hcsshim): target in this layer -> CimCreateHardLink; target a merge link of this layer, or
//    absent while parent layers were given -> CimCreateMergeLink (the target must then exist in a
//    parent); absent in a base layer (no parents) -> ERROR_INVALID_DATA "hard link to nothing".
//    A later entry with the same name as a pending link replaces the link (later wins);
//  - Windows base layers (no parents) that hold Files\Windows\System32\config: hcsshim's base-layer
//    step — directory Hives\, hard links Hives\<X>_BASE -> Files\Windows\System32\config\<X> for the
//    hives present, and a root file "layout" containing "vhd-with-hives\n". Hive deltas of non-base
//    layers are stored as they come: merging them needs Windows' offline registry API.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "image/writer.h"
#include "layer/layer_op.h"
#include "layer/layer_path.h"

namespace cim::layer {

class LayerApplier {
public:
    // `parentHas` (empty for a base layer) tells whether a path exists in a parent layer.
    LayerApplier(image::Writer& w, LayerFormat f, std::function<bool(const ImagePath&)> parentHas);

    void apply(LayerOp& op);                  // for ops with data and no inline data a stream stays open
    void write(std::span<const std::byte> d);  // data of the open stream
    void endStream();
    void finish();  // deferred links, base-layer hives

    uint64_t entries() const { return entries_; }
    uint64_t dataBytes() const { return dataBytes_; }

private:
    struct PendingLink {
        ImagePath path, target;
        std::string what;
        bool cancelled = false;
    };
    image::Node* find(const ImagePath& p) const;
    void ensureDirectory(const std::vector<std::u16string>& comps, size_t count, const std::string& what);
    void createImplicitDirectory(const ImagePath& p);
    std::u16string key(const ImagePath& p) const;
    void cancelLink(const ImagePath& p);
    void baseLayerHives();
    [[noreturn]] void rethrow(const Error& e, const std::string& what) const;

    image::Writer& w_;
    LayerFormat format_;
    std::function<bool(const ImagePath&)> parentHas_;
    std::vector<PendingLink> links_;
    std::unordered_map<std::u16string, size_t> linkIndex_;
    uint64_t stream_ = 0;
    std::string streamWhat_;
    uint64_t entries_ = 0, dataBytes_ = 0;
    std::vector<std::byte> defaultDirEas_;
};

}  // namespace cim::layer
