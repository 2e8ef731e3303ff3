// Mount points of volumes: where a GUID is mounted, what the kernel has mounted there, and how to
// get rid of a mount that its process left behind. Shared by the in-process volume registry and
// by callers that clean up after a crashed process (CimDismountImage, `opencim unmount`, rootfs).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "format/guid.h"

namespace cim::fuse {

// $OPENCIM_MOUNT_ROOT, or /run/opencim/volumes.
std::string mountRoot();
// <mount root>/<lowercase guid>.
std::string volumePath(const format::Guid& id);

// Creates `path` and its missing parents (mkdir -p, mode 0755). Throws naming the path.
void makeDirectories(const std::string& path);

// The topmost mount whose mount point is exactly `path` (an absolute path without symlinks), read
// from /proc/self/mountinfo.
struct MountEntry {
    std::string mountPoint;
    std::string fsType;  // "fuse.cim" for opencim volumes
    std::string source;  // "opencim"
    unsigned devMajor = 0, devMinor = 0;
};
std::optional<MountEntry> findMount(const std::string& path);
bool isOpencimMount(const MountEntry& m);

// `path` made absolute with its parent's symlinks resolved, without touching `path` itself (which
// may be a dead FUSE mount whose stat fails).
std::string canonicalMountPath(const std::string& path);

// Whether the filesystem mounted at `path` answers: a dead FUSE mount (its process is gone)
// fails with ENOTCONN at once; a live one answers; one whose process hangs does not answer
// within `timeout`.
enum class Liveness { alive, dead, unresponsive };
Liveness probe(const std::string& path, std::chrono::milliseconds timeout);

// Unmounts `path`: a plain unmount first, a lazy one (MNT_DETACH) if it is busy or dead; as a
// non-root user through `fusermount3 -u [-z]`. Returns false if nothing was mounted there.
bool unmountPath(const std::string& path);

// Aborts a FUSE connection through fusectl (/sys/fs/fuse/connections/<dev>/abort), mounting
// fusectl first if needed. Pending and later requests then fail with ENOTCONN. Returns false if
// the connection could not be found or aborted.
bool abortConnection(unsigned devMajor, unsigned devMinor);

// Detaches every dead opencim mount directly under `root` (left by killed processes) and removes
// its directory; live mounts are left alone. Returns how many were removed.
size_t removeDeadMounts(const std::string& root);

// Serialises mount and unmount of volumes across processes (flock on <root>/.lock).
class MountLock {
public:
    explicit MountLock(const std::string& root);
    ~MountLock();
    MountLock(const MountLock&) = delete;
    MountLock& operator=(const MountLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace cim::fuse
