// Fixed VHD footer: CHS geometry, field encoding, checksum, appending, and qemu-img reading it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "block/vhd_footer.h"
#include "common/error.h"

using namespace cim;
using namespace cim::block;

namespace {

constexpr uint8_t kId[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
constexpr const char* kQemuImg = "/usr/bin/qemu-img";

uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t be64(const uint8_t* p) { return (uint64_t{be32(p)} << 32) | be32(p + 4); }

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-vhd-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// A file of `size` bytes of 0xA5 (so padding zeros are distinguishable); returns an open fd.
int makeFile(const std::string& path, uint64_t size) {
    std::ofstream(path, std::ios::binary) << std::string(size, '\xA5');
    return ::open(path.c_str(), O_RDWR | O_CLOEXEC);
}

std::vector<uint8_t> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::pair<int, std::string> run(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return {-1, "popen failed"};
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// The integer value of "key" in qemu-img's JSON output, or UINT64_MAX when it is missing.
uint64_t jsonNumber(const std::string& json, const std::string& key) {
    auto at = json.find("\"" + key + "\":");
    if (at == std::string::npos) return UINT64_MAX;
    at = json.find_first_of("0123456789", at);
    return at == std::string::npos ? UINT64_MAX : std::stoull(json.substr(at));
}

}  // namespace

TEST(VhdFooter, ChsGeometryMatchesTheSpec) {
    constexpr uint64_t MiB = 1ull << 20, GiB = 1ull << 30;
    struct Case {
        uint64_t size;
        ChsGeometry chs;
    };
    for (const auto& c : std::vector<Case>{{1 * MiB, {30, 4, 17}},
                                           {3 * MiB + 4096, {90, 4, 17}},
                                           {100 * MiB, {1003, 12, 17}},
                                           {1 * GiB, {2080, 16, 63}},
                                           {10 * GiB, {20805, 16, 63}},
                                           {127 * GiB, {65278, 16, 255}},
                                           {128 * GiB, {65535, 16, 255}},
                                           {uint64_t{1} << 50, {65535, 16, 255}},
                                           {0, {0, 4, 17}}}) {
        ChsGeometry g = vhdChsGeometry(c.size);
        EXPECT_EQ(g.cylinders, c.chs.cylinders) << c.size;
        EXPECT_EQ(g.heads, c.chs.heads) << c.size;
        EXPECT_EQ(g.sectorsPerTrack, c.chs.sectorsPerTrack) << c.size;
        EXPECT_LE(uint64_t{g.cylinders} * g.heads * g.sectorsPerTrack * 512, c.size);  // CHS never overstates
    }
}

TEST(VhdFooter, FieldsAndChecksum) {
    const uint64_t size = 100ull << 20;
    auto f = makeFixedVhdFooter(size, kId);
    const uint8_t* p = f.data();
    EXPECT_EQ(std::memcmp(p, "conectix", 8), 0);
    EXPECT_EQ(be32(p + 8), 2u);
    EXPECT_EQ(be32(p + 12), 0x00010000u);
    EXPECT_EQ(be64(p + 16), UINT64_MAX);
    EXPECT_EQ(be32(p + 24), 0u);  // timestamp: reproducible
    EXPECT_EQ(std::memcmp(p + 28, "win ", 4), 0);
    EXPECT_EQ(be32(p + 32), 0x000a0000u);
    EXPECT_EQ(std::memcmp(p + 36, "Wi2k", 4), 0);
    EXPECT_EQ(be64(p + 40), size);
    EXPECT_EQ(be64(p + 48), size);
    EXPECT_EQ((p[56] << 8) | p[57], 1003);
    EXPECT_EQ(p[58], 12);
    EXPECT_EQ(p[59], 17);
    EXPECT_EQ(be32(p + 60), 2u);
    EXPECT_EQ(std::memcmp(p + 68, kId, 16), 0);
    for (size_t i = 84; i < 512; ++i) ASSERT_EQ(p[i], 0) << i;  // saved state + reserved
    // Checksum: one's complement of the byte sum with the checksum field taken as zero.
    uint32_t sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += (i >= 64 && i < 68) ? 0 : p[i];
    EXPECT_EQ(be32(p + 64), ~sum);
    EXPECT_EQ(vhdFooterChecksum(p), ~sum);
    // Deterministic: same inputs, same bytes.
    EXPECT_EQ(makeFixedVhdFooter(size, kId), f);
}

TEST(VhdFooter, Recognition) {
    auto f = makeFixedVhdFooter(1 << 20, kId);
    EXPECT_TRUE(isFixedVhdFooter(f.data()));
    for (size_t i : {0, 7, 40, 64, 67, 100, 511}) {  // any changed byte breaks cookie or checksum
        auto g = f;
        g[i] ^= 0x01;
        EXPECT_FALSE(isFixedVhdFooter(g.data())) << i;
    }
    // A valid dynamic-disk footer (type 3, checksum fixed up) is not a fixed one.
    auto dyn = f;
    dyn[63] = 3;
    uint32_t c = vhdFooterChecksum(dyn.data());
    for (int i = 0; i < 4; ++i) dyn[64 + i] = static_cast<uint8_t>(c >> (24 - 8 * i));
    EXPECT_FALSE(isFixedVhdFooter(dyn.data()));
    std::array<uint8_t, 512> zeros{};
    EXPECT_FALSE(isFixedVhdFooter(zeros.data()));
}

TEST(VhdFooter, RejectsUnalignedSize) {
    try {
        makeFixedVhdFooter(1000, kId);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), hr::invalidArg);
    }
}

TEST(VhdFooter, AppendPadsToWholeSectors) {
    TempDir d;
    for (uint64_t size : {uint64_t{0}, uint64_t{512}, uint64_t{3 << 20} + 4096 + 100}) {
        std::string path = d.path + "/img";
        int fd = makeFile(path, size);
        ASSERT_GE(fd, 0);
        uint64_t disk = appendVhdFooter(fd, kId);
        ::close(fd);
        EXPECT_EQ(disk, (size + 511) / 512 * 512);
        auto bytes = readFile(path);
        ASSERT_EQ(bytes.size(), disk + 512);
        for (uint64_t i = size; i < disk; ++i) ASSERT_EQ(bytes[i], 0) << "padding byte " << i;
        if (size) {
            EXPECT_EQ(bytes[size - 1], 0xA5);  // the data is untouched
        }
        EXPECT_TRUE(isFixedVhdFooter(bytes.data() + disk));
        EXPECT_EQ(std::memcmp(bytes.data() + disk, makeFixedVhdFooter(disk, kId).data(), 512), 0);
    }
    int pipeFds[2];
    ASSERT_EQ(::pipe(pipeFds), 0);
    try {
        appendVhdFooter(pipeFds[1], kId);
        ADD_FAILURE() << "a pipe got a footer";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), hr::notSupported);
    }
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
}

TEST(VhdFooter, QemuReadsItAsAFixedVhd) {
    if (::access(kQemuImg, X_OK) != 0)
        GTEST_SKIP() << kQemuImg << " is missing (install qemu-utils): qemu interop not checked";
    TempDir d;
    for (uint64_t size : {uint64_t{3 << 20} + 4096, uint64_t{100} << 20, uint64_t{1} << 30, uint64_t{5000}}) {
        std::string path = d.path + "/disk.vhd";
        ::unlink(path.c_str());
        int fd = makeFile(path, 0);
        ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);  // sparse: big sizes cost nothing
        appendVhdFooter(fd, kId);
        ::close(fd);
        struct stat st;
        ASSERT_EQ(::stat(path.c_str(), &st), 0);
        auto [rc, out] = run(fmt::format("{} info -f vpc --output=json {}", kQemuImg, path));
        ASSERT_EQ(rc, 0) << out;
        EXPECT_NE(out.find("\"format\": \"vpc\""), std::string::npos) << out;
        EXPECT_EQ(jsonNumber(out, "virtual-size"), static_cast<uint64_t>(st.st_size) - 512) << out;
    }
}
