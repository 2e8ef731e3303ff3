// Exported mount functions: argument checks, then src/fuse (mount_source: what to open,
// volume_registry: the FUSE sessions of this process). Behaviour: docs/mounting.md.
#include <cstring>

#include "capi/guard.h"
#include "format/guid.h"
#include "fuse/mount_point.h"
#include "fuse/mount_source.h"
#include "fuse/volume_registry.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::capi;

namespace {

format::Guid guidArg(const CIMFS_GUID* id, const char* op) {
    required(id, op, "volumeId");
    format::Guid g;
    std::memcpy(g.bytes.data(), id, 16);
    return g;
}

block::Hash hashArg(const char* op, uint16_t size, const uint8_t* hash) {
    if (size != 32) fail(hr::invalidArg, "{}: hash size {} (SHA-256 root hashes are 32 bytes)", op, size);
    required(hash, op, "hash");
    block::Hash h;
    std::memcpy(h.data(), hash, h.size());
    return h;
}

fuse::MountSource singleSource(const char* op, const char* dir, const char* name, uint32_t flags) {
    required(dir, op, "imageContainingPath");
    required(name, op, "imageName");
    fuse::MountSource src;
    src.paths.emplace_back(dir, name);
    src.flags = flags;
    return src;
}

fuse::MountSource mergedSource(const char* op, uint32_t n, const CIMFS_IMAGE_PATH* paths, uint32_t flags) {
    if (n < 3) fail(hr::invalidArg, "{}: {} paths: need the merged CIM and at least 2 sources", op, n);
    required(paths, op, "backingImagePaths");
    fuse::MountSource src;
    src.merged = true;
    src.flags = flags;
    for (uint32_t i = 0; i < n; ++i) {
        if (!paths[i].ImageDir || !paths[i].ImageName) fail(hr::invalidArg, "{}: path {} has a NULL member", op, i);
        src.paths.emplace_back(paths[i].ImageDir, paths[i].ImageName);
    }
    return src;
}

// Flags and GUID are checked before the image is opened, so that a bad call fails fast and the
// "already mounted" answer does not depend on the image.
void mountSource(const char* op, const CIMFS_GUID* volumeId, const fuse::MountSource& src) {
    format::Guid id = guidArg(volumeId, op);
    fuse::checkMountFlags(op, src);
    auto& registry = fuse::VolumeRegistry::instance();
    if (registry.isMounted(id)) fail(hr::alreadyExists, "{}: volume {} is already mounted", op, id.toString());
    auto image = fuse::openMountSource(op, src);
    try {
        registry.mount(id, std::move(image));
    } catch (const Error& e) {
        throw withContext(e, op);
    }
}

}  // namespace

extern "C" {

CIMFS_API HRESULT CimGetVolumeMountPath(const CIMFS_GUID* volumeId, char* buffer, uint32_t* bufferSize) {
    const char* op = "CimGetVolumeMountPath";
    return guard(op, [&] {
        std::string path = fuse::volumePath(guidArg(volumeId, op));
        required(bufferSize, op, "bufferSize");
        uint32_t cap = *bufferSize;
        *bufferSize = static_cast<uint32_t>(path.size() + 1);
        if (cap < path.size() + 1) fail(hr::insufficientBuffer, "{}: buffer of {} bytes, {} needed", op, cap, path.size() + 1);
        required(buffer, op, "buffer");
        std::memcpy(buffer, path.c_str(), path.size() + 1);
    });
}

CIMFS_API HRESULT CimMountImage(const char* imageContainingPath, const char* imageName, uint32_t mountImageFlags,
                                const CIMFS_GUID* volumeId) {
    const char* op = "CimMountImage";
    return guard(op, [&] { mountSource(op, volumeId, singleSource(op, imageContainingPath, imageName, mountImageFlags)); });
}

CIMFS_API HRESULT CimMountVerifiedImage(const char* imageContainingPath, const char* imageName, uint32_t mountImageFlags,
                                        const CIMFS_GUID* volumeId, uint16_t hashSize, const uint8_t* hash) {
    const char* op = "CimMountVerifiedImage";
    return guard(op, [&] {
        auto src = singleSource(op, imageContainingPath, imageName, mountImageFlags);
        src.rootHash = hashArg(op, hashSize, hash);
        mountSource(op, volumeId, src);
    });
}

CIMFS_API HRESULT CimMergeMountImage(uint32_t numCimPaths, const CIMFS_IMAGE_PATH* backingImagePaths, uint32_t flags,
                                     const CIMFS_GUID* volumeId) {
    const char* op = "CimMergeMountImage";
    return guard(op, [&] { mountSource(op, volumeId, mergedSource(op, numCimPaths, backingImagePaths, flags)); });
}

CIMFS_API HRESULT CimMergeMountVerifiedImage(uint32_t numCimPaths, const CIMFS_IMAGE_PATH* backingImagePaths, uint32_t flags,
                                             const CIMFS_GUID* volumeId, uint16_t hashSize, const uint8_t* hash) {
    const char* op = "CimMergeMountVerifiedImage";
    return guard(op, [&] {
        auto src = mergedSource(op, numCimPaths, backingImagePaths, flags);
        src.rootHash = hashArg(op, hashSize, hash);
        mountSource(op, volumeId, src);
    });
}

CIMFS_API HRESULT CimDismountImage(const CIMFS_GUID* volumeId) {
    const char* op = "CimDismountImage";
    return guard(op, [&] {
        format::Guid id = guidArg(volumeId, op);
        try {
            fuse::VolumeRegistry::instance().dismount(id);
        } catch (const Error& e) {
            throw withContext(e, op);
        }
    });
}

}  // extern "C"
