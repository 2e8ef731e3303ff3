#include "fuse/mount_point.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/file.h"

extern char** environ;

namespace cim::fuse {

namespace {

constexpr const char* kFusectl = "/sys/fs/fuse/connections";

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountField(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isdigit(static_cast<unsigned char>(s[i + 2])) && std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
            out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// Runs a program found in PATH with no shell; returns its exit status (-1 if it could not run).
int runProgram(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string mountRoot() {
    const char* r = std::getenv("OPENCIM_MOUNT_ROOT");
    return (r && *r) ? r : "/run/opencim/volumes";
}

std::string volumePath(const format::Guid& id) { return mountRoot() + "/" + id.toString(); }

void makeDirectories(const std::string& path) {
    if (path.empty()) fail(hr::invalidArg, "empty directory path");
    std::string cur;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        cur = path.substr(0, next);
        pos = next + 1;
        if (cur.empty()) continue;  // leading '/'
        if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) failErrno(errno, "mkdir " + cur);
    }
    if (!io::isDirectory(path)) fail(hr::pathNotFound, "{}: exists but is not a directory", path);
}

std::string canonicalMountPath(const std::string& path) {
    std::string dir = io::dirName(path), base = io::baseName(path);
    char buf[PATH_MAX];
    if (!::realpath(dir.empty() ? "." : dir.c_str(), buf)) failErrno(errno, "resolve " + dir);
    std::string d = buf;
    return d == "/" ? "/" + base : d + "/" + base;
}

std::optional<MountEntry> findMount(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::optional<MountEntry> found;
    std::string line;
    while (std::getline(in, line)) {
        // id parent major:minor root mountpoint options [optional fields...] - fstype source superoptions
        std::istringstream ls(line);
        std::string id, parent, devs, root, mnt;
        if (!(ls >> id >> parent >> devs >> root >> mnt)) continue;
        if (unescapeMountField(mnt) != path) continue;
        std::string tok;
        while (ls >> tok && tok != "-") {}
        MountEntry e;
        e.mountPoint = path;
        ls >> e.fsType >> e.source;
        e.source = unescapeMountField(e.source);
        std::sscanf(devs.c_str(), "%u:%u", &e.devMajor, &e.devMinor);
        found = e;  // later lines are mounted on top of earlier ones
    }
    return found;
}

bool isOpencimMount(const MountEntry& m) { return m.fsType == "fuse.cim"; }

Liveness probe(const std::string& path, std::chrono::milliseconds timeout) {
    // statfs always reaches the FUSE server (stat may be answered from cached attributes even
    // after the server died). It runs on its own thread so a hung server cannot hang the caller.
    auto result = std::make_shared<std::promise<int>>();
    std::future<int> fut = result->get_future();
    std::thread([path, result] {
        struct statfs s;
        result->set_value(::statfs(path.c_str(), &s) == 0 ? 0 : errno);
    }).detach();
    if (fut.wait_for(timeout) != std::future_status::ready) return Liveness::unresponsive;
    int err = fut.get();
    return (err == ENOTCONN || err == ECONNABORTED) ? Liveness::dead : Liveness::alive;
}

bool unmountPath(const std::string& path) {
    if (!findMount(path)) return false;
    if (::geteuid() == 0) {
        if (::umount2(path.c_str(), UMOUNT_NOFOLLOW) == 0) return true;
        int err = errno;
        if (err == EBUSY) {
            if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return true;
            err = errno;
        }
        if (err == EINVAL && !findMount(path)) return true;  // someone else unmounted it meanwhile
        if (err != EPERM) failErrno(err, "unmount " + path);
    }
    // Not privileged: fusermount3 may unmount FUSE mounts of the calling user.
    if (runProgram({"fusermount3", "-u", "-q", "--", path}) == 0) return true;
    if (runProgram({"fusermount3", "-u", "-q", "-z", "--", path}) == 0) return true;
    if (!findMount(path)) return true;
    fail(hr::accessDenied, "unmount {}: not permitted (fusermount3 -u failed)", path);
}

bool abortConnection(unsigned devMajor, unsigned devMinor) {
    // fusectl names a connection by the kernel's dev_t of its superblock: major << 20 | minor.
    unsigned long kdev = (static_cast<unsigned long>(devMajor) << 20) | devMinor;
    std::string abortFile = std::string(kFusectl) + "/" + std::to_string(kdev) + "/abort";
    if (::access(abortFile.c_str(), F_OK) != 0 && io::isDirectory(kFusectl)) {
        ::mount("fusectl", kFusectl, "fusectl", 0, nullptr);  // fails harmlessly if already mounted
    }
    int fd = ::open(abortFile.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, "1", 1) == 1;
    ::close(fd);
    return ok;
}

size_t removeDeadMounts(const std::string& root) {
    if (!io::isDirectory(root)) return 0;
    char buf[PATH_MAX];
    if (!::realpath(root.c_str(), buf)) failErrno(errno, "resolve " + root);
    std::string base = buf;
    std::vector<std::string> names;
    if (DIR* d = ::opendir(base.c_str())) {
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != ".." && n != ".lock") names.push_back(n);
        }
        ::closedir(d);
    }
    MountLock lock(base);
    size_t removed = 0;
    for (const auto& n : names) {
        std::string p = base + "/" + n;
        auto m = findMount(p);
        if (!m || !isOpencimMount(*m) || probe(p, std::chrono::seconds(2)) != Liveness::dead) continue;
        unmountPath(p);
        ::rmdir(p.c_str());
        ++removed;
    }
    return removed;
}

MountLock::MountLock(const std::string& root) {
    fd_ = ::open((root + "/.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) return;  // a read-only root: mounting there fails later with a clear error anyway
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {}
}

MountLock::~MountLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace cim::fuse
