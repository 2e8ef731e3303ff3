// CimFs: the FUSE low-level filesystem that serves one opened CIM read-only.
//
// It keeps no per-inode state: an inode number is a file ID (swapped with FUSE_ROOT_ID for the
// root), so lookup counts and forget need no bookkeeping, and every answer is computed from the
// image's in-memory metadata. The image never changes, so the kernel is told to cache entries,
// attributes, directory listings and file pages for as long as it likes.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "fuse/fuse_api.h"
#include "image/image.h"

namespace cim::fuse {

class CimFs {
public:
    CimFs(std::shared_ptr<const image::Image> image, std::string volumeName);
    ~CimFs();  // frees directory handles whose RELEASEDIR never came (unmounted while open)
    CimFs(const CimFs&) = delete;
    CimFs& operator=(const CimFs&) = delete;

    // The operation table to pass to fuse_session_new with `this` as userdata.
    static const fuse_lowlevel_ops& operations();

    const image::Image& image() const { return *image_; }
    const std::string& volumeName() const { return volume_; }

    // Inode numbers: file IDs with FUSE_ROOT_ID and the root's file ID swapped; alternate streams
    // (reachable as "<file>:<stream>") get numbers with kStreamBit set.
    static constexpr uint64_t kStreamBit = uint64_t(1) << 62;
    fuse_ino_t inodeOf(uint32_t fileId) const;
    // The file ID of a (non-stream) inode number; 0 if the number cannot name a file.
    uint32_t fileIdOf(fuse_ino_t ino) const;

    // Set once the kernel's INIT request has been answered.
    bool waitInitialized(int timeoutMs);

    // Counts of what went wrong while serving (for tests and logs).
    uint64_t integrityErrors() const { return integrityErrors_.load(); }

    // --- request handlers (called through operations()) ---
    void init(fuse_conn_info* conn);
    void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
    void getattr(fuse_req_t req, fuse_ino_t ino);
    void readlink(fuse_req_t req, fuse_ino_t ino);
    void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
    void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
    void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
    void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus);
    void releasedir(fuse_req_t req, fuse_file_info* fi);
    void statfs(fuse_req_t req);
    void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
    void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);

private:
    struct Target;  // a resolved inode: file and optional alternate stream
    struct DirHandle;

    Target resolve(fuse_ino_t ino) const;
    uint32_t linkCountOf(const image::FileNode& node, mode_t type) const;
    fuse_entry_param entryFor(const image::FileNode& node) const;
    fuse_entry_param streamEntry(const image::FileNode& node, size_t index, const image::AltStream& s) const;
    bool lookupStream(fuse_req_t req, const image::FileNode& dir, std::string_view name);
    // Replies with the errno that matches an exception and logs what deserves a log line.
    void replyError(fuse_req_t req, const char* op, fuse_ino_t ino) const;
    void log(const std::string& message) const;

    std::shared_ptr<const image::Image> image_;
    std::string volume_;
    uint32_t rootId_;
    uint32_t fileCount_;
    // Directory link counts (2 + subdirectories), computed on first use; 0 = not yet known.
    std::unique_ptr<std::atomic<uint32_t>[]> dirLinks_;
    std::atomic<bool> noOpen_{false};  // the kernel handles open/release itself (zero-message opens)

    std::mutex initMutex_;
    std::condition_variable initCv_;
    bool initialized_ = false;

    // Directory handles handed to the kernel and not yet released.
    std::mutex dirsMutex_;
    std::unordered_set<DirHandle*> openDirs_;

    mutable std::atomic<uint64_t> integrityErrors_{0};
    mutable std::atomic<uint64_t> logged_{0};
};

}  // namespace cim::fuse
