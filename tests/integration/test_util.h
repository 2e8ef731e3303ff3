// Shared helpers of the integration tests. These tests see opencim only through the public C ABI
// (opencim/cimfs.h + libopencim.so): no internal header may be included here or in any test.
#pragma once
#include <gtest/gtest.h>
#include <opencim/cimfs.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace itest {

namespace fs = std::filesystem;

// ---- HRESULTs of the contract (spec/c-abi.md) and of the header ----
inline constexpr HRESULT kOk = 0;
inline constexpr HRESULT kNotImplemented = static_cast<HRESULT>(0x80004001u);
inline constexpr HRESULT kPointer = static_cast<HRESULT>(0x80004003u);
inline constexpr HRESULT kFileNotFound = static_cast<HRESULT>(0x80070002u);
inline constexpr HRESULT kPathNotFound = static_cast<HRESULT>(0x80070003u);
inline constexpr HRESULT kAccessDenied = static_cast<HRESULT>(0x80070005u);
inline constexpr HRESULT kInvalidHandle = static_cast<HRESULT>(0x80070006u);
inline constexpr HRESULT kNoMoreFiles = static_cast<HRESULT>(0x80070012u);
inline constexpr HRESULT kSharingViolation = static_cast<HRESULT>(0x80070020u);
inline constexpr HRESULT kHandleEof = static_cast<HRESULT>(0x80070026u);
inline constexpr HRESULT kFileExists = static_cast<HRESULT>(0x80070050u);
inline constexpr HRESULT kInvalidArg = static_cast<HRESULT>(0x80070057u);
inline constexpr HRESULT kInsufficientBuffer = static_cast<HRESULT>(0x8007007Au);
inline constexpr HRESULT kAlreadyExists = static_cast<HRESULT>(0x800700B7u);
inline constexpr HRESULT kDirectory = static_cast<HRESULT>(0x8007010Bu);
inline constexpr HRESULT kIntegrity = static_cast<HRESULT>(0x80070143u);
inline constexpr HRESULT kCorrupt = static_cast<HRESULT>(0x80070570u);

// ---- FILE_ATTRIBUTE_* ----
inline constexpr uint32_t kAttrReadOnly = 0x1, kAttrHidden = 0x2, kAttrSystem = 0x4, kAttrDirectory = 0x10,
                          kAttrArchive = 0x20, kAttrNormal = 0x80, kAttrTemporary = 0x100, kAttrSparse = 0x200,
                          kAttrReparsePoint = 0x400, kAttrNotContentIndexed = 0x2000;
// What a CIM keeps of the attributes passed to CimCreateFile (the rest is derived or dropped).
inline constexpr uint32_t kStoredAttrMask = kAttrReadOnly | kAttrHidden | kAttrSystem | kAttrArchive | kAttrSparse;

inline std::string hex(HRESULT hr) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08X", static_cast<uint32_t>(hr));
    return b;
}

// Checks a call's HRESULT and this thread's last-error message, which must be read right after
// the call (the next call into the library clears it). On failure the message must be non-empty
// and contain `substr`; on success it must be "".
inline ::testing::AssertionResult expectHr(HRESULT got, HRESULT want, std::string_view substr = {}) {
    std::string msg = CimGetLastErrorMessage();
    if (got != want) {
        return ::testing::AssertionFailure() << "HRESULT " << hex(got) << ", expected " << hex(want) << " (message: \"" << msg
                                             << "\")";
    }
    if (want >= 0) {
        if (!msg.empty()) return ::testing::AssertionFailure() << "success left a last-error message: \"" << msg << "\"";
        return ::testing::AssertionSuccess();
    }
    if (msg.empty()) return ::testing::AssertionFailure() << "failure " << hex(got) << " set no last-error message";
    if (!substr.empty() && msg.find(substr) == std::string::npos) {
        return ::testing::AssertionFailure() << "message \"" << msg << "\" does not contain \"" << substr << "\"";
    }
    return ::testing::AssertionSuccess();
}

// As expectHr, accepting either of two codes (the contract allows 0x80070050 or 0x800700B7).
inline ::testing::AssertionResult expectHrEither(HRESULT got, HRESULT a, HRESULT b, std::string_view substr = {}) {
    return expectHr(got, got == b ? b : a, substr);
}

// Any failure HRESULT with a non-empty message containing `substr` (where the contract only says "error").
inline ::testing::AssertionResult expectFailure(HRESULT got, std::string_view substr = {}) {
    if (got >= 0) return ::testing::AssertionFailure() << "call succeeded (" << hex(got) << "), expected a failure";
    return expectHr(got, got, substr);
}

#define EXPECT_HR(expr, code, substr) EXPECT_TRUE(::itest::expectHr((expr), (code), (substr))) << "  call: " #expr
#define ASSERT_HR(expr, code, substr) ASSERT_TRUE(::itest::expectHr((expr), (code), (substr))) << "  call: " #expr
#define EXPECT_FAILS(expr, substr) EXPECT_TRUE(::itest::expectFailure((expr), (substr))) << "  call: " #expr
#define EXPECT_OK(expr) EXPECT_TRUE(::itest::expectHr((expr), ::itest::kOk)) << "  call: " #expr
#define ASSERT_OK(expr) ASSERT_TRUE(::itest::expectHr((expr), ::itest::kOk)) << "  call: " #expr

// ---- FILETIME ----
inline constexpr int64_t kFiletimeUnixEpoch = 116444736000000000;  // 1970-01-01 in 100 ns ticks since 1601
inline constexpr int64_t filetimeFromUnix(int64_t seconds, uint32_t nanoseconds = 0) {
    return kFiletimeUnixEpoch + seconds * 10000000 + nanoseconds / 100;
}
inline constexpr int64_t kSomeTime = filetimeFromUnix(1700000000, 123456700);  // 2023-11-14

// ---- Temporary directories ----
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/opencim-itest-XXXXXX";
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    const char* c_str() const { return path_.c_str(); }
    std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }
    // Names of the directory's entries, sorted.
    std::vector<std::string> list() const { return listDir(path_); }

    static std::vector<std::string> listDir(const std::string& dir) {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
        std::sort(out.begin(), out.end());
        return out;
    }

private:
    std::string path_;
};

// ---- Host files ----
inline std::vector<uint8_t> readHostFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
inline void writeHostFile(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// ---- RAII handles ----
class ImageHandle {
public:
    ImageHandle() = default;
    explicit ImageHandle(CIMFS_IMAGE_HANDLE h) : h_(h) {}
    ~ImageHandle() { reset(); }
    ImageHandle(ImageHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    ImageHandle& operator=(ImageHandle&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    CIMFS_IMAGE_HANDLE get() const { return h_; }
    operator CIMFS_IMAGE_HANDLE() const { return h_; }
    CIMFS_IMAGE_HANDLE* out() {
        reset();
        return &h_;
    }
    void reset() {
        if (h_) CimCloseImage(h_);
        h_ = nullptr;
    }

private:
    CIMFS_IMAGE_HANDLE h_ = nullptr;
};

class ReaderHandle {
public:
    ReaderHandle() = default;
    explicit ReaderHandle(CIMFS_READER_HANDLE h) : h_(h) {}
    ~ReaderHandle() { reset(); }
    ReaderHandle(ReaderHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    ReaderHandle& operator=(ReaderHandle&& o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, nullptr);
        }
        return *this;
    }
    CIMFS_READER_HANDLE get() const { return h_; }
    operator CIMFS_READER_HANDLE() const { return h_; }
    CIMFS_READER_HANDLE* out() {
        reset();
        return &h_;
    }
    void reset() {
        if (h_) CimCloseReader(h_);
        h_ = nullptr;
    }

private:
    CIMFS_READER_HANDLE h_ = nullptr;
};

// ---- Writing ----
inline CIMFS_FILE_METADATA fileMetadata(int64_t size, uint32_t attributes = kAttrArchive) {
    CIMFS_FILE_METADATA md{};
    md.Attributes = attributes;
    md.FileSize = size;
    md.CreationTime = md.LastWriteTime = md.ChangeTime = md.LastAccessTime = kSomeTime;
    return md;
}
inline CIMFS_FILE_METADATA dirMetadata(uint32_t extraAttributes = 0) {
    CIMFS_FILE_METADATA md = fileMetadata(0, kAttrDirectory | extraAttributes);
    return md;
}

// Creates a file with `data` (create, write, close); returns the first failing HRESULT.
inline HRESULT addFile(CIMFS_IMAGE_HANDLE h, const char* path, std::string_view data, uint32_t attributes = kAttrArchive) {
    CIMFS_FILE_METADATA md = fileMetadata(static_cast<int64_t>(data.size()), attributes);
    CIMFS_STREAM_HANDLE s = nullptr;
    if (HRESULT hr = CimCreateFile(h, path, &md, &s); hr < 0) return hr;
    if (!data.empty()) {
        if (HRESULT hr = CimWriteStream(s, data.data(), static_cast<uint32_t>(data.size())); hr < 0) {
            CimCloseStream(s);
            return hr;
        }
    }
    return s ? CimCloseStream(s) : kOk;
}
inline HRESULT addDir(CIMFS_IMAGE_HANDLE h, const char* path) {
    CIMFS_FILE_METADATA md = dirMetadata();
    return CimCreateFile(h, path, &md, nullptr);
}
inline HRESULT addStream(CIMFS_IMAGE_HANDLE h, const char* path, std::string_view data) {
    CIMFS_STREAM_HANDLE s = nullptr;
    if (HRESULT hr = CimCreateAlternateStream(h, path, data.size(), &s); hr < 0) return hr;
    if (!data.empty()) {
        if (HRESULT hr = CimWriteStream(s, data.data(), static_cast<uint32_t>(data.size())); hr < 0) {
            CimCloseStream(s);
            return hr;
        }
    }
    return CimCloseStream(s);
}

// hcsshim's cim_test.go content: foobar.txt, foo\, foo\bar.txt.
inline constexpr std::string_view kFoobarData = "foobar test data";
inline constexpr std::string_view kBarData = "bar test data";
inline HRESULT addHcsshimEntries(CIMFS_IMAGE_HANDLE h) {
    if (HRESULT hr = addFile(h, "foobar.txt", kFoobarData); hr < 0) return hr;
    if (HRESULT hr = addDir(h, "foo"); hr < 0) return hr;
    return addFile(h, "foo\\bar.txt", kBarData);
}

// Creates standard image `name` in `dir` with the given body, commits and closes it.
template <typename Body>
::testing::AssertionResult buildStandard(const std::string& dir, const char* existing, const char* name, Body&& body) {
    ImageHandle h;
    HRESULT hr = CimCreateImage(dir.c_str(), existing, name, h.out());
    if (hr < 0) return ::testing::AssertionFailure() << "CimCreateImage: " << hex(hr) << " " << CimGetLastErrorMessage();
    if (::testing::AssertionResult r = body(h.get()); !r) return r;
    hr = CimCommitImage(h);
    if (hr < 0) return ::testing::AssertionFailure() << "CimCommitImage: " << hex(hr) << " " << CimGetLastErrorMessage();
    return ::testing::AssertionSuccess();
}

// Creates block CIM `name` in block file/device `path` (flags include the block type).
template <typename Body>
::testing::AssertionResult buildBlock(const std::string& path, uint32_t flags, const char* name, Body&& body) {
    ImageHandle h;
    HRESULT hr = CimCreateImage2(path.c_str(), flags, nullptr, name, h.out());
    if (hr < 0) return ::testing::AssertionFailure() << "CimCreateImage2: " << hex(hr) << " " << CimGetLastErrorMessage();
    if (::testing::AssertionResult r = body(h.get()); !r) return r;
    hr = CimCommitImage(h);
    if (hr < 0) return ::testing::AssertionFailure() << "CimCommitImage: " << hex(hr) << " " << CimGetLastErrorMessage();
    return ::testing::AssertionSuccess();
}

// Wraps a sequence of HRESULT-returning steps for the Body callbacks above.
inline ::testing::AssertionResult ok(HRESULT hr, const char* what = "") {
    if (hr >= 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << " " << hex(hr) << " " << CimGetLastErrorMessage();
}

// ---- Reading ----
inline CIMFS_FILE_INFO newInfo() {
    CIMFS_FILE_INFO i{};
    i.Size = sizeof(CIMFS_FILE_INFO);
    return i;
}

inline HRESULT statPath(CIMFS_READER_HANDLE r, const char* path, CIMFS_FILE_INFO* info) {
    *info = newInfo();
    return CimStatPath(r, path, info);
}

inline bool exists(CIMFS_READER_HANDLE r, const char* path) {
    CIMFS_FILE_INFO i;
    return statPath(r, path, &i) == kOk;
}

// Whole primary (or "file:stream") stream as a string; sets *hr to the first failure.
inline std::string readAll(CIMFS_READER_HANDLE r, const char* path, HRESULT* hrOut = nullptr) {
    std::string out;
    std::vector<char> buf(1 << 20);
    for (;;) {
        uint32_t n = 0;
        HRESULT hr = CimReadFile(r, path, out.size(), buf.data(), static_cast<uint32_t>(buf.size()), &n);
        if (hr < 0) {
            if (hrOut) *hrOut = hr;
            return out;
        }
        out.append(buf.data(), n);
        if (n < buf.size()) break;
    }
    if (hrOut) *hrOut = kOk;
    return out;
}

struct DirEntryInfo {
    std::string name;
    CIMFS_FILE_INFO info;
};

// All entries of a directory in enumeration order.
inline std::vector<DirEntryInfo> listImageDir(CIMFS_READER_HANDLE r, const char* path, HRESULT* hrOut = nullptr) {
    std::vector<DirEntryInfo> out;
    for (uint32_t i = 0;; ++i) {
        char name[1024];
        uint32_t size = sizeof name;
        DirEntryInfo e{{}, newInfo()};
        HRESULT hr = CimEnumerateDirectory(r, path, i, name, &size, &e.info);
        if (hr == kNoMoreFiles) break;
        if (hr < 0) {
            if (hrOut) *hrOut = hr;
            return out;
        }
        e.name = name;
        out.push_back(std::move(e));
    }
    if (hrOut) *hrOut = kOk;
    return out;
}
inline std::vector<std::string> namesOf(const std::vector<DirEntryInfo>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(e.name);
    return out;
}

// A metadata blob (SD, EA chain, reparse buffer) through the size-query protocol.
using BlobGetter = HRESULT (*)(CIMFS_READER_HANDLE, const char*, void*, uint32_t*);
inline std::vector<uint8_t> getBlob(BlobGetter get, CIMFS_READER_HANDLE r, const char* path, HRESULT* hrOut = nullptr) {
    uint32_t size = 0;
    HRESULT hr = get(r, path, nullptr, &size);
    std::vector<uint8_t> out;
    if (hr == kOk) {
        if (hrOut) *hrOut = size == 0 ? kOk : static_cast<HRESULT>(0x80004005u);  // must report 0x8007007A when non-empty
        return out;
    }
    if (hr != kInsufficientBuffer) {
        if (hrOut) *hrOut = hr;
        return out;
    }
    out.resize(size);
    uint32_t size2 = size;
    hr = get(r, path, out.data(), &size2);
    if (hrOut) *hrOut = hr < 0 ? hr : (size2 == size ? kOk : static_cast<HRESULT>(0x80004005u));
    return out;
}

// ---- Standard CIM files on disk (the documented v2 header, docs/format.md) ----
// A GUID stored in Windows byte order, as region/objectid file names print it.
inline std::string guidText(const uint8_t* b) {
    char s[40];
    std::snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[3], b[2], b[1], b[0],
                  b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return s;
}

// What a filesystem file (<name>.cim) says about region sets: RegionSet at 32 (GUID, then u16
// count at 48), ParentCount at 70, parent RegionSets (24 bytes each) from 72.
struct CimHeader {
    std::string ownSet;
    uint16_t ownCount = 0;
    std::vector<std::string> parentSets;
};
inline CimHeader readCimHeader(const std::string& path) {
    auto b = readHostFile(path);
    CimHeader h;
    if (b.size() < 72) return h;
    h.ownSet = guidText(&b[32]);
    h.ownCount = static_cast<uint16_t>(b[48] | b[49] << 8);
    uint16_t parents = static_cast<uint16_t>(b[70] | b[71] << 8);
    for (size_t i = 0; i < parents && 72 + 24 * (i + 1) <= b.size(); ++i) h.parentSets.push_back(guidText(&b[72 + 24 * i]));
    return h;
}

// ---- Block files ----
// "<block path>/<cim name>" as CimAddFsToMergedImage takes it.
inline std::string sourcePath(const std::string& blockPath, const std::string& name) { return blockPath + "/" + name; }

// ---- SHA-256 (FIPS 180-4), to compare and print digests of output files ----
inline std::array<uint8_t, 32> sha256(const uint8_t* data, size_t len) {
    static constexpr uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
    std::vector<uint8_t> m(data, data + len);
    m.push_back(0x80);
    while (m.size() % 64 != 56) m.push_back(0);
    uint64_t bits = uint64_t(len) * 8;
    for (int i = 7; i >= 0; --i) m.push_back(static_cast<uint8_t>(bits >> (i * 8)));
    for (size_t off = 0; off < m.size(); off += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; ++i) {
            w[i] = uint32_t(m[off + 4 * i]) << 24 | uint32_t(m[off + 4 * i + 1]) << 16 | uint32_t(m[off + 4 * i + 2]) << 8 |
                   m[off + 4 * i + 3];
        }
        for (int i = 16; i < 64; ++i) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; ++i) {
            uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
            uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
        }
        h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
    }
    std::array<uint8_t, 32> out;
    for (int i = 0; i < 8; ++i) {
        for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
    }
    return out;
}
inline std::string toHex(const uint8_t* p, size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) s += d[p[i] >> 4], s += d[p[i] & 15];
    return s;
}
inline std::string sha256File(const std::string& path) {
    auto b = readHostFile(path);
    auto d = sha256(b.data(), b.size());
    return toHex(d.data(), d.size());
}

// ---- Deterministic pseudo-random numbers (tests print their seed) ----
struct SplitMix64 {
    uint64_t s;
    explicit SplitMix64(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }               // [0, n)
    uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // [lo, hi]
    bool chance(double p) { return (next() >> 11) * (1.0 / 9007199254740992.0) < p; }
};

// Seed from $OPENCIM_ITEST_SEED, else `fallback`; printed so a failure can be replayed.
inline uint64_t testSeed(uint64_t fallback) {
    uint64_t seed = fallback;
    if (const char* e = std::getenv("OPENCIM_ITEST_SEED"); e && *e) seed = std::strtoull(e, nullptr, 0);
    std::printf("[ seed     ] %s: OPENCIM_ITEST_SEED=%llu\n", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                static_cast<unsigned long long>(seed));
    return seed;
}

}  // namespace itest
