// Forked standard CIMs (CimCreateImage with an existing image): a child sees its parent's content
// plus its own changes, reuses the parent's region files, and never changes the parent.
#include <sys/stat.h>

#include <map>

#include "test_util.h"

using namespace itest;

namespace {

// Identity of a host file: inode, size and content digest.
struct FileId {
    ino_t inode;
    std::string digest;
    bool operator==(const FileId&) const = default;
};
std::map<std::string, FileId> snapshot(const TempDir& d) {
    std::map<std::string, FileId> out;
    for (const auto& n : d.list()) {
        struct stat st;
        ::stat((d / n).c_str(), &st);
        out[n] = {st.st_ino, sha256File(d / n)};
    }
    return out;
}

class Fork : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "base.cim", [](CIMFS_IMAGE_HANDLE h) {
            static const uint8_t sd[20] = {1, 0, 4, 0x80};
            // EA chain with one entry: "A" = "ea".
            static const uint8_t ea[] = {0, 0, 0, 0, 0, 1, 2, 0, 'A', 0, 'e', 'a'};
            CIMFS_FILE_METADATA md = fileMetadata(static_cast<int64_t>(sizeof "two"), kAttrHidden);
            md.SecurityDescriptorBuffer = sd;
            md.SecurityDescriptorSize = sizeof sd;
            md.ExtendedAttributes = ea;
            md.EACount = sizeof ea;
            CIMFS_STREAM_HANDLE s = nullptr;
            if (auto r = ok(addDir(h, "a"), "a"); !r) return r;
            if (auto r = ok(addDir(h, "a\\b"), "a\\b"); !r) return r;
            if (auto r = ok(addFile(h, "a\\one.txt", "one"), "one"); !r) return r;
            if (auto r = ok(addFile(h, "a\\b\\deep.txt", "deep"), "deep"); !r) return r;
            if (auto r = ok(CimCreateFile(h, "two.txt", &md, &s), "two"); !r) return r;
            if (auto r = ok(CimWriteStream(s, "two", sizeof "two"), "two write"); !r) return r;
            if (auto r = ok(CimCloseStream(s), "two close"); !r) return r;
            if (auto r = ok(addStream(h, "two.txt:ads", "stream of two"), "ads"); !r) return r;
            return ok(addFile(h, "big.bin", std::string(100000, 'B')), "big");
        }));
    }

    ReaderHandle open(const char* name) {
        ReaderHandle r;
        EXPECT_OK(CimOpenImage(dir_.c_str(), name, 0, r.out()));
        return r;
    }

    // The base image's content, unchanged by anything a fork does.
    void expectBaseUnchanged() {
        auto r = open("base.cim");
        EXPECT_EQ(namesOf(listImageDir(r, "")), (std::vector<std::string>{"a", "big.bin", "two.txt"}));
        EXPECT_EQ(namesOf(listImageDir(r, "a")), (std::vector<std::string>{"b", "one.txt"}));
        EXPECT_EQ(readAll(r, "a\\one.txt"), "one");
        EXPECT_EQ(readAll(r, "a\\b\\deep.txt"), "deep");
        EXPECT_EQ(readAll(r, "two.txt"), std::string("two", sizeof "two"));
        EXPECT_EQ(readAll(r, "two.txt:ads"), "stream of two");
        EXPECT_EQ(readAll(r, "big.bin"), std::string(100000, 'B'));
        CIMFS_FILE_INFO i;
        ASSERT_OK(statPath(r, "a\\one.txt", &i));
        EXPECT_EQ(i.LinkCount, 1u);
    }

    TempDir dir_;
};

TEST_F(Fork, ChildSeesParentPlusItsChangesParentUnchanged) {
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "child.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "three.txt", "three")); !r) return r;
        if (auto r = ok(addFile(h, "a\\b\\new.txt", "new in child")); !r) return r;
        if (auto r = ok(addFile(h, "A\\ONE.TXT", "one, replaced in the child")); !r) return r;  // over an inherited file
        return ok(addStream(h, "a\\b:dirstream", "on an inherited directory"));
    }));
    expectBaseUnchanged();
    auto c = open("child.cim");
    EXPECT_EQ(namesOf(listImageDir(c, "")), (std::vector<std::string>{"a", "big.bin", "three.txt", "two.txt"}));
    EXPECT_EQ(readAll(c, "three.txt"), "three");
    EXPECT_EQ(readAll(c, "a\\b\\new.txt"), "new in child");
    EXPECT_EQ(readAll(c, "a\\b\\deep.txt"), "deep");
    EXPECT_EQ(readAll(c, "a\\one.txt"), "one, replaced in the child");
    EXPECT_EQ(readAll(c, "a\\b:dirstream"), "on an inherited directory");
    EXPECT_EQ(readAll(c, "big.bin"), std::string(100000, 'B'));
    // Inherited metadata comes through untouched.
    CIMFS_FILE_INFO i;
    ASSERT_OK(statPath(c, "two.txt", &i));
    EXPECT_EQ(i.Attributes, kAttrHidden);
    EXPECT_EQ(i.CreationTime, kSomeTime);
    EXPECT_EQ(getBlob(CimGetSecurityDescriptor, c, "two.txt").size(), 20u);
    EXPECT_EQ(getBlob(CimGetExtendedAttributes, c, "two.txt"), (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 2, 0, 'A', 0, 'e', 'a'}));
    EXPECT_EQ(readAll(c, "two.txt:ads"), "stream of two");
}

TEST_F(Fork, DeleteInForkHidesInheritedEntries) {
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "child.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimDeletePath(h, "big.bin")); !r) return r;
        if (auto r = ok(CimDeletePath(h, "a\\b")); !r) return r;
        return ok(CimDeletePath(h, "two.txt:ads"));
    }));
    expectBaseUnchanged();
    auto c = open("child.cim");
    EXPECT_EQ(namesOf(listImageDir(c, "")), (std::vector<std::string>{"a", "two.txt"}));
    EXPECT_EQ(namesOf(listImageDir(c, "a")), (std::vector<std::string>{"one.txt"}));
    CIMFS_FILE_INFO i;
    EXPECT_HR(statPath(c, "a\\b\\deep.txt", &i), kPathNotFound, "CimStatPath");
    EXPECT_HR(statPath(c, "two.txt:ads", &i), kFileNotFound, "CimStatPath");
}

TEST_F(Fork, HardLinkToAnInheritedFile) {
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "child.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimCreateHardLink(h, "one-link.txt", "a\\one.txt")); !r) return r;
        return ok(CimCreateHardLink(h, "a\\b\\two-link", "TWO.TXT"));
    }));
    expectBaseUnchanged();
    auto c = open("child.cim");
    CIMFS_FILE_INFO one, link, two, twoLink;
    ASSERT_OK(statPath(c, "a\\one.txt", &one));
    ASSERT_OK(statPath(c, "one-link.txt", &link));
    ASSERT_OK(statPath(c, "two.txt", &two));
    ASSERT_OK(statPath(c, "a\\b\\two-link", &twoLink));
    EXPECT_EQ(one.FileId, link.FileId);
    EXPECT_EQ(one.LinkCount, 2u);
    EXPECT_EQ(link.LinkCount, 2u);
    EXPECT_EQ(two.FileId, twoLink.FileId);
    EXPECT_NE(one.FileId, two.FileId);
    EXPECT_EQ(twoLink.Attributes, kAttrHidden);
    EXPECT_EQ(readAll(c, "one-link.txt"), "one");
    EXPECT_EQ(readAll(c, "a\\b\\two-link:ads"), "stream of two");
}

TEST_F(Fork, RewritingAnImageReplacesItsContent) {
    auto before = open("base.cim");  // a reader of the old version keeps working
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", nullptr, [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "two.txt", "rewritten")); !r) return r;
        return ok(CimDeletePath(h, "big.bin"));
    }));
    {
        auto r = open("base.cim");
        EXPECT_EQ(readAll(r, "two.txt"), "rewritten");
        EXPECT_FALSE(exists(r, "big.bin"));
        EXPECT_EQ(readAll(r, "a\\one.txt"), "one");
    }
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "base.cim", [](CIMFS_IMAGE_HANDLE h) {
        return ok(addFile(h, "third.txt", "third version"));
    }));
    auto r = open("base.cim");
    EXPECT_EQ(readAll(r, "two.txt"), "rewritten");
    EXPECT_EQ(readAll(r, "third.txt"), "third version");
    EXPECT_EQ(readAll(before, "big.bin"), std::string(100000, 'B'));
    EXPECT_EQ(readAll(before, "two.txt"), std::string("two", sizeof "two"));
    // Three versions, one filesystem file; the old region sets stay as parents.
    auto h = readCimHeader(dir_ / "base.cim");
    EXPECT_EQ(h.parentSets.size(), 2u);
    int cims = 0;
    for (const auto& n : dir_.list()) cims += n.size() > 4 && n.compare(n.size() - 4, 4, ".cim") == 0;
    EXPECT_EQ(cims, 1);
}

TEST_F(Fork, NameErrors) {
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "child.cim", [](CIMFS_IMAGE_HANDLE) { return ok(kOk); }));
    ImageHandle h;
    EXPECT_TRUE(expectHrEither(CimCreateImage(dir_.c_str(), "base.cim", "child.cim", h.out()), kFileExists, kAlreadyExists,
                               "child.cim"));
    EXPECT_HR(CimCreateImage(dir_.c_str(), "missing.cim", "new.cim", h.out()), kFileNotFound, "missing.cim");
    EXPECT_HR(CimCreateImage(dir_.c_str(), "missing.cim", nullptr, h.out()), kFileNotFound, "missing.cim");
    writeHostFile(dir_ / "garbage.cim", std::vector<uint8_t>(200, 0x5A));
    EXPECT_HR(CimCreateImage(dir_.c_str(), "garbage.cim", "new.cim", h.out()), kCorrupt, "garbage.cim");
    EXPECT_HR(CimCreateImage2((dir_ / "base.cim").c_str(), CIM_CREATE_IMAGE_SINGLE_FILE_CIM, "base.cim", "x", h.out()), kInvalidArg,
              "CimCreateImage2");
    // Failed attempts leave nothing behind.
    EXPECT_EQ(dir_.list().size(), 2u + 1u + 12u);
}

TEST_F(Fork, ChainOfThreeForks) {
    const char* names[] = {"base.cim", "f1.cim", "f2.cim", "f3.cim"};
    for (int i = 1; i <= 3; ++i) {
        ASSERT_TRUE(buildStandard(dir_.path(), names[i - 1], names[i], [i](CIMFS_IMAGE_HANDLE h) {
            std::string own = "level" + std::to_string(i) + ".txt";
            if (auto r = ok(addFile(h, own.c_str(), "level " + std::to_string(i))); !r) return r;
            if (auto r = ok(addFile(h, "counter", std::to_string(i))); !r) return r;
            if (i == 2) return ok(CimDeletePath(h, "level1.txt"));
            return ok(kOk);
        })) << names[i];
    }
    expectBaseUnchanged();
    auto expectImage = [&](int i, std::vector<std::string> levels) {
        SCOPED_TRACE(names[i]);
        auto r = open(names[i]);
        EXPECT_EQ(readAll(r, "counter"), std::to_string(i));
        for (int l = 1; l <= 3; ++l) {
            std::string f = "level" + std::to_string(l) + ".txt";
            bool want = std::find(levels.begin(), levels.end(), f) != levels.end();
            EXPECT_EQ(exists(r, f.c_str()), want) << f;
            if (want) {
                EXPECT_EQ(readAll(r, f.c_str()), "level " + std::to_string(l));
            }
        }
        EXPECT_EQ(readAll(r, "a\\b\\deep.txt"), "deep");
    };
    expectImage(1, {"level1.txt"});
    expectImage(2, {"level2.txt"});
    expectImage(3, {"level2.txt", "level3.txt"});

    // Each fork lists every ancestor's region set, base first, and names its own set once.
    std::vector<std::string> sets;
    for (int i = 0; i <= 3; ++i) {
        auto h = readCimHeader(dir_ / names[i]);
        EXPECT_EQ(h.parentSets, sets) << names[i];
        EXPECT_EQ(std::find(sets.begin(), sets.end(), h.ownSet), sets.end()) << names[i];
        sets.push_back(h.ownSet);
    }
}

TEST_F(Fork, ParentRegionFilesAreReusedNotCopied) {
    auto base = snapshot(dir_);
    auto baseHeader = readCimHeader(dir_ / "base.cim");
    ASSERT_FALSE(baseHeader.ownSet.empty());
    ASSERT_EQ(base.size(), 1u + 2u * baseHeader.ownCount);
    ASSERT_TRUE(buildStandard(dir_.path(), "base.cim", "child.cim", [](CIMFS_IMAGE_HANDLE h) {
        return ok(addFile(h, "new.txt", "n"));
    }));
    auto after = snapshot(dir_);
    // The base's files are the same files with the same bytes.
    for (const auto& [name, id] : base) {
        ASSERT_TRUE(after.count(name)) << name;
        EXPECT_EQ(after[name], id) << name << " was rewritten";
    }
    // The child added its filesystem file and exactly one region set of its own.
    auto child = readCimHeader(dir_ / "child.cim");
    EXPECT_EQ(child.parentSets, std::vector<std::string>{baseHeader.ownSet});
    EXPECT_NE(child.ownSet, baseHeader.ownSet);
    std::set<std::string> added;
    for (const auto& [name, id] : after) {
        if (!base.count(name)) added.insert(name);
    }
    std::set<std::string> want{"child.cim"};
    for (int i = 0; i < child.ownCount; ++i) {
        want.insert("region_" + child.ownSet + "_" + std::to_string(i));
        want.insert("objectid_" + child.ownSet + "_" + std::to_string(i));
    }
    EXPECT_EQ(added, want);

    // The child needs the base's regions but not base.cim; removing the child (its .cim and its
    // own set, as hcsshim's DestroyCim does) leaves the base intact.
    ASSERT_EQ(::rename((dir_ / "base.cim").c_str(), (dir_ / "base.cim.aside").c_str()), 0);
    {
        auto c = open("child.cim");
        EXPECT_EQ(readAll(c, "a\\one.txt"), "one");
        EXPECT_EQ(readAll(c, "new.txt"), "n");
    }
    ASSERT_EQ(::rename((dir_ / "base.cim.aside").c_str(), (dir_ / "base.cim").c_str()), 0);
    for (const auto& n : want) ::unlink((dir_ / n).c_str());
    expectBaseUnchanged();
    // And with a base region file gone the child cannot open.
    ::unlink((dir_ / ("region_" + baseHeader.ownSet + "_0")).c_str());
    ReaderHandle r;
    EXPECT_HR(CimOpenImage(dir_.c_str(), "base.cim", 0, r.out()), kFileNotFound, "region_");
}

TEST_F(Fork, DiscardedForkLeavesTheDirectoryAsItWas) {
    auto before = snapshot(dir_);
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage(dir_.c_str(), "base.cim", "child.cim", h.out()));
        ASSERT_OK(addFile(h, "x", std::string(50000, 'x')));
        ASSERT_OK(CimDeletePath(h, "a"));
    }
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage(dir_.c_str(), "base.cim", nullptr, h.out()));
        ASSERT_OK(CimDeletePath(h, "a"));
    }
    EXPECT_EQ(snapshot(dir_), before);
    expectBaseUnchanged();
}

}  // namespace
