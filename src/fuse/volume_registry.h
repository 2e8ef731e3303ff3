// The volumes this process has mounted, by GUID: each one a FUSE session served by threads of
// this process (a multi-threaded libfuse loop) at <mount root>/<guid>.
//
// Lifetime and crash safety (docs/mounting.md):
// - CimDismountImage / dismount(): unmount (lazily if busy), abort the connection if the loop
//   still does not end, join the threads, remove the mount directory.
// - A process that exits normally (exit() or return from main) unmounts all its volumes from an
//   atexit handler.
// - A process that is killed leaves a dead mount ("transport endpoint is not connected"): the
//   next mount of the same GUID, CimDismountImage of it and `opencim unmount` detect it (statfs
//   fails with ENOTCONN) and detach it. With MountOptions::autoUnmount, fusermount3 watches the
//   process and unmounts at once when it dies.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "format/guid.h"
#include "image/image.h"

namespace cim::fuse {

struct MountOptions {
    // Let fusermount3 unmount the volume as soon as this process dies (it stays running beside the
    // process for the mount's lifetime). Meant for processes that hold one mount for their whole
    // life, like `opencim mount`.
    bool autoUnmount = false;
    // Honour setuid bits and device nodes (root only; a container root filesystem needs both).
    bool suidAndDevices = true;
    // libfuse debug output on stderr (also turned on by OPENCIM_FUSE_DEBUG=1).
    bool debug = false;
    unsigned maxThreads = 16;
    // Kernel readahead for the volume (root only, /sys/class/bdi/<dev>/read_ahead_kb): FUSE
    // starts at 128 KiB; 1 MiB lets sequential reads travel in 1 MiB requests. 0 keeps the default.
    unsigned readAheadKb = 1024;
};

class Volume;

class VolumeRegistry {
public:
    // The process-wide registry; its first use registers the atexit handler.
    static VolumeRegistry& instance();

    // Mounts `image` read-only as volume `id` and returns the mount path. Errors: 0x800700B7 (the
    // GUID is mounted, here or by a live process), 0x80070032 (no /dev/fuse), others from mkdir
    // and mount(2).
    std::string mount(const format::Guid& id, std::shared_ptr<const image::Image> image, const MountOptions& options = {});

    // Dismounts volume `id`: one of this process, or an opencim mount left at its path by another
    // (live or dead) process. 0x80070002 if nothing is mounted there.
    void dismount(const format::Guid& id);

    // True while a volume of this process serves `id`.
    bool isMounted(const format::Guid& id) const;

    // Waits until the session of volume `id` ends (someone unmounted it). True if it has ended
    // (or the volume is not one of this process), false on timeout.
    bool waitUntilUnmounted(const format::Guid& id, std::chrono::milliseconds timeout) const;

    // Unmounts every volume this process mounted (the atexit handler calls it).
    void dismountAll() noexcept;

private:
    VolumeRegistry() = default;
    std::shared_ptr<Volume> find(const std::string& key) const;

    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Volume>> volumes_;
};

// Unmounts the opencim volume mounted at `path` (whoever mounted it, alive or dead) and removes
// the directory. 0x80070002 when no opencim volume is mounted there.
void dismountPath(const std::string& path);

}  // namespace cim::fuse
