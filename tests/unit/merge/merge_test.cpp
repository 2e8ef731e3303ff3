// Block CIMs and merging through the internal API.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "block/block_image.h"
#include "common/error.h"
#include "common/utf.h"
#include "merge/merge.h"
#include "opencim/cimfs.h"

using namespace cim;
using namespace cim::image;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-merge-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

constexpr uint32_t kSingle = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM;

void writeFile(Writer& w, const std::string& path, const std::string& data) {
    FileMetadata md;
    md.attributes = 0x20;
    md.fileSize = static_cast<int64_t>(data.size());
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

std::shared_ptr<Image> mergeLayers(const TempDir& d, const std::vector<std::string>& layers) {
    auto w = block::createBlockImage(d.path + "/merged.bcim", nullptr, "merged.cim", kSingle);
    std::vector<capi::MergeSourceSpec> specs;
    for (const auto& l : layers) specs.push_back({d.path + "/" + l + ".bcim/layer.cim", CIM_MERGE_SINGLE_FILE});
    merge::prepareMerge(*w, specs, kSingle);
    w->commit();
    std::vector<std::pair<std::string, std::string>> paths{{d.path + "/merged.bcim", "merged.cim"}};
    for (const auto& l : layers) paths.emplace_back(d.path + "/" + l + ".bcim", "layer.cim");
    return block::openMerged(paths);
}
}  // namespace

TEST(Block, SingleFileRoundTrip) {
    TempDir d;
    {
        auto w = block::createBlockImage(d.path + "/layer.bcim", nullptr, "layer.cim", kSingle);
        writeFile(*w, "foobar.txt", "foobar test data");
        mkdir(*w, "foo");
        writeFile(*w, "foo\\bar.txt", std::string(9000, 'b'));
        w->commit();
    }
    auto img = block::openBlock(d.path + "/layer.bcim", "layer.cim");
    EXPECT_EQ(readAll(*img, "foobar.txt"), "foobar test data");
    EXPECT_EQ(readAll(*img, "foo/bar.txt"), std::string(9000, 'b'));
    EXPECT_THROW(block::openBlock(d.path + "/layer.bcim", "other.cim"), Error);
}

TEST(Block, TwoCimsInOneFileAndEmptyCim) {
    TempDir d;
    std::string f = d.path + "/multi.bcim";
    {
        auto w = block::createBlockImage(f, nullptr, "empty.cim", kSingle);
        w->commit();
    }
    {
        auto w = block::createBlockImage(f, nullptr, "second.cim", kSingle);
        writeFile(*w, "x", "second");
        w->commit();
    }
    EXPECT_TRUE(block::openBlock(f, "empty.cim")->children(block::openBlock(f, "empty.cim")->file(1)).empty());
    EXPECT_EQ(readAll(*block::openBlock(f, "second.cim"), "x"), "second");
}

TEST(Block, ConsistentIsByteIdentical) {
    TempDir d;
    for (auto name : {"a.bcim", "b.bcim"}) {
        auto w = block::createBlockImage(d.path + "/" + name, nullptr, "layer.cim", kSingle);
        mkdir(*w, "dir");
        writeFile(*w, "dir/f", std::string(5000, 'q'));
        writeFile(*w, "g", "small");
        w->commit();
    }
    auto read = [](const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    EXPECT_EQ(read(d.path + "/a.bcim"), read(d.path + "/b.bcim"));
}

TEST(Merge, TopmostWinsTombstonesAndLinks) {
    TempDir d;
    auto layer = [&](const std::string& name, auto fill) {
        auto w = block::createBlockImage(d.path + "/" + name + ".bcim", nullptr, "layer.cim", kSingle);
        fill(*w);
        w->commit();
    };
    layer("base", [](Writer& w) {
        writeFile(w, "foo.txt", "foo2");
        writeFile(w, "foobar.txt", "foobar test data");
        mkdir(w, "dir");
        writeFile(w, "dir/old.txt", "old");
        mkdir(w, "gone");
        writeFile(w, "gone/x", "x");
        mkdir(w, "opaque");
        writeFile(w, "opaque/lower", "lower");
    });
    layer("mid", [](Writer& w) {
        writeFile(w, "bar.txt", "bar");
        mkdir(w, "dir");
        writeFile(w, "dir/new.txt", "new");
    });
    layer("top", [](Writer& w) {
        writeFile(w, "foo.txt", "foo1");
        w.tombstone(parseImagePath("gone"));
        w.tombstone(parseImagePath("opaque"));
        mkdir(w, "opaque");
        writeFile(w, "opaque/upper", "upper");
        w.createMergeLink(parseImagePath("b_link.txt"), parseImagePath("foobar.txt"));
        w.createMergeLink(parseImagePath("a_link.txt"), parseImagePath("b_link.txt"));
    });
    auto m = mergeLayers(d, {"top", "mid", "base"});
    EXPECT_EQ(readAll(*m, "foo.txt"), "foo1");
    EXPECT_EQ(readAll(*m, "bar.txt"), "bar");
    EXPECT_EQ(readAll(*m, "dir/old.txt"), "old");
    EXPECT_EQ(readAll(*m, "dir/new.txt"), "new");
    EXPECT_THROW(m->resolve("gone"), Error);
    EXPECT_EQ(readAll(*m, "opaque/upper"), "upper");
    EXPECT_THROW(m->resolve("opaque/lower"), Error);
    EXPECT_EQ(readAll(*m, "a_link.txt"), "foobar test data");
    EXPECT_EQ(m->resolve("a_link.txt").node.id, m->resolve("foobar.txt").node.id);
    // The top layer alone hides its tombstones and merge links.
    auto top = block::openBlock(d.path + "/top.bcim", "layer.cim");
    EXPECT_THROW(top->resolve("a_link.txt"), Error);
    EXPECT_THROW(top->resolve("gone"), Error);
    // Wrong order is detected.
    std::vector<std::pair<std::string, std::string>> wrong{{d.path + "/merged.bcim", "merged.cim"},
                                                           {d.path + "/mid.bcim", "layer.cim"},
                                                           {d.path + "/top.bcim", "layer.cim"},
                                                           {d.path + "/base.bcim", "layer.cim"}};
    EXPECT_THROW(block::openMerged(wrong), Error);
}

TEST(Merge, UnresolvableMergeLinkFails) {
    TempDir d;
    for (auto name : {"top", "base"}) {
        auto w = block::createBlockImage(d.path + "/" + name + ".bcim", nullptr, "layer.cim", kSingle);
        if (std::string(name) == "top") w->createMergeLink(parseImagePath("l"), parseImagePath("missing"));
        else writeFile(*w, "x", "x");
        w->commit();
    }
    try {
        mergeLayers(d, {"top", "base"});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(d.path + "/merged.bcim"));
}

TEST(Merge, CaseSensitiveLayersMergeCaseSensitively) {
    TempDir d;
    for (auto name : {"top", "base"}) {
        auto w = block::createBlockImage(d.path + "/" + name + ".bcim", nullptr, "layer.cim", kSingle, &identityUpcaseTable());
        if (std::string(name) == "top") writeFile(*w, "Makefile", "upper");
        else writeFile(*w, "makefile", "lower");
        w->commit();
    }
    auto m = mergeLayers(d, {"top", "base"});
    EXPECT_EQ(readAll(*m, "Makefile"), "upper");
    EXPECT_EQ(readAll(*m, "makefile"), "lower");
    EXPECT_EQ(m->children(m->file(m->rootId())).size(), 2u);
}
