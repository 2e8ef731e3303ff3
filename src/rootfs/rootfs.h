// Container root filesystems from CIM layers (docs/rootfs.md): layers -> (cached) merged CIM ->
// FUSE mount at a volume derived from the container ID -> cleanup, crash-safe.
#pragma once
#include <string>

#include "format/guid.h"
#include "rootfs/layer_description.h"

namespace cim::rootfs {

// Name-based (version 5) UUID of the container ID in opencim's fixed namespace
// (kContainerNamespace below), as hcsshim derives layer volume GUIDs from container IDs.
format::Guid volumeIdForContainer(const std::string& containerId);
inline constexpr const char* kContainerNamespace = "7a9e2f54-1c3b-5d6e-8f01-0c1dca5e0b1e";

struct MountResult {
    format::Guid volume;
    std::string mountPath;
    std::string mergedCim;  // "<block file>:<name>" of the merged CIM, empty for one layer
    bool mergedCreated = false;
};

// $OPENCIM_STATE_DIR or /run/opencim/rootfs: one record per mounted container.
std::string stateDir();

// Prepares and mounts. One layer: mounted directly. Several: a merged CIM named after its
// sources' identities is created once in the cache (aside + rename, under a lock so concurrent
// callers neither race nor duplicate work) and merge-mounted. Verified layers: verified mounts.
// The FUSE session is served by this process (see fuse::VolumeRegistry).
MountResult mountRootfs(const std::string& containerId, const LayerDescription& d);

// Unmounts (also a dead mount left by a killed process) and removes the mount directory and the
// state record. Unknown IDs and repeated calls are not errors. Returns true if something was
// cleaned.
bool cleanupRootfs(const std::string& containerId);

// Removes merged CIMs in `cacheDir` that no state record references. Returns the count.
size_t garbageCollect(const std::string& cacheDir);

}  // namespace cim::rootfs
