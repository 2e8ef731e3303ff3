// fuse::fileTimeToTimespec over the whole int64 range: stored times come from hostile images,
// so INT64_MIN/MAX must convert without overflow (found by fuzz_posix) and stay normalised.
#include <gtest/gtest.h>

#include <climits>

#include "fuse/posix_view.h"

TEST(PosixTime, ExtremesDoNotOverflow) {
    for (int64_t t : {INT64_MIN, INT64_MIN + 1, int64_t(-1), int64_t(0), int64_t(116444736000000000), INT64_MAX}) {
        struct timespec ts = cim::fuse::fileTimeToTimespec(t);
        EXPECT_GE(ts.tv_nsec, 0) << t;
        EXPECT_LT(ts.tv_nsec, 1000000000) << t;
    }
    EXPECT_EQ(cim::fuse::fileTimeToTimespec(116444736000000000).tv_sec, 0);
    EXPECT_EQ(cim::fuse::fileTimeToTimespec(116444736000000000 - 1).tv_sec, -1);
    EXPECT_EQ(cim::fuse::fileTimeToTimespec(116444736000000000 - 1).tv_nsec, 999999900);
    EXPECT_EQ(cim::fuse::fileTimeToTimespec(0).tv_sec, -11644473600);
    EXPECT_EQ(cim::fuse::fileTimeToTimespec(INT64_MIN).tv_sec, INT64_MIN / 10000000 - 1 - 11644473600);
}
