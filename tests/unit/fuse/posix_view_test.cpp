// The POSIX view of CIM files (src/fuse/posix_view) and the xattr table (src/fuse/xattr_view),
// checked on images built with the internal writer, without mounting.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "common/error.h"
#include "format/ea.h"
#include "fuse/cim_fs.h"
#include "fuse/posix_view.h"
#include "fuse/xattr_view.h"
#include "image/create.h"
#include "image/open.h"

using namespace cim;
using namespace cim::fuse;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-fuse-unit-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

std::vector<std::byte> bytes(std::initializer_list<int> v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
}

void put16(std::vector<std::byte>& b, uint16_t v) {
    b.push_back(std::byte(v & 0xFF));
    b.push_back(std::byte(v >> 8));
}
void put32(std::vector<std::byte>& b, uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(std::byte((v >> (8 * i)) & 0xFF));
}

std::vector<std::byte> header(uint32_t tag, uint16_t len) {
    std::vector<std::byte> b;
    put32(b, tag);
    put16(b, len);
    put16(b, 0);
    return b;
}

std::vector<std::byte> lxLink(const std::string& target, uint32_t version = 2) {
    auto b = header(kTagLxSymlink, static_cast<uint16_t>(4 + target.size()));
    put32(b, version);
    for (char c : target) b.push_back(std::byte(c));
    return b;
}

std::vector<std::byte> winLink(bool mountPoint, const std::u16string& sub, const std::u16string& print, uint32_t flags = 0) {
    std::vector<std::byte> data;
    put16(data, 0);
    put16(data, static_cast<uint16_t>(sub.size() * 2));
    put16(data, static_cast<uint16_t>(sub.size() * 2));
    put16(data, static_cast<uint16_t>(print.size() * 2));
    if (!mountPoint) put32(data, flags);
    for (char16_t c : sub) put16(data, c);
    for (char16_t c : print) put16(data, c);
    auto b = header(mountPoint ? kTagMountPoint : kTagSymlink, static_cast<uint16_t>(data.size()));
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

format::ExtendedAttribute ea(const std::string& name, std::vector<std::byte> value) {
    format::ExtendedAttribute e;
    e.name = name;
    e.value = std::move(value);
    return e;
}
std::vector<std::byte> u32(uint32_t v) {
    std::vector<std::byte> b;
    put32(b, v);
    return b;
}

}  // namespace

TEST(PosixView, LinkTargets) {
    EXPECT_EQ(linkTarget(lxLink("../x/y")), "../x/y");
    EXPECT_EQ(linkTarget(lxLink("/abs/path")), "/abs/path");
    EXPECT_FALSE(linkTarget(lxLink("x", 1))) << "only version 2 exists";
    EXPECT_FALSE(linkTarget(lxLink(""))) << "empty target";
    EXPECT_FALSE(linkTarget(lxLink(std::string("a\0b", 3)))) << "embedded NUL";
    EXPECT_EQ(linkTarget(winLink(false, u"..\\dir\\f", u"..\\dir\\f", 1)), "../dir/f");
    EXPECT_EQ(linkTarget(winLink(false, u"\\??\\C:\\Windows", u"")), "C:/Windows") << "substitute name without \\??\\";
    EXPECT_EQ(linkTarget(winLink(true, u"\\??\\D:\\data", u"D:\\data")), "D:/data");
    // Malformed: truncated buffers, lengths past the end, unknown tags.
    auto b = winLink(false, u"abc", u"abc");
    EXPECT_FALSE(linkTarget(std::span(b).first(10)));
    b[14] = std::byte{0xFF};  // print name length far past the end
    b[10] = std::byte{0xFF};  // and the substitute name's too
    EXPECT_FALSE(linkTarget(b));
    EXPECT_FALSE(linkTarget(header(0x80000024, 0)));
    EXPECT_FALSE(linkTarget(bytes({1, 2, 3})));
    auto lying = lxLink("target");
    lying[4] = std::byte{200};  // ReparseDataLength beyond the buffer
    EXPECT_FALSE(linkTarget(lying));
}

TEST(PosixView, FileTimes) {
    auto epoch = fileTimeToTimespec(116444736000000000);
    EXPECT_EQ(epoch.tv_sec, 0);
    EXPECT_EQ(epoch.tv_nsec, 0);
    auto t = fileTimeToTimespec(116444736000000000 + 15 * 10000000 + 1234567);
    EXPECT_EQ(t.tv_sec, 15);
    EXPECT_EQ(t.tv_nsec, 123456700);
    auto before = fileTimeToTimespec(116444736000000000 - 1);  // 100 ns before 1970
    EXPECT_EQ(before.tv_sec, -1);
    EXPECT_EQ(before.tv_nsec, 999999900);
    auto zero = fileTimeToTimespec(0);  // 1601-01-01
    EXPECT_EQ(zero.tv_sec, -11644473600);
    EXPECT_EQ(zero.tv_nsec, 0);
}

TEST(PosixView, LinuxMetadataEas) {
    auto dev = u32(8);
    auto minor = u32(17);
    dev.insert(dev.end(), minor.begin(), minor.end());
    auto md = linuxMetadata({ea("$LXUID", u32(1000)), ea("$lxgid", u32(100)), ea("$LXMOD", u32(0100755)), ea("$LXDEV", dev),
                             ea("OTHER", u32(1))});
    EXPECT_EQ(md.uid, 1000u);
    EXPECT_EQ(md.gid, 100u);
    EXPECT_EQ(md.mode, 0100755u);
    EXPECT_EQ(md.devMajor, 8u);
    EXPECT_EQ(md.devMinor, 17u);
    auto bad = linuxMetadata({ea("$LXUID", bytes({1, 2})), ea("$LXDEV", u32(1))});
    EXPECT_FALSE(bad.uid) << "a 2-byte uid is ignored";
    EXPECT_FALSE(bad.devMajor) << "a 4-byte device number is ignored";
    EXPECT_TRUE(isLinuxMetadataEa("$LXMOD"));
    EXPECT_TRUE(isLinuxMetadataEa("$lxdev"));
    EXPECT_FALSE(isLinuxMetadataEa("$LXATTRB"));
}

class ImageView : public ::testing::Test {
protected:
    void SetUp() override {
        auto w = image::createStandardImage(dir_.path, nullptr, "t.cim", 0);
        auto add = [&](const std::string& p, uint32_t attrs, std::span<const std::byte> reparse = {},
                       std::span<const std::byte> eas = {}, const std::string& data = {}) {
            image::FileMetadata md;
            md.attributes = attrs;
            md.fileSize = static_cast<int64_t>(data.size());
            md.lastWriteTime = 116444736000000000 + 10000000;
            md.creationTime = 116444736000000000;
            md.reparseData = reparse;
            md.extendedAttributes = eas;
            uint64_t s = w->createFile(parseImagePath(p), md);
            if (!data.empty()) w->write(s, std::as_bytes(std::span(data.data(), data.size())));
            w->closeStream(s);
        };
        lx_ = format::buildEaChain({ea("$LXUID", u32(5)), ea("$LXGID", u32(6)), ea("$LXMOD", u32(0100640))});
        fifoEas_ = format::buildEaChain({ea("$LXMOD", u32(0010600))});
        winEas_ = format::buildEaChain({ea("COMMENT", bytes({'x'}))});
        link_ = lxLink("file");
        fifo_ = header(kTagLxFifo, 0);
        add("dir", 0x10);
        add("dir\\sub", 0x10);
        add("file", 0x21, {}, winEas_, "data!");
        add("lxfile", 0x20, {}, lx_, "abc");
        add("link", 0x400, link_);
        add("fifo", 0x400, fifo_, fifoEas_);
        add("eafifo", 0x20, {}, fifoEas_);  // a FIFO described by $LXMOD alone
        uint64_t s = w->createAlternateStream(parseImagePath("file:ads", StreamSyntax::required), 3);
        w->write(s, std::as_bytes(std::span("ads", 3)));
        w->closeStream(s);
        w->commit();
        img_ = image::openStandard(dir_.path, "t.cim");
    }
    image::FileNode node(const char* p) { return img_->resolve(p).node; }

    TempDir dir_;
    std::shared_ptr<image::Image> img_;
    std::vector<std::byte> lx_, fifoEas_, winEas_, link_, fifo_;
};

TEST_F(ImageView, ModesTypesAndOwners) {
    auto d = describe(*img_, node("dir"), 3);
    EXPECT_EQ(d.st.st_mode, S_IFDIR | 0555u);
    EXPECT_EQ(d.st.st_nlink, 3u);
    EXPECT_EQ(d.st.st_size, 0);
    auto f = describe(*img_, node("file"), 1);
    EXPECT_EQ(f.st.st_mode, S_IFREG | 0444u);
    EXPECT_EQ(f.st.st_size, 5);
    EXPECT_EQ(f.st.st_ino, node("file").id);
    EXPECT_EQ(f.st.st_mtim.tv_sec, 1);
    auto lx = describe(*img_, node("lxfile"), 1);
    EXPECT_EQ(lx.st.st_mode, S_IFREG | 0640u);
    EXPECT_EQ(lx.st.st_uid, 5u);
    EXPECT_EQ(lx.st.st_gid, 6u);
    auto l = describe(*img_, node("link"), 1);
    EXPECT_EQ(l.st.st_mode, S_IFLNK | 0777u);
    EXPECT_EQ(l.linkTarget, "file");
    EXPECT_EQ(l.st.st_size, 4);
    EXPECT_EQ(describe(*img_, node("fifo"), 1).st.st_mode, S_IFIFO | 0600u);
    EXPECT_EQ(describe(*img_, node("eafifo"), 1).st.st_mode, S_IFIFO | 0600u);
    EXPECT_EQ(fileType(*img_, node("dir")), S_IFDIR);
    EXPECT_EQ(fileType(*img_, node("link")), S_IFLNK);
    EXPECT_EQ(fileType(*img_, node("eafifo")), S_IFIFO);
    EXPECT_EQ(fileType(*img_, node("file")), S_IFREG);
}

TEST_F(ImageView, Xattrs) {
    auto f = node("file");
    auto names = xattrNames(*img_, f);
    EXPECT_EQ(names, (std::vector<std::string>{"system.ntfs_attrib", "system.ntfs_attrib_be", "system.ntfs_times",
                                               "system.ntfs_crtime", "system.ntfs_ea", "user.ads"}));
    auto attrib = xattrValue(*img_, f, "system.ntfs_attrib");
    ASSERT_TRUE(attrib);
    EXPECT_EQ(*attrib, u32(0x21));
    auto be = xattrValue(*img_, f, "system.ntfs_attrib_be");
    EXPECT_EQ(*be, bytes({0, 0, 0, 0x21}));
    EXPECT_EQ(xattrValue(*img_, f, "system.ntfs_ea"), winEas_);
    EXPECT_EQ(xattrValue(*img_, f, "user.ads"), bytes({'a', 'd', 's'}));
    EXPECT_EQ(xattrValue(*img_, f, "user.ADS"), bytes({'a', 'd', 's'})) << "stream names are case-insensitive";
    auto times = xattrValue(*img_, f, "system.ntfs_times");
    ASSERT_TRUE(times && times->size() == 32);
    int64_t t[4];
    std::memcpy(t, times->data(), 32);
    EXPECT_EQ(t[0], 116444736000000000);
    EXPECT_EQ(t[1], 116444736000000000 + 10000000);
    EXPECT_FALSE(xattrValue(*img_, f, "system.ntfs_acl"));
    EXPECT_FALSE(xattrValue(*img_, f, "system.ntfs_reparse_data"));
    EXPECT_FALSE(xattrValue(*img_, f, "user.none"));
    EXPECT_FALSE(xattrValue(*img_, f, "user."));
    EXPECT_FALSE(xattrValue(*img_, f, "trusted.x"));
    auto l = node("link");
    EXPECT_EQ(xattrValue(*img_, l, "system.ntfs_reparse_data"), link_);
}

TEST_F(ImageView, InodeNumbersMapBothWays) {
    CimFs fs(img_, "test");
    uint32_t root = img_->rootId();
    EXPECT_EQ(fs.inodeOf(root), FUSE_ROOT_ID);
    EXPECT_EQ(fs.fileIdOf(FUSE_ROOT_ID), root);
    for (uint32_t id = 1; id <= img_->fileCount(); ++id) {
        EXPECT_EQ(fs.fileIdOf(fs.inodeOf(id)), id) << id;
    }
    EXPECT_EQ(fs.fileIdOf(0), 0u);
    EXPECT_EQ(fs.fileIdOf(img_->fileCount() + 1), 0u);
    EXPECT_EQ(fs.fileIdOf(CimFs::kStreamBit | 5), 0u);
}
