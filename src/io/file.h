// RAII file descriptors and exact positional I/O that report errors as cim::Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace cim::io {

class File {
public:
    File() = default;
    explicit File(int fd, std::string path = {}) : fd_(fd), path_(std::move(path)) {}
    File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
    File& operator=(File&& o) noexcept;
    File(const File&) = delete;
    File& operator=(const File&) = delete;
    ~File();

    // Opens with open(2) flags; throws Error naming the path (ENOENT -> 0x80070002).
    static File open(const std::string& path, int flags, int mode = 0644);

    int fd() const { return fd_; }
    const std::string& path() const { return path_; }
    explicit operator bool() const { return fd_ >= 0; }

    uint64_t size() const;  // st_size, or the device size for block devices
    bool isBlockDevice() const;
    // Reads exactly out.size() bytes at offset; a short read (EOF) throws hr::corrupt.
    void readExact(uint64_t offset, std::span<std::byte> out) const;
    // Reads up to out.size() bytes; returns the count (short only at EOF).
    size_t readAt(uint64_t offset, std::span<std::byte> out) const;
    void writeExact(uint64_t offset, std::span<const std::byte> data) const;
    void truncate(uint64_t size) const;
    void sync() const;
    void close();

private:
    int fd_ = -1;
    std::string path_;
};

bool exists(const std::string& path);
bool isDirectory(const std::string& path);
// rename(2) that throws on failure.
void renameFile(const std::string& from, const std::string& to);
// fsync of a directory so a rename inside it is durable.
void syncDirectory(const std::string& dir);
std::string dirName(const std::string& path);
std::string baseName(const std::string& path);
std::string joinPath(const std::string& dir, const std::string& name);
// A unique temporary name next to `target`: ".<base>.tmp-<pid>-<random>". The creating process's
// ID in the name lets reclaimStaleTemps() tell the leftovers of a killed writer from live ones.
std::string tempNameFor(const std::string& target);

// How long a temporary file of a dead process must have been left untouched before it is removed
// (guards against a writer in another PID namespace, whose PID means nothing here, that is still
// working: it keeps its file's mtime fresh).
inline constexpr int kStaleTempSeconds = 60;
// Removes, in `dir`, temporary files left by writers that died (SIGKILL, power loss) before they
// could clean up: regular files named ".<anything>.tmp-<pid>-<hex>[...]" whose process no longer
// exists and which were not modified for kStaleTempSeconds, and files of the older pid-less form
// ".<anything>.tmp-<hex>[...]" not modified for a day. Best effort: never throws. Returns the count.
size_t reclaimStaleTemps(const std::string& dir) noexcept;

}  // namespace cim::io
