#include "fuse/volume_registry.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "common/error.h"
#include "fuse/cim_fs.h"
#include "fuse/fuse_api.h"
#include "fuse/mount_point.h"
#include "io/file.h"

namespace cim::fuse {

namespace {

constexpr auto kInitTimeout = std::chrono::seconds(10);
constexpr auto kProbeTimeout = std::chrono::seconds(2);
constexpr auto kUnmountGrace = std::chrono::seconds(1);   // loop end after a clean unmount
constexpr auto kAbortGrace = std::chrono::seconds(10);    // loop end after aborting the connection

// libfuse reports why a mount failed only through its log function: keep the text of this
// thread's last messages so the error can carry it, and still print it as libfuse would.
thread_local std::string lastFuseLog;

void fuseLog(enum fuse_log_level level, const char* fmt, va_list ap) {
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (level <= FUSE_LOG_ERR) {
        lastFuseLog = buf;
        while (!lastFuseLog.empty() && lastFuseLog.back() == '\n') lastFuseLog.pop_back();
    }
    std::fprintf(stderr, "opencim: %s", buf);
}

bool userAllowOther() {
    if (::geteuid() == 0) return true;
    std::ifstream in("/etc/fuse.conf");
    std::string line;
    while (std::getline(in, line)) {
        auto start = line.find_first_not_of(" \t");
        if (start != std::string::npos && line.compare(start, 16, "user_allow_other") == 0) return true;
    }
    return false;
}

bool envFlag(const char* name) {
    const char* v = std::getenv(name);
    return v && std::strcmp(v, "1") == 0;
}

// Volumes whose loop could not be stopped are kept alive here rather than freed under a running
// thread (never expected: aborting the connection ends every loop).
std::mutex zombieMutex;
std::vector<std::shared_ptr<Volume>> zombies;

}  // namespace

class Volume : public std::enable_shared_from_this<Volume> {
public:
    Volume(const format::Guid& id, std::shared_ptr<const image::Image> image, const MountOptions& options)
        : id_(id), options_(options), fs_(std::make_unique<CimFs>(std::move(image), id.toString())) {}
    ~Volume() {
        if (session_ && owner_ == ::getpid()) stop();
    }

    const std::string& path() const { return path_; }
    pid_t owner() const { return owner_; }

    bool ended() const {
        std::lock_guard lock(mutex_);
        return ended_;
    }
    bool waitEnded(std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return ended_; });
    }

    // Mounts and starts serving. The caller holds the registry lock and the MountLock.
    void start() {
        if (::access("/dev/fuse", F_OK) != 0) {
            fail(hr::notSupported, "FUSE is not available on this machine: /dev/fuse does not exist (load the fuse module)");
        }
        path_ = canonicalMountPath(volumePath(id_));
        clearStaleMount();
        if (::mkdir(path_.c_str(), 0755) != 0 && errno != EEXIST) failErrno(errno, "mkdir " + path_);
        if (!io::isDirectory(path_)) fail(hr::alreadyExists, "{}: exists and is not a directory", path_);

        std::string opts = "ro,default_permissions,fsname=opencim,subtype=cim";
        if (userAllowOther()) opts += ",allow_other";
        if (options_.suidAndDevices && ::geteuid() == 0) opts += ",suid,dev";
        if (options_.autoUnmount) opts += ",auto_unmount";
        std::vector<std::string> argStrings{"opencim", "-o", opts};
        if (options_.debug || envFlag("OPENCIM_FUSE_DEBUG")) argStrings.push_back("-d");
        std::vector<char*> argv;
        for (auto& s : argStrings) argv.push_back(s.data());
        fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

        static std::once_flag logOnce;
        std::call_once(logOnce, [] { fuse_set_log_func(fuseLog); });
        lastFuseLog.clear();
        session_ = fuse_session_new(&args, &CimFs::operations(), sizeof(fuse_lowlevel_ops), fs_.get());
        fuse_opt_free_args(&args);
        if (!session_) fail(hr::fail, "{}: creating the FUSE session failed: {}", path_, lastFuseLog);
        if (fuse_session_mount(session_, path_.c_str()) != 0) {
            fuse_session_destroy(session_);
            session_ = nullptr;
            ::rmdir(path_.c_str());
            fail(::geteuid() == 0 ? hr::fail : hr::accessDenied, "{}: mount failed: {}", path_,
                 lastFuseLog.empty() ? "see the messages above" : lastFuseLog);
        }
        if (auto m = findMount(path_)) {
            devMajor_ = m->devMajor;
            devMinor_ = m->devMinor;
            if (options_.readAheadKb) setReadAhead();
        }
        owner_ = ::getpid();
        loop_ = std::thread([this] { serve(); });
        if (!fs_->waitInitialized(static_cast<int>(std::chrono::milliseconds(kInitTimeout).count()))) {
            stop();
            fail(hr::fail, "{}: the kernel did not initialise the FUSE connection within {} s", path_, kInitTimeout.count());
        }
    }

    // Unmounts, ends the loop, frees the session and removes the directory. Never throws.
    void stop() noexcept {
        if (!session_) return;
        fuse_session_exit(session_);
        if (!ended()) {
            try {
                unmountPath(path_);  // a clean unmount destroys the superblock: the loop sees ENODEV
            } catch (const std::exception& e) {
                std::fprintf(stderr, "opencim: %s\n", e.what());
            }
            if (!waitEnded(kUnmountGrace)) {
                // Still busy (lazily detached while files are open) or unmounted elsewhere: sever
                // the connection so that every waiting and future request fails with ENOTCONN.
                abortConnection(devMajor_, devMinor_);
                if (!waitEnded(kAbortGrace)) {
                    std::fprintf(stderr, "opencim: %s: the FUSE loop did not stop; leaving it running\n", path_.c_str());
                    loop_.detach();
                    session_ = nullptr;
                    if (auto self = weak_from_this().lock()) {
                        std::lock_guard lock(zombieMutex);
                        zombies.push_back(std::move(self));
                    } else {
                        (void)fs_.release();  // being destroyed: at least keep what the loop reads
                    }
                    return;
                }
            }
        }
        if (loop_.joinable()) loop_.join();
        // The loop may have ended on the exit flag while a lazily detached mount still had open
        // files: nobody answers its requests any more, so sever it (which also makes libfuse's
        // unmount below a quiet no-op instead of a failing umount of a path no longer mounted).
        auto m = findMount(path_);
        if (!m || m->devMajor != devMajor_ || m->devMinor != devMinor_) abortConnection(devMajor_, devMinor_);
        fuse_session_unmount(session_);  // closes the device; unmounts only if still mounted
        fuse_session_destroy(session_);
        session_ = nullptr;
        if (::rmdir(path_.c_str()) != 0 && errno != ENOENT) {
            std::fprintf(stderr, "opencim: rmdir %s: %s\n", path_.c_str(), std::strerror(errno));
        }
    }

private:
    // A mount already at our path: a dead one (its process was killed) is detached, a live one
    // (another process serves this GUID) or a foreign filesystem is an error.
    void clearStaleMount() {
        auto m = findMount(path_);
        if (!m) return;
        if (!isOpencimMount(*m)) {
            fail(hr::alreadyExists, "{}: another filesystem ({}) is mounted there", path_, m->fsType);
        }
        switch (probe(path_, kProbeTimeout)) {
        case Liveness::alive: fail(hr::alreadyExists, "{}: volume is already mounted (by another process)", path_);
        case Liveness::unresponsive:
            fail(hr::alreadyExists, "{}: volume is mounted by a process that does not respond", path_);
        case Liveness::dead:
            std::fprintf(stderr, "opencim: %s: removing the dead mount of a process that exited without dismounting\n",
                         path_.c_str());
            unmountPath(path_);
            break;
        }
    }

    // Best effort: without the privilege (or sysfs) the kernel default stays.
    void setReadAhead() const {
        std::string file = fmt::format("/sys/class/bdi/{}:{}/read_ahead_kb", devMajor_, devMinor_);
        std::ofstream(file) << options_.readAheadKb;
    }

    void serve() {
        // Signals belong to the application's threads, not to the FUSE workers (which inherit this mask).
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        fuse_loop_config* cfg = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(cfg, 1);
        fuse_loop_cfg_set_max_threads(cfg, options_.maxThreads);
        fuse_loop_cfg_set_idle_threads(cfg, std::max(2u, options_.maxThreads / 2));
        fuse_session_loop_mt(session_, cfg);
        fuse_loop_cfg_destroy(cfg);
        {
            std::lock_guard lock(mutex_);
            ended_ = true;
        }
        cv_.notify_all();
    }

    format::Guid id_;
    MountOptions options_;
    std::unique_ptr<CimFs> fs_;
    std::string path_;
    fuse_session* session_ = nullptr;
    std::thread loop_;
    pid_t owner_ = 0;
    unsigned devMajor_ = 0, devMinor_ = 0;
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
    bool ended_ = false;
};

VolumeRegistry& VolumeRegistry::instance() {
    // Never destroyed: the atexit handler (registered after construction, so it runs before any
    // static destructor of ours) unmounts whatever is still mounted.
    static VolumeRegistry* registry = [] {
        auto* r = new VolumeRegistry;
        std::atexit([] { VolumeRegistry::instance().dismountAll(); });
        return r;
    }();
    return *registry;
}

std::shared_ptr<Volume> VolumeRegistry::find(const std::string& key) const {
    auto it = volumes_.find(key);
    return it == volumes_.end() ? nullptr : it->second;
}

std::string VolumeRegistry::mount(const format::Guid& id, std::shared_ptr<const image::Image> image,
                                  const MountOptions& options) {
    std::lock_guard lock(mutex_);
    std::string key = id.toString();
    if (auto old = find(key)) {
        if (!old->ended()) fail(hr::alreadyExists, "volume {} is already mounted at {}", key, old->path());
        old->stop();  // unmounted behind our back: release the old session first
        volumes_.erase(key);
    }
    std::string root = mountRoot();
    makeDirectories(root);
    MountLock crossProcess(root);
    auto v = std::make_shared<Volume>(id, std::move(image), options);
    v->start();
    volumes_[key] = v;
    return v->path();
}

void VolumeRegistry::dismount(const format::Guid& id) {
    std::lock_guard lock(mutex_);
    std::string key = id.toString();
    if (auto v = find(key)) {
        std::string root = mountRoot();
        std::optional<MountLock> crossProcess;
        if (io::isDirectory(root)) crossProcess.emplace(root);
        v->stop();
        volumes_.erase(key);
        return;
    }
    try {
        dismountPath(volumePath(id));
    } catch (const Error& e) {
        if (e.code() != hr::fileNotFound) throw;
        fail(hr::fileNotFound, "no volume {} is mounted ({})", key, e.what());
    }
}

bool VolumeRegistry::isMounted(const format::Guid& id) const {
    std::lock_guard lock(mutex_);
    auto v = find(id.toString());
    return v && !v->ended();
}

bool VolumeRegistry::waitUntilUnmounted(const format::Guid& id, std::chrono::milliseconds timeout) const {
    std::shared_ptr<Volume> v;
    {
        std::lock_guard lock(mutex_);
        v = find(id.toString());
    }
    return !v || v->waitEnded(timeout);
}

void VolumeRegistry::dismountAll() noexcept {
    std::lock_guard lock(mutex_);
    for (auto it = volumes_.begin(); it != volumes_.end();) {
        // A forked child inherits the registry but not the threads or the mounts' ownership: it
        // must leave its parent's volumes alone (they stay in the map, never destroyed here).
        if (it->second->owner() != ::getpid()) {
            ++it;
            continue;
        }
        it->second->stop();
        it = volumes_.erase(it);
    }
}

void dismountPath(const std::string& path) {
    std::string root = mountRoot();
    std::optional<MountLock> crossProcess;
    if (io::isDirectory(root)) crossProcess.emplace(root);
    std::string p = canonicalMountPath(path);
    auto m = findMount(p);
    if (!m) fail(hr::fileNotFound, "{}: nothing is mounted there", p);
    if (!isOpencimMount(*m)) fail(hr::fileNotFound, "{}: not an opencim volume (a {} filesystem is mounted there)", p, m->fsType);
    unmountPath(p);
    if (::rmdir(p.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY) {
        std::fprintf(stderr, "opencim: rmdir %s: %s\n", p.c_str(), std::strerror(errno));
    }
}

}  // namespace cim::fuse
