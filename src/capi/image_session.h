// The object behind a CIMFS_IMAGE_HANDLE: a Writer plus what the ABI adds on top (merge sources,
// the per-handle lock that serialises concurrent callers).
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "image/writer.h"

namespace cim::capi {

struct MergeSourceSpec {
    std::string path;  // "<block path>/<cim name>"
    uint32_t flags;    // CIM_MERGE_*
};

struct ImageSession {
    std::mutex mutex;
    std::unique_ptr<image::Writer> writer;
    uint32_t createFlags = 0;
    std::string blockPath;  // block CIMs: the container (for sealing hints and messages)
    std::vector<MergeSourceSpec> mergeSources;
};

struct StreamSession {
    std::weak_ptr<ImageSession> image;
    uint64_t serial = 0;
};

}  // namespace cim::capi
