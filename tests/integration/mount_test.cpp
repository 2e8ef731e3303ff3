// FUSE mounts through the public ABI (CimMountImage & co.), read back with ordinary POSIX calls:
// the hcsshim scenarios (standard, single-file, block device, merged, tombstone, merge links,
// verified), the POSIX view (modes, links, symlinks, devices, xattrs, streams), a real directory
// tree compared with diff -r, errors, concurrency during dismount and crash cleanup.
// Skips (with the reason) only where /dev/fuse is missing.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "test_util.h"

using namespace itest;

namespace {

constexpr long kFuseSuperMagic = 0x65735546;
constexpr uint32_t kMountSingleFile = 0x20, kMountBlockDevice = 0x10, kMountVerified = 0x80;
constexpr uint32_t kCreateBlockDevice = 0x4, kCreateSingleFile = 0x8, kCreateVerified = 0x40;
constexpr uint32_t kMergeSingleFile = 0x1, kMergeVerified = 0x4;

// ---- GUIDs and mount paths ----

CIMFS_GUID newGuid() {
    static std::atomic<uint32_t> counter{0};
    static std::mt19937_64 rng(std::random_device{}());
    CIMFS_GUID g{};
    g.Data1 = static_cast<uint32_t>(::getpid());
    g.Data2 = static_cast<uint16_t>(++counter);
    g.Data3 = 0x4000;
    uint64_t r = rng();
    std::memcpy(g.Data4, &r, 8);
    return g;
}

std::string mountPathOf(const CIMFS_GUID& g) {
    char buf[4096];
    uint32_t size = sizeof buf;
    EXPECT_OK(CimGetVolumeMountPath(&g, buf, &size));
    return buf;
}

// Whether anything is mounted exactly at `path` (from /proc/self/mountinfo).
bool isMountPoint(const std::string& path) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string a, b, c, d, mnt;
        ls >> a >> b >> c >> d >> mnt;
        if (mnt == path) return true;
    }
    return false;
}

// ---- POSIX reads ----

// The whole file, or the errno of the first failing call.
std::pair<std::string, int> readPosix(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {"", errno};
    std::string out;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            int e = errno;
            ::close(fd);
            return {out, e};
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return {out, 0};
}

std::string readOk(const std::string& path) {
    auto [data, err] = readPosix(path);
    EXPECT_EQ(err, 0) << path << ": " << std::strerror(err);
    return data;
}

int statErrno(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 ? 0 : errno;
}

struct stat lstatOk(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
    return st;
}

std::vector<std::string> listPosix(const std::string& dir, bool withDots = false) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    EXPECT_NE(d, nullptr) << dir << ": " << std::strerror(errno);
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (!withDots && (n == "." || n == "..")) continue;
        out.push_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<std::vector<uint8_t>> getXattr(const std::string& path, const char* name) {
    ssize_t n = ::lgetxattr(path.c_str(), name, nullptr, 0);
    if (n < 0) return std::nullopt;
    std::vector<uint8_t> v(static_cast<size_t>(n));
    n = ::lgetxattr(path.c_str(), name, v.data(), v.size());
    if (n < 0) return std::nullopt;
    v.resize(static_cast<size_t>(n));
    return v;
}

std::vector<std::string> listXattrs(const std::string& path) {
    std::vector<std::string> out;
    ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
    if (n <= 0) return out;
    std::string buf(static_cast<size_t>(n), '\0');
    n = ::llistxattr(path.c_str(), buf.data(), buf.size());
    for (size_t i = 0; i < static_cast<size_t>(n);) {
        std::string name = buf.c_str() + i;
        i += name.size() + 1;
        out.push_back(name);
    }
    return out;
}

std::string readlinkOk(const std::string& path) {
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    EXPECT_GE(n, 0) << path << ": " << std::strerror(errno);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

int64_t toFiletime(const struct timespec& ts) {
    return kFiletimeUnixEpoch + int64_t(ts.tv_sec) * 10000000 + ts.tv_nsec / 100;
}

std::string shell(const std::string& cmd, int* status = nullptr) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = ::pclose(p);
    if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

// ---- metadata blobs ----

std::vector<uint8_t> eaChain(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& eas) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < eas.size(); ++i) {
        const auto& [name, value] = eas[i];
        size_t start = out.size(), len = 8 + name.size() + 1 + value.size(), padded = (len + 3) & ~size_t(3);
        out.resize(start + padded);
        uint32_t next = i + 1 < eas.size() ? static_cast<uint32_t>(padded) : 0;
        std::memcpy(&out[start], &next, 4);
        out[start + 5] = static_cast<uint8_t>(name.size());
        uint16_t vl = static_cast<uint16_t>(value.size());
        std::memcpy(&out[start + 6], &vl, 2);
        std::memcpy(&out[start + 8], name.data(), name.size());
        if (!value.empty()) std::memcpy(&out[start + 9 + name.size()], value.data(), value.size());
    }
    return out;
}

std::vector<uint8_t> u32Bytes(uint32_t v) {
    std::vector<uint8_t> b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

std::vector<uint8_t> linuxEas(uint32_t mode, uint32_t uid, uint32_t gid, std::optional<std::pair<uint32_t, uint32_t>> dev = {}) {
    std::vector<std::pair<std::string, std::vector<uint8_t>>> eas{
        {"$LXUID", u32Bytes(uid)}, {"$LXGID", u32Bytes(gid)}, {"$LXMOD", u32Bytes(mode)}};
    if (dev) {
        auto b = u32Bytes(dev->first);
        auto m = u32Bytes(dev->second);
        b.insert(b.end(), m.begin(), m.end());
        eas.emplace_back("$LXDEV", b);
    }
    return eaChain(eas);
}

std::vector<uint8_t> reparseHeader(uint32_t tag, size_t dataLen) {
    std::vector<uint8_t> b(8);
    std::memcpy(&b[0], &tag, 4);
    uint16_t l = static_cast<uint16_t>(dataLen);
    std::memcpy(&b[4], &l, 2);
    return b;
}

std::vector<uint8_t> lxSymlink(const std::string& target) {
    auto b = reparseHeader(0xA000001D, 4 + target.size());
    auto v = u32Bytes(2);
    b.insert(b.end(), v.begin(), v.end());
    b.insert(b.end(), target.begin(), target.end());
    return b;
}

std::vector<uint8_t> utf16le(const std::string& ascii) {
    std::vector<uint8_t> out;
    for (char c : ascii) out.push_back(static_cast<uint8_t>(c)), out.push_back(0);
    return out;
}

// IO_REPARSE_TAG_SYMLINK (flags: 1 = relative) or IO_REPARSE_TAG_MOUNT_POINT buffers.
std::vector<uint8_t> windowsLink(bool mountPoint, const std::string& substitute, const std::string& print, uint32_t flags) {
    auto sub = utf16le(substitute), pr = utf16le(print);
    std::vector<uint8_t> data(mountPoint ? 8 : 12);
    uint16_t subOff = 0, subLen = static_cast<uint16_t>(sub.size()), prOff = subLen, prLen = static_cast<uint16_t>(pr.size());
    std::memcpy(&data[0], &subOff, 2);
    std::memcpy(&data[2], &subLen, 2);
    std::memcpy(&data[4], &prOff, 2);
    std::memcpy(&data[6], &prLen, 2);
    if (!mountPoint) std::memcpy(&data[8], &flags, 4);
    data.insert(data.end(), sub.begin(), sub.end());
    data.insert(data.end(), pr.begin(), pr.end());
    auto b = reparseHeader(mountPoint ? 0xA0000003 : 0xA000000C, data.size());
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

HRESULT addSpecial(CIMFS_IMAGE_HANDLE h, const char* path, uint32_t attrs, const std::vector<uint8_t>& reparse,
                   const std::vector<uint8_t>& eas, std::string_view data = {}) {
    CIMFS_FILE_METADATA md = fileMetadata(static_cast<int64_t>(data.size()), attrs);
    md.ReparseDataBuffer = reparse.empty() ? nullptr : reparse.data();
    md.ReparseDataSize = static_cast<uint32_t>(reparse.size());
    md.ExtendedAttributes = eas.empty() ? nullptr : eas.data();
    md.EACount = static_cast<uint32_t>(eas.size());
    CIMFS_STREAM_HANDLE s = nullptr;
    if (HRESULT hr = CimCreateFile(h, path, &md, &s); hr < 0) return hr;
    if (!data.empty()) {
        if (HRESULT hr = CimWriteStream(s, data.data(), static_cast<uint32_t>(data.size())); hr < 0) return hr;
    }
    return s ? CimCloseStream(s) : kOk;
}

std::string randomBytes(size_t n, uint64_t seed) {
    SplitMix64 r(seed);
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = r.next();
        std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
    }
    return s;
}

std::array<uint8_t, 32> seal(const std::string& blockPath) {
    std::array<uint8_t, 32> hash{};
    uint64_t hashSize = 0, fixed = 0;
    EXPECT_OK(CimSealImage(blockPath.c_str(), &hashSize, &fixed, hash.data()));
    EXPECT_EQ(hashSize, 32u);
    return hash;
}

// ---- the fixture ----

class Mount : public ::testing::Test {
protected:
    void SetUp() override {
        if (::access("/dev/fuse", F_OK) != 0) {
            GTEST_SKIP() << "skipped: /dev/fuse does not exist on this machine (no FUSE), mount tests cannot run";
        }
        root_ = dir_ / "volumes";
        ::setenv("OPENCIM_MOUNT_ROOT", root_.c_str(), 1);
    }
    void TearDown() override {
        for (auto& g : mounted_) CimDismountImage(&g);
        ::unsetenv("OPENCIM_MOUNT_ROOT");
    }

    // Mounts through `call` (a lambda taking the GUID) and remembers the volume for TearDown.
    template <typename Call>
    std::string mountWith(CIMFS_GUID& g, Call&& call) {
        g = newGuid();
        HRESULT hr = call(&g);
        EXPECT_TRUE(expectHr(hr, kOk)) << "mount failed";
        if (hr != kOk) return "";
        mounted_.push_back(g);
        return mountPathOf(g);
    }
    std::string mountStandard(CIMFS_GUID& g, const std::string& dir, const char* name, uint32_t flags = 0) {
        return mountWith(g, [&](const CIMFS_GUID* id) { return CimMountImage(dir.c_str(), name, flags, id); });
    }
    void dismount(const CIMFS_GUID& g) {
        EXPECT_OK(CimDismountImage(&g));
        mounted_.erase(std::remove_if(mounted_.begin(), mounted_.end(),
                                      [&](const CIMFS_GUID& x) { return std::memcmp(&x, &g, sizeof g) == 0; }),
                       mounted_.end());
    }

    // A single-file block CIM with the hcsshim entries (or `body`).
    std::string blockWithHcsshim(const char* file, uint32_t extraFlags = 0) {
        std::string p = dir_ / file;
        EXPECT_TRUE(buildBlock(p, kCreateSingleFile | extraFlags, "layer.cim", [](CIMFS_IMAGE_HANDLE h) {
            return ok(addHcsshimEntries(h), "entries");
        }));
        return p;
    }

    TempDir dir_;
    std::string root_;
    std::vector<CIMFS_GUID> mounted_;
};

// ---- hcsshim scenarios ----

TEST_F(Mount, StandardImageReadsBackThroughPosix) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(mnt, root_ + "/" + mnt.substr(mnt.rfind('/') + 1));
    EXPECT_TRUE(isMountPoint(mnt));
    struct statfs sf;
    ASSERT_EQ(::statfs(mnt.c_str(), &sf), 0);
    EXPECT_EQ(sf.f_type, kFuseSuperMagic);
    EXPECT_TRUE(sf.f_flags & ST_RDONLY);

    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
    EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
    EXPECT_EQ(listPosix(mnt), (std::vector<std::string>{"foo", "foobar.txt"}));
    EXPECT_EQ(listPosix(mnt, true), (std::vector<std::string>{".", "..", "foo", "foobar.txt"}));

    struct stat f = lstatOk(mnt + "/foobar.txt"), d = lstatOk(mnt + "/foo"), r = lstatOk(mnt);
    EXPECT_TRUE(S_ISREG(f.st_mode));
    EXPECT_EQ(f.st_mode & 07777, 0444u);
    EXPECT_EQ(f.st_size, static_cast<off_t>(kFoobarData.size()));
    EXPECT_EQ(f.st_nlink, 1u);
    EXPECT_EQ(toFiletime(f.st_mtim), kSomeTime);
    EXPECT_EQ(toFiletime(f.st_atim), kSomeTime);
    EXPECT_EQ(toFiletime(f.st_ctim), kSomeTime);
    EXPECT_TRUE(S_ISDIR(d.st_mode));
    EXPECT_EQ(d.st_mode & 07777, 0555u);
    EXPECT_EQ(d.st_nlink, 2u);  // no subdirectories
    EXPECT_TRUE(S_ISDIR(r.st_mode));
    EXPECT_EQ(r.st_nlink, 3u);  // ".", its entry, and foo's ".."
    EXPECT_EQ(statErrno(mnt + "/missing"), ENOENT);
    EXPECT_EQ(statErrno(mnt + "/foobar.txt/x"), ENOTDIR);

    // Read-only: nothing can be created or written.
    EXPECT_LT(::open((mnt + "/new").c_str(), O_CREAT | O_WRONLY, 0644), 0);
    EXPECT_EQ(errno, EROFS);
    EXPECT_LT(::open((mnt + "/foobar.txt").c_str(), O_WRONLY), 0);

    dismount(g);
    EXPECT_FALSE(isMountPoint(mnt));
    EXPECT_EQ(statErrno(mnt), ENOENT) << "mount directory not removed";
}

TEST_F(Mount, SingleFileBlockCim) {
    std::string p = blockWithHcsshim("layer.bcim");
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, p, "layer.cim", kMountSingleFile);
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
    EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
    dismount(g);
}

TEST_F(Mount, BlockDeviceCim) {
    std::string backing = dir_ / "disk.img";
    {
        std::ofstream f(backing, std::ios::binary);
    }
    ASSERT_EQ(::truncate(backing.c_str(), 64 << 20), 0);
    int status = 0;
    std::string dev = shell("losetup -f --show " + backing + " 2>&1", &status);
    while (!dev.empty() && dev.back() == '\n') dev.pop_back();
    if (status != 0 || dev.rfind("/dev/", 0) != 0) {
        GTEST_SKIP() << "skipped: no loop device available for a block-device CIM (losetup: " << dev << ")";
    }
    struct Detach {
        std::string dev;
        ~Detach() { shell("losetup -d " + dev + " 2>&1"); }
    } detach{dev};
    ASSERT_TRUE(buildBlock(dev, kCreateBlockDevice, "layer.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dev, "layer.cim", kMountBlockDevice);
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
    EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
    dismount(g);
}

TEST_F(Mount, MergedThreeLayersTopmostWins) {
    std::vector<std::string> layers;
    std::vector<std::pair<const char*, const char*>> content{{"foo.txt", "foo1"}, {"bar.txt", "bar"}, {"foo.txt", "foo2"}};
    for (size_t i = 0; i < content.size(); ++i) {
        std::string p = dir_ / ("layer" + std::to_string(i) + ".bcim");
        ASSERT_TRUE(buildBlock(p, kCreateSingleFile, "layer.cim",
                               [&](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, content[i].first, content[i].second)); }));
        layers.push_back(p);
    }
    std::string merged = dir_ / "merged.bcim";
    ASSERT_TRUE(buildBlock(merged, kCreateSingleFile, "merged.cim", [&](CIMFS_IMAGE_HANDLE h) {
        for (const auto& l : layers) {
            if (auto r = ok(CimAddFsToMergedImage2(h, sourcePath(l, "layer.cim").c_str(), kMergeSingleFile)); !r) return r;
        }
        return ::testing::AssertionSuccess();
    }));
    std::vector<CIMFS_IMAGE_PATH> paths{{merged.c_str(), "merged.cim"}};
    for (const auto& l : layers) paths.push_back({l.c_str(), "layer.cim"});
    CIMFS_GUID g;
    std::string mnt = mountWith(g, [&](const CIMFS_GUID* id) {
        return CimMergeMountImage(static_cast<uint32_t>(paths.size()), paths.data(), kMountSingleFile, id);
    });
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foo.txt"), "foo1");
    EXPECT_EQ(readOk(mnt + "/bar.txt"), "bar");
    EXPECT_EQ(listPosix(mnt), (std::vector<std::string>{"bar.txt", "foo.txt"}));  // each name once
    dismount(g);
}

// cim1 = hcsshim entries; cim2 = `body`; merged [cim2, cim1] and mounted.
class MergeMount : public Mount {
protected:
    template <typename Body>
    std::string mountMergedOver(CIMFS_GUID& g, Body&& body) {
        std::string c1 = blockWithHcsshim("cim1.bcim"), c2 = dir_ / "cim2.bcim", merged = dir_ / "merged.bcim";
        EXPECT_TRUE(buildBlock(c2, kCreateSingleFile, "layer.cim", body));
        EXPECT_TRUE(buildBlock(merged, kCreateSingleFile, "merged.cim", [&](CIMFS_IMAGE_HANDLE h) {
            if (auto r = ok(CimAddFsToMergedImage2(h, sourcePath(c2, "layer.cim").c_str(), kMergeSingleFile)); !r) return r;
            return ok(CimAddFsToMergedImage2(h, sourcePath(c1, "layer.cim").c_str(), kMergeSingleFile));
        }));
        paths_ = {merged, c2, c1};
        std::vector<CIMFS_IMAGE_PATH> paths;
        for (size_t i = 0; i < paths_.size(); ++i) paths.push_back({paths_[i].c_str(), i == 0 ? "merged.cim" : "layer.cim"});
        return mountWith(g, [&](const CIMFS_GUID* id) {
            return CimMergeMountImage(static_cast<uint32_t>(paths.size()), paths.data(), kMountSingleFile, id);
        });
    }
    std::vector<std::string> paths_;
};

TEST_F(MergeMount, TombstoneHidesLowerFile) {
    CIMFS_GUID g;
    std::string mnt = mountMergedOver(g, [](CIMFS_IMAGE_HANDLE h) { return ok(CimTombstoneFile(h, "foobar.txt")); });
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(statErrno(mnt + "/foobar.txt"), ENOENT);
    EXPECT_EQ(listPosix(mnt), (std::vector<std::string>{"foo"}));
    EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
    dismount(g);
}

TEST_F(MergeMount, MergeLinkChainResolves) {
    CIMFS_GUID g;
    std::string mnt = mountMergedOver(g, [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimCreateMergeLink(h, "b_link.txt", "foobar.txt")); !r) return r;
        return ok(CimCreateMergeLink(h, "a_link.txt", "b_link.txt"));
    });
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/a_link.txt"), kFoobarData);
    EXPECT_EQ(readOk(mnt + "/b_link.txt"), kFoobarData);
    // Resolved merge links are hard links of their target.
    struct stat a = lstatOk(mnt + "/a_link.txt"), t = lstatOk(mnt + "/foobar.txt");
    EXPECT_EQ(a.st_ino, t.st_ino);
    EXPECT_EQ(t.st_nlink, 3u);
    dismount(g);
}

// ---- verified mounts ----

TEST_F(Mount, VerifiedSingleFileMount) {
    std::string p = blockWithHcsshim("v.bcim", kCreateVerified);
    auto hash = seal(p);
    CIMFS_GUID g;
    std::string mnt = mountWith(g, [&](const CIMFS_GUID* id) {
        return CimMountVerifiedImage(p.c_str(), "layer.cim", kMountSingleFile, id, 32, hash.data());
    });
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
    EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
    dismount(g);

    // 0x80 on CimMountImage: verified against the root hash sealed into the CIM itself.
    mnt = mountStandard(g, p, "layer.cim", kMountSingleFile | kMountVerified);
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
    dismount(g);
}

TEST_F(Mount, VerifiedMountWithWrongHashFails) {
    std::string p = blockWithHcsshim("v.bcim", kCreateVerified);
    auto hash = seal(p);
    hash[0] = static_cast<uint8_t>(hash[0] + 1);
    CIMFS_GUID g = newGuid();
    EXPECT_HR(CimMountVerifiedImage(p.c_str(), "layer.cim", kMountSingleFile, &g, 32, hash.data()), kIntegrity,
              "integrity violation");
    EXPECT_FALSE(isMountPoint(mountPathOf(g)));
    EXPECT_HR(CimMountVerifiedImage(p.c_str(), "layer.cim", kMountSingleFile, &g, 16, hash.data()), kInvalidArg,
              "hash size");
    // An unsealed CIM cannot be mounted verified.
    std::string unsealed = blockWithHcsshim("u.bcim", kCreateVerified);
    EXPECT_HR(CimMountImage(unsealed.c_str(), "layer.cim", kMountSingleFile | kMountVerified, &g), kIntegrity,
              "not sealed");
}

TEST_F(Mount, TamperedVerifiedDataReadsAsEio) {
    const std::string big = randomBytes(512 * 1024, 42);
    std::string p = dir_ / "t.bcim";
    ASSERT_TRUE(buildBlock(p, kCreateSingleFile | kCreateVerified, "layer.cim", [&](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "big.bin", big)); !r) return r;
        return ok(addFile(h, "small.txt", "small file"));
    }));
    auto hash = seal(p);
    // Flip one byte in the middle of big.bin's data.
    auto bytes = readHostFile(p);
    std::string_view all(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    size_t at = all.find(std::string_view(big).substr(0, 64));
    ASSERT_NE(at, std::string_view::npos);
    bytes[at + 300000] ^= 0x5A;
    writeHostFile(p, bytes);

    CIMFS_GUID g;
    std::string mnt = mountWith(g, [&](const CIMFS_GUID* id) {
        return CimMountVerifiedImage(p.c_str(), "layer.cim", kMountSingleFile, id, 32, hash.data());
    });
    ASSERT_FALSE(mnt.empty());
    auto [data, err] = readPosix(mnt + "/big.bin");
    EXPECT_EQ(err, EIO) << "read " << data.size() << " bytes of a tampered file without an error";
    EXPECT_LT(data.size(), big.size());
    EXPECT_EQ(big.compare(0, data.size(), data), 0) << "data before the tampered block differs";
    EXPECT_EQ(readOk(mnt + "/small.txt"), "small file");
    dismount(g);
}

TEST_F(Mount, VerifiedMergedMount) {
    std::vector<std::string> layers;
    std::vector<std::pair<const char*, const char*>> content{{"foo.txt", "foo1"}, {"bar.txt", "bar"}, {"foo.txt", "foo2"}};
    for (size_t i = 0; i < content.size(); ++i) {
        std::string p = dir_ / ("layer" + std::to_string(i) + ".bcim");
        ASSERT_TRUE(buildBlock(p, kCreateSingleFile | kCreateVerified, "layer.cim",
                               [&](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, content[i].first, content[i].second)); }));
        seal(p);
        layers.push_back(p);
    }
    std::string merged = dir_ / "merged.bcim";
    ASSERT_TRUE(buildBlock(merged, kCreateSingleFile | kCreateVerified, "merged.cim", [&](CIMFS_IMAGE_HANDLE h) {
        for (const auto& l : layers) {
            auto r = ok(CimAddFsToMergedImage2(h, sourcePath(l, "layer.cim").c_str(), kMergeSingleFile | kMergeVerified));
            if (!r) return r;
        }
        return ::testing::AssertionSuccess();
    }));
    auto hash = seal(merged);
    std::vector<CIMFS_IMAGE_PATH> paths{{merged.c_str(), "merged.cim"}};
    for (const auto& l : layers) paths.push_back({l.c_str(), "layer.cim"});
    CIMFS_GUID g;
    std::string mnt = mountWith(g, [&](const CIMFS_GUID* id) {
        return CimMergeMountVerifiedImage(static_cast<uint32_t>(paths.size()), paths.data(), kMountSingleFile, id, 32,
                                          hash.data());
    });
    ASSERT_FALSE(mnt.empty());
    EXPECT_EQ(readOk(mnt + "/foo.txt"), "foo1");
    EXPECT_EQ(readOk(mnt + "/bar.txt"), "bar");
    dismount(g);
    hash[31] ^= 1;
    CIMFS_GUID g2 = newGuid();
    EXPECT_HR(CimMergeMountVerifiedImage(static_cast<uint32_t>(paths.size()), paths.data(), kMountSingleFile, &g2, 32,
                                         hash.data()),
              kIntegrity, "integrity violation");
}

// ---- errors ----

TEST_F(Mount, ErrorCodes) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", 0, &g), kAlreadyExists, "already mounted");
    EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData) << "the failed second mount disturbed the first";

    CIMFS_GUID other = newGuid();
    EXPECT_HR(CimDismountImage(&other), kFileNotFound, "CimDismountImage");
    EXPECT_HR(CimMountImage(dir_.c_str(), "missing.cim", 0, &other), kFileNotFound, "CimMountImage");
    EXPECT_HR(CimMountImage((dir_ / "nodir").c_str(), "test.cim", 0, &other), kFileNotFound, "CimMountImage");
    EXPECT_HR(CimMountImage((dir_ / "none.bcim").c_str(), "layer.cim", kMountSingleFile, &other), kFileNotFound,
              "CimMountImage");
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", 0x100, &other), kInvalidArg, "unknown mount flags");
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", 0x4, &other), kInvalidArg, "unknown mount flags");
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", kMountSingleFile | kMountBlockDevice, &other), kInvalidArg,
              "exclusive");
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", kMountVerified, &other), kInvalidArg, "block");
    EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", 0, nullptr), kInvalidArg, "volumeId");
    EXPECT_HR(CimMountImage(nullptr, "test.cim", 0, &other), kInvalidArg, "imageContainingPath");
    CIMFS_IMAGE_PATH two[2] = {{dir_.c_str(), "a"}, {dir_.c_str(), "b"}};
    EXPECT_HR(CimMergeMountImage(2, two, kMountSingleFile, &other), kInvalidArg, "at least 2 sources");
    EXPECT_HR(CimDismountImage(nullptr), kInvalidArg, "volumeId");
    // Accepted and without effect: DAX and child-only.
    CIMFS_GUID g2;
    std::string mnt2 = mountStandard(g2, dir_.path(), "test.cim", 0x1 | 0x2);
    ASSERT_FALSE(mnt2.empty());
    EXPECT_EQ(readOk(mnt2 + "/foo/bar.txt"), kBarData);
    dismount(g2);
    dismount(g);
    EXPECT_HR(CimDismountImage(&g), kFileNotFound, "no volume");
}

// ---- the POSIX view ----

TEST_F(Mount, HardLinksShareInodeAndCount) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "a.txt", "shared")); !r) return r;
        if (auto r = ok(addDir(h, "d")); !r) return r;
        if (auto r = ok(CimCreateHardLink(h, "b.txt", "a.txt")); !r) return r;
        return ok(CimCreateHardLink(h, "d\\c.txt", "a.txt"));
    }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());
    struct stat a = lstatOk(mnt + "/a.txt"), b = lstatOk(mnt + "/b.txt"), c = lstatOk(mnt + "/d/c.txt");
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_ino, c.st_ino);
    EXPECT_EQ(a.st_nlink, 3u);
    EXPECT_EQ(c.st_nlink, 3u);
    EXPECT_EQ(readOk(mnt + "/d/c.txt"), "shared");
    // readdir's d_ino agrees with st_ino.
    DIR* d = ::opendir(mnt.c_str());
    ASSERT_NE(d, nullptr);
    std::map<std::string, ino_t> inos;
    while (auto* e = ::readdir(d)) inos[e->d_name] = e->d_ino;
    ::closedir(d);
    EXPECT_EQ(inos["a.txt"], a.st_ino);
    EXPECT_EQ(inos["b.txt"], a.st_ino);
    EXPECT_EQ(inos["d"], lstatOk(mnt + "/d").st_ino);
    dismount(g);
}

TEST_F(Mount, SymlinksDevicesAndLinuxMetadata) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) {
        const uint32_t rp = kAttrReparsePoint;
        std::vector<HRESULT> r{
            addDir(h, "dir"),
            addFile(h, "target.txt", "target"),
            addSpecial(h, "winlink", rp, windowsLink(false, "..\\dir\\target.txt", "..\\dir\\target.txt", 1), {}),
            addSpecial(h, "abslink", rp, windowsLink(false, "\\??\\C:\\Windows\\System32", "", 0), {}),
            addSpecial(h, "junction", rp | kAttrDirectory, windowsLink(true, "\\??\\C:\\data", "C:\\data", 0), {}),
            addSpecial(h, "lxlink", rp, lxSymlink("target.txt"), linuxEas(0120777, 0, 0)),
            addSpecial(h, "fifo", rp, reparseHeader(0x80000024, 0), linuxEas(0010640, 7, 8)),
            addSpecial(h, "sock", rp, reparseHeader(0x80000023, 0), linuxEas(0140755, 0, 0)),
            addSpecial(h, "chr", rp, reparseHeader(0x80000025, 0), linuxEas(0020620, 0, 5, std::pair{4u, 64u})),
            addSpecial(h, "blk", rp, reparseHeader(0x80000026, 0), linuxEas(0060660, 0, 6, std::pair{7u, 3u})),
            addSpecial(h, "script.sh", kAttrArchive, {}, linuxEas(0104750, 1234, 5678), "#!/bin/sh\n"),
            addSpecial(h, "private", kAttrDirectory, {}, linuxEas(0040700, 1000, 1000)),
        };
        for (HRESULT x : r) {
            if (x < 0) return ok(x, "create");
        }
        return ::testing::AssertionSuccess();
    }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());
    EXPECT_TRUE(S_ISLNK(lstatOk(mnt + "/winlink").st_mode));
    EXPECT_EQ(readlinkOk(mnt + "/winlink"), "../dir/target.txt");
    EXPECT_EQ(lstatOk(mnt + "/winlink").st_size, 17);
    EXPECT_EQ(readlinkOk(mnt + "/abslink"), "C:/Windows/System32");  // no print name: the substitute name
    EXPECT_TRUE(S_ISLNK(lstatOk(mnt + "/junction").st_mode));
    EXPECT_EQ(readlinkOk(mnt + "/junction"), "C:/data");
    EXPECT_EQ(readlinkOk(mnt + "/lxlink"), "target.txt");
    EXPECT_EQ(readOk(mnt + "/lxlink"), "target");  // followed by the kernel

    struct stat fifo = lstatOk(mnt + "/fifo"), sock = lstatOk(mnt + "/sock"), chr = lstatOk(mnt + "/chr"),
                blk = lstatOk(mnt + "/blk"), script = lstatOk(mnt + "/script.sh"), priv = lstatOk(mnt + "/private");
    EXPECT_EQ(fifo.st_mode, S_IFIFO | 0640u);
    EXPECT_EQ(fifo.st_uid, 7u);
    EXPECT_EQ(fifo.st_gid, 8u);
    EXPECT_TRUE(S_ISSOCK(sock.st_mode));
    EXPECT_EQ(chr.st_mode, S_IFCHR | 0620u);
    EXPECT_EQ(major(chr.st_rdev), 4u);
    EXPECT_EQ(minor(chr.st_rdev), 64u);
    EXPECT_EQ(blk.st_mode, S_IFBLK | 0660u);
    EXPECT_EQ(chr.st_gid, 5u);
    EXPECT_EQ(major(blk.st_rdev), 7u);
    EXPECT_EQ(minor(blk.st_rdev), 3u);
    EXPECT_EQ(script.st_mode, S_IFREG | 04750u);
    EXPECT_EQ(script.st_uid, 1234u);
    EXPECT_EQ(script.st_gid, 5678u);
    EXPECT_EQ(priv.st_mode, S_IFDIR | 0700u);
    EXPECT_EQ(priv.st_uid, 1000u);
    // Without Linux metadata: read-only modes from the attributes, root-owned.
    struct stat t = lstatOk(mnt + "/target.txt"), d = lstatOk(mnt + "/dir");
    EXPECT_EQ(t.st_mode, S_IFREG | 0444u);
    EXPECT_EQ(d.st_mode, S_IFDIR | 0555u);
    EXPECT_EQ(t.st_uid, 0u);
    // The root has 2 + 2 subdirectories (dir, private); the junction is a symlink, not a directory.
    EXPECT_EQ(lstatOk(mnt).st_nlink, 4u);
    dismount(g);
}

TEST_F(Mount, WindowsMetadataAsXattrsAndStreams) {
    const std::vector<uint8_t> sd{1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // empty self-relative SD
    const auto eas = eaChain({{"USER.COMMENT", {'h', 'i'}}});
    const std::string bigStream = randomBytes(100000, 7);
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [&](CIMFS_IMAGE_HANDLE h) {
        CIMFS_FILE_METADATA md = fileMetadata(4, kAttrArchive | kAttrHidden | kAttrReadOnly);
        md.CreationTime = kSomeTime - 10000000;  // one second earlier
        md.SecurityDescriptorBuffer = sd.data();
        md.SecurityDescriptorSize = static_cast<uint32_t>(sd.size());
        md.ExtendedAttributes = eas.data();
        md.EACount = static_cast<uint32_t>(eas.size());
        CIMFS_STREAM_HANDLE s = nullptr;
        if (auto r = ok(CimCreateFile(h, "file.txt", &md, &s)); !r) return r;
        if (auto r = ok(CimWriteStream(s, "main", 4)); !r) return r;
        if (auto r = ok(CimCloseStream(s)); !r) return r;
        if (auto r = ok(addStream(h, "file.txt:Zone.Identifier", "[ZoneTransfer]\r\nZoneId=3\r\n")); !r) return r;
        if (auto r = ok(addStream(h, "file.txt:big", bigStream)); !r) return r;
        return ok(addSpecial(h, "link", kAttrReparsePoint, lxSymlink("file.txt"), {}));
    }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());
    std::string f = mnt + "/file.txt";
    auto names = listXattrs(f);
    for (const char* want : {"system.ntfs_attrib", "system.ntfs_attrib_be", "system.ntfs_times", "system.ntfs_crtime",
                             "system.ntfs_acl", "system.ntfs_ea", "user.Zone.Identifier", "user.big"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    }
    EXPECT_EQ(std::find(names.begin(), names.end(), "system.ntfs_reparse_data"), names.end());

    auto attrib = getXattr(f, "system.ntfs_attrib");
    ASSERT_TRUE(attrib && attrib->size() == 4);
    uint32_t a;
    std::memcpy(&a, attrib->data(), 4);
    EXPECT_EQ(a, kAttrArchive | kAttrHidden | kAttrReadOnly);
    EXPECT_EQ(getXattr(f, "system.ntfs_acl"), sd);
    EXPECT_EQ(getXattr(f, "system.ntfs_ea"), eas);
    auto times = getXattr(f, "system.ntfs_times");
    ASSERT_TRUE(times && times->size() == 32);
    int64_t t[4];
    std::memcpy(t, times->data(), 32);
    EXPECT_EQ(t[0], kSomeTime - 10000000);
    EXPECT_EQ(t[1], kSomeTime);
    auto crtime = getXattr(f, "system.ntfs_crtime");
    ASSERT_TRUE(crtime && crtime->size() == 8);
    auto zone = getXattr(f, "user.Zone.Identifier");
    ASSERT_TRUE(zone);
    EXPECT_EQ(std::string(zone->begin(), zone->end()), "[ZoneTransfer]\r\nZoneId=3\r\n");
    EXPECT_FALSE(getXattr(f, "user.missing"));
    EXPECT_EQ(errno, ENODATA);
    // Too big for an xattr value (64 KiB) but readable as "<file>:<stream>".
    EXPECT_FALSE(getXattr(f, "user.big"));
    EXPECT_EQ(errno, E2BIG);
    EXPECT_EQ(readOk(f + ":big"), bigStream);
    EXPECT_EQ(readOk(f + ":Zone.Identifier:$DATA"), "[ZoneTransfer]\r\nZoneId=3\r\n");
    EXPECT_EQ(lstatOk(f + ":big").st_size, static_cast<off_t>(bigStream.size()));
    EXPECT_EQ(statErrno(f + ":nostream"), ENOENT);
    EXPECT_EQ(listPosix(mnt), (std::vector<std::string>{"file.txt", "link"}));  // streams are not listed
    EXPECT_EQ(readOk(f), "main");

    auto reparse = getXattr(mnt + "/link", "system.ntfs_reparse_data");
    EXPECT_EQ(reparse, lxSymlink("file.txt"));
    dismount(g);
}

// ---- a real directory tree, compared with diff -r and a metadata walk ----

// Builds a CIM from a host directory through the ABI, keeping Linux metadata in the WSL EAs
// and symlinks as LX symlinks (what the layer importer does).
class TreeImporter {
public:
    TreeImporter(CIMFS_IMAGE_HANDLE h, std::string root) : h_(h), root_(std::move(root)) {}
    ::testing::AssertionResult run() { return walk(""); }

private:
    ::testing::AssertionResult walk(const std::string& rel) {
        std::vector<std::string> names;
        DIR* d = ::opendir((root_ + rel).c_str());
        if (!d) return ::testing::AssertionFailure() << "opendir " << root_ + rel;
        while (auto* e = ::readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
            std::string r = rel + "/" + n, host = root_ + r, inImage = r.substr(1);
            struct stat st;
            if (::lstat(host.c_str(), &st) != 0) return ::testing::AssertionFailure() << "lstat " << host;
            auto eas = linuxEas(st.st_mode, st.st_uid, st.st_gid);
            CIMFS_FILE_METADATA md = fileMetadata(0);
            md.LastWriteTime = toFiletime(st.st_mtim);
            md.LastAccessTime = toFiletime(st.st_atim);
            md.ChangeTime = toFiletime(st.st_ctim);
            md.CreationTime = md.LastWriteTime;
            md.ExtendedAttributes = eas.data();
            md.EACount = static_cast<uint32_t>(eas.size());
            std::vector<uint8_t> reparse;
            std::string data;
            if (S_ISDIR(st.st_mode)) {
                md.Attributes = kAttrDirectory;
            } else if (S_ISLNK(st.st_mode)) {
                char buf[4096];
                ssize_t len = ::readlink(host.c_str(), buf, sizeof buf);
                reparse = lxSymlink(std::string(buf, static_cast<size_t>(len)));
                md.Attributes = kAttrReparsePoint;
                md.ReparseDataBuffer = reparse.data();
                md.ReparseDataSize = static_cast<uint32_t>(reparse.size());
            } else if (S_ISREG(st.st_mode)) {
                auto key = std::make_pair(st.st_dev, st.st_ino);
                if (st.st_nlink > 1) {
                    if (auto it = links_.find(key); it != links_.end()) {
                        if (auto res = ok(CimCreateHardLink(h_, inImage.c_str(), it->second.c_str()), "hard link"); !res) return res;
                        continue;
                    }
                    links_[key] = inImage;
                }
                auto bytes = readHostFile(host);
                data.assign(bytes.begin(), bytes.end());
                md.Attributes = kAttrArchive;
                md.FileSize = static_cast<int64_t>(data.size());
            } else {
                continue;
            }
            CIMFS_STREAM_HANDLE s = nullptr;
            if (auto res = ok(CimCreateFile(h_, inImage.c_str(), &md, &s), inImage.c_str()); !res) return res;
            for (size_t off = 0; off < data.size(); off += 1 << 20) {
                size_t n = std::min<size_t>(1 << 20, data.size() - off);
                if (auto res = ok(CimWriteStream(s, data.data() + off, static_cast<uint32_t>(n)), "write"); !res) return res;
            }
            if (s) {
                if (auto res = ok(CimCloseStream(s), "close"); !res) return res;
            }
            if (S_ISDIR(st.st_mode)) {
                if (auto res = walk(r); !res) return res;
            }
        }
        return ::testing::AssertionSuccess();
    }

    CIMFS_IMAGE_HANDLE h_;
    std::string root_;
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

void makeTree(const std::string& root) {
    fs::create_directories(root + "/a/b/c");
    fs::create_directories(root + "/empty");
    fs::create_directories(root + "/x y/unicodé");
    for (size_t size : {size_t(0), size_t(1), size_t(4095), size_t(4096), size_t(4097), size_t(100000), size_t(3 << 20)}) {
        std::string data = randomBytes(size, size);
        writeHostFile(root + "/a/file" + std::to_string(size), std::vector<uint8_t>(data.begin(), data.end()));
    }
    writeHostFile(root + "/a/b/c/deep.txt", {'d', 'e', 'e', 'p'});
    writeHostFile(root + "/x y/unicodé/naïve.txt", {'n'});
    fs::create_symlink("b/c/deep.txt", root + "/a/rel_link");
    fs::create_symlink("/etc/hostname", root + "/abs_link");
    fs::create_symlink("missing", root + "/dangling");
    fs::create_hard_link(root + "/a/file1", root + "/hard1");
    fs::create_hard_link(root + "/a/file1", root + "/a/b/hard2");
    ::chmod((root + "/a/file4096").c_str(), 0755);
    ::chmod((root + "/a/file0").c_str(), 0600);
    ::chmod((root + "/a/b").c_str(), 0750);
    if (::geteuid() == 0) ::lchown((root + "/a/file4097").c_str(), 1234, 5678);
}

void compareMetadata(const std::string& src, const std::string& mnt, const std::string& rel = "") {
    for (const auto& name : TempDir::listDir(src + rel)) {
        std::string r = rel + "/" + name;
        struct stat a = lstatOk(src + r), b = lstatOk(mnt + r);
        EXPECT_EQ(a.st_mode, b.st_mode) << r;
        EXPECT_EQ(a.st_uid, b.st_uid) << r;
        EXPECT_EQ(a.st_gid, b.st_gid) << r;
        EXPECT_EQ(a.st_mtim.tv_sec, b.st_mtim.tv_sec) << r;
        EXPECT_EQ(a.st_mtim.tv_nsec / 100, b.st_mtim.tv_nsec / 100) << r;
        if (!S_ISDIR(a.st_mode)) {
            EXPECT_EQ(a.st_size, b.st_size) << r;
            EXPECT_EQ(a.st_nlink, b.st_nlink) << r;
        } else {
            EXPECT_EQ(a.st_nlink, b.st_nlink) << r << " (2 + subdirectories)";
            compareMetadata(src, mnt, r);
        }
        if (S_ISLNK(a.st_mode)) {
            EXPECT_EQ(readlinkOk(src + r), readlinkOk(mnt + r)) << r;
        }
    }
}

TEST_F(Mount, TreeFromRealDirectoryMatchesDiff) {
    std::string src = dir_ / "src";
    makeTree(src);
    std::vector<std::string> trees{src};
    if (fs::exists("/usr/include/fmt")) trees.push_back("/usr/include/fmt");
    for (const auto& tree : trees) {
        SCOPED_TRACE(tree);
        std::string name = "tree" + std::to_string(&tree - trees.data()) + ".cim";
        ASSERT_TRUE(buildStandard(dir_.path(), nullptr, name.c_str(),
                                  [&](CIMFS_IMAGE_HANDLE h) { return TreeImporter(h, tree).run(); }));
        CIMFS_GUID g;
        std::string mnt = mountStandard(g, dir_.path(), name.c_str());
        ASSERT_FALSE(mnt.empty());
        int status = -1;
        std::string out = shell("diff -r --no-dereference '" + tree + "' '" + mnt + "' 2>&1", &status);
        EXPECT_EQ(status, 0) << out;
        compareMetadata(tree, mnt);
        dismount(g);
    }
}

// ---- concurrency and lifetime ----

TEST_F(Mount, ReadersHammeringDuringDismountNeitherCrashNorHang) {
    std::vector<std::string> files;
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [&](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addDir(h, "d")); !r) return r;
        for (int i = 0; i < 64; ++i) {
            std::string p = "d\\f" + std::to_string(i);
            if (auto r = ok(addFile(h, p.c_str(), randomBytes(static_cast<size_t>(i) * 3000, i))); !r) return r;
            files.push_back("d/f" + std::to_string(i));
        }
        return ::testing::AssertionSuccess();
    }));
    CIMFS_GUID g;
    std::string mnt = mountStandard(g, dir_.path(), "test.cim");
    ASSERT_FALSE(mnt.empty());

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> goodReads{0}, failures{0};
    std::vector<std::future<void>> readers;
    for (int t = 0; t < 8; ++t) {
        readers.push_back(std::async(std::launch::async, [&, t] {
            SplitMix64 rng(t);
            std::vector<char> buf(65536);
            auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (!stop && std::chrono::steady_clock::now() < deadline) {
                const std::string& f = files[rng.below(files.size())];
                int fd = ::open((mnt + "/" + f).c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    ++failures;
                    continue;
                }
                bool good = true;
                for (;;) {
                    ssize_t n = ::read(fd, buf.data(), buf.size());
                    if (n < 0) good = false;
                    if (n <= 0) break;
                }
                ::close(fd);
                struct stat st;
                if (::stat((mnt + "/" + f).c_str(), &st) != 0) good = false;
                if (t % 2 == 0) {
                    if (DIR* d = ::opendir((mnt + "/d").c_str())) {
                        while (::readdir(d)) {}
                        ::closedir(d);
                    }
                }
                (good ? goodReads : failures)++;
            }
        }));
    }
    // A file kept open across the dismount: the volume is busy, so it is detached lazily and its
    // connection severed; reads from the still-open descriptor must return, not hang.
    int held = ::open((mnt + "/d/f63").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(held, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto t0 = std::chrono::steady_clock::now();
    dismount(g);
    auto heldRead = std::async(std::launch::async, [&] {
        char b[4096];
        return ::pread(held, b, sizeof b, 100000);
    });
    EXPECT_EQ(heldRead.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "read of a held file hangs";
    ::close(held);
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::seconds(15)) << "dismount took too long";
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
    for (auto& r : readers) {
        ASSERT_EQ(r.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "a reader hangs after dismount";
    }
    EXPECT_GT(goodReads.load(), 0u);
    EXPECT_FALSE(isMountPoint(mnt));
    std::printf("[ info     ] %llu good reads, %llu failed after/while dismounting, dismount took %lld ms\n",
                static_cast<unsigned long long>(goodReads.load()), static_cast<unsigned long long>(failures.load()),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

// Forks a process that mounts volume `g`, reports through a pipe, then exits or waits to be killed.
pid_t forkMounter(const std::string& dir, const CIMFS_GUID& g, bool exitAfterMount) {
    int p[2];
    if (::pipe(p) != 0) return -1;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        char ok = CimMountImage(dir.c_str(), "test.cim", 0, &g) == 0 ? 'y' : 'n';
        (void)!::write(p[1], &ok, 1);
        if (exitAfterMount) std::exit(0);  // normal exit without CimDismountImage: atexit cleanup
        for (;;) ::pause();
    }
    ::close(p[1]);
    char c = 0;
    if (::read(p[0], &c, 1) != 1 || c != 'y') {
        ::close(p[0]);
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        return -1;
    }
    ::close(p[0]);
    return pid;
}

TEST_F(Mount, KilledProcessLeavesDeadMountThatIsCleanedUp) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    CIMFS_GUID g = newGuid();
    std::string mnt = mountPathOf(g);
    for (int variant = 0; variant < 2; ++variant) {
        pid_t pid = forkMounter(dir_.path(), g, false);
        ASSERT_GT(pid, 0) << "child could not mount";
        EXPECT_EQ(readOk(mnt + "/foobar.txt"), kFoobarData);
        // Another process cannot mount the GUID while the first serves it.
        EXPECT_HR(CimMountImage(dir_.c_str(), "test.cim", 0, &g), kAlreadyExists, "another process");
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        struct statfs sf;
        EXPECT_NE(::statfs(mnt.c_str(), &sf), 0);
        EXPECT_EQ(errno, ENOTCONN) << "expected a dead mount after SIGKILL";
        EXPECT_TRUE(isMountPoint(mnt));
        if (variant == 0) {
            // Mounting the same GUID again detaches the dead mount first.
            ASSERT_OK(CimMountImage(dir_.c_str(), "test.cim", 0, &g));
            mounted_.push_back(g);
            EXPECT_EQ(readOk(mnt + "/foo/bar.txt"), kBarData);
            dismount(g);
        } else {
            // Dismounting the GUID cleans the dead mount up too.
            EXPECT_OK(CimDismountImage(&g));
        }
        EXPECT_FALSE(isMountPoint(mnt));
        EXPECT_EQ(statErrno(mnt), ENOENT);
    }
}

TEST_F(Mount, ProcessExitingWithoutDismountUnmounts) {
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "test.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    CIMFS_GUID g = newGuid();
    std::string mnt = mountPathOf(g);
    pid_t pid = forkMounter(dir_.path(), g, true);
    ASSERT_GT(pid, 0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_FALSE(isMountPoint(mnt)) << "exit() left the volume mounted";
    EXPECT_EQ(statErrno(mnt), ENOENT);
}

}  // namespace
