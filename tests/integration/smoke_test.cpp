#include <gtest/gtest.h>
#include <opencim/cimfs.h>

TEST(Smoke, NullHandleIsInvalid) {
    EXPECT_EQ(CimCommitImage(nullptr), (HRESULT)0x80070006);
    EXPECT_NE(std::string(CimGetLastErrorMessage()), "");
}
