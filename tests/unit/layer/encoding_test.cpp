// PAX records and values, path mapping, xattr EA names and reparse buffers.
#include <gtest/gtest.h>

#include "common/error.h"
#include "layer/layer_error.h"
#include "layer/layer_path.h"
#include "layer/linux_ea.h"
#include "layer/pax.h"
#include "layer/reparse.h"

using namespace cim;
using namespace cim::layer;

TEST(Pax, RecordsRoundTrip) {
    std::string body = formatPaxRecord("path", "a/b") + formatPaxRecord("SCHILY.xattr.user.x", std::string("\0\n=", 3)) +
                       formatPaxRecord(std::string(95, 'k'), "v");  // length crosses 99 -> 100
    auto recs = parsePaxRecords(body, "t");
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[0], (std::pair<std::string, std::string>{"path", "a/b"}));
    EXPECT_EQ(recs[1].second, std::string("\0\n=", 3));
    EXPECT_EQ(recs[2].first, std::string(95, 'k'));
    EXPECT_THROW(parsePaxRecords("5 a=b\n", "t"), Error);
    EXPECT_THROW(parsePaxRecords("7 ab\n\n", "t"), Error);
    EXPECT_THROW(parsePaxRecords("x", "t"), Error);
    EXPECT_THROW(parsePaxRecords("100000000000000000000000 a=b\n", "t"), Error);
}

TEST(Pax, Times) {
    auto t = parsePaxTime("1700000000.123456789123", "t");
    EXPECT_EQ(t.sec, 1700000000);
    EXPECT_EQ(t.nsec, 123456789u);
    t = parsePaxTime("-0.25", "t");
    EXPECT_EQ(t.sec, -1);
    EXPECT_EQ(t.nsec, 750000000u);
    EXPECT_EQ(formatPaxTime(t), "-0.25");
    EXPECT_EQ(formatPaxTime(parsePaxTime("5.100", "t")), "5.1");
    EXPECT_EQ(toFiletime(TarTime{0, 0, true}), 116444736000000000LL);
    auto back = fromFiletime(toFiletime(TarTime{-2, 500000000, true}));
    EXPECT_EQ(back.sec, -2);
    EXPECT_EQ(back.nsec, 500000000u);
    EXPECT_THROW(parsePaxTime("", "t"), Error);
    EXPECT_THROW(parsePaxTime("1e9", "t"), Error);
    EXPECT_THROW(parsePaxTime("99999999999999999999", "t"), Error);
}

TEST(Pax, Base64AndUrl) {
    EXPECT_EQ(base64Encode("value"), "dmFsdWU=");
    EXPECT_EQ(base64Decode("dmFsdWU=", "t"), "value");
    EXPECT_EQ(base64Decode("dmFsdWU", "t"), "value");  // libarchive omits padding
    EXPECT_THROW(base64Decode("dm!s", "t"), Error);
    EXPECT_THROW(base64Decode("d", "t"), Error);
    EXPECT_EQ(urlDecode("a%3Db", "t"), "a=b");
    EXPECT_EQ(urlEncode("a=b%"), "a%3Db%25");
    EXPECT_THROW(urlDecode("a%3", "t"), Error);
}

TEST(LayerPath, Rules) {
    EXPECT_EQ(splitTarPath("/./a//b/./", LayerFormat::Linux, "t"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(splitTarPath("a\\b", LayerFormat::Linux, "t"), std::vector<std::string>{"a\\b"});
    EXPECT_EQ(splitTarPath("a\\b", LayerFormat::Windows, "t"), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(splitTarPath("./", LayerFormat::Linux, "t").empty());
    for (const char* bad : {"a/../b", "..", "c:/x", "Z:", "a\x01"}) {
        try {
            splitTarPath(bad, LayerFormat::Linux, "t");
            ADD_FAILURE() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), kInvalidData) << bad;
        }
    }
    EXPECT_EQ(toCimName("a\\b", LayerFormat::Linux, "t"), u"a\uF05Cb");
    EXPECT_EQ(fromCimName(u"a\uF05Cb", LayerFormat::Linux), "a\\b");
    EXPECT_EQ(fromCimName(toCimName("\xff\xfe", LayerFormat::Linux, "t"), LayerFormat::Linux), "\xff\xfe");
    EXPECT_THROW(toCimName("a\xef\x81\x9c", LayerFormat::Linux, "t"), Error);  // U+F05C itself
    EXPECT_THROW(toCimName("\xff", LayerFormat::Windows, "t"), Error);
    EXPECT_THROW(toCimName("a*b", LayerFormat::Windows, "t"), Error);
    EXPECT_THROW(toCimName(std::string(256, 'x'), LayerFormat::Linux, "t"), Error);
}

TEST(LinuxEa, XattrNamesSurviveUpcasing) {
    EXPECT_EQ(encodeXattrEaName("security.capability"), "$XATTR.SECURITY.CAPABILITY");
    EXPECT_EQ(encodeXattrEaName("user.Foo %"), "$XATTR.USER.%46OO%20%25");
    for (std::string n : std::vector<std::string>{"security.capability", "user.Foo", "trusted.overlay.opaque", std::string("user.\xff\x01=", 8)}) {
        std::string enc = encodeXattrEaName(n);
        EXPECT_EQ(decodeXattrEaName(enc), n);
        std::string lower = enc;
        for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
        EXPECT_EQ(decodeXattrEaName(lower), n) << "lower-cased " << enc;
    }
    EXPECT_EQ(decodeXattrEaName("$LXUID"), std::nullopt);
    EXPECT_THROW(decodeXattrEaName("$XATTR.a%zz"), Error);
}

TEST(LinuxEa, ChainRoundTripAndLimits) {
    LinuxMetadata md;
    md.uid = 1;
    md.gid = 2;
    md.mode = 020644;
    md.dev = {{5, 6}};
    md.xattrs = {{"user.b", "2"}, {"user.a", "1"}};
    auto chain = buildLinuxEas(md, "t");
    auto p = parseLinuxEas(chain, "t");
    EXPECT_EQ(p.uid, 1u);
    EXPECT_EQ(p.gid, 2u);
    EXPECT_EQ(p.mode, 020644u);
    EXPECT_EQ(p.dev, (std::pair<uint32_t, uint32_t>{5, 6}));
    ASSERT_EQ(p.xattrs.size(), 2u);
    EXPECT_EQ(p.xattrs[0].name, "user.a");
    md.xattrs = {{std::string(250, 'n'), "v"}};
    EXPECT_THROW(buildLinuxEas(md, "t"), Error);
    md.xattrs = {{"user.a", std::string(40000, 'v')}, {"user.b", std::string(40000, 'v')}};
    EXPECT_THROW(buildLinuxEas(md, "t"), Error);
}

TEST(Reparse, GoldenBuffers) {
    // Relative symlink to "a": 28 bytes, ReparseDataLength 20 (windows-layer-tar.md §7).
    auto s = windowsLinkReparse(u"a", false);
    ASSERT_EQ(s.size(), 28u);
    EXPECT_EQ(std::to_integer<int>(s[4]), 20);
    EXPECT_EQ(std::to_integer<int>(s[16]), 1);  // SYMLINK_FLAG_RELATIVE
    auto abs = windowsLinkReparse(u"\\\\server\\share\\x", false);
    auto l = decodeWindowsLink(abs, "t");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->printName, u"\\\\server\\share\\x");
    EXPECT_EQ(std::to_integer<int>(abs[16]), 0);
    std::u16string sub(reinterpret_cast<const char16_t*>(abs.data() + 20), 22);
    EXPECT_EQ(sub.substr(0, 8), u"\\??\\UNC\\");
    // LX symlink to "x": 1d 00 00 a0 05 00 00 00 02 00 00 00 78 (linux-metadata-conventions.md §2).
    auto lx = lxSymlinkReparse("x");
    const unsigned char want[] = {0x1d, 0, 0, 0xa0, 5, 0, 0, 0, 2, 0, 0, 0, 0x78};
    ASSERT_EQ(lx.size(), sizeof want);
    EXPECT_EQ(std::memcmp(lx.data(), want, sizeof want), 0);
    EXPECT_EQ(decodeLxSymlink(lx, "t"), "x");
    auto fifo = emptyReparse(kTagLxFifo);
    EXPECT_EQ(fifo.size(), 8u);
    EXPECT_EQ(reparseTag(fifo), kTagLxFifo);
}
