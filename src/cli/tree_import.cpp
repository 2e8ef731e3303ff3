#include "cli/tree_import.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "cli/errors.h"
#include "common/upcase.h"
#include "common/utf.h"
#include "format/ea.h"

namespace cim::cli {

namespace {

constexpr uint32_t kChunk = 1u << 20;
constexpr size_t kMaxReparseData = 16 * 1024 - 8;  // MAXIMUM_REPARSE_DATA_BUFFER_SIZE minus header

std::vector<std::byte> u32le(uint32_t v) {
    std::vector<std::byte> b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

// Closes a stream handle on every path out; an explicit close() reports the error.
class StreamHandle {
public:
    StreamHandle() = default;
    ~StreamHandle() {
        if (h_) CimCloseStream(h_);
    }
    StreamHandle(const StreamHandle&) = delete;
    StreamHandle& operator=(const StreamHandle&) = delete;
    CIMFS_STREAM_HANDLE* out() { return &h_; }
    CIMFS_STREAM_HANDLE get() const { return h_; }
    void close() {
        CIMFS_STREAM_HANDLE h = h_;
        h_ = nullptr;
        check(CimCloseStream(h), "CimCloseStream");
    }

private:
    CIMFS_STREAM_HANDLE h_ = nullptr;
};

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Metadata of one entry, owning the buffers CIMFS_FILE_METADATA points to.
struct EntryMetadata {
    CIMFS_FILE_METADATA md{};
    std::vector<std::byte> eas;
    std::vector<std::byte> reparse;

    EntryMetadata(const struct stat& st, std::string_view symlinkTarget) {
        std::optional<std::pair<uint32_t, uint32_t>> dev;
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) dev = {{major(st.st_rdev), minor(st.st_rdev)}};
        eas = lxExtendedAttributes(st.st_uid, st.st_gid, st.st_mode, dev);
        reparse = lxReparseBuffer(st.st_mode, symlinkTarget);
        md.Attributes = S_ISDIR(st.st_mode) ? kAttrDirectory : kAttrArchive;
        if (!reparse.empty()) md.Attributes |= kAttrReparsePoint;
        md.FileSize = S_ISREG(st.st_mode) ? st.st_size : 0;
        md.CreationTime = filetimeFromUnix(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        md.LastWriteTime = md.CreationTime;
        md.ChangeTime = filetimeFromUnix(st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        md.LastAccessTime = filetimeFromUnix(st.st_atim.tv_sec, st.st_atim.tv_nsec);
        const auto& sd = nullSecurityDescriptor();
        md.SecurityDescriptorBuffer = sd.data();
        md.SecurityDescriptorSize = static_cast<uint32_t>(sd.size());
        md.ExtendedAttributes = eas.data();
        md.EACount = static_cast<uint32_t>(eas.size());
        if (!reparse.empty()) {
            md.ReparseDataBuffer = reparse.data();
            md.ReparseDataSize = static_cast<uint32_t>(reparse.size());
        }
    }
};

class TreeImporter {
public:
    TreeImporter(CIMFS_IMAGE_HANDLE image, const TreeImportOptions& o) : image_(image), options_(o) {}

    void importRoot(const std::string& src, const std::string& dest) {
        struct stat st;
        if (::stat(src.c_str(), &st) != 0) failErrno(errno, src);  // the root may be a symlink to a directory
        if (!S_ISDIR(st.st_mode)) fail(hr::invalidArg, "{}: not a directory", src);
        if (options_.rootMetadata) {
            EntryMetadata m(st, {});
            check(CimCreateFile(image_, dest.c_str(), &m.md, nullptr), "CimCreateFile");
        }
        importChildren(src, dest);
    }

    const TreeImportStats& stats() const { return stats_; }

private:
    std::vector<std::string> sortedNames(const std::string& dir) {
        DIR* d = ::opendir(dir.c_str());
        if (!d) failErrno(errno, dir);
        std::vector<std::string> names;
        errno = 0;
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
            errno = 0;
        }
        int err = errno;
        ::closedir(d);
        if (err) failErrno(err, dir);
        std::sort(names.begin(), names.end());  // char_traits<char> compares as unsigned: byte order
        checkNames(dir, names);
        return names;
    }

    // Names the image cannot hold faithfully are refused here, before anything is half-added.
    static void checkNames(const std::string& dir, const std::vector<std::string>& names) {
        std::vector<std::pair<std::u16string, const std::string*>> wide;
        wide.reserve(names.size());
        for (const auto& n : names) {
            if (n.find('\\') != std::string::npos) {
                fail(hr::invalidArg, "{}/{}: name contains '\\', which is a path separator in CIM paths", dir, n);
            }
            try {
                wide.emplace_back(utf8ToUtf16(n), &n);
            } catch (const Error&) {
                fail(hr::invalidArg, "{}/{}: name is not valid UTF-8 (CIM names are UTF-16)", dir, n);
            }
        }
        const UpcaseTable& up = defaultUpcaseTable();
        std::sort(wide.begin(), wide.end(), [&](const auto& a, const auto& b) { return compareNames(up, a.first, b.first) < 0; });
        for (size_t i = 1; i < wide.size(); ++i) {
            if (compareNames(up, wide[i - 1].first, wide[i].first) == 0) {
                fail(hr::invalidArg, "{}: '{}' and '{}' differ only in case; CIM directories are case-insensitive", dir,
                     *wide[i - 1].second, *wide[i].second);
            }
        }
    }

    void importChildren(const std::string& srcDir, const std::string& destDir) {
        for (const std::string& name : sortedNames(srcDir)) {
            std::string src = srcDir + "/" + name;
            std::string dest = destDir.empty() ? name : destDir + "/" + name;
            importEntry(src, dest);
            if (options_.onEntry) options_.onEntry(dest);
        }
    }

    void importEntry(const std::string& src, const std::string& dest) {
        struct stat st;
        if (::lstat(src.c_str(), &st) != 0) failErrno(errno, src);
        if (S_ISDIR(st.st_mode)) {
            EntryMetadata m(st, {});
            check(CimCreateFile(image_, dest.c_str(), &m.md, nullptr), "CimCreateFile");
            ++stats_.directories;
            importChildren(src, dest);
            return;
        }
        if (st.st_nlink > 1) {
            auto [it, inserted] = links_.try_emplace({st.st_dev, st.st_ino}, dest);
            if (!inserted) {
                check(CimCreateHardLink(image_, dest.c_str(), it->second.c_str()), "CimCreateHardLink");
                ++stats_.hardLinks;
                return;
            }
        }
        if (S_ISREG(st.st_mode)) {
            importRegular(src, dest, st);
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(size_t(st.st_size > 0 ? st.st_size : 0) + 1, '\0');
            for (;;) {
                ssize_t n = ::readlink(src.c_str(), target.data(), target.size());
                if (n < 0) failErrno(errno, src);
                if (size_t(n) < target.size()) {
                    target.resize(size_t(n));
                    break;
                }
                target.resize(target.size() * 2);  // the link changed size since lstat
            }
            EntryMetadata m(st, target);
            check(CimCreateFile(image_, dest.c_str(), &m.md, nullptr), "CimCreateFile");
            ++stats_.symlinks;
        } else {
            EntryMetadata m(st, {});
            check(CimCreateFile(image_, dest.c_str(), &m.md, nullptr), "CimCreateFile");
            ++stats_.special;
        }
    }

    void importRegular(const std::string& src, const std::string& dest, const struct stat& lst) {
        // O_NOATIME keeps a second run over the same tree from seeing atimes changed by the first
        // (it needs ownership or CAP_FOWNER, so fall back without it).
        int fd = ::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
        if (fd < 0 && errno == EPERM) fd = ::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) failErrno(errno, src);
        Fd file(fd);
        struct stat st;
        if (::fstat(fd, &st) != 0) failErrno(errno, src);
        if (!S_ISREG(st.st_mode) || st.st_ino != lst.st_ino || st.st_dev != lst.st_dev) {
            fail(hr::fail, "{}: changed while being imported", src);
        }
        EntryMetadata m(st, {});
        StreamHandle stream;
        check(CimCreateFile(image_, dest.c_str(), &m.md, st.st_size > 0 ? stream.out() : nullptr), "CimCreateFile");
        ++stats_.files;
        if (st.st_size == 0) return;
        std::vector<std::byte> buf(kChunk);
        uint64_t left = static_cast<uint64_t>(st.st_size);
        while (left > 0) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
            ssize_t n = ::read(fd, buf.data(), want);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) failErrno(errno, src);
            if (n == 0) fail(hr::fail, "{}: file shrank while being imported ({} of {} bytes left)", src, left, st.st_size);
            check(CimWriteStream(stream.get(), buf.data(), static_cast<uint32_t>(n)), "CimWriteStream");
            left -= static_cast<uint64_t>(n);
        }
        stream.close();
        stats_.bytes += static_cast<uint64_t>(st.st_size);
    }

    CIMFS_IMAGE_HANDLE image_;
    const TreeImportOptions& options_;
    TreeImportStats stats_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first image path of each multi-link inode
};

}  // namespace

std::vector<std::byte> lxExtendedAttributes(uint32_t uid, uint32_t gid, uint32_t mode,
                                            std::optional<std::pair<uint32_t, uint32_t>> dev) {
    std::vector<format::ExtendedAttribute> eas;
    eas.push_back({0, "$LXUID", u32le(uid)});
    eas.push_back({0, "$LXGID", u32le(gid)});
    eas.push_back({0, "$LXMOD", u32le(mode)});
    if (dev) {
        auto v = u32le(dev->first);
        auto mi = u32le(dev->second);
        v.insert(v.end(), mi.begin(), mi.end());
        eas.push_back({0, "$LXDEV", std::move(v)});
    }
    return format::buildEaChain(eas);
}

uint32_t lxReparseTag(uint32_t mode) {
    switch (mode & S_IFMT) {
        case S_IFLNK: return kTagLxSymlink;
        case S_IFSOCK: return kTagAfUnix;
        case S_IFIFO: return kTagLxFifo;
        case S_IFCHR: return kTagLxChr;
        case S_IFBLK: return kTagLxBlk;
        default: return 0;
    }
}

std::vector<std::byte> lxReparseBuffer(uint32_t mode, std::string_view symlinkTarget) {
    uint32_t tag = lxReparseTag(mode);
    if (tag == 0) return {};
    std::vector<std::byte> data;
    if (tag == kTagLxSymlink) {
        if (symlinkTarget.empty()) fail(hr::invalidArg, "symlink with an empty target");
        if (symlinkTarget.size() + 4 > kMaxReparseData) {
            fail(hr::invalidArg, "symlink target of {} bytes is too long for a reparse point", symlinkTarget.size());
        }
        data = u32le(kLxSymlinkVersion);
        const auto* p = reinterpret_cast<const std::byte*>(symlinkTarget.data());
        data.insert(data.end(), p, p + symlinkTarget.size());
    }
    std::vector<std::byte> buf(8);
    uint16_t len = static_cast<uint16_t>(data.size());
    std::memcpy(buf.data(), &tag, 4);
    std::memcpy(buf.data() + 4, &len, 2);
    buf.insert(buf.end(), data.begin(), data.end());
    return buf;
}

const std::vector<std::byte>& nullSecurityDescriptor() {
    // Revision 1, Control 0x8004 (SE_SELF_RELATIVE | SE_DACL_PRESENT), all offsets 0: NULL DACL.
    static const std::vector<std::byte> sd = [] {
        std::vector<std::byte> b(20);
        b[0] = std::byte{0x01};
        b[2] = std::byte{0x04};
        b[3] = std::byte{0x80};
        return b;
    }();
    return sd;
}

TreeImportStats importTree(CIMFS_IMAGE_HANDLE image, const std::string& srcDir, const std::string& imageDir,
                           const TreeImportOptions& options) {
    TreeImporter t(image, options);
    t.importRoot(srcDir, imageDir);
    return t.stats();
}

}  // namespace cim::cli
