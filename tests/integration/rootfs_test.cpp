// Container rootfs lifecycle through the C ABI: layers -> merged CIM (cached) -> FUSE mount ->
// cleanup, including a mounting process killed with SIGKILL.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "test_util.h"

using namespace itest;

namespace {

bool haveFuse() { return access("/dev/fuse", R_OK | W_OK) == 0 && geteuid() == 0; }

// A single-file block CIM `layer.cim` in <dir>/<name>.bcim with the given files, optionally sealed.
std::string makeLayer(const TempDir& d, const std::string& name, const std::vector<std::pair<std::string, std::string>>& files,
                      bool verified, std::string* rootHex = nullptr) {
    std::string path = d / (name + ".bcim");
    ImageHandle img;
    uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | (verified ? CIM_CREATE_IMAGE_VERIFIED_CIM : 0);
    EXPECT_TRUE(ok(CimCreateImage2(path.c_str(), flags, nullptr, "layer.cim", img.out())));
    for (const auto& [p, data] : files) EXPECT_TRUE(ok(addFile(img, p.c_str(), data)));
    EXPECT_TRUE(ok(CimCommitImage(img)));
    img.reset();
    if (verified) {
        uint8_t h[32];
        uint64_t hs = 0, fh = 0;
        EXPECT_TRUE(ok(CimSealImage(path.c_str(), &hs, &fh, h)));
        if (rootHex) {
            rootHex->clear();
            for (auto b : h) { char x[3]; std::snprintf(x, sizeof x, "%02x", b); rootHex->append(x); }
        }
    }
    return path;
}

std::string describe(const std::vector<std::string>& layers, const std::string& cache, const std::vector<std::string>& hashes = {}) {
    std::string j = "{\"layers\": [";
    for (size_t i = 0; i < layers.size(); ++i) {
        if (i) j += ", ";
        j += "{\"blockPath\": \"" + layers[i] + "\", \"cimName\": \"layer.cim\"";
        if (i < hashes.size()) j += ", \"rootHash\": \"" + hashes[i] + "\"";
        j += "}";
    }
    return j + "], \"mergedCacheDir\": \"" + cache + "\"}";
}

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

struct RootfsEnv : ::testing::Test {
    TempDir dir;
    void SetUp() override {
        if (!haveFuse()) GTEST_SKIP() << "no /dev/fuse or not root: FUSE mounts cannot be tested here";
        setenv("OPENCIM_MOUNT_ROOT", (dir / "volumes").c_str(), 1);
        setenv("OPENCIM_STATE_DIR", (dir / "state").c_str(), 1);
    }
};

}  // namespace

TEST_F(RootfsEnv, VolumeIdIsDeterministicV5) {
    CIMFS_GUID a, b, c;
    ASSERT_TRUE(ok(CimGetContainerVolumeId("container-1", &a)));
    ASSERT_TRUE(ok(CimGetContainerVolumeId("container-1", &b)));
    ASSERT_TRUE(ok(CimGetContainerVolumeId("container-2", &c)));
    EXPECT_EQ(std::memcmp(&a, &b, 16), 0);
    EXPECT_NE(std::memcmp(&a, &c, 16), 0);
    EXPECT_EQ(a.Data3 >> 12, 5);  // version 5
    EXPECT_TRUE(expectHr(CimGetContainerVolumeId("", &a), kInvalidArg));
}

TEST_F(RootfsEnv, ConcurrentContainersShareOneMergedCim) {
    auto base = makeLayer(dir, "base", {{"a.txt", "base-a"}, {"b.txt", "base-b"}}, false);
    auto mid = makeLayer(dir, "mid", {{"b.txt", "mid-b"}}, false);
    auto top = makeLayer(dir, "top", {{"c.txt", "top-c"}}, false);
    auto top2 = makeLayer(dir, "top2", {{"c.txt", "top2-c"}}, false);
    std::string cache = dir / "cache";
    std::string desc = describe({top, mid, base}, cache);
    HRESULT r1 = -1, r2 = -1;
    std::string m1(512, '\0'), m2(512, '\0');
    uint32_t s1 = 512, s2 = 512;
    std::thread t1([&] { r1 = CimMountContainerRootfs("c1", desc.c_str(), m1.data(), &s1); });
    std::thread t2([&] { r2 = CimMountContainerRootfs("c2", desc.c_str(), m2.data(), &s2); });
    t1.join();
    t2.join();
    ASSERT_TRUE(ok(r1, "mount c1"));
    ASSERT_TRUE(ok(r2, "mount c2"));
    m1.resize(s1 - 1);
    m2.resize(s2 - 1);
    EXPECT_EQ(slurp(m1 + "/a.txt"), "base-a");
    EXPECT_EQ(slurp(m1 + "/b.txt"), "mid-b");
    EXPECT_EQ(slurp(m2 + "/c.txt"), "top-c");
    EXPECT_EQ(slurp(m2 + "/b.txt"), "mid-b");
    auto merged = TempDir::listDir(cache);
    size_t bcims = std::count_if(merged.begin(), merged.end(), [](auto& n) { return n.ends_with(".bcim"); });
    EXPECT_EQ(bcims, 1u);
    // A different top layer gets its own merged CIM.
    std::string m3(512, '\0');
    uint32_t s3 = 512;
    ASSERT_TRUE(ok(CimMountContainerRootfs("c3", describe({top2, mid, base}, cache).c_str(), m3.data(), &s3)));
    m3.resize(s3 - 1);
    EXPECT_EQ(slurp(m3 + "/c.txt"), "top2-c");
    merged = TempDir::listDir(cache);
    bcims = std::count_if(merged.begin(), merged.end(), [](auto& n) { return n.ends_with(".bcim"); });
    EXPECT_EQ(bcims, 2u);
    // Mounting the same container twice is refused.
    EXPECT_TRUE(expectHr(CimMountContainerRootfs("c1", desc.c_str(), nullptr, nullptr), kAlreadyExists));
    // GC keeps what is in use, removes what is not.
    uint32_t removed = 99;
    ASSERT_TRUE(ok(CimGarbageCollectMergedCims(cache.c_str(), &removed)));
    EXPECT_EQ(removed, 0u);
    ASSERT_TRUE(ok(CimCleanupContainerRootfs("c3")));
    ASSERT_TRUE(ok(CimGarbageCollectMergedCims(cache.c_str(), &removed)));
    EXPECT_EQ(removed, 1u);
    for (auto id : {"c1", "c2", "c3", "c1"}) EXPECT_TRUE(ok(CimCleanupContainerRootfs(id)));
    EXPECT_FALSE(fs::exists(m1));
    EXPECT_TRUE(ok(CimCleanupContainerRootfs("never-mounted")));
}

TEST_F(RootfsEnv, SingleAndVerifiedLayers) {
    std::string h1, h2;
    auto l1 = makeLayer(dir, "v1", {{"x", "1"}}, true, &h1);
    auto l2 = makeLayer(dir, "v2", {{"y", "2"}}, true, &h2);
    std::string cache = dir / "cache";
    std::string mp(512, '\0');
    uint32_t sz = 512;
    ASSERT_TRUE(ok(CimMountContainerRootfs("single", describe({l1}, cache, {h1}).c_str(), mp.data(), &sz)));
    mp.resize(sz - 1);
    EXPECT_EQ(slurp(mp + "/x"), "1");
    ASSERT_TRUE(ok(CimMountContainerRootfs("verified", describe({l2, l1}, cache, {h2, h1}).c_str(), nullptr, nullptr)));
    std::string wrong = h1;
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    EXPECT_TRUE(expectHr(CimMountContainerRootfs("wrong", describe({l2, l1}, cache, {h2, wrong}).c_str(), nullptr, nullptr),
                         kIntegrity, "integrity violation"));
    CIMFS_GUID g;
    ASSERT_TRUE(ok(CimGetContainerVolumeId("wrong", &g)));
    char path[512];
    uint32_t psz = sizeof path;
    ASSERT_TRUE(ok(CimGetVolumeMountPath(&g, path, &psz)));
    EXPECT_FALSE(fs::exists(path)) << "a failed mount left its directory behind";
    for (auto id : {"single", "verified", "wrong"}) EXPECT_TRUE(ok(CimCleanupContainerRootfs(id)));
}

TEST_F(RootfsEnv, MalformedDescriptionsMountNothing) {
    auto l1 = makeLayer(dir, "l1", {{"x", "1"}}, false);
    std::string h;
    auto lv = makeLayer(dir, "lv", {{"y", "2"}}, true, &h);
    std::string cache = dir / "cache";
    const std::vector<std::pair<std::string, HRESULT>> cases = {
        {"not json", kInvalidArg},
        {"[]", kInvalidArg},
        {"{}", kInvalidArg},
        {"{\"layers\": []}", kInvalidArg},
        {"{\"layers\": [{\"cimName\": \"layer.cim\"}]}", kInvalidArg},
        {"{\"layers\": [{\"blockPath\": 5, \"cimName\": \"layer.cim\"}]}", kInvalidArg},
        {"{\"layers\": [{\"blockPath\": \"" + l1 + "\", \"cimName\": \"layer.cim\", \"rootHash\": \"zz\"}]}", kInvalidArg},
        {describe({l1, l1}, cache), kInvalidArg},                                    // a layer twice
        {describe({lv, l1}, cache, {h}), kInvalidArg},                               // mixed verified/unverified
        {describe({dir / "missing.bcim", l1}, cache), kFileNotFound},                // missing layer
        {"{\"layers\": [{\"blockPath\": \"" + l1 + "\", \"cimName\": \"nope.cim\"}]}", kFileNotFound},
        {"{\"layers\": [{\"blockPath\": \"" + l1 + "\", \"cimName\": \"layer.cim\"}], \"extra\": 1}", kInvalidArg},
    };
    for (const auto& [json, code] : cases) {
        HRESULT hr = CimMountContainerRootfs("bad", json.c_str(), nullptr, nullptr);
        EXPECT_TRUE(expectHr(hr, code)) << json;
    }
    EXPECT_TRUE(expectHr(CimMountContainerRootfs("bad/id", describe({l1}, cache).c_str(), nullptr, nullptr), kInvalidArg));
    EXPECT_FALSE(fs::exists(dir / "volumes") && !TempDir::listDir(dir / "volumes").empty());
    EXPECT_TRUE(!fs::exists(cache) || TempDir::listDir(cache).empty());
}

TEST_F(RootfsEnv, CleanupAfterTheMountingProcessWasKilled) {
    auto l1 = makeLayer(dir, "l1", {{"x", "one"}}, false);
    auto l2 = makeLayer(dir, "l2", {{"y", "two"}}, false);
    std::string desc = describe({l2, l1}, dir / "cache");
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        HRESULT hr = CimMountContainerRootfs("victim", desc.c_str(), nullptr, nullptr);
        char c = hr >= 0 ? 'y' : 'n';
        (void)!write(ready[1], &c, 1);
        for (;;) pause();
    }
    close(ready[1]);
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    ASSERT_EQ(c, 'y') << "child could not mount";
    CIMFS_GUID g;
    ASSERT_TRUE(ok(CimGetContainerVolumeId("victim", &g)));
    char path[512];
    uint32_t psz = sizeof path;
    ASSERT_TRUE(ok(CimGetVolumeMountPath(&g, path, &psz)));
    EXPECT_EQ(slurp(std::string(path) + "/y"), "two");
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ASSERT_TRUE(ok(CimCleanupContainerRootfs("victim"), "cleanup of a dead mount"));
    EXPECT_FALSE(fs::exists(path));
    ASSERT_TRUE(ok(CimMountContainerRootfs("victim", desc.c_str(), nullptr, nullptr), "remount"));
    EXPECT_EQ(slurp(std::string(path) + "/x"), "one");
    EXPECT_TRUE(ok(CimCleanupContainerRootfs("victim")));
}
