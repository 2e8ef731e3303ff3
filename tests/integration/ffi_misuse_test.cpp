// Misuse of the C ABI that bindings and careless callers commit: NULL, stale, foreign and
// wrongly typed handles, double close, use after close, several threads on one image handle
// (serialised, never a crash), a handle closed while other threads use it, and handles used from
// threads other than the one that opened them. The documented behaviour is in docs/reliability.md
// ("FFI misuse"); every case here must return that HRESULT with a message, and never crash.
#include <atomic>
#include <thread>

#include "test_util.h"

using namespace itest;

namespace {

constexpr uint32_t kSingleFile = 0x8;

template <typename T>
T bogus(uintptr_t v) {
    return reinterpret_cast<T>(v);
}

}  // namespace

TEST(FfiMisuse, NullHandlesAreEHandle) {
    CIMFS_FILE_METADATA md = fileMetadata(0);
    CIMFS_STREAM_HANDLE s = bogus<CIMFS_STREAM_HANDLE>(1);
    EXPECT_HR(CimCreateFile(nullptr, "a", &md, &s), kInvalidHandle, "NULL");
    EXPECT_EQ(s, nullptr) << "the out handle is cleared on failure";
    EXPECT_HR(CimCommitImage(nullptr), kInvalidHandle, "NULL");
    EXPECT_HR(CimWriteStream(nullptr, "x", 1), kInvalidHandle, "NULL");
    EXPECT_HR(CimCloseStream(nullptr), kInvalidHandle, "");
    EXPECT_HR(CimCreateAlternateStream(nullptr, "a:s", 1, &s), kInvalidHandle, "NULL");
    EXPECT_HR(CimCreateHardLink(nullptr, "a", "b"), kInvalidHandle, "NULL");
    EXPECT_HR(CimDeletePath(nullptr, "a"), kInvalidHandle, "NULL");
    EXPECT_HR(CimTombstoneFile(nullptr, "a"), kInvalidHandle, "NULL");
    EXPECT_HR(CimCreateMergeLink(nullptr, "a", "b"), kInvalidHandle, "NULL");
    EXPECT_HR(CimAddFsToMergedImage(nullptr, "a/b"), kInvalidHandle, "NULL");
    EXPECT_HR(CimAddFsToMergedImage2(nullptr, "a/b", 1), kInvalidHandle, "NULL");
    CIMFS_FILE_INFO info = newInfo();
    EXPECT_HR(CimStatPath(nullptr, "", &info), kInvalidHandle, "NULL");
    uint32_t size = 0, n = 0;
    char buf[16];
    EXPECT_HR(CimReadFile(nullptr, "a", 0, buf, sizeof buf, &n), kInvalidHandle, "NULL");
    EXPECT_HR(CimEnumerateDirectory(nullptr, "", 0, buf, &size, nullptr), kInvalidHandle, "NULL");
    EXPECT_HR(CimGetSecurityDescriptor(nullptr, "", nullptr, &size), kInvalidHandle, "NULL");
    CimCloseImage(nullptr);  // harmless
    CimCloseReader(nullptr);
    EXPECT_STREQ(CimGetLastErrorMessage(), "") << "void calls clear the message too";
}

TEST(FfiMisuse, ForeignAndWronglyTypedHandlesAreEHandle) {
    TempDir dir;
    ImageHandle img;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "a.cim", img.out()));
    ASSERT_OK(addFile(img, "x", "data"));
    ASSERT_OK(CimCommitImage(img));  // committed, but the handle stays live until closed
    ReaderHandle rd;
    ASSERT_OK(CimOpenImage(dir.c_str(), "a.cim", 0, rd.out()));
    CIMFS_FILE_METADATA md = fileMetadata(0);
    // Arbitrary values (including what looks like a heap pointer) are looked up, never dereferenced.
    int local = 0;
    for (uintptr_t v : {uintptr_t(0x1), uintptr_t(0xdeadbeef), uintptr_t(~uintptr_t(0)), reinterpret_cast<uintptr_t>(&local)}) {
        EXPECT_HR(CimCreateFile(bogus<CIMFS_IMAGE_HANDLE>(v), "a", &md, nullptr), kInvalidHandle, "not a live image handle");
        EXPECT_HR(CimWriteStream(bogus<CIMFS_STREAM_HANDLE>(v), "x", 1), kInvalidHandle, "not a live stream handle");
        CIMFS_FILE_INFO info = newInfo();
        EXPECT_HR(CimStatPath(bogus<CIMFS_READER_HANDLE>(v), "", &info), kInvalidHandle, "not a live reader handle");
        CimCloseImage(bogus<CIMFS_IMAGE_HANDLE>(v));
        CimCloseReader(bogus<CIMFS_READER_HANDLE>(v));
    }
    // A reader handle passed as an image handle and vice versa: type confusion is refused.
    EXPECT_HR(CimCreateFile(reinterpret_cast<CIMFS_IMAGE_HANDLE>(rd.get()), "a", &md, nullptr), kInvalidHandle, "image handle");
    CIMFS_FILE_INFO info = newInfo();
    EXPECT_HR(CimStatPath(reinterpret_cast<CIMFS_READER_HANDLE>(img.get()), "", &info), kInvalidHandle, "reader handle");
    CimCloseReader(reinterpret_cast<CIMFS_READER_HANDLE>(img.get()));  // must not close the image handle
    // Still live (not E_HANDLE): the committed handle answers as a committed handle does.
    EXPECT_HR(CimCommitImage(img), kInvalidArg, "already committed") << "the wrong close function closed the image handle";
    EXPECT_OK(CimStatPath(rd, "x", &info));
}

TEST(FfiMisuse, StaleHandlesDoubleCloseAndUseAfterClose) {
    TempDir dir;
    CIMFS_IMAGE_HANDLE h = nullptr;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "a.cim", &h));
    CIMFS_FILE_METADATA md = fileMetadata(4);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(h, "f", &md, &s));
    ASSERT_OK(CimWriteStream(s, "ab", 2));
    // Closing the image first: its stream handle becomes stale.
    CimCloseImage(h);
    EXPECT_HR(CimWriteStream(s, "cd", 2), kInvalidHandle, "closed");
    EXPECT_HR(CimCreateFile(h, "g", &md, nullptr), kInvalidHandle, "not a live image handle");
    EXPECT_HR(CimCommitImage(h), kInvalidHandle, "not a live image handle");
    CimCloseImage(h);  // double close: harmless
    EXPECT_STREQ(CimGetLastErrorMessage(), "");
    EXPECT_OK(CimCloseStream(s));  // the stream handle itself is still closed once...
    EXPECT_HR(CimCloseStream(s), kInvalidHandle, "not a live stream handle");  // ...and only once
    EXPECT_EQ(dir.list(), std::vector<std::string>{}) << "an uncommitted image left files";

    // Readers.
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "b.cim", [](CIMFS_IMAGE_HANDLE i) { return ok(addFile(i, "x", "1")); }));
    CIMFS_READER_HANDLE r = nullptr;
    ASSERT_OK(CimOpenImage(dir.c_str(), "b.cim", 0, &r));
    CimCloseReader(r);
    CIMFS_FILE_INFO info = newInfo();
    EXPECT_HR(CimStatPath(r, "x", &info), kInvalidHandle, "not a live reader handle");
    CimCloseReader(r);

    // Stream use after commit, and a second commit.
    ImageHandle c;
    ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "c.cim", c.out()));
    ASSERT_OK(addFile(c, "x", "1"));
    ASSERT_OK(CimCommitImage(c));
    EXPECT_FAILS(CimCreateFile(c, "y", &md, nullptr), "committed");
    HRESULT again = CimCommitImage(c);
    EXPECT_TRUE(again == kOk || expectFailure(again, "committed")) << hex(again);
}

TEST(FfiMisuse, HandleValuesAreNeverReused) {
    TempDir dir;
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "a.cim", [](CIMFS_IMAGE_HANDLE i) { return ok(addFile(i, "x", "1")); }));
    std::set<uintptr_t> seen;
    for (int i = 0; i < 500; ++i) {
        CIMFS_READER_HANDLE r = nullptr;
        ASSERT_OK(CimOpenImage(dir.c_str(), "a.cim", 0, &r));
        EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(r)).second) << "handle value reused";
        CimCloseReader(r);
    }
}

// Many threads on one image handle: every call is serialised; only one stream may be open at a
// time (0x80070020 for the others, who retry), and the committed image holds every file.
TEST(FfiMisuse, ConcurrentWritersOnOneHandleAreSerialised) {
    TempDir dir;
    for (uint32_t flags : {0u, kSingleFile}) {
        SCOPED_TRACE(flags ? "block" : "standard");
        std::string path = flags ? dir / "img.bcim" : dir.path();
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(path.c_str(), flags, nullptr, "img.cim", h.out()));
        constexpr int kThreads = 8, kFiles = 60;
        std::atomic<int> unexpected{0}, busy{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t) {
            ts.emplace_back([&, t] {
                // Any call made while another thread's stream is open gets 0x80070020: retry it.
                auto retry = [&](auto&& call) {
                    for (;;) {
                        HRESULT hr = call();
                        if (hr == kOk) return;
                        if (hr != kSharingViolation) {
                            ++unexpected;
                            std::printf("unexpected %s: %s\n", hex(hr).c_str(), CimGetLastErrorMessage());
                            return;
                        }
                        ++busy;
                        std::this_thread::yield();
                    }
                };
                std::string d = "t" + std::to_string(t);
                retry([&] { return addDir(h, d.c_str()); });
                for (int f = 0; f < kFiles; ++f) {
                    std::string p = d + "/f" + std::to_string(f), data = p + std::string(size_t(f * 13), 'x');
                    retry([&] { return addFile(h, p.c_str(), data); });
                }
            });
        }
        for (auto& t : ts) t.join();
        EXPECT_EQ(unexpected.load(), 0);
        ASSERT_OK(CimCommitImage(h));
        h.reset();
        ReaderHandle r;
        ASSERT_OK(CimOpenImage(path.c_str(), "img.cim", flags ? 0x20u : 0u, r.out()));
        for (int t = 0; t < kThreads; ++t) {
            for (int f = 0; f < kFiles; ++f) {
                std::string p = "t" + std::to_string(t) + "/f" + std::to_string(f);
                EXPECT_EQ(readAll(r, p.c_str()), p + std::string(size_t(f * 13), 'x'));
            }
        }
        std::printf("[ threads  ] %d threads x %d files, %d sharing-violation retries\n", kThreads, kFiles, busy.load());
    }
}

// A handle closed by one thread while others are inside calls on it: each call either completes
// or returns E_HANDLE; nothing crashes, nothing is published.
TEST(FfiMisuse, ConcurrentCloseWhileOtherThreadsWrite) {
    TempDir dir;
    for (int round = 0; round < 20; ++round) {
        CIMFS_IMAGE_HANDLE h = nullptr;
        ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "img.cim", &h));
        std::atomic<bool> go{false};
        std::atomic<int> bad{0}, closedSeen{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < 4; ++t) {
            ts.emplace_back([&, t] {
                while (!go) std::this_thread::yield();
                for (int f = 0; f < 200; ++f) {
                    std::string p = "f" + std::to_string(t) + "_" + std::to_string(f);
                    // Each call checked on its own (its message is read before the next call).
                    CIMFS_FILE_METADATA md = (f % 3) ? fileMetadata(4) : dirMetadata();
                    CIMFS_STREAM_HANDLE s = nullptr;
                    HRESULT hr = CimCreateFile(h, p.c_str(), &md, (f % 3) ? &s : nullptr);
                    if (hr == kOk && s) {
                        hr = CimWriteStream(s, "data", 4);
                        std::string msg = CimGetLastErrorMessage();
                        HRESULT closeHr = CimCloseStream(s);
                        if (hr == kInvalidHandle && msg.empty()) ++bad;
                        if (hr == kOk) hr = closeHr;
                    }
                    if (hr == kInvalidHandle) {
                        ++closedSeen;
                        if (std::string(CimGetLastErrorMessage()).empty() && !s) ++bad;
                        break;
                    }
                    if (hr != kOk && hr != kSharingViolation) {
                        ++bad;
                        std::printf("unexpected %s: %s\n", hex(hr).c_str(), CimGetLastErrorMessage());
                    }
                }
            });
        }
        go = true;
        std::this_thread::sleep_for(std::chrono::microseconds(200 * (round % 5)));
        CimCloseImage(h);
        for (auto& t : ts) t.join();
        EXPECT_EQ(bad.load(), 0) << "round " << round;
        EXPECT_EQ(dir.list(), std::vector<std::string>{}) << "a closed, uncommitted image left files";
    }
}

// Reader handles are fully thread-safe, including a close racing with reads.
TEST(FfiMisuse, ConcurrentReadersAndClose) {
    TempDir dir;
    ASSERT_TRUE(buildStandard(dir.path(), nullptr, "a.cim", [](CIMFS_IMAGE_HANDLE h) {
        for (int i = 0; i < 20; ++i) {
            if (HRESULT hr = addFile(h, ("f" + std::to_string(i)).c_str(), std::string(1000 + i, char('a' + i))); hr < 0) return ok(hr);
        }
        return ok(kOk);
    }));
    for (int round = 0; round < 10; ++round) {
        CIMFS_READER_HANDLE r = nullptr;
        ASSERT_OK(CimOpenImage(dir.c_str(), "a.cim", 0, &r));
        std::atomic<int> bad{0};
        std::vector<std::thread> ts;
        for (int t = 0; t < 4; ++t) {
            ts.emplace_back([&, t] {
                for (int k = 0; k < 300; ++k) {
                    int i = (k + t) % 20;
                    std::string p = "f" + std::to_string(i);
                    char buf[2048];
                    uint32_t n = 0;
                    HRESULT hr = CimReadFile(r, p.c_str(), 0, buf, sizeof buf, &n);
                    if (hr == kInvalidHandle) break;
                    if (hr != kOk || std::string(buf, n) != std::string(1000 + i, char('a' + i))) ++bad;
                    uint32_t size = sizeof buf;
                    hr = CimEnumerateDirectory(r, "", static_cast<uint32_t>(i), buf, &size, nullptr);
                    if (hr != kOk && hr != kInvalidHandle) ++bad;
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::microseconds(300 * round));
        CimCloseReader(r);
        for (auto& t : ts) t.join();
        EXPECT_EQ(bad.load(), 0);
    }
}

// Handles are not bound to a thread: open on one, write on another, commit on a third. The last
// error message stays per thread.
TEST(FfiMisuse, HandlesMoveBetweenThreads) {
    TempDir dir;
    CIMFS_IMAGE_HANDLE h = nullptr;
    std::thread([&] { ASSERT_OK(CimCreateImage(dir.c_str(), nullptr, "a.cim", &h)); }).join();
    CIMFS_STREAM_HANDLE s = nullptr;
    std::thread([&] {
        CIMFS_FILE_METADATA md = fileMetadata(3);
        ASSERT_OK(CimCreateFile(h, "f", &md, &s));
    }).join();
    ReaderHandle none;
    EXPECT_HR(CimOpenImage(dir.c_str(), "missing.cim", 0, none.out()), kFileNotFound, "missing");
    std::thread([&] {
        EXPECT_STREQ(CimGetLastErrorMessage(), "") << "another thread's error leaked";
        ASSERT_OK(CimWriteStream(s, "abc", 3));
        ASSERT_OK(CimCloseStream(s));
    }).join();
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("missing"), std::string::npos) << "this thread's message was lost";
    std::thread([&] { ASSERT_OK(CimCommitImage(h)); }).join();
    std::thread([&] { CimCloseImage(h); }).join();
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(dir.c_str(), "a.cim", 0, r.out()));
    EXPECT_EQ(readAll(r, "f"), "abc");
}
