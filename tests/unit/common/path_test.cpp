#include <gtest/gtest.h>

#include "common/error.h"
#include "common/path.h"
#include "common/upcase.h"
#include "common/utf.h"

using namespace cim;

TEST(Utf, RoundTripsBmpAndSupplementary) {
    std::string s = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
    auto u = utf8ToUtf16(s);
    ASSERT_EQ(u.size(), 5u);
    EXPECT_EQ(u[3], 0xD83D);
    EXPECT_EQ(utf16ToUtf8(u), s);
}

TEST(Utf, RejectsInvalidUtf8) {
    for (std::string bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF5\x80\x80\x80", "a\xFF"}) {
        try {
            utf8ToUtf16(bad);
            FAIL() << "accepted invalid UTF-8";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), hr::invalidArg);
        }
    }
}

TEST(Utf, SurrogateEscapeIsReversible) {
    std::string raw = "caf\xE9-\xFF\xFE.txt";  // Latin-1 bytes, not UTF-8
    auto u = utf8ToUtf16(raw, true);
    EXPECT_EQ(utf16ToUtf8(u), raw);
}

TEST(Path, SplitsOnBothSeparators) {
    auto p = parseImagePath("\\a/b\\\\c/");
    ASSERT_EQ(p.components.size(), 3u);
    EXPECT_EQ(p.components[2], u"c");
    EXPECT_TRUE(parseImagePath("").components.empty());
    EXPECT_TRUE(parseImagePath("\\").components.empty());
}

TEST(Path, RejectsDotsControlAndLongNames) {
    for (std::string bad : std::vector<std::string>{"a/../b", "./a", "a\x01", std::string(256, 'x')}) {
        try {
            parseImagePath(bad);
            FAIL() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), hr::invalidArg);
        }
    }
    EXPECT_NO_THROW(parseImagePath(std::string(255, 'x')));
    EXPECT_THROW(parseImagePath(std::string(40000, 'x') ), Error);
}

TEST(Path, StreamsAndDataSuffix) {
    auto p = parseImagePath("dir\\f.txt:zone:$DATA", StreamSyntax::required);
    EXPECT_TRUE(p.hasStream);
    EXPECT_EQ(p.stream, u"zone");
    EXPECT_EQ(p.components.back(), u"f.txt");
    auto q = parseImagePath("f:s", StreamSyntax::optional);
    EXPECT_EQ(q.stream, u"s");
    EXPECT_THROW(parseImagePath("f", StreamSyntax::required), Error);
    EXPECT_THROW(parseImagePath("f:s:$INDEX_ALLOCATION", StreamSyntax::required), Error);
    EXPECT_EQ(parseImagePath("a:b").components.back(), u"a:b");  // ':' is plain without stream syntax
}

TEST(Upcase, DefaultTableFoldsCase) {
    const auto& t = defaultUpcaseTable();
    EXPECT_EQ(t[u'a'], u'A');
    EXPECT_EQ(t[0xE9], 0xC9);      // é -> É
    EXPECT_EQ(t[0x3C9], 0x3A9);    // ω -> Ω
    EXPECT_EQ(t[u'1'], u'1');
    EXPECT_EQ(compareNames(t, u"Makefile", u"makefile"), std::strong_ordering::equal);
    EXPECT_NE(compareNames(identityUpcaseTable(), u"Makefile", u"makefile"), std::strong_ordering::equal);
    EXPECT_EQ(compareNames(t, u"ab", u"abc"), std::strong_ordering::less);
    EXPECT_EQ(compareNames(t, u"b", u"A"), std::strong_ordering::greater);
}
