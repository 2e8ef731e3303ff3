#include "io/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "common/error.h"
#include "format/guid.h"

namespace cim::io {

File& File::operator=(File&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = o.fd_;
        path_ = std::move(o.path_);
        o.fd_ = -1;
    }
    return *this;
}

File::~File() { close(); }

void File::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

File File::open(const std::string& path, int flags, int mode) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) failErrno(errno, path);
    return File(fd, path);
}

uint64_t File::size() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) failErrno(errno, path_);
    if (S_ISBLK(st.st_mode)) {
        uint64_t bytes = 0;
        if (::ioctl(fd_, BLKGETSIZE64, &bytes) != 0) failErrno(errno, path_);
        return bytes;
    }
    return static_cast<uint64_t>(st.st_size);
}

bool File::isBlockDevice() const {
    struct stat st;
    return ::fstat(fd_, &st) == 0 && S_ISBLK(st.st_mode);
}

size_t File::readAt(uint64_t offset, std::span<std::byte> out) const {
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            failErrno(errno, fmt::format("{}: read of {} bytes at {}", path_, out.size(), offset));
        }
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return done;
}

void File::readExact(uint64_t offset, std::span<std::byte> out) const {
    if (readAt(offset, out) != out.size()) {
        fail(hr::corrupt, "{}: {} bytes at offset {} lie past the end of the file", path_, out.size(), offset);
    }
}

void File::writeExact(uint64_t offset, std::span<const std::byte> data) const {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            failErrno(errno, fmt::format("{}: write", path_));
        }
        done += static_cast<size_t>(n);
    }
}

void File::truncate(uint64_t size) const {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) failErrno(errno, path_);
}

void File::sync() const {
    if (::fdatasync(fd_) != 0) failErrno(errno, path_ + ": sync");
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void renameFile(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) failErrno(errno, fmt::format("rename {} -> {}", from, to));
}

void syncDirectory(const std::string& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

std::string dirName(const std::string& path) {
    auto p = path.find_last_of('/');
    if (p == std::string::npos) return ".";
    if (p == 0) return "/";
    return path.substr(0, p);
}

std::string baseName(const std::string& path) {
    auto p = path.find_last_of('/');
    return p == std::string::npos ? path : path.substr(p + 1);
}

std::string joinPath(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    if (dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

std::string tempNameFor(const std::string& target) {
    return joinPath(dirName(target), "." + baseName(target) + ".tmp-" + std::to_string(::getpid()) + "-" +
                                         format::Guid::random().toString().substr(0, 8));
}

size_t reclaimStaleTemps(const std::string& dir) noexcept {
    size_t removed = 0;
    DIR* d = ::opendir(dir.empty() ? "." : dir.c_str());
    if (!d) return 0;
    time_t now = ::time(nullptr);
    while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        auto at = n.find(".tmp-");
        if (n.size() < 2 || n[0] != '.' || at == std::string_view::npos || at == 0) continue;
        std::string_view rest = n.substr(at + 5);
        size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
        bool withPid = digits > 0 && digits < 10 && digits < rest.size() && rest[digits] == '-';
        struct stat st;
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        time_t age = now - st.st_mtime;
        bool stale;
        if (withPid) {
            long pid = std::strtol(std::string(rest.substr(0, digits)).c_str(), nullptr, 10);
            bool dead = pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
            stale = dead && age >= kStaleTempSeconds;
        } else {
            stale = age >= 24 * 3600;
        }
        if (stale && ::unlinkat(::dirfd(d), e->d_name, 0) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

}  // namespace cim::io
