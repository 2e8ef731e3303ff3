#include "fuse/cim_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <syslog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/utf.h"
#include "format/layout.h"
#include "fuse/posix_view.h"
#include "fuse/xattr_view.h"

namespace cim::fuse {

namespace {

// The image is immutable for the life of the mount: let the kernel keep what it learns.
constexpr double kForever = 365.0 * 24 * 3600;
constexpr uint64_t kMaxStreamIndex = 0xFFFF;
constexpr uint64_t kLogFirst = 20, kLogEvery = 1000;  // rate limit for per-request error logs

CimFs* self(fuse_req_t req) { return static_cast<CimFs*>(fuse_req_userdata(req)); }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
        if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
        if (x != y) return false;
    }
    return true;
}

// Per-thread scratch buffer for reads, so a request does not allocate.
std::vector<char>& scratch(size_t size) {
    thread_local std::vector<char> buf;
    if (buf.size() < size) buf.resize(size);
    return buf;
}

void replyXattr(fuse_req_t req, size_t size, const void* data, size_t len) {
    if (size == 0) fuse_reply_xattr(req, len);
    else if (size < len) fuse_reply_err(req, ERANGE);
    else fuse_reply_buf(req, static_cast<const char*>(data), len);
}

}  // namespace

struct CimFs::Target {
    image::FileNode node;
    std::optional<image::AltStream> stream;
    size_t streamIndex = 0;
};

struct CimFs::DirHandle {
    struct Entry {
        std::string name;
        uint32_t id;
    };
    uint32_t dirId = 0;
    uint32_t parentId = 0;
    std::vector<Entry> entries;  // "." and ".." not included
};

CimFs::CimFs(std::shared_ptr<const image::Image> image, std::string volumeName)
    : image_(std::move(image)), volume_(std::move(volumeName)) {
    rootId_ = image_->rootId();
    fileCount_ = image_->fileCount();
    dirLinks_ = std::make_unique<std::atomic<uint32_t>[]>(size_t(fileCount_) + 1);
}

CimFs::~CimFs() {
    for (DirHandle* h : openDirs_) delete h;
}

fuse_ino_t CimFs::inodeOf(uint32_t id) const {
    if (id == rootId_) return FUSE_ROOT_ID;
    if (id == FUSE_ROOT_ID) return rootId_;
    return id;
}

uint32_t CimFs::fileIdOf(fuse_ino_t ino) const {
    if (ino == FUSE_ROOT_ID) return rootId_;
    if (ino == 0 || (ino & kStreamBit) || ino > fileCount_) return 0;
    if (ino == rootId_) return FUSE_ROOT_ID;
    return static_cast<uint32_t>(ino);
}

bool CimFs::waitInitialized(int timeoutMs) {
    std::unique_lock lock(initMutex_);
    return initCv_.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return initialized_; });
}

CimFs::Target CimFs::resolve(fuse_ino_t ino) const {
    Target t;
    if (ino & kStreamBit) {
        uint64_t id = (ino & ~kStreamBit) >> 16, index = ino & kMaxStreamIndex;
        if (id == 0 || id > fileCount_) cim::fail(hr::invalidHandle, "inode {:#x} names no stream", ino);
        t.node = image_->file(static_cast<uint32_t>(id));
        auto streams = image_->alternateStreams(t.node);
        if (index >= streams.size()) cim::fail(hr::invalidHandle, "inode {:#x} names no stream", ino);
        t.stream = std::move(streams[index]);
        t.streamIndex = index;
        return t;
    }
    uint32_t id = fileIdOf(ino);
    if (id == 0) cim::fail(hr::invalidHandle, "inode {} names no file", ino);
    t.node = image_->file(id);
    return t;
}

uint32_t CimFs::linkCountOf(const image::FileNode& node, mode_t type) const {
    if (type != S_IFDIR) return image_->linkCount(node.id);
    if (node.id > fileCount_) return 1;
    uint32_t cached = dirLinks_[node.id].load(std::memory_order_relaxed);
    if (cached) return cached;
    uint32_t n = 2;
    for (const auto& e : image_->children(node)) {
        image::FileNode child = image_->file(e.id);
        if (child.isDirectory() && fileType(*image_, child) == S_IFDIR) ++n;
    }
    dirLinks_[node.id].store(n, std::memory_order_relaxed);
    return n;
}

fuse_entry_param CimFs::entryFor(const image::FileNode& node) const {
    // Type first (cheap), then the full view with the matching link count.
    mode_t type = fileType(*image_, node);
    PosixNode p = describe(*image_, node, linkCountOf(node, type));
    fuse_entry_param e{};
    e.ino = inodeOf(node.id);
    e.generation = 1;
    e.attr = p.st;
    e.attr_timeout = kForever;
    e.entry_timeout = kForever;
    return e;
}

fuse_entry_param CimFs::streamEntry(const image::FileNode& node, size_t index, const image::AltStream& s) const {
    PosixNode p = describe(*image_, node, 1);
    fuse_entry_param e{};
    e.ino = kStreamBit | (uint64_t(node.id) << 16) | index;
    e.generation = 1;
    e.attr = p.st;
    e.attr.st_ino = e.ino;
    e.attr.st_mode = S_IFREG | 0444;
    e.attr.st_nlink = 1;
    e.attr.st_rdev = 0;
    e.attr.st_size = static_cast<off_t>(format::streamLength(s.stream));
    e.attr.st_blocks = (e.attr.st_size + 511) / 512;
    e.attr_timeout = kForever;
    e.entry_timeout = kForever;
    return e;
}

void CimFs::log(const std::string& message) const {
    uint64_t n = ++logged_;
    if (n > kLogFirst && n % kLogEvery != 0) return;
    std::string line = fmt::format("opencim: {}: {}{}", volume_, message,
                                   n > kLogFirst ? fmt::format(" ({} errors so far)", n) : "");
    std::fprintf(stderr, "%s\n", line.c_str());
    syslog(LOG_ERR, "%s", line.c_str());
}

void CimFs::replyError(fuse_req_t req, const char* op, fuse_ino_t ino) const {
    int err = EIO;
    try {
        throw;
    } catch (const Error& e) {
        switch (e.code()) {
        case hr::integrity: {
            ++integrityErrors_;
            std::string what = e.what();
            if (what.find("integrity violation") == std::string::npos) what = "integrity violation: " + what;
            log(fmt::format("{} of inode {}: {}", op, ino, what));
            err = EIO;
            break;
        }
        case hr::fileNotFound:
        case hr::pathNotFound: err = ENOENT; break;
        case hr::invalidHandle: err = ESTALE; break;
        case hr::directory: err = ENOTDIR; break;
        case hr::insufficientBuffer: err = E2BIG; break;
        case hr::outOfMemory: err = ENOMEM; break;
        case hr::accessDenied: err = EACCES; break;
        default:
            log(fmt::format("{} of inode {}: {}", op, ino, e.what()));
            err = EIO;
        }
    } catch (const std::bad_alloc&) {
        err = ENOMEM;
    } catch (const std::exception& e) {
        log(fmt::format("{} of inode {}: {}", op, ino, e.what()));
    } catch (...) {
        log(fmt::format("{} of inode {}: unknown error", op, ino));
    }
    fuse_reply_err(req, err);
}

// ---- handlers ----

void CimFs::init(fuse_conn_info* conn) {
    auto want = [&](uint64_t cap) {
        if (conn->capable & cap) conn->want |= cap;
    };
    want(FUSE_CAP_ASYNC_READ);
    want(FUSE_CAP_READDIRPLUS);
    want(FUSE_CAP_PARALLEL_DIROPS);
    want(FUSE_CAP_CACHE_SYMLINKS);
    // Always readdirplus: a listing is nearly always followed by stats of its entries.
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    // Nothing ever changes underneath: no need to compare mtimes to drop cached pages.
    conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    // Zero-message opens: answering the first open with ENOSYS makes the kernel open files on its
    // own from then on, keeping their page cache (FOPEN_KEEP_CACHE). OPENCIM_FUSE_OPEN=1 turns
    // this off (every open then reaches open() below, which also sets keep_cache).
    const char* forceOpen = std::getenv("OPENCIM_FUSE_OPEN");
    noOpen_ = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) && !(forceOpen && std::strcmp(forceOpen, "1") == 0);
    {
        std::lock_guard lock(initMutex_);
        initialized_ = true;
    }
    initCv_.notify_all();
}

void CimFs::lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    try {
        Target dir = resolve(parent);
        if (dir.stream || !dir.node.isDirectory()) {
            fuse_reply_err(req, ENOTDIR);
            return;
        }
        std::u16string wname = utf8ToUtf16(name, true);
        if (auto id = image_->findChild(dir.node, wname)) {
            fuse_entry_param e = entryFor(image_->file(*id));
            fuse_reply_entry(req, &e);
            return;
        }
        if (std::strchr(name, ':') && lookupStream(req, dir.node, name)) return;
        fuse_entry_param negative{};
        negative.entry_timeout = kForever;  // a name that is absent now is absent forever
        fuse_reply_entry(req, &negative);
    } catch (...) {
        replyError(req, "lookup", parent);
    }
}

bool CimFs::lookupStream(fuse_req_t req, const image::FileNode& dir, std::string_view name) {
    // "<file>:<stream>" or "<file>:<stream>:$DATA", as Windows (and ntfs-3g's
    // streams_interface=windows) accept. The file part may itself contain ':' on Linux.
    if (name.size() > 6 && equalsIgnoreCase(name.substr(name.size() - 6), ":$DATA")) name.remove_suffix(6);
    size_t colon = name.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == name.size()) return false;
    auto id = image_->findChild(dir, utf8ToUtf16(name.substr(0, colon), true));
    if (!id) return false;
    image::FileNode node = image_->file(*id);
    std::u16string wanted = utf8ToUtf16(name.substr(colon + 1), true);
    auto streams = image_->alternateStreams(node);
    for (size_t i = 0; i < streams.size() && i < kMaxStreamIndex; ++i) {
        if (compareNames(image_->upcase(), streams[i].name, wanted) == 0) {
            fuse_entry_param e = streamEntry(node, i, streams[i]);
            fuse_reply_entry(req, &e);
            return true;
        }
    }
    return false;
}

void CimFs::getattr(fuse_req_t req, fuse_ino_t ino) {
    try {
        Target t = resolve(ino);
        fuse_entry_param e = t.stream ? streamEntry(t.node, t.streamIndex, *t.stream) : entryFor(t.node);
        fuse_reply_attr(req, &e.attr, kForever);
    } catch (...) {
        replyError(req, "getattr", ino);
    }
}

void CimFs::readlink(fuse_req_t req, fuse_ino_t ino) {
    try {
        Target t = resolve(ino);
        PosixNode p = describe(*image_, t.node, 1);
        if (t.stream || !S_ISLNK(p.st.st_mode)) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        fuse_reply_readlink(req, p.linkTarget.c_str());
    } catch (...) {
        replyError(req, "readlink", ino);
    }
}

void CimFs::open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    if (noOpen_) {
        fuse_reply_err(req, ENOSYS);
        return;
    }
    try {
        Target t = resolve(ino);
        if (!t.stream && t.node.isDirectory()) {
            fuse_reply_err(req, EISDIR);
            return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
            fuse_reply_err(req, EROFS);
            return;
        }
        fi->keep_cache = 1;
        fuse_reply_open(req, fi);
    } catch (...) {
        replyError(req, "open", ino);
    }
}

void CimFs::read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
    try {
        Target t = resolve(ino);
        if (!t.stream && t.node.isDirectory()) {
            fuse_reply_err(req, EISDIR);
            return;
        }
        if (off < 0) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        const format::Stream& s = t.stream ? t.stream->stream : t.node.rec.defaultStream;
        auto& buf = scratch(size);
        size_t n = image_->readStream(s, static_cast<uint64_t>(off),
                                      std::as_writable_bytes(std::span<char>(buf.data(), size)));
        fuse_reply_buf(req, buf.data(), n);
    } catch (...) {
        replyError(req, "read", ino);
    }
}

void CimFs::opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    try {
        Target t = resolve(ino);
        if (t.stream || !t.node.isDirectory()) {
            fuse_reply_err(req, ENOTDIR);
            return;
        }
        auto h = std::make_unique<DirHandle>();
        h->dirId = t.node.id;
        uint32_t parent = t.node.rec.parentFileId;
        h->parentId = (t.node.id == rootId_ || parent == 0 || parent > fileCount_) ? t.node.id : parent;
        auto kids = image_->children(t.node);
        h->entries.reserve(kids.size());
        for (auto& k : kids) h->entries.push_back({utf16ToUtf8(k.name), k.id});
        fi->fh = reinterpret_cast<uint64_t>(h.get());
        fi->keep_cache = 1;
        fi->cache_readdir = 1;
        // Owned by the kernel's handle until releasedir; tracked so that a handle still open when
        // the session ends (no RELEASEDIR comes after an unmount) is freed with this object.
        std::lock_guard lock(dirsMutex_);
        if (fuse_reply_open(req, fi) == 0) openDirs_.insert(h.release());
    } catch (...) {
        replyError(req, "opendir", ino);
    }
}

void CimFs::readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus) {
    try {
        auto* h = reinterpret_cast<DirHandle*>(fi->fh);
        if (!h) {
            fuse_reply_err(req, EBADF);
            return;
        }
        std::vector<char> buf(size);
        size_t used = 0;
        size_t total = h->entries.size() + 2;
        for (size_t i = off < 0 ? 0 : static_cast<size_t>(off); i < total; ++i) {
            const char* name;
            fuse_entry_param e{};
            if (i < 2) {
                // "." and "..": no entry attributes (nodeid 0 tells the kernel to add no dentry).
                name = i == 0 ? "." : "..";
                e.attr.st_ino = i == 0 ? h->dirId : h->parentId;
                e.attr.st_mode = S_IFDIR;
            } else {
                const auto& ent = h->entries[i - 2];
                name = ent.name.c_str();
                image::FileNode node = image_->file(ent.id);
                if (plus) {
                    e = entryFor(node);
                } else {
                    e.attr.st_ino = node.id;
                    e.attr.st_mode = fileType(*image_, node);
                }
            }
            size_t need = plus ? fuse_add_direntry_plus(req, buf.data() + used, size - used, name, &e, off_t(i + 1))
                               : fuse_add_direntry(req, buf.data() + used, size - used, name, &e.attr, off_t(i + 1));
            if (need > size - used) break;  // did not fit: the kernel asks again from this offset
            used += need;
        }
        fuse_reply_buf(req, buf.data(), used);
    } catch (...) {
        replyError(req, plus ? "readdirplus" : "readdir", ino);
    }
}

void CimFs::releasedir(fuse_req_t req, fuse_file_info* fi) {
    auto* h = reinterpret_cast<DirHandle*>(fi->fh);
    {
        std::lock_guard lock(dirsMutex_);
        openDirs_.erase(h);
    }
    delete h;
    fi->fh = 0;
    fuse_reply_err(req, 0);
}

void CimFs::statfs(fuse_req_t req) {
    struct statvfs s {};
    uint64_t bytes = 0;
    for (const auto& r : image_->regions()) bytes += r->size();
    s.f_bsize = 4096;
    s.f_frsize = 4096;
    s.f_blocks = (bytes + 4095) / 4096;
    s.f_files = fileCount_;
    s.f_namemax = 255;
    s.f_flag = ST_RDONLY;
    fuse_reply_statfs(req, &s);
}

void CimFs::getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
    try {
        Target t = resolve(ino);
        if (t.stream) {
            fuse_reply_err(req, ENODATA);
            return;
        }
        auto v = xattrValue(*image_, t.node, name);
        if (!v) {
            fuse_reply_err(req, ENODATA);
            return;
        }
        replyXattr(req, size, v->data(), v->size());
    } catch (...) {
        replyError(req, "getxattr", ino);
    }
}

void CimFs::listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
    try {
        Target t = resolve(ino);
        std::string all;
        if (!t.stream) {
            for (const auto& n : xattrNames(*image_, t.node)) {
                all += n;
                all.push_back('\0');
            }
        }
        replyXattr(req, size, all.data(), all.size());
    } catch (...) {
        replyError(req, "listxattr", ino);
    }
}

// ---- the operation table: thin trampolines into the CimFs instance ----

namespace {

void opInit(void* userdata, fuse_conn_info* conn) { static_cast<CimFs*>(userdata)->init(conn); }
void opLookup(fuse_req_t req, fuse_ino_t parent, const char* name) { self(req)->lookup(req, parent, name); }
void opForget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }
void opForgetMulti(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }
void opGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) { self(req)->getattr(req, ino); }
void opReadlink(fuse_req_t req, fuse_ino_t ino) { self(req)->readlink(req, ino); }
void opOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { self(req)->open(req, ino, fi); }
void opRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*) {
    self(req)->read(req, ino, size, off);
}
void opOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) { self(req)->opendir(req, ino, fi); }
void opReaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    self(req)->readdir(req, ino, size, off, fi, false);
}
void opReaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
    self(req)->readdir(req, ino, size, off, fi, true);
}
void opReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) { self(req)->releasedir(req, fi); }
void opStatfs(fuse_req_t req, fuse_ino_t) { self(req)->statfs(req); }
void opGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) { self(req)->getxattr(req, ino, name, size); }
void opListxattr(fuse_req_t req, fuse_ino_t ino, size_t size) { self(req)->listxattr(req, ino, size); }

fuse_lowlevel_ops makeOps() {
    fuse_lowlevel_ops ops{};
    ops.init = opInit;
    ops.lookup = opLookup;
    ops.forget = opForget;
    ops.forget_multi = opForgetMulti;
    ops.getattr = opGetattr;
    ops.readlink = opReadlink;
    ops.open = opOpen;
    ops.read = opRead;
    ops.opendir = opOpendir;
    ops.readdir = opReaddir;
    ops.readdirplus = opReaddirplus;
    ops.releasedir = opReleasedir;
    ops.statfs = opStatfs;
    ops.getxattr = opGetxattr;
    ops.listxattr = opListxattr;
    return ops;
}

}  // namespace

const fuse_lowlevel_ops& CimFs::operations() {
    static const fuse_lowlevel_ops ops = makeOps();
    return ops;
}

}  // namespace cim::fuse
