// Block CIMs (single-file and block-device), merging, tombstones, merge links, consistent CIMs and
// sealing: hcsshim's pkg/cimfs scenarios (reference/cimfs-api.md section 5) through the public
// ABI, with the in-process reader standing in for mounts.
#include <cstdio>

#include "test_util.h"

using namespace itest;

namespace {

constexpr uint32_t kSingle = CIM_CREATE_IMAGE_SINGLE_FILE_CIM;
constexpr uint32_t kDevice = CIM_CREATE_IMAGE_BLOCK_DEVICE_CIM;
constexpr uint32_t kConsistent = CIM_CREATE_IMAGE_CONSISTENT_CIM;
constexpr uint32_t kVerified = CIM_CREATE_IMAGE_VERIFIED_CIM;

// A loop device over a 64 MiB sparse file, detached on destruction.
class LoopDevice {
public:
    LoopDevice() = default;
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    ~LoopDevice() {
        if (!dev_.empty()) {
            std::string cmd = "losetup -d " + dev_ + " 2>/dev/null";
            if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "warning: could not detach %s\n", dev_.c_str());
        }
    }

    // Returns "" on success, else why the device could not be set up.
    std::string attach(const std::string& backing) {
        if (std::FILE* f = std::fopen(backing.c_str(), "wb")) std::fclose(f);
        std::error_code ec;
        fs::resize_file(backing, 64ull << 20, ec);
        if (ec) return "cannot create " + backing + ": " + ec.message();
        std::string cmd = "losetup -f --show " + backing + " 2>&1";
        std::FILE* p = ::popen(cmd.c_str(), "r");
        if (!p) return "cannot run losetup";
        std::string out;
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        int rc = ::pclose(p);
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        if (rc != 0 || out.rfind("/dev/", 0) != 0) return "losetup -f --show failed: " + out;
        dev_ = out;
        return "";
    }
    const std::string& path() const { return dev_; }

private:
    std::string dev_;
};

class Block : public ::testing::Test {
protected:
    std::string block(const char* name) const { return dir_ / name; }

    ReaderHandle openBlock(const std::string& path, const char* name, uint32_t flags = CIM_MOUNT_SINGLE_FILE_CIM) {
        ReaderHandle r;
        EXPECT_OK(CimOpenImage(path.c_str(), name, flags, r.out()));
        return r;
    }

    // hcsshim scenario 11's three layers: [foo.txt=foo1], [bar.txt=bar], [foo.txt=foo2].
    void buildThreeLayers(uint32_t flags, const std::string& p1, const std::string& p2, const std::string& p3) {
        ASSERT_TRUE(buildBlock(p1, flags, "layer1.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "foo.txt", "foo1")); }));
        ASSERT_TRUE(buildBlock(p2, flags, "layer2.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "bar.txt", "bar")); }));
        ASSERT_TRUE(buildBlock(p3, flags, "layer3.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "foo.txt", "foo2")); }));
    }

    // Merges `sources` (topmost first) into CIM `name` of block `mergedPath`.
    ::testing::AssertionResult merge(const std::string& mergedPath, uint32_t createFlags, uint32_t mergeFlags,
                                     const std::vector<std::string>& sources, const char* name = "merged.cim") {
        return buildBlock(mergedPath, createFlags, name, [&](CIMFS_IMAGE_HANDLE h) {
            for (const auto& s : sources) {
                if (auto r = ok(CimAddFsToMergedImage2(h, s.c_str(), mergeFlags), s.c_str()); !r) return r;
            }
            return ok(kOk);
        });
    }

    // Opens [merged, sources...] with CimOpenMergedImage.
    HRESULT openMerged(const std::vector<std::pair<std::string, std::string>>& paths, ReaderHandle& r,
                       uint32_t flags = CIM_MOUNT_SINGLE_FILE_CIM) {
        std::vector<CIMFS_IMAGE_PATH> v;
        for (const auto& [d, n] : paths) v.push_back({d.c_str(), n.c_str()});
        return CimOpenMergedImage(static_cast<uint32_t>(v.size()), v.data(), flags, r.out());
    }

    TempDir dir_;
};

void expectHcsshimEntries(CIMFS_READER_HANDLE r) {
    EXPECT_EQ(readAll(r, "foobar.txt"), kFoobarData);
    EXPECT_EQ(readAll(r, "foo\\bar.txt"), kBarData);
    CIMFS_FILE_INFO i;
    ASSERT_OK(statPath(r, "foo", &i));
    EXPECT_EQ(i.Attributes & kAttrDirectory, kAttrDirectory);
    EXPECT_EQ(i.FileSize, 0);
    ASSERT_OK(statPath(r, "foobar.txt", &i));
    EXPECT_EQ(i.FileSize, static_cast<int64_t>(kFoobarData.size()));
    EXPECT_EQ(i.LastWriteTime, kSomeTime);
}

// ---- creating and reading block CIMs ----

TEST_F(Block, EmptyBlockCim) {
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("layer.bcim").c_str(), kSingle, nullptr, "layer.cim", h.out()));
        ASSERT_OK(CimCommitImage(h));
    }
    ASSERT_TRUE(fs::exists(block("layer.bcim")));
    auto r = openBlock(block("layer.bcim"), "layer.cim");
    HRESULT hr;
    EXPECT_TRUE(listImageDir(r, "", &hr).empty());
    EXPECT_EQ(hr, kOk);
    CIMFS_FILE_INFO root;
    EXPECT_OK(statPath(r, "", &root));
    EXPECT_EQ(root.Attributes & kAttrDirectory, kAttrDirectory);

    // Closed without commit: no block file appears.
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("never.bcim").c_str(), kSingle, nullptr, "layer.cim", h.out()));
        ASSERT_OK(addFile(h, "f", std::string(10000, 'f')));
    }
    EXPECT_EQ(dir_.list(), std::vector<std::string>{"layer.bcim"});
}

TEST_F(Block, InvalidNamePathAndType) {
    ImageHandle h;
    std::string b = block("layer.bcim");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle, nullptr, "", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle, nullptr, nullptr, h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2("", kSingle, nullptr, "foo.bcim", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2(nullptr, kSingle, nullptr, "foo.bcim", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle | kDevice, nullptr, "layer.cim", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2(b.c_str(), kVerified, nullptr, "layer.cim", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle | 0x20, nullptr, "layer.cim", h.out()), kInvalidArg, "flags");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle | 0x80, nullptr, "layer.cim", h.out()), kInvalidArg, "flags");
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle, "parent.cim", "layer.cim", h.out()), kInvalidArg, "CimCreateImage2");
    EXPECT_HR(CimCreateImage2((dir_ / "nodir/x.bcim").c_str(), kSingle, nullptr, "layer.cim", h.out()), kPathNotFound,
              "nodir");
    // A regular file is not a block device; a directory is not a block file.
    writeHostFile(block("plain"), {1, 2, 3});
    EXPECT_HR(CimCreateImage2(block("plain").c_str(), kDevice, nullptr, "layer.cim", h.out()), kInvalidArg, "block device");
    EXPECT_LT(CimCreateImage2(dir_.c_str(), kSingle, nullptr, "layer.cim", h.out()), 0);
    EXPECT_LT(CimCreateImage2(block("plain").c_str(), kSingle, nullptr, "layer.cim", h.out()), 0);  // not a block CIM
    EXPECT_EQ(readHostFile(block("plain")), (std::vector<uint8_t>{1, 2, 3}));

    ASSERT_TRUE(buildBlock(b, kSingle, "layer.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    ReaderHandle r;
    EXPECT_HR(CimOpenImage(b.c_str(), "other.cim", CIM_MOUNT_SINGLE_FILE_CIM, r.out()), kFileNotFound, "other.cim");
    EXPECT_HR(CimOpenImage(block("none.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, r.out()), kFileNotFound,
              "none.bcim");
    EXPECT_HR(CimOpenImage(b.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_BLOCK_DEVICE_CIM, r.out()), kInvalidArg,
              "CimOpenImage");
    EXPECT_HR(CimOpenImage(block("plain").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, r.out()), kCorrupt, "plain");
    EXPECT_OK(CimOpenImage(b.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM | CIM_MOUNT_ENABLE_DAX | CIM_MOUNT_CHILD_ONLY, r.out()));
}

TEST_F(Block, SingleFileReadWrite) {
    ASSERT_TRUE(buildBlock(block("layer.bcim"), kSingle, "layer.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addHcsshimEntries(h)); !r) return r;
        return ok(addFile(h, "foo\\large.bin", std::string(300000, 'L')));
    }));
    auto r = openBlock(block("layer.bcim"), "layer.cim");
    expectHcsshimEntries(r);
    EXPECT_EQ(namesOf(listImageDir(r, "")), (std::vector<std::string>{"foo", "foobar.txt"}));
    EXPECT_EQ(namesOf(listImageDir(r, "foo")), (std::vector<std::string>{"bar.txt", "large.bin"}));
    EXPECT_EQ(readAll(r, "foo\\large.bin"), std::string(300000, 'L'));
    // The CIM name is the one inside the block file, not the block file's name.
    ReaderHandle other;
    EXPECT_HR(CimOpenImage(block("layer.bcim").c_str(), "layer.bcim", CIM_MOUNT_SINGLE_FILE_CIM, other.out()), kFileNotFound,
              "CimOpenImage");
}

TEST_F(Block, TwoCimsInOneBlockFile) {
    std::string b = block("layers.bcim");
    ASSERT_TRUE(buildBlock(b, kSingle, "one.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    ASSERT_TRUE(buildBlock(b, kSingle, "two.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "only-in-two.txt", "two")); !r) return r;
        return ok(addFile(h, "big", std::string(50000, '2')));
    }));
    auto before = readHostFile(b);
    ImageHandle h;
    EXPECT_TRUE(expectHrEither(CimCreateImage2(b.c_str(), kSingle, nullptr, "one.cim", h.out()), kFileExists, kAlreadyExists,
                               "one.cim"));
    // Verified (and device) are properties of the container; a mismatch is refused.
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle | kVerified, nullptr, "three.cim", h.out()), kInvalidArg, "flags");
    {
        // A third CIM that is never committed leaves the block file as it was.
        ImageHandle discard;
        ASSERT_OK(CimCreateImage2(b.c_str(), kSingle, nullptr, "three.cim", discard.out()));
        ASSERT_OK(addFile(discard, "x", std::string(100000, 'x')));
    }
    EXPECT_EQ(readHostFile(b), before);

    auto one = openBlock(b, "one.cim");
    auto two = openBlock(b, "two.cim");
    expectHcsshimEntries(one);
    EXPECT_FALSE(exists(one, "only-in-two.txt"));
    EXPECT_EQ(readAll(two, "only-in-two.txt"), "two");
    EXPECT_EQ(readAll(two, "big"), std::string(50000, '2'));
    EXPECT_FALSE(exists(two, "foobar.txt"));
    ReaderHandle r;
    EXPECT_HR(CimOpenImage(b.c_str(), "three.cim", CIM_MOUNT_SINGLE_FILE_CIM, r.out()), kFileNotFound, "three.cim");
}

TEST_F(Block, OneWriterPerBlockFile) {
    // Two writers appending to one container would both write at its end and the later commit
    // would drop the earlier CIM; the second writer is refused while the first handle is open.
    std::string b = block("layers.bcim");
    ASSERT_TRUE(buildBlock(b, kSingle, "one.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "a", "a")); }));
    ImageHandle first, second;
    ASSERT_OK(CimCreateImage2(b.c_str(), kSingle, nullptr, "two.cim", first.out()));
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle, nullptr, "three.cim", second.out()), kSharingViolation, "layers.bcim");
    ASSERT_OK(addFile(first, "big", std::string(100000, '2')));
    ASSERT_OK(CimCommitImage(first));
    EXPECT_HR(CimCreateImage2(b.c_str(), kSingle, nullptr, "three.cim", second.out()), kSharingViolation, "layers.bcim");
    first.reset();
    ASSERT_OK(CimCreateImage2(b.c_str(), kSingle, nullptr, "three.cim", second.out()));
    ASSERT_OK(addFile(second, "big", std::string(100000, '3')));
    ASSERT_OK(CimCommitImage(second));
    second.reset();
    EXPECT_EQ(readAll(openBlock(b, "one.cim"), "a"), "a");
    EXPECT_EQ(readAll(openBlock(b, "two.cim"), "big"), std::string(100000, '2'));
    EXPECT_EQ(readAll(openBlock(b, "three.cim"), "big"), std::string(100000, '3'));
}

class BlockDevice : public Block {
protected:
    // Attaches `n` loop devices, or skips the test saying why.
    bool attach(size_t n) {
        for (size_t i = 0; i < n; ++i) {
            devices_.push_back(std::make_unique<LoopDevice>());
            std::string why = devices_.back()->attach(dir_ / ("backing" + std::to_string(i)));
            if (!why.empty()) {
                skipReason_ = why;
                return false;
            }
        }
        return true;
    }
    const std::string& dev(size_t i) const { return devices_.at(i)->path(); }
    void TearDown() override { devices_.clear(); }

    std::vector<std::unique_ptr<LoopDevice>> devices_;
    std::string skipReason_;
};

TEST_F(BlockDevice, ReadWrite) {
    if (!attach(1)) GTEST_SKIP() << "no loop device: " << skipReason_;
    std::printf("[ info     ] block device %s\n", dev(0).c_str());
    ASSERT_TRUE(buildBlock(dev(0), kDevice, "layer.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addHcsshimEntries(h)); !r) return r;
        return ok(addFile(h, "foo\\large.bin", std::string(1 << 20, 'D')));
    }));
    auto r = openBlock(dev(0), "layer.cim", CIM_MOUNT_BLOCK_DEVICE_CIM);
    expectHcsshimEntries(r);
    EXPECT_EQ(readAll(r, "foo\\large.bin"), std::string(1 << 20, 'D'));
    // A second CIM on the same device.
    ASSERT_TRUE(buildBlock(dev(0), kDevice, "second.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "s", "second")); }));
    EXPECT_EQ(readAll(openBlock(dev(0), "second.cim", CIM_MOUNT_BLOCK_DEVICE_CIM), "s"), "second");
    expectHcsshimEntries(openBlock(dev(0), "layer.cim", CIM_MOUNT_BLOCK_DEVICE_CIM));
    ImageHandle h;
    EXPECT_HR(CimCreateImage2(dev(0).c_str(), kSingle, nullptr, "x.cim", h.out()), kInvalidArg, "regular file");
}

TEST_F(BlockDevice, MergeThree) {
    if (!attach(4)) GTEST_SKIP() << "no loop devices: " << skipReason_;
    buildThreeLayers(kDevice, dev(0), dev(1), dev(2));
    ASSERT_TRUE(merge(dev(3), kDevice, CIM_MERGE_BLOCK_DEVICE,
                      {sourcePath(dev(0), "layer1.cim"), sourcePath(dev(1), "layer2.cim"), sourcePath(dev(2), "layer3.cim")}));
    ReaderHandle r;
    ASSERT_OK(openMerged({{dev(3), "merged.cim"}, {dev(0), "layer1.cim"}, {dev(1), "layer2.cim"}, {dev(2), "layer3.cim"}}, r,
                         CIM_MOUNT_BLOCK_DEVICE_CIM));
    EXPECT_EQ(readAll(r, "foo.txt"), "foo1");
    EXPECT_EQ(readAll(r, "bar.txt"), "bar");
}

// ---- consistent CIMs ----

HRESULT writeReproducibleContent(CIMFS_IMAGE_HANDLE h) {
    static const uint8_t sd[20] = {1, 0, 4, 0x80};
    CIMFS_FILE_METADATA md = fileMetadata(200000, kAttrReadOnly);
    md.SecurityDescriptorBuffer = sd;
    md.SecurityDescriptorSize = sizeof sd;
    if (HRESULT hr = addHcsshimEntries(h); hr < 0) return hr;
    CIMFS_STREAM_HANDLE s = nullptr;
    if (HRESULT hr = CimCreateFile(h, "foo\\big.bin", &md, &s); hr < 0) return hr;
    std::string data(200000, '\0');
    SplitMix64 rng(7);
    for (auto& c : data) c = static_cast<char>(rng.next());
    for (size_t off = 0; off < data.size(); off += 65536) {
        uint32_t n = static_cast<uint32_t>(std::min<size_t>(65536, data.size() - off));
        if (HRESULT hr = CimWriteStream(s, data.data() + off, n); hr < 0) return hr;
    }
    if (HRESULT hr = CimCloseStream(s); hr < 0) return hr;
    if (HRESULT hr = CimCreateHardLink(h, "link.bin", "foo\\big.bin"); hr < 0) return hr;
    if (HRESULT hr = addStream(h, "foobar.txt:ads", "stream"); hr < 0) return hr;
    for (int i = 0; i < 50; ++i) {
        std::string n = "foo\\f" + std::to_string(i);
        if (HRESULT hr = addFile(h, n.c_str(), std::string(static_cast<size_t>(i) * 97, char('a' + i % 26))); hr < 0) return hr;
    }
    return kOk;
}

TEST_F(Block, ConsistentCimIsByteIdentical) {
    for (const char* name : {"a.bcim", "b.bcim"}) {
        ASSERT_TRUE(buildBlock(block(name), kSingle | kConsistent, "layer.cim",
                               [](CIMFS_IMAGE_HANDLE h) { return ok(writeReproducibleContent(h)); }));
    }
    std::string a = sha256File(block("a.bcim")), b = sha256File(block("b.bcim"));
    std::printf("[ info     ] consistent block CIM sha256 %s\n", a.c_str());
    EXPECT_EQ(a, b);
    EXPECT_EQ(readHostFile(block("a.bcim")), readHostFile(block("b.bcim")));
    auto r = openBlock(block("b.bcim"), "layer.cim");
    expectHcsshimEntries(r);
    EXPECT_EQ(readAll(r, "link.bin").size(), 200000u);
}

TEST_F(Block, ConsistentStandardCimIsByteIdentical) {
    TempDir d1, d2;
    for (TempDir* d : {&d1, &d2}) {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(d->c_str(), kConsistent, nullptr, "layer.cim", h.out()));
        ASSERT_OK(writeReproducibleContent(h));
        ASSERT_OK(CimCommitImage(h));
    }
    ASSERT_EQ(d1.list(), d2.list());
    for (const auto& n : d1.list()) EXPECT_EQ(sha256File(d1 / n), sha256File(d2 / n)) << n;
}

// ---- merging ----

TEST_F(Block, MergeThreeTopmostWins) {
    buildThreeLayers(kSingle, block("l1.bcim"), block("l2.bcim"), block("l3.bcim"));
    std::vector<std::string> sources = {sourcePath(block("l1.bcim"), "layer1.cim"), sourcePath(block("l2.bcim"), "layer2.cim"),
                                        sourcePath(block("l3.bcim"), "layer3.cim")};
    ASSERT_TRUE(merge(block("merged.bcim"), kSingle, CIM_MERGE_SINGLE_FILE, sources));
    std::vector<std::pair<std::string, std::string>> paths = {{block("merged.bcim"), "merged.cim"},
                                                              {block("l1.bcim"), "layer1.cim"},
                                                              {block("l2.bcim"), "layer2.cim"},
                                                              {block("l3.bcim"), "layer3.cim"}};
    ReaderHandle r;
    ASSERT_OK(openMerged(paths, r));
    EXPECT_EQ(readAll(r, "foo.txt"), "foo1");
    EXPECT_EQ(readAll(r, "bar.txt"), "bar");
    EXPECT_EQ(namesOf(listImageDir(r, "")), (std::vector<std::string>{"bar.txt", "foo.txt"}));

    // Sources in the wrong order, too few, or the merged CIM alone: errors, never a wrong view.
    ReaderHandle bad;
    EXPECT_FAILS(openMerged({paths[0], paths[3], paths[2], paths[1]}, bad), "CimOpenMergedImage");
    EXPECT_FAILS(openMerged({paths[0], paths[1], paths[2]}, bad), "CimOpenMergedImage");
    EXPECT_HR(openMerged({paths[0], paths[1]}, bad), kInvalidArg, "CimOpenMergedImage");
    EXPECT_HR(openMerged(paths, bad, 0), kInvalidArg, "CimOpenMergedImage");
    EXPECT_FAILS(CimOpenImage(block("merged.bcim").c_str(), "merged.cim", CIM_MOUNT_SINGLE_FILE_CIM, bad.out()), "sources");
    EXPECT_EQ(bad.get(), nullptr);

    // The flag-less CimAddFsToMergedImage takes the merged CIM's type; sources may share a block file.
    ASSERT_TRUE(buildBlock(block("all.bcim"), kSingle, "a.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "x", "upper")); }));
    ASSERT_TRUE(buildBlock(block("all.bcim"), kSingle, "b.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "x", "lower")); !r) return r;
        return ok(addFile(h, "y", "only lower"));
    }));
    ASSERT_TRUE(buildBlock(block("m2.bcim"), kSingle, "m.cim", [&](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimAddFsToMergedImage(h, sourcePath(block("all.bcim"), "a.cim").c_str())); !r) return r;
        return ok(CimAddFsToMergedImage(h, sourcePath(block("all.bcim"), "b.cim").c_str()));
    }));
    ASSERT_OK(openMerged({{block("m2.bcim"), "m.cim"}, {block("all.bcim"), "a.cim"}, {block("all.bcim"), "b.cim"}}, r));
    EXPECT_EQ(readAll(r, "x"), "upper");
    EXPECT_EQ(readAll(r, "y"), "only lower");
}

TEST_F(Block, MergeArgumentErrors) {
    buildThreeLayers(kSingle, block("l1.bcim"), block("l2.bcim"), block("l3.bcim"));
    std::string s1 = sourcePath(block("l1.bcim"), "layer1.cim"), s2 = sourcePath(block("l2.bcim"), "layer2.cim");
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("m.bcim").c_str(), kSingle, nullptr, "m.cim", h.out()));
        ASSERT_OK(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE));
        EXPECT_HR(CimCommitImage(h), kInvalidArg, "at least 2");
    }
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("m.bcim").c_str(), kSingle, nullptr, "m.cim", h.out()));
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_BLOCK_DEVICE), kInvalidArg, "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), 0), kInvalidArg, "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE | CIM_MERGE_BLOCK_DEVICE), kInvalidArg,
                  "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE | 0x8), kInvalidArg, "flags");
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE | CIM_MERGE_VERIFIED_CIM), kInvalidArg,
                  "verified");
        EXPECT_HR(CimAddFsToMergedImage2(h, "no-slash", CIM_MERGE_SINGLE_FILE), kInvalidArg, "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, nullptr, CIM_MERGE_SINGLE_FILE), kInvalidArg, "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, sourcePath(block("none.bcim"), "x.cim").c_str(), CIM_MERGE_SINGLE_FILE),
                  kFileNotFound, "none.bcim");
        ASSERT_OK(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE));
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE), kInvalidArg, "twice");
        ASSERT_OK(CimAddFsToMergedImage2(h, s2.c_str(), CIM_MERGE_SINGLE_FILE));
        ASSERT_OK(addFile(h, "own.txt", "a merged CIM holds nothing of its own"));
        EXPECT_HR(CimCommitImage(h), kInvalidArg, "empty");
    }
    {
        // A standard CIM cannot be a merged CIM.
        ImageHandle h;
        ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "std.cim", h.out()));
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE), kInvalidArg, "CimAddFsToMergedImage2");
        EXPECT_HR(CimAddFsToMergedImage2(h, s1.c_str(), 0), kInvalidArg, "CimAddFsToMergedImage2");
    }
    {
        // A source that is not there any more by commit time, and a missing CIM name.
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("m.bcim").c_str(), kSingle, nullptr, "m.cim", h.out()));
        ASSERT_OK(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE));
        ASSERT_OK(CimAddFsToMergedImage2(h, sourcePath(block("l2.bcim"), "nope.cim").c_str(), CIM_MERGE_SINGLE_FILE));
        EXPECT_HR(CimCommitImage(h), kFileNotFound, "nope.cim");
    }
    {
        // A merged CIM cannot be a source.
        ASSERT_TRUE(merge(block("m.bcim"), kSingle, CIM_MERGE_SINGLE_FILE, {s1, s2}));
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("m2.bcim").c_str(), kSingle, nullptr, "m2.cim", h.out()));
        ASSERT_OK(CimAddFsToMergedImage2(h, sourcePath(block("m.bcim"), "merged.cim").c_str(), CIM_MERGE_SINGLE_FILE));
        ASSERT_OK(CimAddFsToMergedImage2(h, s1.c_str(), CIM_MERGE_SINGLE_FILE));
        EXPECT_FAILS(CimCommitImage(h), "merged");
    }
    EXPECT_FALSE(fs::exists(block("m2.bcim")));
}

TEST_F(Block, TombstonesHideFilesAndDirectories) {
    ASSERT_TRUE(buildBlock(block("l1.bcim"), kSingle, "base.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addHcsshimEntries(h)); !r) return r;
        if (auto r = ok(addDir(h, "foo\\sub")); !r) return r;
        if (auto r = ok(addFile(h, "foo\\sub\\deep.txt", "deep")); !r) return r;
        return ok(addFile(h, "kept.txt", "kept"));
    }));
    ASSERT_TRUE(buildBlock(block("l2.bcim"), kSingle, "top.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimTombstoneFile(h, "foobar.txt"), "tombstone foobar.txt"); !r) return r;
        if (auto r = ok(CimTombstoneFile(h, "foo"), "tombstone foo"); !r) return r;
        return ok(CimTombstoneFile(h, "never-existed.txt"), "tombstone of a name no layer has");
    }));
    {
        // A tombstone needs its parent; read alone, tombstones are invisible.
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("l3.bcim").c_str(), kSingle, nullptr, "x.cim", h.out()));
        EXPECT_HR(CimTombstoneFile(h, "missing\\file"), kPathNotFound, "CimTombstoneFile");
        EXPECT_HR(CimTombstoneFile(h, ".."), kInvalidArg, "CimTombstoneFile");
    }
    auto top = openBlock(block("l2.bcim"), "top.cim");
    EXPECT_TRUE(listImageDir(top, "").empty());
    EXPECT_FALSE(exists(top, "foobar.txt"));

    ASSERT_TRUE(merge(block("m.bcim"), kSingle, CIM_MERGE_SINGLE_FILE,
                      {sourcePath(block("l2.bcim"), "top.cim"), sourcePath(block("l1.bcim"), "base.cim")}));
    ReaderHandle r;
    ASSERT_OK(openMerged({{block("m.bcim"), "merged.cim"}, {block("l2.bcim"), "top.cim"}, {block("l1.bcim"), "base.cim"}}, r));
    CIMFS_FILE_INFO i;
    EXPECT_HR(statPath(r, "foobar.txt", &i), kFileNotFound, "foobar.txt");
    EXPECT_HR(statPath(r, "foo", &i), kFileNotFound, "foo");
    EXPECT_HR(statPath(r, "foo\\sub\\deep.txt", &i), kPathNotFound, "deep.txt");
    EXPECT_EQ(namesOf(listImageDir(r, "")), std::vector<std::string>{"kept.txt"});
    EXPECT_EQ(readAll(r, "kept.txt"), "kept");
}

TEST_F(Block, OpaqueDirectoryHidesLowerChildren) {
    ASSERT_TRUE(buildBlock(block("l1.bcim"), kSingle, "base.cim", [](CIMFS_IMAGE_HANDLE h) {
        for (const char* d : {"opaque", "opaque2", "merged"}) {
            std::string a = std::string(d) + "\\lower-a.txt", b = std::string(d) + "\\lower-b.txt";
            if (auto r = ok(addDir(h, d)); !r) return r;
            if (auto r = ok(addFile(h, a.c_str(), "a")); !r) return r;
            if (auto r = ok(addFile(h, b.c_str(), "b")); !r) return r;
        }
        return ok(kOk);
    }));
    ASSERT_TRUE(buildBlock(block("l2.bcim"), kSingle, "top.cim", [](CIMFS_IMAGE_HANDLE h) {
        // Tombstone then recreate: opaque.
        if (auto r = ok(CimTombstoneFile(h, "opaque")); !r) return r;
        if (auto r = ok(addDir(h, "opaque")); !r) return r;
        if (auto r = ok(addFile(h, "opaque\\upper.txt", "upper")); !r) return r;
        // Create then tombstone: opaque as well.
        if (auto r = ok(addDir(h, "opaque2")); !r) return r;
        if (auto r = ok(addFile(h, "opaque2\\upper.txt", "upper2")); !r) return r;
        if (auto r = ok(CimTombstoneFile(h, "opaque2")); !r) return r;
        // A plain directory merges with the lower one.
        if (auto r = ok(addDir(h, "merged")); !r) return r;
        if (auto r = ok(addFile(h, "merged\\upper.txt", "upper3")); !r) return r;
        return ok(addFile(h, "merged\\lower-a.txt", "a, overridden"));
    }));
    ASSERT_TRUE(merge(block("m.bcim"), kSingle, CIM_MERGE_SINGLE_FILE,
                      {sourcePath(block("l2.bcim"), "top.cim"), sourcePath(block("l1.bcim"), "base.cim")}));
    ReaderHandle r;
    ASSERT_OK(openMerged({{block("m.bcim"), "merged.cim"}, {block("l2.bcim"), "top.cim"}, {block("l1.bcim"), "base.cim"}}, r));
    EXPECT_EQ(namesOf(listImageDir(r, "opaque")), std::vector<std::string>{"upper.txt"});
    EXPECT_EQ(readAll(r, "opaque\\upper.txt"), "upper");
    EXPECT_EQ(namesOf(listImageDir(r, "opaque2")), std::vector<std::string>{"upper.txt"});
    EXPECT_EQ(namesOf(listImageDir(r, "merged")), (std::vector<std::string>{"lower-a.txt", "lower-b.txt", "upper.txt"}));
    EXPECT_EQ(readAll(r, "merged\\lower-a.txt"), "a, overridden");
    EXPECT_EQ(readAll(r, "merged\\lower-b.txt"), "b");
    // Read alone, the upper layer shows its directories as ordinary ones.
    auto top = openBlock(block("l2.bcim"), "top.cim");
    EXPECT_EQ(namesOf(listImageDir(top, "opaque")), std::vector<std::string>{"upper.txt"});
}

TEST_F(Block, MergeLinkChain) {
    ASSERT_TRUE(buildBlock(block("l1.bcim"), kSingle, "base.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    ASSERT_TRUE(buildBlock(block("l2.bcim"), kSingle, "links.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimCreateMergeLink(h, "b_link.txt", "foobar.txt")); !r) return r;
        if (auto r = ok(CimCreateMergeLink(h, "a_link.txt", "b_link.txt")); !r) return r;
        if (auto r = ok(addDir(h, "foo")); !r) return r;
        return ok(CimCreateMergeLink(h, "foo\\bar-link.txt", "\\foo\\bar.txt"));
    }));
    auto alone = openBlock(block("l2.bcim"), "links.cim");
    EXPECT_EQ(namesOf(listImageDir(alone, "")), std::vector<std::string>{"foo"});

    ASSERT_TRUE(merge(block("m.bcim"), kSingle, CIM_MERGE_SINGLE_FILE,
                      {sourcePath(block("l2.bcim"), "links.cim"), sourcePath(block("l1.bcim"), "base.cim")}));
    ReaderHandle r;
    ASSERT_OK(openMerged({{block("m.bcim"), "merged.cim"}, {block("l2.bcim"), "links.cim"}, {block("l1.bcim"), "base.cim"}}, r));
    EXPECT_EQ(readAll(r, "a_link.txt"), kFoobarData);
    EXPECT_EQ(readAll(r, "b_link.txt"), kFoobarData);
    EXPECT_EQ(readAll(r, "foo\\bar-link.txt"), kBarData);
    CIMFS_FILE_INFO target, a;
    ASSERT_OK(statPath(r, "foobar.txt", &target));
    ASSERT_OK(statPath(r, "a_link.txt", &a));
    EXPECT_EQ(a.FileId, target.FileId);
    EXPECT_EQ(target.LinkCount, 3u);
}

TEST_F(Block, UnresolvableMergeLinkFailsTheMerge) {
    ASSERT_TRUE(buildBlock(block("l1.bcim"), kSingle, "base.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addHcsshimEntries(h)); }));
    ASSERT_TRUE(buildBlock(block("l2.bcim"), kSingle, "links.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(CimCreateMergeLink(h, "good_link.txt", "foobar.txt")); !r) return r;
        return ok(CimCreateMergeLink(h, "dangling_link.txt", "nothere.txt"));
    }));
    ImageHandle h;
    ASSERT_OK(CimCreateImage2(block("m.bcim").c_str(), kSingle, nullptr, "merged.cim", h.out()));
    ASSERT_OK(CimAddFsToMergedImage2(h, sourcePath(block("l2.bcim"), "links.cim").c_str(), CIM_MERGE_SINGLE_FILE));
    ASSERT_OK(CimAddFsToMergedImage2(h, sourcePath(block("l1.bcim"), "base.cim").c_str(), CIM_MERGE_SINGLE_FILE));
    HRESULT hr = CimCommitImage(h);
    std::string msg = CimGetLastErrorMessage();
    EXPECT_LT(hr, 0);
    EXPECT_NE(msg.find("dangling_link.txt"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nothere.txt"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("good_link"), std::string::npos) << msg;
    h.reset();
    EXPECT_FALSE(fs::exists(block("m.bcim")));
}

// ---- sealing and verification ----

using Hash = std::array<uint8_t, 32>;

HRESULT seal(const std::string& path, Hash& hash) {
    uint64_t hashSize = 0, headerSize = 0;
    HRESULT hr = CimSealImage(path.c_str(), &hashSize, &headerSize, hash.data());
    if (hr >= 0 && (hashSize != 32 || headerSize != 4096)) return static_cast<HRESULT>(0x80004005u);
    return hr;
}

TEST_F(Block, SealAndVerify) {
    std::string b = block("layer.bcim");
    ASSERT_TRUE(buildBlock(b, kSingle | kVerified, "layer.cim", [](CIMFS_IMAGE_HANDLE h) {
        if (auto r = ok(addFile(h, "foo.txt", "foo")); !r) return r;
        return ok(addFile(h, "bar.txt", "bar"));
    }));
    uint32_t sealed = 7;
    uint64_t hashSize = 0, sigSize = 9, headerSize = 0;
    Hash info{};
    EXPECT_OK(CimGetVerificationInformation(b.c_str(), &sealed, &hashSize, &sigSize, &headerSize, info.data(), nullptr));
    EXPECT_EQ(sealed, 0u);

    Hash hash{};
    ASSERT_OK(seal(b, hash));
    std::printf("[ info     ] root hash %s\n", toHex(hash.data(), hash.size()).c_str());
    EXPECT_NE(hash, Hash{});
    ASSERT_OK(CimGetVerificationInformation(b.c_str(), &sealed, &hashSize, &sigSize, &headerSize, info.data(), nullptr));
    EXPECT_EQ(sealed, 1u);
    EXPECT_EQ(hashSize, 32u);
    EXPECT_EQ(sigSize, 0u);
    EXPECT_EQ(headerSize, 4096u);
    EXPECT_EQ(info, hash);
    Hash again{};
    ASSERT_OK(seal(b, again));  // sealing twice returns the same hash
    EXPECT_EQ(again, hash);

    ReaderHandle r;
    ASSERT_OK(CimOpenVerifiedImage(b.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash.data(), r.out()));
    EXPECT_EQ(readAll(r, "foo.txt"), "foo");
    EXPECT_EQ(readAll(r, "bar.txt"), "bar");
    Hash wrong = hash;
    wrong[0] = static_cast<uint8_t>(wrong[0] + 1);
    ReaderHandle w;
    EXPECT_HR(CimOpenVerifiedImage(b.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, wrong.data(), w.out()), kIntegrity,
              "integrity violation");
    EXPECT_EQ(w.get(), nullptr);
    EXPECT_HR(CimOpenVerifiedImage(b.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 16, hash.data(), w.out()), kInvalidArg,
              "hash");
    // A sealed block file is frozen; unsealed or unverified files cannot be verified.
    ImageHandle h;
    EXPECT_FAILS(CimCreateImage2(b.c_str(), kSingle | kVerified, nullptr, "more.cim", h.out()), "sealed");
    ASSERT_TRUE(buildBlock(block("plain.bcim"), kSingle, "p.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "x", "x")); }));
    EXPECT_HR(seal(block("plain.bcim"), again), kInvalidArg, "CimSealImage");
    EXPECT_HR(seal(block("missing.bcim"), again), kFileNotFound, "missing.bcim");
    EXPECT_HR(CimOpenVerifiedImage(block("plain.bcim").c_str(), "p.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash.data(), w.out()),
              kIntegrity, "integrity violation");
    // Reading a sealed CIM without a hash works, unverified.
    auto plain = openBlock(b, "layer.cim");
    EXPECT_EQ(readAll(plain, "foo.txt"), "foo");
}

// Flips one byte of `content` where it is stored in block file `path`.
::testing::AssertionResult tamper(const std::string& path, const std::string& content) {
    auto bytes = readHostFile(path);
    auto at = std::search(bytes.begin(), bytes.end(), content.begin(), content.begin() + 64,
                          [](uint8_t x, char y) { return x == static_cast<uint8_t>(y); });
    if (at == bytes.end()) return ::testing::AssertionFailure() << "file data not found in " << path;
    at[static_cast<long>(content.size() / 2)] ^= 0x01;
    writeHostFile(path, bytes);
    return ::testing::AssertionSuccess();
}

class Tampered : public Block {
protected:
    void SetUp() override {
        SplitMix64 rng(99);
        for (auto& c : big_) c = static_cast<char>(rng.next());
        for (auto& c : small_) c = static_cast<char>(rng.next());
        ASSERT_TRUE(buildBlock(path_, kSingle | kVerified, "layer.cim", [&](CIMFS_IMAGE_HANDLE h) {
            if (auto r = ok(addFile(h, "big.bin", big_)); !r) return r;
            if (auto r = ok(addFile(h, "small.bin", small_)); !r) return r;
            return ok(addFile(h, "other.txt", std::string(9000, 'o')));
        }));
        ASSERT_OK(seal(path_, hash_));
    }
    std::string path_ = block("layer.bcim");
    std::string big_ = std::string(20000, '\0'), small_ = std::string(200, '\0');
    Hash hash_{};
};

TEST_F(Tampered, DataBlockFailsOnlyItsFile) {
    ASSERT_TRUE(tamper(path_, big_));
    ReaderHandle r;
    ASSERT_OK(CimOpenVerifiedImage(path_.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash_.data(), r.out()));
    HRESULT rh = kOk;
    readAll(r, "big.bin", &rh);
    EXPECT_TRUE(expectHr(rh, kIntegrity, "integrity violation"));
    char buf[16];
    uint32_t n = 0;
    EXPECT_OK(CimReadFile(r, "big.bin", 0, buf, sizeof buf, &n));  // its untouched first block still reads
    EXPECT_EQ(std::string(buf, n), big_.substr(0, 16));
    EXPECT_EQ(readAll(r, "small.bin"), small_);
    EXPECT_EQ(readAll(r, "other.txt"), std::string(9000, 'o'));
    // Unverified, the tampered bytes are simply returned.
    auto plain = openBlock(path_, "layer.cim");
    std::string got = readAll(plain, "big.bin");
    EXPECT_EQ(got.size(), big_.size());
    EXPECT_NE(got, big_);
}

TEST_F(Tampered, SmallDataBlock) {
    // Small files share blocks with other objects (here the start of their region), so the
    // failure may come at open time; either way it is an integrity violation, never bad data.
    ASSERT_TRUE(tamper(path_, small_));
    ReaderHandle r;
    HRESULT hr = CimOpenVerifiedImage(path_.c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, hash_.data(), r.out());
    if (hr == kOk) {
        readAll(r, "small.bin", &hr);
        EXPECT_EQ(readAll(r, "big.bin"), big_);
    }
    EXPECT_TRUE(expectHr(hr, kIntegrity, "integrity violation"));
}

TEST_F(Block, MergedVerifiedCims) {
    buildThreeLayers(kSingle | kVerified, block("l1.bcim"), block("l2.bcim"), block("l3.bcim"));
    std::vector<std::string> sources = {sourcePath(block("l1.bcim"), "layer1.cim"), sourcePath(block("l2.bcim"), "layer2.cim"),
                                        sourcePath(block("l3.bcim"), "layer3.cim")};
    const uint32_t verifiedMerge = CIM_MERGE_SINGLE_FILE | CIM_MERGE_VERIFIED_CIM;
    // Unsealed sources cannot be merged verified.
    auto early = merge(block("early.bcim"), kSingle | kVerified, verifiedMerge, sources);
    EXPECT_FALSE(early);
    EXPECT_NE(std::string(early.message()).find("seal"), std::string::npos) << early.message();
    EXPECT_FALSE(fs::exists(block("early.bcim")));
    for (const char* f : {"l1.bcim", "l2.bcim", "l3.bcim"}) {
        Hash h{};
        ASSERT_OK(seal(block(f), h));
    }
    {
        ImageHandle h;
        ASSERT_OK(CimCreateImage2(block("bad.bcim").c_str(), kSingle | kVerified, nullptr, "m.cim", h.out()));
        EXPECT_HR(CimAddFsToMergedImage2(h, sources[0].c_str(), CIM_MERGE_SINGLE_FILE), kInvalidArg, "verified");
    }
    ASSERT_TRUE(merge(block("m.bcim"), kSingle | kVerified, verifiedMerge, sources));
    Hash mergedHash{};
    ASSERT_OK(seal(block("m.bcim"), mergedHash));
    std::vector<std::pair<std::string, std::string>> names = {{block("m.bcim"), "merged.cim"},
                                                              {block("l1.bcim"), "layer1.cim"},
                                                              {block("l2.bcim"), "layer2.cim"},
                                                              {block("l3.bcim"), "layer3.cim"}};
    std::vector<CIMFS_IMAGE_PATH> paths;
    for (const auto& [d, n] : names) paths.push_back({d.c_str(), n.c_str()});
    ReaderHandle r;
    ASSERT_OK(CimOpenMergedVerifiedImage(4, paths.data(), CIM_MOUNT_SINGLE_FILE_CIM, 32, mergedHash.data(), r.out()));
    EXPECT_EQ(readAll(r, "foo.txt"), "foo1");
    EXPECT_EQ(readAll(r, "bar.txt"), "bar");
    Hash wrong = mergedHash;
    wrong[0] = static_cast<uint8_t>(wrong[0] + 1);
    ReaderHandle w;
    EXPECT_HR(CimOpenMergedVerifiedImage(4, paths.data(), CIM_MOUNT_SINGLE_FILE_CIM, 32, wrong.data(), w.out()), kIntegrity,
              "integrity violation");
    // The unverified merged open works on the same files.
    ASSERT_OK(openMerged(names, w));
    EXPECT_EQ(readAll(w, "foo.txt"), "foo1");
}

}  // namespace
