// io::tempNameFor / io::reclaimStaleTemps: temporary files of dead writers are removed at the next
// create in the directory; those of live processes, recent ones and unrelated files are kept.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/file.h"

namespace {

namespace fs = std::filesystem;

struct Dir {
    std::string path;
    Dir() {
        char t[] = "/tmp/opencim-reclaim-XXXXXX";
        path = ::mkdtemp(t);
    }
    ~Dir() { fs::remove_all(path); }
    std::string touch(const std::string& name, int ageSeconds) const {
        std::string p = path + "/" + name;
        std::ofstream(p) << "x";
        struct timespec t[2];
        ::clock_gettime(CLOCK_REALTIME, &t[0]);
        t[0].tv_sec -= ageSeconds;
        t[1] = t[0];
        ::utimensat(AT_FDCWD, p.c_str(), t, 0);
        return p;
    }
};

pid_t deadPid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int st;
    ::waitpid(pid, &st, 0);
    return pid;
}

}  // namespace

TEST(TempReclaim, NamesCarryThePid) {
    std::string n = cim::io::tempNameFor("/x/layer.bcim");
    std::string want = "/x/.layer.bcim.tmp-" + std::to_string(::getpid()) + "-";
    EXPECT_EQ(n.substr(0, want.size()), want);
    EXPECT_EQ(n.size(), want.size() + 8);
}

TEST(TempReclaim, OnlyStaleFilesOfDeadWritersAreRemoved) {
    Dir d;
    std::string dead = std::to_string(deadPid()), self = std::to_string(::getpid());
    auto old = cim::io::kStaleTempSeconds + 60;
    std::string gone1 = d.touch(".a.cim.tmp-" + dead + "-0123abcd.region0", old);
    std::string gone2 = d.touch(".layer.bcim.tmp-" + dead + "-0123abcd", old);
    std::string gone3 = d.touch(".legacy.cim.tmp-0123abcd.fs", 2 * 24 * 3600);  // pid-less, two days old
    std::string live = d.touch(".b.cim.tmp-" + self + "-0123abcd.region1", old);
    std::string young = d.touch(".c.cim.tmp-" + dead + "-0123abcd", 1);
    std::string legacyYoung = d.touch(".legacy2.cim.tmp-0123abcd.fs", 3600);
    std::string unrelated = d.touch("layer.tmp-" + dead + "-0123abcd", old);  // no leading dot
    std::string image = d.touch("image.cim", old);
    fs::create_directory(d.path + "/.dir.tmp-" + dead + "-0123abcd");  // directories are never touched
    EXPECT_EQ(cim::io::reclaimStaleTemps(d.path), 3u);
    for (const auto& p : {gone1, gone2, gone3}) EXPECT_FALSE(fs::exists(p)) << p;
    for (const auto& p : {live, young, legacyYoung, unrelated, image}) EXPECT_TRUE(fs::exists(p)) << p;
    EXPECT_TRUE(fs::exists(d.path + "/.dir.tmp-" + dead + "-0123abcd"));
    EXPECT_EQ(cim::io::reclaimStaleTemps(d.path + "/missing"), 0u);
}
