// Sealing, verified reads, tampering and interop with veritysetup.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "block/block_image.h"
#include "block/seal.h"
#include "common/error.h"
#include "opencim/cimfs.h"
#include "verity/hash_tree.h"

using namespace cim;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-seal-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

constexpr uint32_t kVerified =
    CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | CIM_CREATE_IMAGE_VERIFIED_CIM;

std::string makeSealed(const TempDir& d, block::Hash& root, size_t bigSize = 300000) {
    std::string path = d.path + "/layer.bcim";
    auto w = block::createBlockImage(path, nullptr, "layer.cim", kVerified);
    std::mt19937 rng(7);
    std::string big(bigSize, '\0');
    for (auto& c : big) c = static_cast<char>(rng());
    for (auto [name, data] : {std::pair<std::string, std::string>{"foo.txt", "foo"}, {"big.bin", big}}) {
        image::FileMetadata md;
        md.attributes = 0x20;
        md.fileSize = static_cast<int64_t>(data.size());
        auto s = w->createFile(parseImagePath(name), md);
        w->write(s, std::as_bytes(std::span(data.data(), data.size())));
        w->closeStream(s);
    }
    w->commit();
    w.reset();
    root = block::sealContainer(path);
    return path;
}

std::string readAll(const image::Image& img, const std::string& p) {
    auto r = img.resolve(p);
    std::string out(r.node.size(), '\0');
    img.readStream(r.node.rec.defaultStream, 0, std::as_writable_bytes(std::span(out.data(), out.size())));
    return out;
}

std::string hex(const block::Hash& h) {
    std::string s;
    for (auto b : h) s += fmt::format("{:02x}", b);
    return s;
}
}  // namespace

TEST(Verity, GeometryMatchesDmVerity) {
    EXPECT_EQ(verity::Geometry::compute(1).treeBlocks, 0u);
    EXPECT_EQ(verity::Geometry::compute(2).treeBlocks, 1u);
    EXPECT_EQ(verity::Geometry::compute(128).treeBlocks, 1u);
    EXPECT_EQ(verity::Geometry::compute(129).treeBlocks, 3u);
    auto g = verity::Geometry::compute(300);
    ASSERT_EQ(g.levels(), 2u);
    EXPECT_EQ(g.levelBlocks[0], 3u);
    EXPECT_EQ(g.levelBlocks[1], 1u);
    EXPECT_EQ(g.levelStart[1], 0u);  // top level first
    EXPECT_EQ(g.levelStart[0], 1u);
    EXPECT_EQ(verity::Geometry::compute(16385).levels(), 3u);
}

TEST(Seal, SealIsStableAndReported) {
    TempDir d;
    block::Hash root;
    auto path = makeSealed(d, root);
    EXPECT_EQ(block::sealContainer(path), root);  // sealing twice returns the same hash
    auto info = block::verificationInfo(path);
    EXPECT_TRUE(info.sealed);
    EXPECT_EQ(info.rootHash, root);
    auto img = block::openBlock(path, "layer.cim", &root);
    EXPECT_EQ(readAll(*img, "foo.txt"), "foo");
    EXPECT_EQ(readAll(*img, "big.bin").size(), 300000u);
}

TEST(Seal, WrongRootIsAnIntegrityViolation) {
    TempDir d;
    block::Hash root;
    auto path = makeSealed(d, root);
    root[0] ^= 1;
    try {
        block::openBlock(path, "layer.cim", &root);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), hr::integrity);
        EXPECT_NE(std::string(e.what()).find("integrity violation"), std::string::npos);
    }
}

TEST(Seal, TamperedBlockFailsExactlyTheReadsThatCoverIt) {
    TempDir d;
    block::Hash root;
    auto path = makeSealed(d, root);
    uint64_t dataEnd = block::Container::open(path)->header().dataEnd;
    uint64_t blocks = dataEnd / block::kBlockSize;
    std::mt19937_64 rng(42);
    for (int trial = 0; trial < 60; ++trial) {
        uint64_t off = rng() % dataEnd, flippedBlock = off / block::kBlockSize;
        int fd = ::open(path.c_str(), O_RDWR);
        unsigned char b, flipped;
        ASSERT_EQ(::pread(fd, &b, 1, off), 1);
        flipped = static_cast<unsigned char>(b ^ (1u << (rng() % 8)));
        ASSERT_EQ(::pwrite(fd, &flipped, 1, off), 1);
        std::shared_ptr<block::Container> c;
        try {
            c = block::Container::open(path, &root);
        } catch (const Error& e) {
            // Opening reads block 0 and the directory: only a flip there may fail the open.
            EXPECT_EQ(e.code(), hr::integrity) << e.what();
            auto plain = block::Container::open(path);  // unverified, to learn where the directory is
            uint64_t dirFirst = plain->header().directoryOffset / block::kBlockSize;
            uint64_t dirLast = (plain->header().directoryOffset + plain->header().directoryLength - 1) / block::kBlockSize;
            EXPECT_TRUE(flippedBlock == 0 || (flippedBlock >= dirFirst && flippedBlock <= dirLast)) << "block " << flippedBlock;
        }
        if (c) {
            std::vector<std::byte> buf(block::kBlockSize);
            for (uint64_t blk = 0; blk < blocks; ++blk) {
                bool failed = false;
                try {
                    c->read(blk * block::kBlockSize, buf);
                } catch (const Error& e) {
                    failed = true;
                    EXPECT_EQ(e.code(), hr::integrity);
                    EXPECT_NE(std::string(e.what()).find("integrity violation"), std::string::npos);
                }
                EXPECT_EQ(failed, blk == flippedBlock) << "block " << blk << " flipped " << flippedBlock;
            }
        }
        ASSERT_EQ(::pwrite(fd, &b, 1, off), 1);
        ::close(fd);
    }
    EXPECT_NO_THROW(readAll(*block::openBlock(path, "layer.cim", &root), "big.bin"));
}

TEST(Seal, VeritysetupAcceptsTheTree) {
    if (access("/usr/sbin/veritysetup", X_OK) != 0) GTEST_SKIP() << "veritysetup (cryptsetup-bin) is not installed";
    TempDir d;
    block::Hash root;
    auto path = makeSealed(d, root);
    auto c = block::Container::open(path);
    std::string cmd = fmt::format("/usr/sbin/veritysetup verify --hash-offset={} {} {} {} >/dev/null 2>&1",
                                  c->header().dataEnd, path, path, hex(root));
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    block::Hash wrong = root;
    wrong[5] ^= 0xFF;
    cmd = fmt::format("/usr/sbin/veritysetup verify --hash-offset={} {} {} {} >/dev/null 2>&1", c->header().dataEnd, path,
                      path, hex(wrong));
    EXPECT_NE(std::system(cmd.c_str()), 0);
}

TEST(Seal, UnverifiedContainerCannotBeSealed) {
    TempDir d;
    std::string path = d.path + "/plain.bcim";
    {
        auto w = block::createBlockImage(path, nullptr, "x.cim", CIM_CREATE_IMAGE_SINGLE_FILE_CIM);
        w->commit();
    }
    EXPECT_THROW(block::sealContainer(path), Error);
    EXPECT_FALSE(block::verificationInfo(path).sealed);
}

TEST(Seal, VhdFooterKeepsTheSealAndIsIgnoredByReaders) {
    TempDir d;
    block::Hash root;
    auto path = makeSealed(d, root);
    block::appendContainerVhdFooter(path);
    auto size = std::filesystem::file_size(path);
    EXPECT_EQ(size % 512, 0u);
    block::appendContainerVhdFooter(path);  // idempotent
    EXPECT_EQ(std::filesystem::file_size(path), size);
    EXPECT_EQ(block::verificationInfo(path).rootHash, root);
    EXPECT_EQ(readAll(*block::openBlock(path, "layer.cim", &root), "foo.txt"), "foo");
    if (access("/usr/bin/qemu-img", X_OK) == 0) {
        std::string out;
        FILE* p = popen(fmt::format("/usr/bin/qemu-img info -f vpc --output=json {}", path).c_str(), "r");
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        EXPECT_EQ(pclose(p), 0);
        EXPECT_NE(out.find("\"format\": \"vpc\""), std::string::npos) << out;
        EXPECT_NE(out.find(fmt::format("\"virtual-size\": {}", size - 512)), std::string::npos) << out;
    }
}
