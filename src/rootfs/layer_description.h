// The layer description a snapshotter hands to `rootfs mount` (docs/rootfs.md):
//   {
//     "layers": [                                   topmost first, at least one
//       {"blockPath": "/var/lib/x/3/layer.bcim", "cimName": "layer.cim", "rootHash": "<64 hex>"},
//       ...
//     ],
//     "mergedCacheDir": "/var/lib/opencim/merged"   optional
//   }
// rootHash is optional, but all layers have one (verified rootfs) or none.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "block/container.h"

namespace cim::rootfs {

struct LayerRef {
    std::string blockPath;
    std::string cimName;
    std::optional<block::Hash> rootHash;
};

struct LayerDescription {
    std::vector<LayerRef> layers;  // topmost first
    std::string mergedCacheDir;
    bool verified() const { return !layers.empty() && layers.front().rootHash.has_value(); }
};

// Parses and checks the JSON text: every malformed or missing field is E_INVALIDARG naming the
// field ("layers[2].cimName: missing"). Files are not touched here.
LayerDescription parseLayerDescription(const std::string& json);

// Default cache directory of merged CIMs: $OPENCIM_CACHE_DIR or /var/lib/opencim/merged.
std::string defaultMergedCacheDir();

}  // namespace cim::rootfs
