// TarReader over in-memory archives: extension headers, sparse formats (from GNU tar when it is
// installed), numeric encodings and the refusals that protect the importer.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../../integration/tar_builder.h"
#include "layer/decompressor.h"
#include "layer/layer_error.h"
#include "layer/tar_reader.h"

using namespace cim;
using namespace cim::layer;

namespace {

struct MemFd {
    int fd;
    explicit MemFd(const std::string& bytes) {
        fd = memfd_create("tar", 0);
        EXPECT_EQ(write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
        lseek(fd, 0, SEEK_SET);
    }
    ~MemFd() { close(fd); }
};

struct Parsed {
    TarEntry e;
    std::string data;
};

std::vector<Parsed> readAll(const std::string& tar, uint64_t limit = 1ull << 40) {
    MemFd m(tar);
    Decompressor d(m.fd, "test.tar", limit);
    TarReader r(d, limit);
    std::vector<Parsed> out;
    while (auto e = r.next()) {
        Parsed p{*e, {}};
        std::vector<std::byte> buf(100000);
        for (;;) {
            size_t n = r.read(buf);
            if (!n) break;
            p.data.append(reinterpret_cast<const char*>(buf.data()), n);
        }
        out.push_back(std::move(p));
    }
    return out;
}

hresult codeOf(const std::string& tar, uint64_t limit = 1ull << 40) {
    try {
        readAll(tar, limit);
    } catch (const Error& e) {
        return e.code();
    }
    return 0;
}

std::string slurp(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

}  // namespace

TEST(TarReader, UstarPaxAndGnuNames) {
    tartest::Entry a;
    a.name = "dir/file";
    a.data = "hello";
    a.mode = 04755;
    a.uid = 12;
    a.gid = 34;
    tartest::Entry b;
    b.name = std::string(120, 'p');  // PAX path
    b.pax = {{"mtime", "-1.5"}, {"atime", "1.000000001"}, {"SCHILY.xattr.user.k", "v"}, {"LIBARCHIVE.xattr.user.%3Dx", "AAE="}};
    b.data = "x";
    tartest::Entry c;
    c.name = std::string(130, 'g');  // GNU 'L'
    c.gnuLongName = true;
    c.type = '2';
    c.link = "target";
    auto v = readAll(tartest::build({a, b, c}));
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].e.path, "dir/file");
    EXPECT_EQ(v[0].data, "hello");
    EXPECT_EQ(v[0].e.mode, 04755u);
    EXPECT_EQ(v[0].e.uid, 12u);
    EXPECT_EQ(v[0].e.gid, 34u);
    EXPECT_EQ(v[0].e.mtime.sec, 1700000000);
    EXPECT_EQ(v[1].e.path, std::string(120, 'p'));
    EXPECT_EQ(v[1].e.mtime.sec, -2);
    EXPECT_EQ(v[1].e.mtime.nsec, 500000000u);
    EXPECT_EQ(v[1].e.atime.nsec, 1u);
    ASSERT_EQ(v[1].e.xattrs.size(), 2u);
    EXPECT_EQ(v[1].e.xattrs[0].name, "user.=x");
    EXPECT_EQ(v[1].e.xattrs[0].value, std::string("\0\1", 2));
    EXPECT_EQ(v[1].e.xattrs[1].name, "user.k");
    EXPECT_EQ(v[2].e.path, std::string(130, 'g'));
    EXPECT_EQ(v[2].e.type, EntryType::symlink);
    EXPECT_EQ(v[2].e.linkPath, "target");
}

TEST(TarReader, GlobalHeadersApplyUntilOverridden) {
    std::string tar;
    std::string rec = tartest::paxRecord("MSWINDOWS.fileattr", "32");
    tar += tartest::header("g", 'g', rec.size(), tartest::Entry{});
    tar += rec;
    tartest::pad(tar);
    tartest::Entry a;
    a.name = "a";
    tartest::Entry b;
    b.name = "b";
    b.pax = {{"MSWINDOWS.fileattr", ""}};  // an empty local value deletes the global one
    std::string rest = tartest::build({a, b});
    auto v = readAll(tar + rest);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].e.pax.at("MSWINDOWS.fileattr"), "32");
    EXPECT_EQ(v[1].e.pax.count("MSWINDOWS.fileattr"), 0u);
}

TEST(TarReader, Base256Size) {
    tartest::Entry a;
    a.name = "big";
    a.declaredSize = uint64_t(1) << 34;  // base-256 field; data missing -> short data at read time
    std::string t = tartest::build({a}).substr(0, 512);
    MemFd m(t);
    Decompressor d(m.fd, "t", 1ull << 40);
    TarReader r(d, 1ull << 40);
    auto e = r.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->size, uint64_t(1) << 34);
    std::vector<std::byte> buf(4096);
    EXPECT_THROW(r.read(buf), Error);
}

TEST(TarReader, Refusals) {
    tartest::Entry a;
    a.name = "a";
    a.data = "abc";
    EXPECT_EQ(codeOf(tartest::build({a}, false)), kInvalidData);  // no end marker
    EXPECT_EQ(codeOf(""), kInvalidData);                          // empty stream
    a.badChecksum = true;
    EXPECT_EQ(codeOf(tartest::build({a})), kInvalidData);
    a.badChecksum = false;
    a.pax = {{"size", "12x"}};
    EXPECT_EQ(codeOf(tartest::build({a})), kInvalidData);
    a.pax = {};
    std::string bad = tartest::build({a});
    bad[124] = 'z';  // malformed octal size (checksum recomputed below)
    {
        std::memset(&bad[148], ' ', 8);
        unsigned sum = 0;
        for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bad[i]);
        char cs[8];
        std::snprintf(cs, sizeof cs, "%06o", sum);
        std::memcpy(&bad[148], cs, 7);
    }
    EXPECT_EQ(codeOf(bad), kInvalidData);
    // A PAX header whose record length lies.
    std::string t;
    std::string rec = "99 path=x\n";
    t += tartest::header("x", 'x', rec.size(), tartest::Entry{});
    t += rec;
    tartest::pad(t);
    t += tartest::build({a});
    EXPECT_EQ(codeOf(t), kInvalidData);
    // Limits: size over the limit, stream over the limit.
    a.data = std::string(5000, 'x');
    EXPECT_EQ(codeOf(tartest::build({a}), 4096), kInvalidData);
    EXPECT_EQ(codeOf(tartest::build({a, a}), 8192), kInvalidData);
}

TEST(TarReader, GnuSparseFormats) {
    if (std::system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) GTEST_SKIP() << "GNU tar not available";
    char tmpl[] = "/tmp/opencim-sparse-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string script = "cd '" + dir +
                         "' && truncate -s 3000000 s && printf 'HEAD' | dd of=s conv=notrunc status=none && "
                         "printf 'MIDDLE' | dd of=s bs=1 seek=1500000 conv=notrunc status=none && "
                         "printf 'TAIL' | dd of=s bs=1 seek=2999996 conv=notrunc status=none";
    ASSERT_EQ(std::system(script.c_str()), 0);
    std::string expect(3000000, '\0');
    expect.replace(0, 4, "HEAD");
    expect.replace(1500000, 6, "MIDDLE");
    expect.replace(2999996, 4, "TAIL");
    for (const char* fmt : {"--format=gnu", "--format=pax --sparse-version=0.0", "--format=pax --sparse-version=0.1",
                            "--format=pax --sparse-version=1.0"}) {
        std::string cmd = "cd '" + dir + "' && tar -c --sparse " + fmt + " -f out.tar s";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << fmt;
        auto v = readAll(slurp(dir + "/out.tar"));
        ASSERT_EQ(v.size(), 1u) << fmt;
        EXPECT_EQ(v[0].e.path, "s") << fmt;
        EXPECT_TRUE(v[0].e.sparse) << fmt;
        EXPECT_EQ(v[0].e.size, 3000000u) << fmt;
        EXPECT_TRUE(v[0].data == expect) << fmt;
    }
    std::system(("rm -rf '" + dir + "'").c_str());
}
