// Mount point helpers (src/fuse/mount_point): paths, mountinfo lookups, directory creation.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "fuse/mount_point.h"
#include "io/file.h"

using namespace cim;
using namespace cim::fuse;

TEST(MountPoint, RootAndVolumePathFollowTheEnvironment) {
    ::unsetenv("OPENCIM_MOUNT_ROOT");
    EXPECT_EQ(mountRoot(), "/run/opencim/volumes");
    ::setenv("OPENCIM_MOUNT_ROOT", "/tmp/x", 1);
    auto g = format::Guid::parse("{0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9}");
    ASSERT_TRUE(g);
    EXPECT_EQ(volumePath(*g), "/tmp/x/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9");
    ::unsetenv("OPENCIM_MOUNT_ROOT");
}

TEST(MountPoint, FindsMountsFromMountinfo) {
    auto proc = findMount("/proc");
    ASSERT_TRUE(proc);
    EXPECT_EQ(proc->fsType, "proc");
    EXPECT_FALSE(isOpencimMount(*proc));
    EXPECT_FALSE(findMount("/proc/self"));  // inside a mount, not a mount point
    EXPECT_FALSE(findMount("/no/such/path"));
}

TEST(MountPoint, MakesDirectoriesAndCanonicalisesParents) {
    char t[] = "/tmp/opencim-mp-XXXXXX";
    std::string base = mkdtemp(t);
    makeDirectories(base + "/a/b/c");
    EXPECT_TRUE(io::isDirectory(base + "/a/b/c"));
    makeDirectories(base + "/a/b/c");  // existing: fine
    std::filesystem::create_directory_symlink(base + "/a", base + "/link");
    EXPECT_EQ(canonicalMountPath(base + "/link/b/vol"), base + "/a/b/vol");
    EXPECT_EQ(canonicalMountPath(base + "/link/b/missing-leaf"), base + "/a/b/missing-leaf");
    { std::ofstream(base + "/file") << "x"; }
    EXPECT_THROW(makeDirectories(base + "/file/sub"), Error);
    std::filesystem::remove_all(base);
}
