// dm-verity hash tree: geometry, superblock codec, byte-for-byte interop with veritysetup, and the
// verifier's tamper detection (including from many threads at once).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include "common/error.h"
#include "common/sha256.h"
#include "io/file.h"
#include "verity/hash_tree.h"

using namespace cim;
using namespace cim::verity;

namespace {

constexpr const char* kVeritysetup = "/usr/sbin/veritysetup";
constexpr const char* kUuid = "12345678-9abc-4def-8123-456789abcdef";
const std::array<uint8_t, 16> kUuidBytes = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
                                            0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-verity-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name) const { return path + "/" + name; }
};

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
}

void writeFile(const std::string& path, const std::vector<uint8_t>& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::vector<uint8_t> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void patchByte(const std::string& path, uint64_t offset, uint8_t mask) {
    auto f = io::File::open(path, O_RDWR);
    std::byte b;
    f.readExact(offset, std::span(&b, 1));
    b ^= std::byte{mask};
    f.writeExact(offset, std::span(&b, 1));
}

std::string hex(std::span<const uint8_t> d) {
    std::string s;
    for (auto b : d) s += fmt::format("{:02x}", b);
    return s;
}

// Runs a shell command; returns its exit status and combined output.
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

bool haveVeritysetup() { return ::access(kVeritysetup, X_OK) == 0; }
#define REQUIRE_VERITYSETUP() \
    if (!haveVeritysetup()) GTEST_SKIP() << kVeritysetup << " is missing (install cryptsetup-bin): interop not checked"

// `veritysetup format` on `path` (data and hash in the same file); returns the root hash in hex.
std::string veritysetupFormat(const std::string& path, uint64_t blocks, uint64_t hashOffset,
                              const std::string& saltHex) {
    auto [rc, out] = run(fmt::format("{} format --data-blocks={} --hash-offset={} --salt={} --uuid={} {} {}",
                                     kVeritysetup, blocks, hashOffset, saltHex, kUuid, path, path));
    EXPECT_EQ(rc, 0) << out;
    // "Root hash:" followed by whitespace and 64 hex digits.
    auto at = out.find("Root hash:");
    if (at != std::string::npos) at = out.find_first_not_of(" \t", at + 10);
    std::string root = at == std::string::npos ? std::string() : out.substr(at, 64);
    if (root.size() != 64 || root.find_first_not_of("0123456789abcdef") != std::string::npos) {
        ADD_FAILURE() << "no root hash in: " << out;
        return {};
    }
    return root;
}

int veritysetupVerify(const std::string& path, uint64_t hashOffset, const std::string& rootHex) {
    return run(fmt::format("{} verify --hash-offset={} {} {} {}", kVeritysetup, hashOffset, path, path, rootHex)).first;
}

Digest buildFile(const std::string& path, uint64_t blocks, uint64_t hashOffset,
                 std::vector<uint8_t> salt = std::vector<uint8_t>(32, 0), unsigned threads = 2) {
    auto f = io::File::open(path, O_RDWR);
    return build(f.fd(), 0, f.fd(), hashOffset, VerityParams{blocks, std::move(salt)},
                 BuildOptions{kUuidBytes, threads});
}

ReadFn fileReader(const io::File& f) {
    return [&f](uint64_t offset, std::span<uint8_t> out) { f.readExact(offset, std::as_writable_bytes(out)); };
}

// Expects `fn` to throw cim::Error with `code` and every one of `needles` in its message.
template <typename Fn>
void expectError(Fn&& fn, hresult code, std::initializer_list<std::string> needles = {}) {
    try {
        fn();
        ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), code) << e.what();
        for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
}

const std::string kZeroSaltHex(64, '0');

}  // namespace

// ---- geometry ----

TEST(VerityGeometry, LevelsAndBlocks) {
    struct Case {
        uint64_t n;
        std::vector<uint64_t> levelBlocks;  // level 0 first
    };
    for (const auto& c : std::vector<Case>{{0, {}},
                                           {1, {}},
                                           {2, {1}},
                                           {128, {1}},
                                           {129, {2, 1}},
                                           {300, {3, 1}},
                                           {16384, {128, 1}},
                                           {16385, {129, 2, 1}}}) {
        auto g = Geometry::compute(c.n);
        EXPECT_EQ(g.dataBlocks, c.n);
        EXPECT_EQ(g.levelBlocks, c.levelBlocks) << "n=" << c.n;
        uint64_t total = 0;
        for (auto b : c.levelBlocks) total += b;
        EXPECT_EQ(g.treeBlocks, total) << "n=" << c.n;
        EXPECT_EQ(g.treeBytes(), total * kBlockSize);
        // Top level first on disk, each level contiguous, level 0 last.
        uint64_t at = 0;
        for (size_t l = g.levels(); l-- > 0;) {
            EXPECT_EQ(g.levelStart[l], at) << "n=" << c.n << " level " << l;
            at += g.levelBlocks[l];
        }
    }
    auto g = Geometry::compute(16385);
    EXPECT_EQ(g.levelStart, (std::vector<uint64_t>{3, 1, 0}));
    expectError([] { Geometry::compute(kMaxDataBlocks + 1); }, hr::invalidArg);
    EXPECT_NO_THROW(Geometry::compute(kMaxDataBlocks));  // ~2^51: no overflow in the level sums
}

TEST(VerityGeometry, TreeOffset) {
    EXPECT_EQ(treeOffsetFor(0), 4096u);
    EXPECT_EQ(treeOffsetFor(4096 * 300), 4096u * 301);
    EXPECT_EQ(treeOffsetFor(512), 4096u);   // ceil((512 + 512) / 4096) blocks
    EXPECT_EQ(treeOffsetFor(3584), 4096u);  // superblock ends exactly on the boundary
    EXPECT_EQ(treeOffsetFor(4096 + 3584), 8192u);
    expectError([] { treeOffsetFor(100); }, hr::invalidArg);
    expectError([] { treeOffsetFor(UINT64_MAX - 511); }, hr::invalidArg);
}

// ---- superblock ----

TEST(VeritySuperblock, EncodesTheDocumentedLayout) {
    Superblock sb;
    sb.uuid = kUuidBytes;
    sb.dataBlocks = 0x0001020304050607ull;
    sb.salt = {0xaa, 0xbb, 0xcc};
    auto b = encodeSuperblock(sb);
    EXPECT_EQ(std::memcmp(b.data(), "verity\0\0", 8), 0);
    EXPECT_EQ(b[8], 1);  // version, little-endian
    EXPECT_EQ(b[9] | b[10] | b[11], 0);
    EXPECT_EQ(b[12], 1);  // hash type
    EXPECT_EQ(std::memcmp(&b[16], kUuidBytes.data(), 16), 0);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(&b[32])), "sha256");
    EXPECT_EQ(b[64] | (b[65] << 8), 4096);
    EXPECT_EQ(b[68] | (b[69] << 8), 4096);
    EXPECT_EQ(b[72], 0x07);
    EXPECT_EQ(b[78], 0x01);
    EXPECT_EQ(b[79], 0x00);
    EXPECT_EQ(b[80], 3);  // salt size
    EXPECT_EQ(b[88], 0xaa);
    EXPECT_EQ(b[90], 0xcc);
    for (size_t i = 91; i < b.size(); ++i) ASSERT_EQ(b[i], 0) << i;

    auto d = decodeSuperblock(b);
    EXPECT_EQ(d.hashType, 1u);
    EXPECT_EQ(d.uuid, kUuidBytes);
    EXPECT_EQ(d.dataBlocks, sb.dataBlocks);
    EXPECT_EQ(d.salt, sb.salt);
    EXPECT_EQ(d.dataBlockSize, 4096u);
    EXPECT_EQ(d.hashBlockSize, 4096u);

    Superblock big;
    big.salt.assign(257, 1);
    expectError([&] { encodeSuperblock(big); }, hr::invalidArg);
}

TEST(VeritySuperblock, DecoderRejectsHostileInput) {
    Superblock sb;
    sb.dataBlocks = 300;
    sb.salt.assign(32, 0);
    const auto good = encodeSuperblock(sb);
    auto mutated = [&](auto&& change) {
        auto b = good;
        change(b);
        return b;
    };
    using B = std::array<uint8_t, kSuperblockSize>;
    expectError([&] { decodeSuperblock(std::span(good).first(511)); }, hr::corrupt);
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[0] = 'V'; })); }, hr::corrupt, {"signature"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[8] = 2; })); }, hr::corrupt, {"version"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[12] = 0; })); }, hr::notSupported, {"hash type"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { std::memcpy(&b[32], "sha1\0\0", 6); })); }, hr::notSupported,
                {"sha1"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { std::memset(&b[32], 'a', 32); })); }, hr::corrupt,
                {"not terminated"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[32] = 0x01; })); }, hr::corrupt, {"printable"});
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[65] = 0x02; })); }, hr::notSupported);  // data bs 512
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[70] = 0x01; })); }, hr::notSupported);  // hash bs 2^16+4096
    expectError([&] { decodeSuperblock(mutated([](B& b) { b[80] = 1, b[81] = 1; })); }, hr::corrupt, {"salt"});  // 257
    expectError([&] { decodeSuperblock(mutated([](B& b) { std::memset(&b[72], 0, 8); })); }, hr::corrupt);
    expectError([&] { decodeSuperblock(mutated([](B& b) { std::memset(&b[72], 0xff, 8); })); }, hr::corrupt);
    // The full 256-byte salt is accepted.
    EXPECT_EQ(decodeSuperblock(mutated([](B& b) { b[80] = 0, b[81] = 1; })).salt.size(), 256u);
    // std::byte overload (what readers of io::File get).
    EXPECT_EQ(decodeSuperblock(std::as_bytes(std::span(good))).dataBlocks, 300u);
}

// ---- interop with veritysetup ----

// Our output must be byte-identical to veritysetup's (superblock, zero padding, every tree level)
// for the same data, salt, UUID and offset, and veritysetup must accept our tree.
TEST(VerityInterop, SameBytesAndRootAsVeritysetup) {
    REQUIRE_VERITYSETUP();
    TempDir d;
    for (uint64_t n : {1, 2, 128, 129, 300, 16385}) {
        SCOPED_TRACE(fmt::format("n={}", n));
        auto data = randomBytes(n * kBlockSize, static_cast<uint32_t>(n));
        std::string theirs = d.file("theirs"), ours = d.file("ours");
        writeFile(theirs, data);
        writeFile(ours, data);
        uint64_t hashOffset = n * kBlockSize;
        std::string theirRoot = veritysetupFormat(theirs, n, hashOffset, kZeroSaltHex);
        Digest root = buildFile(ours, n, hashOffset);
        EXPECT_EQ(hex(root), theirRoot);
        auto a = readFile(theirs), b = readFile(ours);
        EXPECT_EQ(b.size(), hashOffset + kBlockSize + Geometry::compute(n).treeBytes());
        EXPECT_TRUE(a == b) << "files differ (sizes " << a.size() << " vs " << b.size() << ")";
        EXPECT_EQ(veritysetupVerify(ours, hashOffset, hex(root)), 0);
        Digest wrong = root;
        wrong[31] ^= 1;
        EXPECT_NE(veritysetupVerify(ours, hashOffset, hex(wrong)), 0);
    }
}

TEST(VerityInterop, OddHashOffsetAndOtherSalts) {
    REQUIRE_VERITYSETUP();
    TempDir d;
    const uint64_t n = 300;
    auto data = randomBytes(n * kBlockSize, 1);
    // Hash area 512 bytes after the data (only 512-aligned): the tree starts at the next block.
    for (uint64_t hashOffset : {n * kBlockSize + 512, n * kBlockSize + 3584}) {
        SCOPED_TRACE(hashOffset);
        writeFile(d.file("theirs"), data);
        writeFile(d.file("ours"), data);
        std::string theirRoot = veritysetupFormat(d.file("theirs"), n, hashOffset, kZeroSaltHex);
        EXPECT_EQ(hex(buildFile(d.file("ours"), n, hashOffset)), theirRoot);
        EXPECT_TRUE(readFile(d.file("theirs")) == readFile(d.file("ours")));
    }
    // Empty salt ("-") and a random 256-byte salt.
    auto salt256 = randomBytes(256, 99);
    for (const auto& salt : {std::vector<uint8_t>{}, salt256}) {
        SCOPED_TRACE(salt.size());
        writeFile(d.file("theirs"), data);
        writeFile(d.file("ours"), data);
        std::string theirRoot = veritysetupFormat(d.file("theirs"), n, n * kBlockSize, salt.empty() ? "-" : hex(salt));
        EXPECT_EQ(hex(buildFile(d.file("ours"), n, n * kBlockSize, salt)), theirRoot);
        EXPECT_TRUE(readFile(d.file("theirs")) == readFile(d.file("ours")));
    }
}

TEST(VerityInterop, SeparateHashFileAndDataOffset) {
    REQUIRE_VERITYSETUP();
    TempDir d;
    const uint64_t n = 129;
    auto data = randomBytes(n * kBlockSize, 5);
    // Data preceded by 8 KiB of something else in its file; the tree in its own file at offset 0.
    std::vector<uint8_t> prefixed(8192 + data.size(), 0x5a);
    std::memcpy(prefixed.data() + 8192, data.data(), data.size());
    writeFile(d.file("prefixed"), prefixed);
    writeFile(d.file("plain"), data);
    auto df = io::File::open(d.file("prefixed"), O_RDONLY);
    auto hf = io::File::open(d.file("hash"), O_RDWR | O_CREAT | O_TRUNC);
    Digest root =
        build(df.fd(), 8192, hf.fd(), 0, VerityParams{n, std::vector<uint8_t>(32, 0)}, BuildOptions{kUuidBytes, 2});
    auto [rc, out] = run(fmt::format("{} verify {} {} {}", kVeritysetup, d.file("plain"), d.file("hash"), hex(root)));
    EXPECT_EQ(rc, 0) << out;
}

// ---- builder ----

TEST(VerityBuild, OutputDoesNotDependOnThreadsOrCallbacks) {
    TempDir d;
    const uint64_t n = 3000;  // several 1024-block chunks, the last one partial
    auto data = randomBytes(n * kBlockSize, 3);
    std::vector<uint8_t> reference;
    Digest referenceRoot{};
    for (unsigned threads : {1u, 2u, 3u, 16u}) {
        writeFile(d.file("img"), data);
        Digest root = buildFile(d.file("img"), n, n * kBlockSize, std::vector<uint8_t>(32, 0), threads);
        auto bytes = readFile(d.file("img"));
        if (reference.empty()) {
            reference = bytes;
            referenceRoot = root;
        }
        EXPECT_EQ(root, referenceRoot) << threads;
        EXPECT_TRUE(bytes == reference) << threads;
    }
    // Callback API over memory (serialised by the single-threaded option).
    std::vector<uint8_t> hashArea;
    auto readData = [&](uint64_t off, std::span<uint8_t> out) {
        ASSERT_LE(off + out.size(), data.size());
        std::memcpy(out.data(), data.data() + off, out.size());
    };
    auto writeHash = [&](uint64_t off, std::span<const uint8_t> in) {
        if (hashArea.size() < off + in.size()) hashArea.resize(off + in.size());
        std::memcpy(hashArea.data() + off, in.data(), in.size());
    };
    Digest root =
        build(VerityParams{n, std::vector<uint8_t>(32, 0)}, readData, writeHash, 0, BuildOptions{kUuidBytes, 1});
    EXPECT_EQ(root, referenceRoot);
    EXPECT_TRUE(
        std::equal(hashArea.begin(), hashArea.end(), reference.begin() + static_cast<ptrdiff_t>(n * kBlockSize)));
}

TEST(VerityBuild, RootDefinitions) {
    TempDir d;
    std::vector<uint8_t> salt(32, 0);
    // n = 1: no hash blocks, root = H(salt || block 0).
    auto one = randomBytes(kBlockSize, 11);
    writeFile(d.file("one"), one);
    Digest root = buildFile(d.file("one"), 1, kBlockSize);
    EXPECT_EQ(root, Sha256().update(salt.data(), 32).update(one.data(), one.size()).finish());
    EXPECT_EQ(readFile(d.file("one")).size(), 2u * kBlockSize);  // data + superblock block only
    // n = 2: root = H(salt || level-0 block), the block = two digests then zeros.
    auto two = randomBytes(2 * kBlockSize, 12);
    writeFile(d.file("two"), two);
    root = buildFile(d.file("two"), 2, 2 * kBlockSize);
    std::vector<uint8_t> level0(kBlockSize, 0);
    for (int i = 0; i < 2; ++i) {
        auto h = Sha256().update(salt.data(), 32).update(two.data() + i * kBlockSize, kBlockSize).finish();
        std::memcpy(&level0[i * 32], h.data(), 32);
    }
    EXPECT_EQ(root, Sha256().update(salt.data(), 32).update(level0.data(), level0.size()).finish());
    auto file = readFile(d.file("two"));
    EXPECT_TRUE(std::equal(level0.begin(), level0.end(), file.begin() + 3 * kBlockSize));
}

TEST(VerityBuild, RejectsBadArguments) {
    TempDir d;
    writeFile(d.file("img"), randomBytes(10 * kBlockSize, 4));
    auto f = io::File::open(d.file("img"), O_RDWR);
    auto params = [](uint64_t n, size_t saltSize = 32) { return VerityParams{n, std::vector<uint8_t>(saltSize, 0)}; };
    // n == 0 is refused rather than given an arbitrary root.
    expectError([&] { build(f.fd(), 0, f.fd(), 40960, params(0)); }, hr::invalidArg, {"0 data blocks"});
    expectError([&] { build(f.fd(), 0, f.fd(), 40960, params(10, 257)); }, hr::invalidArg, {"salt"});
    expectError([&] { build(f.fd(), 0, f.fd(), 40960 + 100, params(10)); }, hr::invalidArg, {"multiple of 512"});
    expectError([&] { build(f.fd(), 0, f.fd(), 4096, params(10)); }, hr::invalidArg, {"overlaps"});
    expectError([&] { build(f.fd(), UINT64_MAX - 4096, f.fd(), 0, params(10)); }, hr::invalidArg);
    // More blocks than the data has: a short read is an error, not zeros.
    expectError([&] { build(f.fd(), 0, f.fd(), 11 * 40960, params(11)); }, hr::corrupt);
    // Errors from a worker thread reach the caller.
    auto failing = [](uint64_t off, std::span<uint8_t>) {
        if (off >= 2048 * kBlockSize) fail(hr::readFault, "synthetic read error at {}", off);
    };
    expectError(
        [&] {
            build(
                params(5000), failing, [](uint64_t, std::span<const uint8_t>) {}, 0, BuildOptions{{}, 4});
        },
        hr::readFault, {"synthetic"});
}

// ---- verifier ----

namespace {
struct BuiltImage {
    TempDir dir;
    std::string path;
    uint64_t n;
    std::vector<uint8_t> data;
    Digest root;
    uint64_t hashOffset;

    explicit BuiltImage(uint64_t blocks)
        : path(dir.file("img")), n(blocks), data(randomBytes(blocks * kBlockSize, 21)) {
        writeFile(path, data);
        hashOffset = n * kBlockSize;
        root = buildFile(path, n, hashOffset);
    }
    const uint8_t* block(uint64_t i) const { return data.data() + i * kBlockSize; }
};
}  // namespace

TEST(VerityVerifier, AcceptsEveryBlockOfAGoodImage) {
    for (uint64_t n : {1, 2, 129, 300}) {
        BuiltImage img(n);
        auto f = io::File::open(img.path, O_RDONLY);
        HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{n, std::vector<uint8_t>(32, 0)}, img.root,
                           img.path);
        EXPECT_EQ(v.dataBlocks(), n);
        for (uint64_t i = 0; i < n; ++i) EXPECT_NO_THROW(v.verifyBlock(i, img.block(i))) << "n=" << n << " block " << i;
        expectError([&] { v.verifyBlock(n, img.block(0)); }, hr::corrupt, {"outside"});
        // The block-CIM adapter (tree offset instead of hash offset) agrees.
        Verifier adapter(f, img.hashOffset + kBlockSize, n, std::vector<uint8_t>(32, 0), img.root);
        EXPECT_NO_THROW(adapter.verifyBlock(n - 1, reinterpret_cast<const std::byte*>(img.block(n - 1))));
    }
}

TEST(VerityVerifier, TamperedDataBlockFailsOnlyThatBlock) {
    BuiltImage img(300);
    const uint64_t victim = 137;
    patchByte(img.path, victim * kBlockSize + 1000, 0x10);
    auto onDisk = readFile(img.path);
    auto f = io::File::open(img.path, O_RDONLY);
    HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{300, std::vector<uint8_t>(32, 0)}, img.root);
    for (uint64_t i = 0; i < img.n; ++i) {
        const uint8_t* b = onDisk.data() + i * kBlockSize;
        if (i == victim) {
            expectError([&] { v.verifyBlock(i, b); }, hr::integrity, {"integrity violation", "data block 137"});
        } else {
            EXPECT_NO_THROW(v.verifyBlock(i, b)) << i;
        }
    }
    if (haveVeritysetup()) {
        EXPECT_NE(veritysetupVerify(img.path, img.hashOffset, hex(img.root)), 0);
    }
}

TEST(VerityVerifier, TamperedHashBlocksAreDetected) {
    const std::vector<uint8_t> salt(32, 0);
    // n = 300: tree = [top][level 0: blocks 0, 1, 2] after the superblock block.
    {
        BuiltImage img(300);
        uint64_t treeOffset = img.hashOffset + kBlockSize;
        patchByte(img.path, treeOffset + (1 + 1) * kBlockSize + 5 * 32,
                  0x01);  // level-0 block 1, slot 5 (data block 133)
        auto f = io::File::open(img.path, O_RDONLY);
        HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{300, salt}, img.root);  // top block still good
        // Every data block under the modified hash block fails, with the hash block named.
        expectError([&] { v.verifyBlock(133, img.block(133)); }, hr::integrity,
                    {"integrity violation", "hash block 1 of level 0", "data block 133"});
        expectError([&] { v.verifyBlock(200, img.block(200)); }, hr::integrity,
                    {"integrity violation", "data block 200"});
        EXPECT_NO_THROW(v.verifyBlock(5, img.block(5)));      // level-0 block 0
        EXPECT_NO_THROW(v.verifyBlock(299, img.block(299)));  // level-0 block 2
        if (haveVeritysetup()) {
            EXPECT_NE(veritysetupVerify(img.path, img.hashOffset, hex(img.root)), 0);
        }
    }
    // The unused (zero) tail of the last level-0 block is covered too.
    {
        BuiltImage img(300);
        uint64_t treeOffset = img.hashOffset + kBlockSize;
        patchByte(img.path, treeOffset + (1 + 2) * kBlockSize + kBlockSize - 1, 0x80);
        auto f = io::File::open(img.path, O_RDONLY);
        HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{300, salt}, img.root);
        expectError([&] { v.verifyBlock(290, img.block(290)); }, hr::integrity,
                    {"integrity violation", "data block 290"});
        EXPECT_NO_THROW(v.verifyBlock(10, img.block(10)));
    }
    // The top block is checked against the root when the verifier is built.
    {
        BuiltImage img(300);
        patchByte(img.path, img.hashOffset + kBlockSize + 7, 0x04);
        auto f = io::File::open(img.path, O_RDONLY);
        expectError(
            [&] {
                HashTreeVerifier(fileReader(f), img.hashOffset, VerityParams{300, salt}, img.root);
            },
            hr::integrity, {"integrity violation"});
    }
    // Three levels: a middle-level block (level 1, block 1) guards data blocks 16384...
    {
        BuiltImage img(16385);
        auto g = Geometry::compute(16385);
        uint64_t treeOffset = img.hashOffset + kBlockSize;
        patchByte(img.path, treeOffset + (g.levelStart[1] + 1) * kBlockSize, 0x01);
        auto f = io::File::open(img.path, O_RDONLY);
        HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{16385, salt}, img.root);
        expectError([&] { v.verifyBlock(16384, img.block(16384)); }, hr::integrity, {"hash block 1 of level 1"});
        EXPECT_NO_THROW(v.verifyBlock(16383, img.block(16383)));
    }
}

TEST(VerityVerifier, WrongRootIsRejected) {
    BuiltImage img(129);
    auto f = io::File::open(img.path, O_RDONLY);
    Digest wrong = img.root;
    wrong[0] ^= 0x01;
    expectError(
        [&] {
            HashTreeVerifier(fileReader(f), img.hashOffset, VerityParams{129, std::vector<uint8_t>(32, 0)}, wrong,
                             "img");
        },
        hr::integrity, {"img: integrity violation"});
    // Right root, wrong salt: the same.
    expectError(
        [&] {
            HashTreeVerifier(fileReader(f), img.hashOffset, VerityParams{129, std::vector<uint8_t>(32, 1)}, img.root);
        },
        hr::integrity, {"integrity violation"});
    // One data block: no hash block to check up front, so verifyBlock(0) is where it fails.
    BuiltImage one(1);
    auto f1 = io::File::open(one.path, O_RDONLY);
    Digest wrong1 = one.root;
    wrong1[3] ^= 0x40;
    HashTreeVerifier v(fileReader(f1), one.hashOffset, VerityParams{1, std::vector<uint8_t>(32, 0)}, wrong1);
    expectError([&] { v.verifyBlock(0, one.block(0)); }, hr::integrity, {"integrity violation", "data block 0"});
}

TEST(VerityVerifier, RejectsUnusableParametersAndShortTrees) {
    BuiltImage img(300);
    auto f = io::File::open(img.path, O_RDONLY);
    auto make = [&](uint64_t hashOffset, VerityParams p) {
        HashTreeVerifier(fileReader(f), hashOffset, std::move(p), img.root);
    };
    expectError([&] { make(img.hashOffset, VerityParams{0, {}}); }, hr::invalidArg);
    expectError([&] { make(img.hashOffset, VerityParams{300, std::vector<uint8_t>(257, 0)}); }, hr::invalidArg);
    expectError([&] { make(img.hashOffset + 1, VerityParams{300, {}}); }, hr::invalidArg);
    expectError([&] { make(UINT64_MAX & ~uint64_t{511}, VerityParams{300, {}}); }, hr::invalidArg);
    expectError(
        [&] {
            make(kMaxDataBlocks * kBlockSize - 8192, VerityParams{1000, {}});
        },
        hr::invalidArg);  // ends past off_t
    expectError([&] { make(img.hashOffset, VerityParams{kMaxDataBlocks + 1, {}}); }, hr::invalidArg);
    // A tree cut short: reading past the end of the file fails cleanly (the reader's error).
    ASSERT_EQ(::truncate(img.path.c_str(), static_cast<off_t>(img.hashOffset + kBlockSize + 100)), 0);
    expectError([&] { make(img.hashOffset, VerityParams{300, std::vector<uint8_t>(32, 0)}); }, hr::corrupt);
    expectError([] { HashTreeVerifier(nullptr, 0, VerityParams{1, {}}, Digest{}); }, hr::invalidArg);
}

// Many threads verifying the same tree (cold cache, so blocks are verified and inserted
// concurrently) must all agree; run under TSan in CI.
TEST(VerityVerifier, ConcurrentVerification) {
    BuiltImage img(16385);
    auto tampered = img.data;
    const uint64_t victim = 9000;
    tampered[victim * kBlockSize] ^= 1;
    auto f = io::File::open(img.path, O_RDONLY);
    HashTreeVerifier v(fileReader(f), img.hashOffset, VerityParams{img.n, std::vector<uint8_t>(32, 0)}, img.root);
    std::atomic<uint64_t> passed{0}, failed{0}, wrongFailures{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            // Different strides so threads race on the same hash blocks in different orders.
            static constexpr uint64_t kStrides[] = {1, 3, 7, 9, 11, 13, 17, 19};  // coprime with 16385 = 5*29*113
            for (uint64_t k = 0; k < img.n; ++k) {
                uint64_t i = (k * kStrides[t] + t * 1000) % img.n;
                try {
                    v.verifyBlock(i, tampered.data() + i * kBlockSize);
                    ++passed;
                } catch (const Error& e) {
                    if (i != victim || e.code() != hr::integrity) ++wrongFailures;
                    ++failed;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrongFailures.load(), 0u);
    EXPECT_EQ(failed.load(), 8u);  // each thread hits the victim exactly once
    EXPECT_EQ(passed.load(), 8 * img.n - 8);
}
