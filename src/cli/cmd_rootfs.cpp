// opencim rootfs mount|cleanup|gc|volume: container root filesystems from CIM layers
// (docs/rootfs.md). The mount is served by this process; `mount --detach` forks a server process
// that keeps serving until someone runs `rootfs cleanup` (or unmounts the path).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/errors.h"
#include "fuse/mount_point.h"

namespace cim::cli {

namespace {

struct MountArgs {
    std::string id, description;
    bool detach = false;
};

std::string readDescription(const std::string& path) {
    if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
    std::ifstream in(path);
    if (!in) throw UsageError("cannot read layer description " + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void logToStderr(void*, uint32_t level, const char* message) {
    static const char* names[] = {"", "error", "warning", "info", "debug"};
    std::fprintf(stderr, "opencim rootfs %s: %s\n", names[level <= 4 ? level : 0], message);
}

std::string mountNow(const MountArgs& a, const std::string& json) {
    char path[4096];
    uint32_t size = sizeof path;
    check(CimMountContainerRootfs(a.id.c_str(), json.c_str(), path, &size), "CimMountContainerRootfs");
    return path;
}

// Serves until the volume is unmounted from outside (rootfs cleanup, umount) or a signal arrives.
void serveUntilUnmounted(const std::string& path) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    for (;;) {
        timespec ts{1, 0};
        if (sigtimedwait(&set, nullptr, &ts) > 0) return;  // exit() unmounts (atexit handler)
        if (!fuse::findMount(path)) return;
    }
}

void runMount(const MountArgs& a) {
    CimSetLogCallback(logToStderr, nullptr);
    std::string json = readDescription(a.description);
    if (!a.detach) {
        std::string path = mountNow(a, json);
        std::printf("%s\n", path.c_str());
        std::fflush(stdout);
        serveUntilUnmounted(path);
        return;
    }
    int ready[2];
    if (pipe(ready) != 0) throw Error(hr::fail, "pipe failed");
    pid_t pid = fork();
    if (pid < 0) throw Error(hr::fail, "fork failed");
    if (pid == 0) {
        close(ready[0]);
        setsid();
        std::string reply;
        std::string path;
        try {
            path = mountNow(a, json);
            reply = "ok " + path;
        } catch (const std::exception& e) {
            reply = std::string("error ") + e.what();
        }
        (void)!write(ready[1], reply.data(), reply.size());
        close(ready[1]);
        if (path.empty()) _exit(1);
        // Detach from the terminal: the server's output goes nowhere from now on.
        if (FILE* n = std::freopen("/dev/null", "w", stdout)) (void)n;
        if (FILE* n = std::freopen("/dev/null", "w", stderr)) (void)n;
        serveUntilUnmounted(path);
        std::exit(0);
    }
    close(ready[1]);
    std::string reply;
    char buf[4096];
    ssize_t n;
    while ((n = read(ready[0], buf, sizeof buf)) > 0) reply.append(buf, static_cast<size_t>(n));
    close(ready[0]);
    if (reply.rfind("ok ", 0) != 0) throw Error(hr::fail, reply.empty() ? "the mount server died" : reply.substr(6));
    std::printf("%s\n", reply.substr(3).c_str());
}

}  // namespace

void registerRootfs(CLI::App& app) {
    auto* cmd = app.add_subcommand("rootfs", "Container root filesystems: mount layers by container ID, clean up, collect");
    cmd->require_subcommand(1);

    auto m = std::make_shared<MountArgs>();
    auto* mount = cmd->add_subcommand("mount", "Merge (cached) and mount a container's layers; prints the mount path");
    mount->add_option("--id", m->id, "Container ID (the volume GUID is derived from it)")->required();
    mount->add_option("DESCRIPTION", m->description, "Layer description JSON file (docs/rootfs.md), - for stdin")->required();
    mount->add_flag("-d,--detach", m->detach, "Return once mounted; a background process serves the mount");
    mount->callback([m] { runMount(*m); });

    auto id = std::make_shared<std::string>();
    auto* cleanup = cmd->add_subcommand("cleanup", "Unmount a container's rootfs (also a dead one) and remove its state");
    cleanup->add_option("ID", *id, "Container ID")->required();
    cleanup->callback([id] {
        CimSetLogCallback(logToStderr, nullptr);
        check(CimCleanupContainerRootfs(id->c_str()), "CimCleanupContainerRootfs");
    });

    auto cache = std::make_shared<std::string>();
    auto* gc = cmd->add_subcommand("gc", "Remove merged CIMs no mounted container uses");
    gc->add_option("--cache", *cache, "Merged CIM cache directory (default $OPENCIM_CACHE_DIR or /var/lib/opencim/merged)");
    gc->callback([cache] {
        uint32_t removed = 0;
        check(CimGarbageCollectMergedCims(cache->empty() ? nullptr : cache->c_str(), &removed), "CimGarbageCollectMergedCims");
        std::printf("removed %u merged CIM(s)\n", removed);
    });

    auto vid = std::make_shared<std::string>();
    auto* volume = cmd->add_subcommand("volume", "Print a container's volume GUID and mount path");
    volume->add_option("ID", *vid, "Container ID")->required();
    volume->callback([vid] {
        CIMFS_GUID g;
        check(CimGetContainerVolumeId(vid->c_str(), &g), "CimGetContainerVolumeId");
        char path[4096];
        uint32_t size = sizeof path;
        check(CimGetVolumeMountPath(&g, path, &size), "CimGetVolumeMountPath");
        std::printf("%s\n", path);
    });
}

}  // namespace cim::cli
