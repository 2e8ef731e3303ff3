// Writer -> reader round trips through the internal C++ API (the ABI is covered by the
// integration suite).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/utf.h"
#include "image/create.h"
#include "image/open.h"

using namespace cim;
using namespace cim::image;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-unit-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

void writeFile(Writer& w, const std::string& path, const std::string& data, uint32_t attrs = 0x20) {
    FileMetadata md;
    md.attributes = attrs;
    md.fileSize = static_cast<int64_t>(data.size());
    md.lastWriteTime = 132000000000000000;
    uint64_t s = w.createFile(parseImagePath(path), md);
    w.write(s, std::as_bytes(std::span(data.data(), data.size())));
    w.closeStream(s);
}

void mkdir(Writer& w, const std::string& path) {
    FileMetadata md;
    md.attributes = 0x10;
    w.closeStream(w.createFile(parseImagePath(path), md));
}

std::string readAll(const Image& img, const std::string& path) {
    auto r = img.resolve(path);
    std::string out(r.node.size(), '\0');
    img.readStream(r.node.rec.defaultStream, 0, std::as_writable_bytes(std::span(out.data(), out.size())));
    return out;
}
}  // namespace

TEST(WriterReader, BasicTree) {
    TempDir d;
    {
        auto w = createStandardImage(d.path, nullptr, "test.cim", 0);
        writeFile(*w, "foobar.txt", "foobar test data");
        mkdir(*w, "foo");
        writeFile(*w, "foo\\bar.txt", "bar test data");
        std::string big(100000, 'x');
        writeFile(*w, "foo/big.bin", big);
        w->commit();
    }
    auto img = openStandard(d.path, "test.cim");
    EXPECT_EQ(readAll(*img, "foobar.txt"), "foobar test data");
    EXPECT_EQ(readAll(*img, "FOO\\BAR.TXT"), "bar test data");
    EXPECT_EQ(readAll(*img, "foo/big.bin"), std::string(100000, 'x'));
    auto kids = img->children(img->resolve("").node);
    ASSERT_EQ(kids.size(), 2u);
    EXPECT_EQ(utf16ToUtf8(kids[0].name), "foo");
    try {
        img->resolve("nope/x");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), hr::pathNotFound);
    }
}

TEST(WriterReader, ForkSeesParentAndDeletes) {
    TempDir d;
    {
        auto w = createStandardImage(d.path, nullptr, "base.cim", 0);
        writeFile(*w, "a.txt", "A");
        writeFile(*w, "b.txt", "B");
        w->commit();
    }
    {
        auto w = createStandardImage(d.path, "base.cim", "child.cim", 0);
        w->deletePath(parseImagePath("a.txt"));
        writeFile(*w, "c.txt", "C");
        w->createHardLink(parseImagePath("b2.txt"), parseImagePath("b.txt"));
        w->commit();
    }
    auto base = openStandard(d.path, "base.cim");
    auto child = openStandard(d.path, "child.cim");
    EXPECT_EQ(readAll(*base, "a.txt"), "A");
    EXPECT_THROW(child->resolve("a.txt"), Error);
    EXPECT_EQ(readAll(*child, "b.txt"), "B");
    EXPECT_EQ(readAll(*child, "b2.txt"), "B");
    EXPECT_EQ(readAll(*child, "c.txt"), "C");
    auto b = child->resolve("b.txt").node.id;
    EXPECT_EQ(child->resolve("b2.txt").node.id, b);
    EXPECT_EQ(child->linkCount(b), 2u);
}

TEST(WriterReader, UncommittedLeavesNothing) {
    TempDir d;
    {
        auto w = createStandardImage(d.path, nullptr, "x.cim", 0);
        writeFile(*w, "a.txt", std::string(10000, 'a'));
    }
    EXPECT_TRUE(std::filesystem::is_empty(d.path));
}

TEST(WriterReader, IdenticalDataIsStoredOnce) {
    TempDir d;
    {
        auto w = createStandardImage(d.path, nullptr, "x.cim", 0);
        for (int i = 0; i < 10; ++i) writeFile(*w, "f" + std::to_string(i), std::string(50000, 'z'));
        w->commit();
    }
    uint64_t total = 0;
    for (auto& e : std::filesystem::directory_iterator(d.path)) total += e.file_size();
    EXPECT_LT(total, 300000u);  // 10 copies would be 500 KB
    auto img = openStandard(d.path, "x.cim");
    EXPECT_EQ(readAll(*img, "f7"), std::string(50000, 'z'));
}
