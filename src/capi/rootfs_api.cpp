// Exported rootfs lifecycle and logging functions.
#include <cstring>

#include "capi/guard.h"
#include "common/log.h"
#include "fuse/mount_point.h"
#include "opencim/cimfs.h"
#include "rootfs/rootfs.h"

using namespace cim;
using namespace cim::capi;

extern "C" {

CIMFS_API HRESULT CimSetLogCallback(CIMFS_LOG_CALLBACK callback, void* context) {
    return guard("CimSetLogCallback", [&] { setLogCallback(callback, context); });
}

CIMFS_API HRESULT CimGetContainerVolumeId(const char* containerId, CIMFS_GUID* volumeId) {
    const char* op = "CimGetContainerVolumeId";
    return guard(op, [&] {
        required(containerId, op, "containerId");
        required(volumeId, op, "volumeId");
        if (!*containerId) fail(hr::invalidArg, "{}: the container ID is empty", op);
        auto g = rootfs::volumeIdForContainer(containerId);
        std::memcpy(volumeId, g.bytes.data(), 16);
    });
}

CIMFS_API HRESULT CimMountContainerRootfs(const char* containerId, const char* json, char* mountPath, uint32_t* mountPathSize) {
    const char* op = "CimMountContainerRootfs";
    return guard(op, [&] {
        required(containerId, op, "containerId");
        required(json, op, "layerDescriptionJson");
        // The path is known before mounting, so a small buffer fails before anything is mounted.
        if (mountPathSize && *mountPathSize) {
            std::string expected = fuse::volumePath(rootfs::volumeIdForContainer(containerId));
            if (*mountPathSize < expected.size() + 1 || !mountPath) {
                uint32_t cap = *mountPathSize;
                *mountPathSize = static_cast<uint32_t>(expected.size() + 1);
                fail(hr::insufficientBuffer, "{}: {}: buffer of {} bytes, {} needed", op, containerId, cap, expected.size() + 1);
            }
        }
        rootfs::MountResult r;
        try {
            r = rootfs::mountRootfs(containerId, rootfs::parseLayerDescription(json));
        } catch (const Error& e) {
            throw withContext(e, fmt::format("{}: {}", op, containerId));
        }
        if (mountPathSize) {
            uint32_t cap = *mountPathSize;
            *mountPathSize = static_cast<uint32_t>(r.mountPath.size() + 1);
            if (cap) std::memcpy(mountPath, r.mountPath.c_str(), r.mountPath.size() + 1);
        }
    });
}

CIMFS_API HRESULT CimCleanupContainerRootfs(const char* containerId) {
    const char* op = "CimCleanupContainerRootfs";
    return guard(op, [&] {
        required(containerId, op, "containerId");
        try {
            rootfs::cleanupRootfs(containerId);
        } catch (const Error& e) {
            throw withContext(e, fmt::format("{}: {}", op, containerId));
        }
    });
}

CIMFS_API HRESULT CimGarbageCollectMergedCims(const char* cacheDir, uint32_t* removedCount) {
    const char* op = "CimGarbageCollectMergedCims";
    return guard(op, [&] {
        size_t n = rootfs::garbageCollect(cacheDir ? cacheDir : rootfs::defaultMergedCacheDir());
        if (removedCount) *removedCount = static_cast<uint32_t>(n);
    });
}

}  // extern "C"
