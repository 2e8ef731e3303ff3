// Faults through the public C ABI: disk full during write/commit/append/merge/seal/import (a
// small tmpfs, or RLIMIT_FSIZE in a forked child), writers SIGKILLed at random points during
// commit/append/import, I/O errors and files changing under an open reader, and a merged CIM
// whose source changed after the merge. The promises checked (docs/reliability.md):
//  - a failure is a clean HRESULT (0x80070070 for a full disk) with a message;
//  - nothing is published: no new image, and the directory lists exactly what it did before;
//  - a previous image is intact (byte-identical files, same content read back);
//  - a killed writer leaves either no image or a complete one, never a torn one, and its
//    temporary files are reclaimed by the next writer in that directory;
//  - read errors surface as errors (0x80070570 / 0x80070143 / 0x8007045D), never as wrong data.
// Tests needing mount(2) (tmpfs) or FUSE skip with the reason when the machine cannot.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <random>
#include <thread>

#include "tar_builder.h"
#include "test_util.h"

using namespace itest;

namespace {

constexpr HRESULT kDiskFull = static_cast<HRESULT>(0x80070070u);
constexpr HRESULT kIoDevice = static_cast<HRESULT>(0x8007045Du);
constexpr uint32_t kSingleFile = 0x8, kConsistent = 0x10, kVerified = 0x40;
constexpr uint32_t kMountSingleFile = 0x20;

// A tmpfs of `bytes` mounted on a fresh directory; ok() is false where mount(2) is not allowed.
class SmallTmpfs {
public:
    explicit SmallTmpfs(size_t bytes) {
        std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
        ok_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
        if (!ok_) error_ = std::strerror(errno);
    }
    ~SmallTmpfs() {
        if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    const std::string& path() const { return dir_.path(); }
    std::string operator/(std::string_view n) const { return dir_ / n; }

private:
    TempDir dir_;
    bool ok_ = false;
    std::string error_;
};

#define REQUIRE_TMPFS(fs)                                                                                   \
    if (!(fs).ok()) GTEST_SKIP() << "skipped: cannot mount a small tmpfs here (" << (fs).error() << "); " \
                                    "the RLIMIT_FSIZE tests cover disk-full without mount(2)"

// Fills the file system holding `dir` with a filler file until at most `leave` bytes are free.
std::string fillLeaving(const std::string& dir, size_t leave) {
    std::string filler = dir + "/filler";
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char> chunk(64 << 10, 'F');
    auto freeBytes = [&] {
        struct ::statvfs s {};
        ::fstatvfs(fd, &s);
        return uint64_t(s.f_bavail) * s.f_frsize;
    };
    while (freeBytes() > leave) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), freeBytes() - leave));
        if (::write(fd, chunk.data(), n) <= 0) break;
    }
    ::close(fd);
    return filler;
}

bool io_exists(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

std::string pattern(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        s[i] = static_cast<char>(x);
    }
    return s;
}

std::vector<std::string> tempFilesIn(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& n : TempDir::listDir(dir)) {
        if (n.find(".tmp-") != std::string::npos) out.push_back(n);
    }
    return out;
}

// The message of the last failing call inside writeFiles (later cleanup calls clear the
// thread's last-error message, so it is saved first).
thread_local std::string lastFailure;

// Writes `count` files of `size` bytes (content pattern(size, i)) into an open image.
HRESULT writeFiles(CIMFS_IMAGE_HANDLE h, int count, size_t size, uint32_t seedBase = 0) {
    for (int i = 0; i < count; ++i) {
        std::string data = pattern(size, seedBase + static_cast<uint32_t>(i));
        CIMFS_FILE_METADATA md = fileMetadata(static_cast<int64_t>(data.size()));
        CIMFS_STREAM_HANDLE s = nullptr;
        std::string name = "f" + std::to_string(i);
        if (HRESULT hr = CimCreateFile(h, name.c_str(), &md, &s); hr < 0) return hr;
        for (size_t off = 0; off < data.size(); off += 65536) {
            uint32_t n = static_cast<uint32_t>(std::min<size_t>(65536, data.size() - off));
            if (HRESULT hr = CimWriteStream(s, data.data() + off, n); hr < 0) {
                lastFailure = CimGetLastErrorMessage();
                CimCloseStream(s);
                return hr;
            }
        }
        if (HRESULT hr = CimCloseStream(s); hr < 0) return hr;
    }
    return kOk;
}

// Checks that an open reader holds exactly what writeFiles wrote.
::testing::AssertionResult holdsFiles(CIMFS_READER_HANDLE r, int count, size_t size, uint32_t seedBase = 0) {
    for (int i = 0; i < count; ++i) {
        std::string name = "f" + std::to_string(i);
        HRESULT hr;
        std::string got = readAll(r, name.c_str(), &hr);
        if (hr != kOk) return ::testing::AssertionFailure() << name << ": " << hex(hr) << " " << CimGetLastErrorMessage();
        if (got != pattern(size, seedBase + static_cast<uint32_t>(i))) {
            return ::testing::AssertionFailure() << name << ": content differs (" << got.size() << " bytes)";
        }
    }
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult standardHolds(const std::string& dir, const char* name, int count, size_t size, uint32_t seedBase = 0) {
    ReaderHandle r;
    HRESULT hr = CimOpenImage(dir.c_str(), name, 0, r.out());
    if (hr != kOk) return ::testing::AssertionFailure() << "open " << name << ": " << hex(hr) << " " << CimGetLastErrorMessage();
    return holdsFiles(r, count, size, seedBase);
}

::testing::AssertionResult blockHolds(const std::string& path, const char* name, int count, size_t size, uint32_t seedBase = 0) {
    ReaderHandle r;
    HRESULT hr = CimOpenImage(path.c_str(), name, 0x20, r.out());
    if (hr != kOk) return ::testing::AssertionFailure() << "open " << name << ": " << hex(hr) << " " << CimGetLastErrorMessage();
    return holdsFiles(r, count, size, seedBase);
}

// Runs one write attempt; returns the first failing HRESULT (checking its message) or S_OK.
struct Attempt {
    HRESULT hr = kOk;
    std::string message;
};
Attempt attempt(const std::function<HRESULT()>& body) {
    Attempt a;
    lastFailure.clear();
    a.hr = body();
    a.message = a.hr >= 0 ? "" : lastFailure.empty() ? CimGetLastErrorMessage() : lastFailure;
    return a;
}

// A Linux layer tar with `count` files of `size` bytes.
std::string layerTar(int count, size_t size) {
    std::vector<tartest::Entry> es;
    es.push_back({"data/", '5'});
    for (int i = 0; i < count; ++i) es.push_back({"data/f" + std::to_string(i), '0', pattern(size, static_cast<uint32_t>(i))});
    return tartest::build(es);
}

CIMFS_IMPORT_OPTIONS linuxImport(uint32_t flags = 0) {
    CIMFS_IMPORT_OPTIONS o{};
    o.Size = sizeof o;
    o.Flags = flags;
    o.LayerFormat = CIM_LAYER_FORMAT_LINUX;
    o.Threads = 1;
    return o;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Disk full
// ---------------------------------------------------------------------------------------------

// A new standard image that does not fit, at several amounts of free space so that the failure
// hits different phases (data writes, region/object ID/filesystem files at commit).
TEST(DiskFull, StandardImageNeverPublishesAndKeepsThePreviousImage) {
    SmallTmpfs fs(2 << 20);
    REQUIRE_TMPFS(fs);
    ASSERT_TRUE(buildStandard(fs.path(), nullptr, "prev.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 3, 10000)); }));
    int failures = 0;
    for (size_t leave : {size_t(0), size_t(4096), size_t(16384), size_t(65536), size_t(200000), size_t(600000)}) {
        SCOPED_TRACE("free bytes " + std::to_string(leave));
        std::string filler = fillLeaving(fs.path(), leave);
        auto before = TempDir::listDir(fs.path());
        ImageHandle h;
        Attempt a = attempt([&] {
            if (HRESULT hr = CimCreateImage(fs.path().c_str(), nullptr, "big.cim", h.out()); hr < 0) return hr;
            if (HRESULT hr = writeFiles(h, 4, 100000, 100); hr < 0) return hr;
            return CimCommitImage(h);
        });
        h.reset();
        if (a.hr == kOk) {
            EXPECT_TRUE(standardHolds(fs.path(), "big.cim", 4, 100000, 100));
        } else {
            ++failures;
            EXPECT_EQ(hex(a.hr), hex(kDiskFull)) << a.message;
            EXPECT_NE(a.message.find("No space left"), std::string::npos) << a.message;
            EXPECT_EQ(TempDir::listDir(fs.path()), before) << "a failed write left files behind";
        }
        EXPECT_TRUE(standardHolds(fs.path(), "prev.cim", 3, 10000));
        // Clean up for the next round (a successful image too).
        for (const auto& n : TempDir::listDir(fs.path())) {
            if (n != "prev.cim" && n.rfind("region_", 0) != 0 && n.rfind("objectid_", 0) != 0) ::unlink((fs / n).c_str());
        }
        if (a.hr == kOk) {
            ASSERT_TRUE(standardHolds(fs.path(), "prev.cim", 3, 10000));
        }
        ::unlink(filler.c_str());
    }
    EXPECT_GE(failures, 3) << "too few rounds actually ran out of space";
}

// Rewriting an existing standard image (existing == new) on a full disk leaves the old one.
TEST(DiskFull, StandardRewriteKeepsTheOldImage) {
    SmallTmpfs fs(2 << 20);
    REQUIRE_TMPFS(fs);
    ASSERT_TRUE(buildStandard(fs.path(), nullptr, "img.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 30000)); }));
    std::string cimBefore = sha256File(fs / "img.cim");
    std::string filler = fillLeaving(fs.path(), 8192);
    auto before = TempDir::listDir(fs.path());
    ImageHandle h;
    Attempt a = attempt([&] {
        if (HRESULT hr = CimCreateImage(fs.path().c_str(), "img.cim", "img.cim", h.out()); hr < 0) return hr;
        if (HRESULT hr = writeFiles(h, 3, 200000, 50); hr < 0) return hr;
        return CimCommitImage(h);
    });
    h.reset();
    EXPECT_EQ(hex(a.hr), hex(kDiskFull)) << a.message;
    EXPECT_EQ(TempDir::listDir(fs.path()), before);
    EXPECT_EQ(sha256File(fs / "img.cim"), cimBefore);
    EXPECT_TRUE(standardHolds(fs.path(), "img.cim", 2, 30000));
}

// A new single-file block CIM, and one more CIM appended to an existing block file.
TEST(DiskFull, BlockImageNewFileAndAppend) {
    SmallTmpfs fs(2 << 20);
    REQUIRE_TMPFS(fs);
    std::string shared = fs / "shared.bcim";
    ASSERT_TRUE(buildBlock(shared, kSingleFile, "first.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 20000)); }));
    std::string sharedSha = sha256File(shared);
    int failures = 0;
    for (size_t leave : {size_t(0), size_t(8192), size_t(65536), size_t(300000)}) {
        SCOPED_TRACE("free bytes " + std::to_string(leave));
        std::string filler = fillLeaving(fs.path(), leave);
        auto before = TempDir::listDir(fs.path());
        for (bool append : {false, true}) {
            ImageHandle h;
            std::string path = append ? shared : fs / "new.bcim";
            Attempt a = attempt([&] {
                if (HRESULT hr = CimCreateImage2(path.c_str(), kSingleFile, nullptr, "second.cim", h.out()); hr < 0) return hr;
                if (HRESULT hr = writeFiles(h, 3, 150000, 7); hr < 0) return hr;
                return CimCommitImage(h);
            });
            h.reset();
            if (a.hr == kOk) {
                EXPECT_TRUE(blockHolds(path, "second.cim", 3, 150000, 7));
                ADD_FAILURE() << "expected the disk to be too full for 450 KB (append=" << append << ")";
            } else {
                ++failures;
                EXPECT_EQ(hex(a.hr), hex(kDiskFull)) << a.message;
                EXPECT_EQ(TempDir::listDir(fs.path()), before) << "append=" << append;
                EXPECT_EQ(sha256File(shared), sharedSha) << "the existing block file changed";
            }
            EXPECT_TRUE(blockHolds(shared, "first.cim", 2, 20000));
        }
        ::unlink(filler.c_str());
    }
    EXPECT_EQ(failures, 8);
}

// Merging on a full disk: no merged block file, sources unchanged.
TEST(DiskFull, MergeLeavesNoMergedImage) {
    SmallTmpfs fs(1 << 20);
    REQUIRE_TMPFS(fs);
    std::string top = fs / "top.bcim", base = fs / "base.bcim";
    ASSERT_TRUE(buildBlock(top, kSingleFile, "top.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 1000, 1)); }));
    ASSERT_TRUE(buildBlock(base, kSingleFile, "base.cim", [](CIMFS_IMAGE_HANDLE h) {
        for (int i = 0; i < 200; ++i) {
            if (HRESULT hr = addDir(h, ("dir" + std::to_string(i)).c_str()); hr < 0) return ok(hr);
        }
        return ok(writeFiles(h, 3, 1000, 2));
    }));
    std::string topSha = sha256File(top), baseSha = sha256File(base);
    int failures = 0;
    for (size_t leave : {size_t(0), size_t(4096), size_t(12288)}) {
        SCOPED_TRACE("free bytes " + std::to_string(leave));
        std::string filler = fillLeaving(fs.path(), leave);
        auto before = TempDir::listDir(fs.path());
        ImageHandle h;
        std::string merged = fs / "merged.bcim";
        Attempt a = attempt([&] {
            if (HRESULT hr = CimCreateImage2(merged.c_str(), kSingleFile, nullptr, "merged.cim", h.out()); hr < 0) return hr;
            if (HRESULT hr = CimAddFsToMergedImage(h, sourcePath(top, "top.cim").c_str()); hr < 0) return hr;
            if (HRESULT hr = CimAddFsToMergedImage(h, sourcePath(base, "base.cim").c_str()); hr < 0) return hr;
            return CimCommitImage(h);
        });
        h.reset();
        if (a.hr != kOk) {
            ++failures;
            EXPECT_EQ(hex(a.hr), hex(kDiskFull)) << a.message;
            EXPECT_EQ(TempDir::listDir(fs.path()), before);
        } else {
            ::unlink(merged.c_str());
        }
        EXPECT_EQ(sha256File(top), topSha);
        EXPECT_EQ(sha256File(base), baseSha);
        ::unlink(filler.c_str());
    }
    EXPECT_GE(failures, 2);
}

// Sealing on a full disk fails cleanly; the block file stays an unsealed, readable CIM, and the
// same seal succeeds (with the same root hash as elsewhere) once there is room.
TEST(DiskFull, SealFailsCleanlyAndCanBeRetried) {
    SmallTmpfs fs(2 << 20);
    REQUIRE_TMPFS(fs);
    TempDir roomy;
    std::string path = fs / "v.bcim", copy = roomy / "v.bcim";
    auto body = [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 4, 150000, 3)); };
    ASSERT_TRUE(buildBlock(path, kSingleFile | kVerified | kConsistent, "v.cim", body));
    ASSERT_TRUE(buildBlock(copy, kSingleFile | kVerified | kConsistent, "v.cim", body));
    ASSERT_EQ(sha256File(path), sha256File(copy)) << "consistent CIMs differ";
    uint64_t hashSize = 0, headerSize = 0;
    uint8_t want[32], got[32];
    ASSERT_OK(CimSealImage(copy.c_str(), &hashSize, &headerSize, want));

    std::string filler = fillLeaving(fs.path(), 0);
    auto before = TempDir::listDir(fs.path());
    HRESULT hr = CimSealImage(path.c_str(), &hashSize, &headerSize, got);
    std::string msg = CimGetLastErrorMessage();
    EXPECT_EQ(hex(hr), hex(kDiskFull)) << msg;
    EXPECT_EQ(TempDir::listDir(fs.path()), before);
    uint32_t sealed = 9;
    uint64_t sigSize = 0;
    EXPECT_OK(CimGetVerificationInformation(path.c_str(), &sealed, &hashSize, &sigSize, &headerSize, nullptr, nullptr));
    EXPECT_EQ(sealed, 0u);
    EXPECT_TRUE(blockHolds(path, "v.cim", 4, 150000, 3));

    ::unlink(filler.c_str());
    ASSERT_OK(CimSealImage(path.c_str(), &hashSize, &headerSize, got));
    EXPECT_EQ(toHex(got, 32), toHex(want, 32));
    EXPECT_EQ(sha256File(path), sha256File(copy)) << "a retried seal must give the same file";
    ReaderHandle r;
    ASSERT_OK(CimOpenVerifiedImage(path.c_str(), "v.cim", kMountSingleFile, 32, got, r.out()));
    EXPECT_TRUE(holdsFiles(r, 4, 150000, 3));
}

// Importing a layer on a full disk: 0x80070070, no block file, no temporaries, no checksum file.
TEST(DiskFull, ImportLeavesNothing) {
    SmallTmpfs fs(2 << 20);
    REQUIRE_TMPFS(fs);
    TempDir src;
    std::string tar = src / "layer.tar";
    writeHostFile(tar, [] {
        std::string t = layerTar(6, 500000);
        return std::vector<uint8_t>(t.begin(), t.end());
    }());
    for (uint32_t flags : {0u, uint32_t(CIM_IMPORT_VERIFIED)}) {
        SCOPED_TRACE("flags " + std::to_string(flags));
        auto before = TempDir::listDir(fs.path());
        CIMFS_IMPORT_OPTIONS o = linuxImport(flags);
        HRESULT hr = CimImportLayer(tar.c_str(), (fs / "layer.bcim").c_str(), "layer.cim", &o, nullptr);
        std::string msg = CimGetLastErrorMessage();
        EXPECT_EQ(hex(hr), hex(kDiskFull)) << msg;
        EXPECT_NE(msg.find("layer.bcim"), std::string::npos) << msg;
        EXPECT_EQ(TempDir::listDir(fs.path()), before);
    }
}

// Without mount(2): RLIMIT_FSIZE in a forked child (SIGXFSZ ignored, so writes fail with EFBIG).
TEST(DiskFull, FileSizeLimitInAChild) {
    TempDir dir;
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "prev.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 5000)); }));
    auto before = dir.list();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        ::signal(SIGPIPE, SIG_IGN);  // the import stops reading its pipe when it fails
        struct rlimit rl{256 << 10, 256 << 10};
        ::setrlimit(RLIMIT_FSIZE, &rl);
        int code = 0;
        CIMFS_IMAGE_HANDLE h = nullptr;
        HRESULT hr = CimCreateImage(dir.c_str(), nullptr, "big.cim", &h);
        if (hr == kOk) hr = writeFiles(h, 2, 400000);
        if (hr == kOk) hr = CimCommitImage(h);
        if (hr != kDiskFull) code = 10;
        else if (std::string(CimGetLastErrorMessage()).empty()) code = 11;
        CimCloseImage(h);
        // Block file and import too.
        CIMFS_IMAGE_HANDLE b = nullptr;
        hr = CimCreateImage2((dir / "b.bcim").c_str(), kSingleFile, nullptr, "b.cim", &b);
        if (hr == kOk) hr = writeFiles(b, 2, 400000);
        if (hr == kOk) hr = CimCommitImage(b);
        if (hr != kDiskFull && !code) code = 12;
        CimCloseImage(b);
        std::string t = layerTar(2, 400000);
        int fds[2];
        if (::pipe(fds) == 0) {
            std::thread feeder([&] {
                for (size_t off = 0; off < t.size();) {
                    ssize_t n = ::write(fds[1], t.data() + off, t.size() - off);
                    if (n <= 0) break;
                    off += static_cast<size_t>(n);
                }
                ::close(fds[1]);
            });
            CIMFS_IMPORT_OPTIONS o = linuxImport();
            hr = CimImportLayerFromFd(fds[0], (dir / "l.bcim").c_str(), "l.cim", &o, nullptr);
            ::close(fds[0]);
            feeder.join();
            if (hr != kDiskFull && !code) code = 13;
        }
        ::_exit(code);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10/11: standard image, 12: block file, 13: import did not fail with 0x80070070";
    EXPECT_EQ(dir.list(), before);
    EXPECT_TRUE(standardHolds(dir.path(), "prev.cim", 2, 5000));
}

// ---------------------------------------------------------------------------------------------
// Writers killed at random points
// ---------------------------------------------------------------------------------------------

namespace {

// Runs `work` in a forked child and SIGKILLs it after a random delay in [0, maxDelay); returns
// true when the child finished (exit 0) before the kill.
bool runAndKill(const std::function<int()>& work, std::chrono::microseconds delay) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) ::_exit(work());
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// How long `work` takes in a child (to spread the kill points over it).
std::chrono::microseconds timeInChild(const std::function<int()>& work) {
    auto t0 = std::chrono::steady_clock::now();
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(work());
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the calibration run failed";
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
}

// Makes every temporary file in `dir` look older than the reclamation grace period.
void ageTemps(const std::string& dir) {
    for (const auto& n : tempFilesIn(dir)) {
        struct timespec t[2];
        ::clock_gettime(CLOCK_REALTIME, &t[0]);
        t[0].tv_sec -= 3600;
        t[1] = t[0];
        ::utimensat(AT_FDCWD, (dir + "/" + n).c_str(), t, 0);
    }
}

constexpr int kKillRounds = 20;
constexpr int kKillFiles = 12;
constexpr size_t kKillFileSize = 150000;

}  // namespace

TEST(KilledWriter, StandardCommitIsAllOrNothing) {
    TempDir dir;
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "prev.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 5000)); }));
    std::string prevSha = sha256File(dir / "prev.cim");
    auto work = [&](const std::string& name) {
        return [&dir, name] {
            CIMFS_IMAGE_HANDLE h = nullptr;
            if (CimCreateImage(dir.c_str(), nullptr, name.c_str(), &h) != kOk) return 1;
            if (writeFiles(h, kKillFiles, kKillFileSize) != kOk) return 2;
            if (CimCommitImage(h) != kOk) return 3;
            CimCloseImage(h);
            return 0;
        };
    };
    auto full = timeInChild(work("calibration.cim"));
    ASSERT_TRUE(standardHolds(dir.path(), "calibration.cim", kKillFiles, kKillFileSize));
    uint64_t seed = testSeed(20261127);
    SplitMix64 rng(seed);
    int complete = 0, absent = 0;
    for (int i = 0; i < kKillRounds; ++i) {
        std::string name = "img" + std::to_string(i) + ".cim";
        auto delay = std::chrono::microseconds(rng.below(static_cast<uint64_t>(full.count() * 12 / 10) + 1));
        runAndKill(work(name), delay);
        if (io_exists(dir / name)) {
            ++complete;
            EXPECT_TRUE(standardHolds(dir.path(), name.c_str(), kKillFiles, kKillFileSize)) << name << " is torn";
        } else {
            ++absent;
        }
    }
    std::printf("[ kills    ] standard commit: %d complete, %d absent, %zu temp files left\n", complete, absent,
                tempFilesIn(dir.path()).size());
    EXPECT_EQ(sha256File(dir / "prev.cim"), prevSha);
    EXPECT_TRUE(standardHolds(dir.path(), "prev.cim", 2, 5000));
    EXPECT_GT(absent, 0) << "no kill landed before the publish point; the test does not test anything";
    // The next writer in the directory reclaims what the killed ones left.
    ageTemps(dir.path());
    ImageHandle h;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "next.cim", h.out()));
    h.reset();
    EXPECT_EQ(tempFilesIn(dir.path()), std::vector<std::string>{});
}

TEST(KilledWriter, BlockNewFileAndAppendAreAllOrNothing) {
    TempDir dir;
    std::string shared = dir / "shared.bcim";
    ASSERT_TRUE(buildBlock(shared, kSingleFile, "first.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 2, 5000)); }));
    auto work = [&](const std::string& path, const std::string& name) {
        return [path, name] {
            CIMFS_IMAGE_HANDLE h = nullptr;
            if (CimCreateImage2(path.c_str(), kSingleFile, nullptr, name.c_str(), &h) != kOk) return 1;
            if (writeFiles(h, kKillFiles, kKillFileSize) != kOk) return 2;
            if (CimCommitImage(h) != kOk) return 3;
            CimCloseImage(h);
            return 0;
        };
    };
    auto full = timeInChild(work(dir / "calibration.bcim", "c.cim"));
    uint64_t seed = testSeed(7);
    SplitMix64 rng(seed);
    int complete = 0, absent = 0;
    for (int i = 0; i < kKillRounds; ++i) {
        bool append = i % 2;
        std::string path = append ? shared : dir / ("b" + std::to_string(i) + ".bcim");
        std::string name = "cim" + std::to_string(i) + ".cim";
        auto delay = std::chrono::microseconds(rng.below(static_cast<uint64_t>(full.count() * 12 / 10) + 1));
        runAndKill(work(path, name), delay);
        ReaderHandle r;
        HRESULT hr = io_exists(path) ? CimOpenImage(path.c_str(), name.c_str(), kMountSingleFile, r.out()) : kFileNotFound;
        if (hr == kOk) {
            ++complete;
            EXPECT_TRUE(holdsFiles(r, kKillFiles, kKillFileSize)) << path << ":" << name << " is torn";
        } else {
            ++absent;
            EXPECT_EQ(hex(hr), hex(kFileNotFound)) << CimGetLastErrorMessage();
        }
        // The shared block file always opens and keeps its first CIM.
        EXPECT_TRUE(blockHolds(shared, "first.cim", 2, 5000)) << "after round " << i;
    }
    std::printf("[ kills    ] block commit/append: %d complete, %d absent, %zu temp files left\n", complete, absent,
                tempFilesIn(dir.path()).size());
    EXPECT_GT(absent, 0);
    ageTemps(dir.path());
    ImageHandle h;
    ASSERT_OK(CimCreateImage2((dir / "next.bcim").c_str(), kSingleFile, nullptr, "n.cim", h.out()));
    h.reset();
    EXPECT_EQ(tempFilesIn(dir.path()), std::vector<std::string>{});
}

TEST(KilledWriter, ImportIsAllOrNothing) {
    TempDir dir, src;
    std::string tar = src / "layer.tar";
    std::string t = layerTar(kKillFiles, kKillFileSize);
    writeHostFile(tar, std::vector<uint8_t>(t.begin(), t.end()));
    auto work = [&](const std::string& block) {
        return [tar, block] {
            CIMFS_IMPORT_OPTIONS o = linuxImport();
            return CimImportLayer(tar.c_str(), block.c_str(), "layer.cim", &o, nullptr) == kOk ? 0 : 1;
        };
    };
    auto full = timeInChild(work(dir / "calibration.bcim"));
    uint64_t seed = testSeed(99);
    SplitMix64 rng(seed);
    int complete = 0, absent = 0;
    for (int i = 0; i < kKillRounds; ++i) {
        std::string block = dir / ("l" + std::to_string(i) + ".bcim");
        auto delay = std::chrono::microseconds(rng.below(static_cast<uint64_t>(full.count() * 12 / 10) + 1));
        runAndKill(work(block), delay);
        if (io_exists(block)) {
            ++complete;
            ReaderHandle r;
            ASSERT_OK(CimOpenImage(block.c_str(), "layer.cim", kMountSingleFile, r.out()));
            for (int f = 0; f < kKillFiles; ++f) {
                std::string p = "data/f" + std::to_string(f);
                HRESULT hr;
                EXPECT_EQ(readAll(r, p.c_str(), &hr), pattern(kKillFileSize, static_cast<uint32_t>(f))) << block << " is torn";
            }
        } else {
            ++absent;
        }
    }
    std::printf("[ kills    ] import: %d complete, %d absent, %zu temp files left\n", complete, absent, tempFilesIn(dir.path()).size());
    EXPECT_GT(absent, 0);
    ageTemps(dir.path());
    CIMFS_IMPORT_OPTIONS o = linuxImport();
    ASSERT_OK(CimImportLayer(tar.c_str(), (dir / "next.bcim").c_str(), "layer.cim", &o, nullptr));
    EXPECT_EQ(tempFilesIn(dir.path()), std::vector<std::string>{});
}

// Temporary files of a live writer (this process) are never reclaimed, whatever their age.
TEST(KilledWriter, LiveWritersTempFilesAreKept) {
    TempDir dir;
    ImageHandle a;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "a.cim", a.out()));
    ASSERT_OK(writeFiles(a, 1, 1000));  // the region temp files exist now
    auto temps = tempFilesIn(dir.path());
    ASSERT_FALSE(temps.empty());
    ageTemps(dir.path());
    ImageHandle b;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "b.cim", b.out()));
    for (const auto& t : temps) EXPECT_TRUE(io_exists(dir / t)) << t << " of a live writer was removed";
    ASSERT_OK(CimCommitImage(a));
    EXPECT_TRUE(standardHolds(dir.path(), "a.cim", 1, 1000));
}

// ---------------------------------------------------------------------------------------------
// Read errors and files changing under an open reader
// ---------------------------------------------------------------------------------------------

TEST(ReadFaults, TruncatedRegionFileAfterOpenIsAnErrorNotGarbage) {
    TempDir dir;
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "img.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 1, 1 << 20)); }));
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(dir.c_str(), "img.cim", 0, r.out()));
    // The data region is the largest region file.
    std::string biggest;
    uintmax_t size = 0;
    for (const auto& n : dir.list()) {
        if (n.rfind("region_", 0) == 0 && fs::file_size(dir / n) > size) size = fs::file_size(dir / n), biggest = n;
    }
    ASSERT_GT(size, uintmax_t(1 << 20));
    ASSERT_EQ(::truncate((dir / biggest).c_str(), static_cast<off_t>(size / 2)), 0);
    std::string want = pattern(1 << 20, 0);
    std::vector<char> buf(65536);
    int errors = 0;
    for (uint64_t off = 0; off < want.size(); off += buf.size()) {
        uint32_t n = 0;
        HRESULT hr = CimReadFile(r, "f0", off, buf.data(), static_cast<uint32_t>(buf.size()), &n);
        if (hr == kOk) {
            EXPECT_EQ(std::string(buf.data(), n), want.substr(off, n)) << "garbage at " << off;
        } else {
            ++errors;
            EXPECT_TRUE(expectHr(hr, kCorrupt, "past the end"));
        }
    }
    EXPECT_GT(errors, 0);
}

TEST(ReadFaults, TruncatedBlockFileAfterOpenIsAnErrorNotGarbage) {
    TempDir dir;
    std::string path = dir / "b.bcim";
    ASSERT_TRUE(buildBlock(path, kSingleFile, "b.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 1, 1 << 20)); }));
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(path.c_str(), "b.cim", kMountSingleFile, r.out()));
    ASSERT_EQ(::truncate(path.c_str(), 300000), 0);
    std::string want = pattern(1 << 20, 0);
    std::vector<char> buf(65536);
    int errors = 0;
    for (uint64_t off = 0; off < want.size(); off += buf.size()) {
        uint32_t n = 0;
        HRESULT hr = CimReadFile(r, "f0", off, buf.data(), static_cast<uint32_t>(buf.size()), &n);
        if (hr == kOk) {
            EXPECT_EQ(std::string(buf.data(), n), want.substr(off, n)) << "garbage at " << off;
        } else {
            ++errors;
            EXPECT_TRUE(expectHr(hr, kCorrupt, "b.bcim"));
        }
    }
    EXPECT_GT(errors, 0);
}

TEST(ReadFaults, DataTamperedUnderAVerifiedReaderIsAnIntegrityError) {
    TempDir dir;
    std::string path = dir / "v.bcim";
    ASSERT_TRUE(buildBlock(path, kSingleFile | kVerified, "v.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 1, 1 << 20)); }));
    uint64_t hs = 0, fh = 0;
    uint8_t root[32];
    ASSERT_OK(CimSealImage(path.c_str(), &hs, &fh, root));
    ReaderHandle r;
    ASSERT_OK(CimOpenVerifiedImage(path.c_str(), "v.cim", kMountSingleFile, 32, root, r.out()));
    // Flip one byte of the file's data (it starts right after block 0).
    std::string want = pattern(1 << 20, 0);
    auto raw = readHostFile(path);
    std::string bytes(raw.begin(), raw.end());
    auto it = std::search(bytes.begin(), bytes.end(), want.begin() + 500000, want.begin() + 500064);
    ASSERT_NE(it, bytes.end());
    size_t at = static_cast<size_t>(it - bytes.begin());
    int fd = ::open(path.c_str(), O_WRONLY);
    char flipped = static_cast<char>(bytes[at] ^ 0x5A);
    ASSERT_EQ(::pwrite(fd, &flipped, 1, static_cast<off_t>(at)), 1);
    ::close(fd);
    std::vector<char> buf(4096);
    uint32_t n = 0;
    EXPECT_HR(CimReadFile(r, "f0", 500000, buf.data(), 4096, &n), kIntegrity, "integrity violation");
    EXPECT_EQ(n, 0u);
    EXPECT_OK(CimReadFile(r, "f0", 0, buf.data(), 4096, &n));
    EXPECT_EQ(std::string(buf.data(), n), want.substr(0, n));
}

// A real EIO from the kernel: a block CIM stored as a file inside a verified CIM that is mounted
// through FUSE; tampering the outer container under the inner file's data makes the kernel fail
// those reads with EIO, which the inner reader must report (0x8007045D), never as data.
TEST(ReadFaults, KernelEioIsSurfaced) {
    if (::access("/dev/fuse", F_OK) != 0) GTEST_SKIP() << "skipped: no /dev/fuse on this machine";
    TempDir dir;
    std::string root = dir / "volumes";
    ::setenv("OPENCIM_MOUNT_ROOT", root.c_str(), 1);
    std::string inner = dir / "inner.bcim", outer = dir / "outer.bcim";
    ASSERT_TRUE(buildBlock(inner, kSingleFile, "inner.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeFiles(h, 1, 1 << 20)); }));
    auto innerBytes = readHostFile(inner);
    ASSERT_TRUE(buildBlock(outer, kSingleFile | kVerified, "outer.cim", [&](CIMFS_IMAGE_HANDLE h) {
        return ok(addFile(h, "inner.bcim", std::string_view(reinterpret_cast<const char*>(innerBytes.data()), innerBytes.size())));
    }));
    uint64_t hs = 0, fh = 0;
    uint8_t rootHash[32];
    ASSERT_OK(CimSealImage(outer.c_str(), &hs, &fh, rootHash));
    std::string want = pattern(1 << 20, 0);
    auto raw = readHostFile(outer);
    std::string bytes(raw.begin(), raw.end());
    auto it = std::search(bytes.begin(), bytes.end(), want.begin() + 700000, want.begin() + 700064);
    ASSERT_NE(it, bytes.end());
    size_t at = static_cast<size_t>(it - bytes.begin());
    int fd = ::open(outer.c_str(), O_WRONLY);
    char flipped = static_cast<char>(bytes[at] ^ 0x5A);
    ASSERT_EQ(::pwrite(fd, &flipped, 1, static_cast<off_t>(at)), 1);
    ::close(fd);

    CIMFS_GUID g{0x0e10e10e, 0x1, 0x4000, {1, 2, 3, 4, 5, 6, 7, static_cast<uint8_t>(::getpid())}};
    HRESULT hr = CimMountVerifiedImage(outer.c_str(), "outer.cim", kMountSingleFile, &g, 32, rootHash);
    if (hr == static_cast<HRESULT>(0x80070032u)) {
        ::unsetenv("OPENCIM_MOUNT_ROOT");
        GTEST_SKIP() << "skipped: FUSE mounting is not possible here: " << CimGetLastErrorMessage();
    }
    ASSERT_OK(hr);
    char mp[4096];
    uint32_t mpSize = sizeof mp;
    ASSERT_OK(CimGetVolumeMountPath(&g, mp, &mpSize));
    {
        ReaderHandle r;
        ASSERT_OK(CimOpenImage((std::string(mp) + "/inner.bcim").c_str(), "inner.cim", kMountSingleFile, r.out()));
        std::vector<char> buf(65536);
        int eio = 0;
        for (uint64_t off = 0; off < want.size(); off += buf.size()) {
            uint32_t n = 0;
            HRESULT rhr = CimReadFile(r, "f0", off, buf.data(), static_cast<uint32_t>(buf.size()), &n);
            if (rhr == kOk) {
                EXPECT_EQ(std::string(buf.data(), n), want.substr(off, n)) << "garbage at " << off;
            } else {
                ++eio;
                EXPECT_TRUE(expectHr(rhr, kIoDevice, "Input/output error"));
            }
        }
        EXPECT_GT(eio, 0) << "no read hit the tampered block";
    }
    EXPECT_OK(CimDismountImage(&g));
    ::unsetenv("OPENCIM_MOUNT_ROOT");
}

// ---------------------------------------------------------------------------------------------
// A merged CIM whose source changed after the merge
// ---------------------------------------------------------------------------------------------

TEST(MergedSourceChanged, RecreatedSourceIsDetectedAndNamed) {
    TempDir dir;
    std::string top = dir / "top.bcim", base = dir / "base.bcim", merged = dir / "merged.bcim";
    auto topBody = [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "t.txt", "top")); };
    auto baseBody = [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "b.txt", "base")); };
    ASSERT_TRUE(buildBlock(top, kSingleFile | kConsistent, "top.cim", topBody));
    ASSERT_TRUE(buildBlock(base, kSingleFile | kConsistent, "base.cim", baseBody));
    ASSERT_TRUE(buildBlock(merged, kSingleFile, "merged.cim", [&](CIMFS_IMAGE_HANDLE h) {
        if (HRESULT hr = CimAddFsToMergedImage(h, sourcePath(top, "top.cim").c_str()); hr < 0) return ok(hr);
        return ok(CimAddFsToMergedImage(h, sourcePath(base, "base.cim").c_str()));
    }));
    CIMFS_IMAGE_PATH paths[3] = {{merged.c_str(), "merged.cim"}, {top.c_str(), "top.cim"}, {base.c_str(), "base.cim"}};
    {
        ReaderHandle r;
        ASSERT_OK(CimOpenMergedImage(3, paths, kMountSingleFile, r.out()));
        EXPECT_EQ(readAll(r, "b.txt"), "base");
    }
    // Re-created with identical content (consistent CIM): it is the same CIM, still accepted.
    ASSERT_EQ(::unlink(base.c_str()), 0);
    ASSERT_TRUE(buildBlock(base, kSingleFile | kConsistent, "base.cim", baseBody));
    {
        ReaderHandle r;
        EXPECT_OK(CimOpenMergedImage(3, paths, kMountSingleFile, r.out()));
    }
    // Re-created with other content: detected, the message names the source.
    ASSERT_EQ(::unlink(base.c_str()), 0);
    ASSERT_TRUE(buildBlock(base, kSingleFile | kConsistent, "base.cim", [](CIMFS_IMAGE_HANDLE h) {
        return ok(addFile(h, "b.txt", "BASE, changed"));
    }));
    ReaderHandle r;
    EXPECT_HR(CimOpenMergedImage(3, paths, kMountSingleFile, r.out()), kCorrupt, "base.bcim");
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("changed"), std::string::npos);
    // Sources in the wrong order: detected too.
    CIMFS_IMAGE_PATH swapped[3] = {paths[0], paths[2], paths[1]};
    EXPECT_HR(CimOpenMergedImage(3, swapped, kMountSingleFile, r.out()), kCorrupt, "merged.bcim");
    // A source replaced by something that is not a block CIM, or removed.
    writeHostFile(base, std::vector<uint8_t>(8192, 0x41));
    EXPECT_HR(CimOpenMergedImage(3, paths, kMountSingleFile, r.out()), kCorrupt, "base.bcim");
    ASSERT_EQ(::unlink(base.c_str()), 0);
    EXPECT_HR(CimOpenMergedImage(3, paths, kMountSingleFile, r.out()), kFileNotFound, "base.bcim");
}

// The same check guards a merged mount.
TEST(MergedSourceChanged, MergedMountRefusesAChangedSource) {
    if (::access("/dev/fuse", F_OK) != 0) GTEST_SKIP() << "skipped: no /dev/fuse on this machine";
    TempDir dir;
    ::setenv("OPENCIM_MOUNT_ROOT", (dir / "volumes").c_str(), 1);
    std::string top = dir / "top.bcim", base = dir / "base.bcim", merged = dir / "merged.bcim";
    ASSERT_TRUE(buildBlock(top, kSingleFile, "top.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "t", "1")); }));
    ASSERT_TRUE(buildBlock(base, kSingleFile, "base.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "b", "2")); }));
    ASSERT_TRUE(buildBlock(merged, kSingleFile, "merged.cim", [&](CIMFS_IMAGE_HANDLE h) {
        if (HRESULT hr = CimAddFsToMergedImage(h, sourcePath(top, "top.cim").c_str()); hr < 0) return ok(hr);
        return ok(CimAddFsToMergedImage(h, sourcePath(base, "base.cim").c_str()));
    }));
    ASSERT_EQ(::unlink(top.c_str()), 0);
    ASSERT_TRUE(buildBlock(top, kSingleFile, "top.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "t", "changed")); }));
    CIMFS_IMAGE_PATH paths[3] = {{merged.c_str(), "merged.cim"}, {top.c_str(), "top.cim"}, {base.c_str(), "base.cim"}};
    CIMFS_GUID g{0x0e10e10f, 0x2, 0x4000, {1, 2, 3, 4, 5, 6, 8, static_cast<uint8_t>(::getpid())}};
    HRESULT hr = CimMergeMountImage(3, paths, kMountSingleFile, &g);
    if (hr == static_cast<HRESULT>(0x80070032u)) {
        ::unsetenv("OPENCIM_MOUNT_ROOT");
        GTEST_SKIP() << "skipped: FUSE mounting is not possible here";
    }
    EXPECT_TRUE(expectHr(hr, kCorrupt, "top.bcim"));
    if (hr == kOk) CimDismountImage(&g);
    ::unsetenv("OPENCIM_MOUNT_ROOT");
}
