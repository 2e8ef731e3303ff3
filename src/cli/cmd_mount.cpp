// opencim mount / opencim unmount: FUSE mounts served by this process (foreground), or by a
// detached child that the command waits for until the mount is ready (--detach, as squashfuse
// does). The volume is mounted at $OPENCIM_MOUNT_ROOT/<guid> like CimMountImage's volumes, so
// CimDismountImage and `opencim unmount` from any process reach it.
//
// The command uses the library's C++ API (src/fuse) rather than CimMountImage: it must wait for
// its own session to end, which the C ABI cannot express.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/image_spec.h"
#include "format/guid.h"
#include "fuse/mount_point.h"
#include "fuse/mount_source.h"
#include "fuse/volume_registry.h"

namespace cim::cli {

namespace {

struct MountOptions {
    ImageSpec image;
    std::vector<std::string> args;
    std::string guid;
    bool detach = false;
    bool verifySealed = false;
    bool autoUnmount = false;
    bool debug = false;
};

struct UnmountOptions {
    std::vector<std::string> targets;
    bool dead = false;
};

format::Guid parseGuid(const std::string& text) {
    auto g = format::Guid::parse(text);
    if (!g) throw UsageError(fmt::format("'{}' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", text));
    return *g;
}

fuse::MountSource sourceOf(const MountOptions& o) {
    const ImageSpec& s = o.image;
    fuse::MountSource src;
    auto typeFlag = [](const BlockRef& b) { return b.device ? CIM_MOUNT_BLOCK_DEVICE_CIM : CIM_MOUNT_SINGLE_FILE_CIM; };
    switch (s.kind) {
        case ImageSpec::Kind::standard:
            src.paths.emplace_back(s.dir, s.file);
            break;
        case ImageSpec::Kind::block:
            src.paths.emplace_back(s.block.path, s.block.name);
            src.flags = typeFlag(s.block);
            break;
        case ImageSpec::Kind::merged:
            src.merged = true;
            src.flags = typeFlag(s.block);
            src.paths.emplace_back(s.block.path, s.block.name);
            for (const auto& b : s.sources) src.paths.emplace_back(b.path, b.name);
            break;
    }
    if (s.rootHash) {
        block::Hash h;
        std::copy(s.rootHash->begin(), s.rootHash->end(), h.begin());
        src.rootHash = h;
    }
    if (o.verifySealed) {
        if (s.rootHash) throw UsageError("--verify and --verify-sealed cannot be combined");
        src.flags |= CIM_MOUNT_VERIFIED_CIM;
    }
    return src;
}

// Mounts and returns the mount path (errors as cim::Error).
std::string doMount(const MountOptions& o, const format::Guid& id) {
    auto image = fuse::openMountSource("opencim mount", sourceOf(o));
    fuse::MountOptions mo;
    mo.autoUnmount = o.autoUnmount;
    mo.debug = o.debug;
    return fuse::VolumeRegistry::instance().mount(id, std::move(image), mo);
}

// Serves until a termination signal (then dismounts) or until someone unmounts the volume.
void serveUntilDone(const format::Guid& id, const sigset_t& stopSignals) {
    auto& registry = fuse::VolumeRegistry::instance();
    for (;;) {
        timespec tick{0, 250 * 1000 * 1000};
        int sig = ::sigtimedwait(&stopSignals, nullptr, &tick);
        if (sig > 0 || registry.waitUntilUnmounted(id, std::chrono::milliseconds(0))) break;
    }
    try {
        registry.dismount(id);
    } catch (const Error& e) {
        if (e.code() != hr::fileNotFound) throw;  // already gone: unmounted from outside
    }
}

void redirectStdio() {
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    ::dup2(fd, STDIN_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
}

void runMount(MountOptions& o) {
    auto rest = resolveImage(o.image, o.args);
    if (!rest.empty()) throw UsageError(fmt::format("unexpected argument '{}'", rest.front()));
    format::Guid id = o.guid.empty() ? format::Guid::random() : parseGuid(o.guid);
    sourceOf(o);  // usage errors before any fork

    // Termination signals are taken with sigtimedwait by the serving thread; block them before
    // any thread exists so that every thread inherits the mask.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGHUP);

    if (!o.detach) {
        pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
        std::string path = doMount(o, id);
        std::printf("%s\n", path.c_str());
        std::fflush(stdout);
        std::fprintf(stderr, "opencim: volume %s mounted at %s; Ctrl-C or 'opencim unmount %s' to stop\n",
                     id.toString().c_str(), path.c_str(), id.toString().c_str());
        serveUntilDone(id, stopSignals);
        return;
    }

    // --detach: the child mounts and reports "ok <path>" or "error <hresult> <message>" on a pipe;
    // the parent returns only when the mount is ready (or failed). Fork before any thread exists.
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) failErrno(errno, "pipe");
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) failErrno(errno, "fork");
    if (pid == 0) {
        ::close(p[0]);
        ::setsid();
        pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
        std::string report;
        bool mounted = false;
        try {
            report = "ok " + doMount(o, id);
            mounted = true;
        } catch (const Error& e) {
            report = fmt::format("error {} {}", e.code(), e.what());
        } catch (const std::exception& e) {
            report = fmt::format("error {} {}", hr::fail, e.what());
        }
        if (mounted) redirectStdio();  // let the caller's pipes close: it may be $(opencim mount -d ...)
        (void)!::write(p[1], report.data(), report.size());
        ::close(p[1]);
        if (!mounted) ::_exit(1);
        try {
            serveUntilDone(id, stopSignals);
        } catch (...) {
        }
        std::exit(0);  // runs the registry's atexit cleanup
    }
    ::close(p[1]);
    std::string report;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) report.append(buf, static_cast<size_t>(n));
    }
    ::close(p[0]);
    if (report.rfind("ok ", 0) == 0) {
        std::printf("%s\n", report.substr(3).c_str());
        return;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (report.rfind("error ", 0) == 0) {
        size_t sp = report.find(' ', 6);
        hresult code = static_cast<hresult>(std::stol(report.substr(6, sp - 6)));
        throw Error(code, sp == std::string::npos ? "mount failed" : report.substr(sp + 1));
    }
    fail(hr::fail, "opencim mount: the detached process exited without mounting (status {})", status);
}

void runUnmount(UnmountOptions& o) {
    if (o.dead) {
        if (!o.targets.empty()) throw UsageError("--dead takes no volume arguments");
        size_t n = fuse::removeDeadMounts(fuse::mountRoot());
        std::printf("removed %zu dead mount%s under %s\n", n, n == 1 ? "" : "s", fuse::mountRoot().c_str());
        return;
    }
    if (o.targets.empty()) throw UsageError("expected GUID or PATH (or --dead)");
    for (const auto& t : o.targets) {
        if (auto g = format::Guid::parse(t); g && t.find('/') == std::string::npos) {
            fuse::VolumeRegistry::instance().dismount(*g);
        } else {
            fuse::dismountPath(t);
        }
    }
}

}  // namespace

void registerMount(CLI::App& app) {
    auto o = std::make_shared<MountOptions>();
    auto* cmd = app.add_subcommand("mount", "Mount an image read-only through FUSE at $OPENCIM_MOUNT_ROOT/<guid>");
    addImageOptions(*cmd, o->image);
    cmd->add_option("IMAGE", o->args, "The image (see 'Images' below)");
    cmd->add_option("--guid", o->guid, "Volume GUID (default: a random one)")->type_name("GUID");
    cmd->add_flag("-d,--detach", o->detach, "Serve from a background process; return once the mount is ready");
    cmd->add_flag("--verify-sealed", o->verifySealed,
                  "Verify every read against the root hash sealed into the block CIM (CIM_MOUNT_VERIFIED_CIM)");
    cmd->add_flag("--auto-unmount", o->autoUnmount,
                  "Let fusermount3 unmount the volume if the serving process dies (see docs/mounting.md for the caveats)");
    cmd->add_flag("--debug", o->debug, "libfuse debug output on standard error");
    cmd->callback([o] { runMount(*o); });

    auto u = std::make_shared<UnmountOptions>();
    auto* ucmd = app.add_subcommand("unmount", "Unmount opencim volumes (by GUID or mount path)");
    ucmd->alias("umount");
    ucmd->add_option("TARGET", u->targets, "Volume GUID or mount path");
    ucmd->add_flag("--dead", u->dead, "Remove the dead mounts that killed processes left under $OPENCIM_MOUNT_ROOT");
    ucmd->callback([u] { runUnmount(*u); });
}

}  // namespace cim::cli
