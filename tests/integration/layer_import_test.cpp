// Layer import/export through the public C ABI only: golden Windows and Linux layers read back
// with the reader API, hostile archives, determinism, compression, stdin, verified/VHD outputs,
// merge semantics of whiteouts/opaque directories/merge links, and tar -> CIM -> tar round trips.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <opencim/cimfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tar_builder.h"

using tartest::Entry;

namespace {

constexpr HRESULT kInvalidData = (HRESULT)0x8007000D;

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/opencim-layer-XXXXXX";
        path = mkdtemp(t);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string operator/(const std::string& n) const { return path + "/" + n; }
};

void writeFile(const std::string& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string readFile(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::set<std::string> listDir(const std::string& p) {
    std::set<std::string> out;
    DIR* d = opendir(p.c_str());
    if (!d) return out;
    while (auto* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.insert(n);
    }
    closedir(d);
    return out;
}

bool haveTool(const char* t) { return std::system((std::string("command -v ") + t + " >/dev/null 2>&1").c_str()) == 0; }

CIMFS_IMPORT_OPTIONS options(uint32_t format = CIM_LAYER_FORMAT_AUTO, uint32_t threads = 0, uint32_t flags = 0) {
    CIMFS_IMPORT_OPTIONS o;
    std::memset(&o, 0, sizeof o);
    o.Size = sizeof o;
    o.LayerFormat = format;
    o.Threads = threads;
    o.Flags = flags;
    return o;
}

HRESULT importTar(const std::string& tar, const std::string& block, const CIMFS_IMPORT_OPTIONS& o, CIMFS_IMPORT_RESULT* r = nullptr) {
    return CimImportLayer(tar.c_str(), block.c_str(), "layer.cim", &o, r);
}

struct Reader {
    CIMFS_READER_HANDLE h = nullptr;
    explicit Reader(const std::string& block, const char* name = "layer.cim") {
        HRESULT r = CimOpenImage(block.c_str(), name, CIM_MOUNT_SINGLE_FILE_CIM, &h);
        EXPECT_EQ(r, 0) << CimGetLastErrorMessage();
    }
    explicit Reader(CIMFS_READER_HANDLE x) : h(x) {}
    ~Reader() { CimCloseReader(h); }
    HRESULT stat(const std::string& p, CIMFS_FILE_INFO& i) const {
        std::memset(&i, 0, sizeof i);
        i.Size = sizeof i;
        return CimStatPath(h, p.c_str(), &i);
    }
    CIMFS_FILE_INFO stat(const std::string& p) const {
        CIMFS_FILE_INFO i;
        HRESULT r = stat(p, i);
        EXPECT_EQ(r, 0) << p << ": " << CimGetLastErrorMessage();
        return i;
    }
    bool exists(const std::string& p) const {
        CIMFS_FILE_INFO i;
        return stat(p, i) == 0;
    }
    template <typename F>
    std::string blob(F fn, const std::string& p) const {
        uint32_t n = 0;
        HRESULT r = fn(h, p.c_str(), nullptr, &n);
        if (r != 0 && r != (HRESULT)0x8007007A) {
            ADD_FAILURE() << p << ": " << CimGetLastErrorMessage();
            return {};
        }
        std::string b(n, '\0');
        if (n) {
            EXPECT_EQ(fn(h, p.c_str(), b.data(), &n), 0) << CimGetLastErrorMessage();
        }
        return b;
    }
    std::string eas(const std::string& p) const { return blob(CimGetExtendedAttributes, p); }
    std::string reparse(const std::string& p) const { return blob(CimGetReparseData, p); }
    std::string sd(const std::string& p) const { return blob(CimGetSecurityDescriptor, p); }
    std::string read(const std::string& p) const {
        std::string out;
        char buf[65536];
        for (uint64_t off = 0;;) {
            uint32_t got = 0;
            HRESULT r = CimReadFile(h, p.c_str(), off, buf, sizeof buf, &got);
            EXPECT_EQ(r, 0) << p << ": " << CimGetLastErrorMessage();
            if (r || got == 0) break;
            out.append(buf, got);
            off += got;
        }
        return out;
    }
    std::vector<std::string> list(const std::string& p) const {
        std::vector<std::string> out;
        for (uint32_t i = 0;; ++i) {
            char name[1024];
            uint32_t n = sizeof name;
            HRESULT r = CimEnumerateDirectory(h, p.c_str(), i, name, &n, nullptr);
            if (r == (HRESULT)0x80070012) break;
            EXPECT_EQ(r, 0) << CimGetLastErrorMessage();
            if (r) break;
            out.emplace_back(name);
        }
        return out;
    }
};

// Independent encoding of the WSL EA chain (linux-metadata-conventions.md §1).
std::string lxEa(const char* name, const std::string& value, bool last) {
    std::string e(8, '\0');
    size_t len = 8 + std::strlen(name) + 1 + value.size(), padded = (len + 3) & ~size_t(3);
    uint32_t next = last ? 0 : uint32_t(padded);
    std::memcpy(&e[0], &next, 4);
    e[5] = char(std::strlen(name));
    uint16_t vl = uint16_t(value.size());
    std::memcpy(&e[6], &vl, 2);
    e += name;
    e += '\0';
    e += value;
    e.resize(padded, '\0');
    return e;
}
std::string u32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string lxEas(uint32_t uid, uint32_t gid, uint32_t mode, bool dev = false, uint32_t ma = 0, uint32_t mi = 0,
                  const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    std::string s = lxEa("$LXUID", u32(uid), false) + lxEa("$LXGID", u32(gid), false) +
                    lxEa("$LXMOD", u32(mode), !dev && extra.empty());
    if (dev) s += lxEa("$LXDEV", u32(ma) + u32(mi), extra.empty());
    for (size_t i = 0; i < extra.size(); ++i) s += lxEa(extra[i].first.c_str(), extra[i].second, i + 1 == extra.size());
    return s;
}
const std::string kNullSd("\x01\x00\x04\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);

std::vector<Entry> linuxLayer() {
    std::vector<Entry> v;
    auto dir = [&](const std::string& n, uint32_t mode = 0755) {
        Entry e;
        e.name = n;
        e.type = '5';
        e.mode = mode;
        v.push_back(e);
    };
    auto file = [&](const std::string& n, const std::string& d, uint32_t mode = 0644, uint64_t uid = 0, uint64_t gid = 0) {
        Entry e;
        e.name = n;
        e.data = d;
        e.mode = mode;
        e.uid = uid;
        e.gid = gid;
        v.push_back(e);
        return &v.back();
    };
    dir("./");
    dir("etc/");
    file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    file("etc/Makefile", "upper\n");
    file("etc/makefile", "lower\n");
    dir("usr/");
    dir("usr/bin/");
    {
        Entry e;
        e.name = "usr/bin/ping";
        e.mode = 04755;
        e.uid = 1000;
        e.gid = 100;
        e.data = std::string(200000, 'p');
        e.pax = {{"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)},
                 {"SCHILY.xattr.user.Mixed", "v"}};
        v.push_back(e);
    }
    {
        Entry e;
        e.name = "usr/bin/x";
        e.type = '2';
        e.link = "x-target";
        e.mode = 0777;
        v.push_back(e);
    }
    {
        Entry e;
        e.name = "usr/bin/pong";
        e.type = '1';
        e.link = "usr/bin/ping";
        v.push_back(e);
    }
    dir("dev/");
    {
        Entry e;
        e.name = "dev/null";
        e.type = '3';
        e.mode = 0666;
        e.devMajor = 1;
        e.devMinor = 3;
        v.push_back(e);
        e.name = "dev/sda";
        e.type = '4';
        e.mode = 0660;
        e.devMajor = 8;
        e.devMinor = 0;
        v.push_back(e);
        e.name = "dev/fifo";
        e.type = '6';
        e.mode = 0600;
        v.push_back(e);
    }
    dir("data/");
    file("data/caf\xe9-latin1", "raw name\n");  // not UTF-8
    file("data/back\\slash", "bs\n");
    file("data/colon:name", "colon\n");
    {
        Entry e;
        e.name = "data/sub/very/" + std::string(150, 'n');  // PAX path, implicit parents
        e.data = "deep\n";
        v.push_back(e);
    }
    file("data/.wh.deleted", "");
    dir("opaque/");
    file("opaque/.wh..wh..opq", "");
    file("opaque/kept", "kept\n");
    return v;
}

}  // namespace

TEST(LayerImport, LinuxGolden) {
    TempDir d;
    writeFile(d / "l.tar", tartest::build(linuxLayer()));
    CIMFS_IMPORT_RESULT res;
    std::memset(&res, 0, sizeof res);
    res.Size = sizeof res;
    ASSERT_EQ(importTar(d / "l.tar", d / "l.bcim", options(), &res), 0) << CimGetLastErrorMessage();
    EXPECT_EQ(res.Entries, linuxLayer().size());
    EXPECT_EQ(res.DataBytes, 200000u + 30 + 6 + 6 + 9 + 3 + 6 + 5 + 5);
    EXPECT_EQ(listDir(d.path), (std::set<std::string>{"l.tar", "l.bcim"}));

    Reader r(d / "l.bcim");
    // Root and directories.
    EXPECT_EQ(r.eas(""), lxEas(0, 0, 040755));
    EXPECT_EQ(r.stat("etc").Attributes, 0x10u);
    EXPECT_EQ(r.sd("etc/passwd"), kNullSd);
    // Regular file: data, attributes, EAs, times.
    auto pw = r.stat("etc/passwd");
    EXPECT_EQ(pw.Attributes, 0x20u);
    EXPECT_EQ(pw.LastWriteTime, 1700000000LL * 10000000 + 116444736000000000LL);
    EXPECT_EQ(pw.CreationTime, pw.LastWriteTime);
    EXPECT_EQ(pw.LastAccessTime, pw.LastWriteTime);
    EXPECT_EQ(r.read("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    EXPECT_EQ(r.eas("etc/passwd"), lxEas(0, 0, 0100644));
    // Case-sensitive image: both names exist with their own data.
    EXPECT_EQ(r.read("etc/Makefile"), "upper\n");
    EXPECT_EQ(r.read("etc/makefile"), "lower\n");
    EXPECT_FALSE(r.exists("etc/MAKEFILE"));
    // setuid + xattrs, hard link.
    auto ping = r.stat("usr/bin/ping");
    EXPECT_EQ(r.read("usr/bin/ping"), std::string(200000, 'p'));
    EXPECT_EQ(r.eas("usr/bin/ping"),
              lxEas(1000, 100, 0104755, false, 0, 0,
                    {{"$XATTR.SECURITY.CAPABILITY", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)}, {"$XATTR.USER.%4DIXED", "v"}}));
    auto pong = r.stat("usr/bin/pong");
    EXPECT_EQ(pong.FileId, ping.FileId);
    EXPECT_EQ(ping.LinkCount, 2u);
    // Symlink: the 17-byte LX_SYMLINK buffer (version 2, no NUL).
    auto x = r.stat("usr/bin/x");
    EXPECT_EQ(x.Attributes, 0x420u);
    EXPECT_EQ(x.ReparseTag, 0xA000001Du);
    EXPECT_EQ(x.FileSize, 0);
    EXPECT_EQ(r.reparse("usr/bin/x"), std::string("\x1d\x00\x00\xa0\x0c\x00\x00\x00\x02\x00\x00\x00x-target", 20));
    EXPECT_EQ(r.eas("usr/bin/x"), lxEas(0, 0, 0120777));
    // Devices and FIFO.
    EXPECT_EQ(r.reparse("dev/null"), std::string("\x25\x00\x00\x80\x00\x00\x00\x00", 8));
    EXPECT_EQ(r.eas("dev/null"), lxEas(0, 0, 020666, true, 1, 3));
    EXPECT_EQ(r.reparse("dev/sda"), std::string("\x26\x00\x00\x80\x00\x00\x00\x00", 8));
    EXPECT_EQ(r.eas("dev/sda"), lxEas(0, 0, 060660, true, 8, 0));
    EXPECT_EQ(r.reparse("dev/fifo"), std::string("\x24\x00\x00\x80\x00\x00\x00\x00", 8));
    EXPECT_EQ(r.eas("dev/fifo"), lxEas(0, 0, 010600));
    EXPECT_EQ(r.stat("dev/fifo").Attributes, 0x420u);
    // Names: raw bytes come back as they were; '\' is stored as U+F05C; ':' is an ordinary char.
    auto names = r.list("data");
    EXPECT_NE(std::find(names.begin(), names.end(), "caf\xe9-latin1"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "back\xef\x81\x9cslash"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "colon:name"), names.end());
    EXPECT_EQ(r.read("data/caf\xe9-latin1"), "raw name\n");
    // Implicit parents: 040755, root-owned, Unix epoch.
    EXPECT_EQ(r.eas("data/sub/very"), lxEas(0, 0, 040755));
    EXPECT_EQ(r.stat("data/sub").LastWriteTime, 116444736000000000LL);
    EXPECT_EQ(r.read("data/sub/very/" + std::string(150, 'n')), "deep\n");
    // Whiteouts are invisible when the layer is read alone; the opaque directory keeps its own entries.
    EXPECT_FALSE(r.exists("data/deleted"));
    EXPECT_FALSE(r.exists("data/.wh.deleted"));
    EXPECT_EQ(r.list("opaque"), std::vector<std::string>{"kept"});
}

TEST(LayerImport, WindowsGolden) {
    TempDir d;
    // A self-relative SD: owner SID S-1-5-18 at offset 20, no DACL.
    std::string sd("\x01\x00\x00\x80\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                   "\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00",
                   32);
    auto b64 = [](const std::string& s) {
        static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string o;
        size_t i = 0;
        for (; i + 2 < s.size(); i += 3) {
            uint32_t x = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
            o += t[x >> 18], o += t[(x >> 12) & 63], o += t[(x >> 6) & 63], o += t[x & 63];
        }
        if (s.size() - i == 1) {
            uint32_t x = uint8_t(s[i]) << 16;
            o += t[x >> 18], o += t[(x >> 12) & 63], o += "==";
        } else if (s.size() - i == 2) {
            uint32_t x = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
            o += t[x >> 18], o += t[(x >> 12) & 63], o += t[(x >> 6) & 63], o += '=';
        }
        return o;
    };
    std::vector<Entry> v;
    auto add = [&](Entry e) { v.push_back(std::move(e)); };
    Entry files;
    files.name = "Files/";
    files.type = '5';
    files.pax = {{"MSWINDOWS.fileattr", "16"}, {"MSWINDOWS.rawsd", b64(sd)}};
    add(files);
    Entry f;
    f.name = "Files/Readme.TXT";
    f.data = "hello windows\n";
    f.pax = {{"MSWINDOWS.fileattr", "33"},  // ARCHIVE | READONLY
             {"MSWINDOWS.rawsd", b64(sd)},
             {"MSWINDOWS.xattr.ZNAME", b64("zvalue")},
             {"MSWINDOWS.xattr.ANAME", b64("avalue")},
             {"LIBARCHIVE.creationtime", "1600000000.5"},
             {"mtime", "1700000000.1234567"},
             {"atime", "1700000001"}};
    add(f);
    Entry ads;
    ads.name = "Files/Readme.TXT:Zone.Identifier:$DATA";
    ads.data = "[ZoneTransfer]\n";
    add(ads);
    ads.name = "Files/Readme.TXT:plain";  // go-winio exporter spelling
    ads.data = "p";
    add(ads);
    Entry l;
    l.name = "Files/rel";
    l.type = '2';
    l.link = "a";
    l.pax = {{"MSWINDOWS.fileattr", "1056"}};
    add(l);
    Entry j;
    j.name = "Files/junction";
    j.type = '2';
    j.link = "C:/Windows";
    j.pax = {{"MSWINDOWS.fileattr", "16"}, {"MSWINDOWS.mountpoint", "1"}};
    add(j);
    Entry h;
    h.name = "Files/hard.txt";
    h.type = '1';
    h.link = "Files/Readme.TXT";
    add(h);
    Entry w;
    w.name = "Files/.wh.old";
    add(w);
    Entry hv;
    hv.name = "Hives/SOFTWARE_DELTA";
    hv.data = "regf";
    add(hv);
    writeFile(d / "w.tar", tartest::build(v));
    ASSERT_EQ(importTar(d / "w.tar", d / "w.bcim", options()), 0) << CimGetLastErrorMessage();

    Reader r(d / "w.bcim");
    EXPECT_EQ(r.sd("Files"), sd);
    auto i = r.stat("Files/Readme.TXT");
    EXPECT_EQ(i.Attributes, 0x21u);
    EXPECT_EQ(i.LastWriteTime, 1700000000LL * 10000000 + 1234567 + 116444736000000000LL);
    EXPECT_EQ(i.CreationTime, 1600000000LL * 10000000 + 5000000 + 116444736000000000LL);
    EXPECT_EQ(i.LastAccessTime, 1700000001LL * 10000000 + 116444736000000000LL);
    EXPECT_EQ(i.ChangeTime, i.LastWriteTime);  // no ctime: falls back to mtime
    EXPECT_EQ(r.read("Files/Readme.TXT"), "hello windows\n");
    EXPECT_EQ(r.read("files/README.txt"), "hello windows\n");  // case-insensitive image
    EXPECT_EQ(r.sd("Files/Readme.TXT"), sd);
    // EAs sorted by name, flags 0, padded to 4.
    EXPECT_EQ(r.eas("Files/Readme.TXT"), lxEa("ANAME", "avalue", false) + lxEa("ZNAME", "zvalue", true));
    // Alternate streams, both spellings.
    std::set<std::pair<std::string, uint64_t>> streams;
    for (uint32_t k = 0;; ++k) {
        char name[256];
        uint32_t n = sizeof name;
        uint64_t size = 0;
        HRESULT e = CimEnumerateAlternateStreams(r.h, "Files/Readme.TXT", k, name, &n, &size);
        if (e) break;
        streams.insert({name, size});
    }
    EXPECT_EQ(streams, (std::set<std::pair<std::string, uint64_t>>{{"Zone.Identifier", 15}, {"plain", 1}}));
    EXPECT_EQ(r.read("Files/Readme.TXT:Zone.Identifier"), "[ZoneTransfer]\n");
    // Relative symlink to "a": the 28-byte buffer of the reference (§7).
    EXPECT_EQ(r.reparse("Files/rel"),
              std::string("\x0c\x00\x00\xa0\x14\x00\x00\x00\x00\x00\x02\x00\x04\x00\x02\x00\x01\x00\x00\x00"
                          "a\0\0\0a\0\0\0",
                          28));
    EXPECT_EQ(r.stat("Files/rel").Attributes, 0x420u);
    EXPECT_EQ(r.sd("Files/rel"), kNullSd);
    // Junction to C:\Windows: substitute \??\C:\Windows, print C:\Windows, no flags field.
    std::u16string sub = u"\\??\\C:\\Windows", print = u"C:\\Windows";
    std::string jb(16, '\0');
    uint32_t tag = 0xA0000003;
    std::memcpy(&jb[0], &tag, 4);
    uint16_t dl = uint16_t(8 + sub.size() * 2 + 2 + print.size() * 2 + 2), sl = uint16_t(sub.size() * 2),
             po = uint16_t(sl + 2), pl = uint16_t(print.size() * 2);
    std::memcpy(&jb[4], &dl, 2);
    std::memcpy(&jb[10], &sl, 2);
    std::memcpy(&jb[12], &po, 2);
    std::memcpy(&jb[14], &pl, 2);
    jb.append(reinterpret_cast<const char*>(sub.data()), sl);
    jb.append(2, '\0');
    jb.append(reinterpret_cast<const char*>(print.data()), pl);
    jb.append(2, '\0');
    EXPECT_EQ(r.reparse("Files/junction"), jb);
    EXPECT_EQ(r.stat("Files/junction").Attributes, 0x410u);
    // Hard link within the layer; whiteout invisible; hive delta stored as is.
    EXPECT_EQ(r.stat("Files/hard.txt").FileId, i.FileId);
    EXPECT_FALSE(r.exists("Files/old"));
    EXPECT_EQ(r.read("Hives/SOFTWARE_DELTA"), "regf");
    // Not a base layer with config hives: no layout file.
    EXPECT_FALSE(r.exists("layout"));
}

TEST(LayerImport, WindowsBaseLayerHives) {
    TempDir d;
    std::vector<Entry> v;
    for (const char* n : {"Files/", "Files/Windows/", "Files/Windows/System32/", "Files/Windows/System32/config/"}) {
        Entry e;
        e.name = n;
        e.type = '5';
        e.pax = {{"MSWINDOWS.fileattr", "16"}};
        v.push_back(e);
    }
    for (const char* n : {"SYSTEM", "SOFTWARE", "DEFAULT"}) {
        Entry e;
        e.name = std::string("Files/Windows/System32/config/") + n;
        e.data = std::string("hive ") + n;
        v.push_back(e);
    }
    writeFile(d / "b.tar", tartest::build(v));
    ASSERT_EQ(importTar(d / "b.tar", d / "b.bcim", options()), 0) << CimGetLastErrorMessage();
    Reader r(d / "b.bcim");
    EXPECT_EQ(r.read("layout"), "vhd-with-hives\n");
    EXPECT_EQ(r.stat("Hives/SYSTEM_BASE").FileId, r.stat("Files/Windows/System32/config/SYSTEM").FileId);
    EXPECT_EQ(r.stat("Hives/DEFAULTUSER_BASE").FileId, r.stat("Files/Windows/System32/config/DEFAULT").FileId);
    EXPECT_FALSE(r.exists("Hives/SAM_BASE"));
}

TEST(LayerImport, WindowsSddlIsRefused) {
    TempDir d;
    Entry e;
    e.name = "Files/a.txt";
    e.data = "x";
    e.pax = {{"MSWINDOWS.sd", "O:SYG:SYD:(A;;FA;;;SY)"}};
    writeFile(d / "s.tar", tartest::build({e}));
    EXPECT_EQ(importTar(d / "s.tar", d / "s.bcim", options()), (HRESULT)0x80070032);
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("Files/a.txt"), std::string::npos);
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("SDDL"), std::string::npos);
    EXPECT_EQ(listDir(d.path), std::set<std::string>{"s.tar"});
}

TEST(LayerImport, ImplicitParentsLeadingSlashAndDuplicates) {
    TempDir d;
    std::vector<Entry> v(4);
    v[0].name = "/abs/dir/file";  // leading '/' is dropped
    v[0].data = "first";
    v[1].name = "./abs/dir/file";  // duplicate: later wins
    v[1].data = "second!";
    v[2].name = "abs//dir/./other";
    v[2].data = "o";
    v[3].name = "abs/dir/";  // directory entry after its children: updates metadata, keeps children
    v[3].type = '5';
    v[3].mode = 0700;
    v[3].uid = 5;
    writeFile(d / "p.tar", tartest::build(v));
    ASSERT_EQ(importTar(d / "p.tar", d / "p.bcim", options(CIM_LAYER_FORMAT_LINUX)), 0) << CimGetLastErrorMessage();
    Reader r(d / "p.bcim");
    EXPECT_EQ(r.read("abs/dir/file"), "second!");
    EXPECT_EQ(r.read("abs/dir/other"), "o");
    EXPECT_EQ(r.eas("abs/dir"), lxEas(5, 0, 040700));
    EXPECT_EQ(r.eas("abs"), lxEas(0, 0, 040755));
}

TEST(LayerImport, DeterministicAcrossThreadCounts) {
    TempDir d;
    auto v = linuxLayer();
    for (int i = 0; i < 40; ++i) {  // many files, some over the inline and chunk sizes
        Entry e;
        e.name = "bulk/f" + std::to_string(i);
        e.data = std::string(size_t(i) * 37000 + size_t(i), char('a' + i % 26));
        v.push_back(e);
    }
    Entry big;
    big.name = "bulk/big";
    big.data = std::string(3 << 20, 'B');
    for (size_t k = 0; k < big.data.size(); k += 4096) big.data[k] = char(k / 4096);
    v.push_back(big);
    writeFile(d / "t.tar", tartest::build(v));
    ASSERT_EQ(importTar(d / "t.tar", d / "t1.bcim", options(0, 1)), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(importTar(d / "t.tar", d / "t2.bcim", options(0, 2)), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(importTar(d / "t.tar", d / "t3.bcim", options(0, 2)), 0) << CimGetLastErrorMessage();
    std::string a = readFile(d / "t1.bcim");
    EXPECT_GT(a.size(), 4u << 20);
    EXPECT_TRUE(a == readFile(d / "t2.bcim"));
    EXPECT_TRUE(a == readFile(d / "t3.bcim"));
    Reader r(d / "t2.bcim");
    EXPECT_EQ(r.read("bulk/big"), big.data);
    EXPECT_EQ(r.read("bulk/f39"), v[v.size() - 2].data);
}

TEST(LayerImport, CompressedInputs) {
    TempDir d;
    writeFile(d / "c.tar", tartest::build(linuxLayer()));
    ASSERT_EQ(importTar(d / "c.tar", d / "plain.bcim", options()), 0) << CimGetLastErrorMessage();
    std::string plain = readFile(d / "plain.bcim");
    int tested = 0;
    for (auto [tool, ext] : {std::pair{"gzip", "gz"}, {"zstd", "zst"}, {"xz", "xz"}, {"bzip2", "bz2"}}) {
        if (!haveTool(tool)) continue;
        std::string out = d / (std::string("c.tar.") + ext);
        ASSERT_EQ(std::system((std::string(tool) + " -c '" + (d / "c.tar") + "' > '" + out + "'").c_str()), 0);
        std::string block = d / (std::string(ext) + ".bcim");
        ASSERT_EQ(importTar(out, block, options()), 0) << tool << ": " << CimGetLastErrorMessage();
        EXPECT_TRUE(readFile(block) == plain) << tool;
        ++tested;
    }
    if (!tested) GTEST_SKIP() << "no gzip/zstd/xz/bzip2 on this machine";
}

TEST(LayerImport, FromPipe) {
    TempDir d;
    std::string tar = tartest::build(linuxLayer());
    writeFile(d / "p.tar", tar);
    ASSERT_EQ(importTar(d / "p.tar", d / "file.bcim", options()), 0) << CimGetLastErrorMessage();
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::thread writer([&] {
        size_t off = 0;
        while (off < tar.size()) {
            ssize_t n = write(fds[1], tar.data() + off, std::min<size_t>(tar.size() - off, 7777));
            if (n <= 0) break;
            off += size_t(n);
        }
        close(fds[1]);
    });
    auto o = options();
    HRESULT r = CimImportLayerFromFd(fds[0], (d / "pipe.bcim").c_str(), "layer.cim", &o, nullptr);
    writer.join();
    close(fds[0]);
    ASSERT_EQ(r, 0) << CimGetLastErrorMessage();
    EXPECT_TRUE(readFile(d / "pipe.bcim") == readFile(d / "file.bcim"));
}

TEST(LayerImport, VerifiedWithVhdFooter) {
    TempDir d;
    writeFile(d / "v.tar", tartest::build(linuxLayer()));
    CIMFS_IMPORT_RESULT res;
    std::memset(&res, 0, sizeof res);
    res.Size = sizeof res;
    ASSERT_EQ(importTar(d / "v.tar", d / "v.bcim", options(0, 2, CIM_IMPORT_VERIFIED | CIM_IMPORT_VHD_FOOTER), &res), 0)
        << CimGetLastErrorMessage();
    std::string hex;
    for (uint8_t b : res.RootHash) {
        char x[3];
        std::snprintf(x, sizeof x, "%02x", b);
        hex += x;
    }
    EXPECT_NE(hex, std::string(64, '0'));
    EXPECT_EQ(readFile(d / "integrity_checksum"), hex);
    uint32_t sealed = 0;
    uint64_t hs = 0, ss = 0, fh = 0;
    uint8_t hash[32];
    ASSERT_EQ(CimGetVerificationInformation((d / "v.bcim").c_str(), &sealed, &hs, &ss, &fh, hash, nullptr), 0)
        << CimGetLastErrorMessage();
    EXPECT_EQ(sealed, 1u);
    EXPECT_EQ(std::memcmp(hash, res.RootHash, 32), 0);
    std::string img = readFile(d / "v.bcim");
    ASSERT_GT(img.size(), 512u);
    EXPECT_EQ(img.size() % 512, 0u);
    EXPECT_EQ(img.substr(img.size() - 512, 8), "conectix");
    CIMFS_READER_HANDLE h = nullptr;
    ASSERT_EQ(CimOpenVerifiedImage((d / "v.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 32, res.RootHash, &h), 0)
        << CimGetLastErrorMessage();
    Reader r(h);
    EXPECT_EQ(r.read("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    // Same input, same verified output.
    TempDir d2;
    ASSERT_EQ(importTar(d / "v.tar", d2 / "v.bcim", options(0, 1, CIM_IMPORT_VERIFIED | CIM_IMPORT_VHD_FOOTER)), 0);
    EXPECT_TRUE(readFile(d2 / "v.bcim") == img);
}

TEST(LayerImport, ArgumentErrors) {
    TempDir d;
    writeFile(d / "a.tar", tartest::build(linuxLayer()));
    auto o = options();
    o.Size = 8;
    EXPECT_EQ(importTar(d / "a.tar", d / "a.bcim", o), (HRESULT)0x80070057);
    o = options();
    o.Flags = 0x100;
    EXPECT_EQ(importTar(d / "a.tar", d / "a.bcim", o), (HRESULT)0x80070057);
    o = options();
    o.LayerFormat = 7;
    EXPECT_EQ(importTar(d / "a.tar", d / "a.bcim", o), (HRESULT)0x80070057);
    EXPECT_EQ(importTar(d / "missing.tar", d / "a.bcim", options()), (HRESULT)0x80070002);
    EXPECT_EQ(CimImportLayer(nullptr, "x", "y", nullptr, nullptr), (HRESULT)0x80070057);
    EXPECT_EQ(CimImportLayerFromFd(-1, "x", "y", nullptr, nullptr), (HRESULT)0x80070057);
    ASSERT_EQ(CimImportLayer((d / "a.tar").c_str(), (d / "a.bcim").c_str(), "layer.cim", nullptr, nullptr), 0);
    EXPECT_EQ(importTar(d / "a.tar", d / "a.bcim", options()), (HRESULT)0x80070050);  // exists
    EXPECT_EQ(importTar(d / "a.tar", d / "nodir/a.bcim", options()), (HRESULT)0x80070003);
    EXPECT_EQ(CimExportLayer((d / "a.bcim").c_str(), "nope.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, (d / "o.tar").c_str()),
              (HRESULT)0x80070002);
    EXPECT_FALSE(listDir(d.path).count("o.tar"));
}

// ---- Hostile input: each is refused with ERROR_INVALID_DATA naming the entry, leaving nothing. ----

struct Hostile {
    const char* name;
    std::string tar;
    const char* mention;        // substring the message must contain
    uint64_t limit = 0;         // MaxUncompressedBytes
    HRESULT code = kInvalidData;
    uint32_t format = CIM_LAYER_FORMAT_AUTO;
};

std::vector<Hostile> hostileCases() {
    std::vector<Hostile> c;
    auto one = [](Entry e) { return tartest::build({std::move(e)}); };
    Entry e;
    e.name = "a/../../etc/passwd";
    e.data = "x";
    c.push_back({"dotdot", one(e), "a/../../etc/passwd"});
    e.name = "../x";
    c.push_back({"dotdot_first", one(e), "'../x'"});
    e.name = "C:/Windows/evil";
    c.push_back({"drive_letter", one(e), "drive letter"});
    e.name = "Files/C:";
    e.data = "";
    c.push_back({"windows_drive_like_stream", one(e), "Files/C:"});
    e = Entry{};
    e.name = "ok";
    e.pax = {{"path", std::string("evil\0name", 9)}};
    e.data = "x";
    c.push_back({"nul_in_pax_path", one(e), "NUL"});
    e = Entry{};
    e.name = "bell\x07name";
    c.push_back({"control_char", one(e), "control character"});
    e.name = "short";
    e.data = "only ten b";
    e.declaredSize = 5000;
    {
        std::string t = one(e);
        t.resize(512 + 512);  // header + one data block, then the stream ends
        c.push_back({"short_data", t, "'short'"});
    }
    {
        e = Entry{};
        e.name = "truncated";
        e.data = "abc";
        std::string t = tartest::build({e}, false);
        c.push_back({"no_end_marker", t, "end-of-archive"});
        std::string half = tartest::build({e}).substr(0, 300);
        c.push_back({"header_cut", half, "truncated"});
    }
    e = Entry{};
    e.name = "corrupt";
    e.badChecksum = true;
    c.push_back({"bad_checksum", one(e), "checksum"});
    e = Entry{};
    e.name = "dir/" + std::string(256, 'n');
    c.push_back({"long_component", one(e), "exceeds 255"});
    e = Entry{};
    e.name = "huge";
    e.declaredSize = uint64_t(1) << 41;  // 2 TiB (base-256 size field), over the 1 TiB default
    c.push_back({"huge_size", one(e), "'huge'"});
    e = Entry{};
    e.name = "link";
    e.type = '1';
    e.link = "nowhere";
    c.push_back({"hard_link_to_nothing_linux", one(e), "hard link to nothing"});
    e.name = "./";
    e.link = "a";
    c.push_back({"hard_link_as_root", one(e), "root directory", 0, kInvalidData, CIM_LAYER_FORMAT_LINUX});
    e.name = "Files/link";
    e.link = "Files/nowhere";
    c.push_back({"hard_link_to_nothing_windows", one(e), "Files/link"});
    {
        std::vector<Entry> many(8);  // each under the limit, together over it
        for (size_t i = 0; i < many.size(); ++i) {
            many[i].name = "bomb" + std::to_string(i);
            many[i].data = std::string(256 << 10, '\0');
        }
        c.push_back({"bomb", tartest::build(many), "decompression bomb", 1 << 20});
        c.push_back({"size_over_limit", tartest::build({many[0]}), "exceeds the limit", 100 << 10});
    }
    e = Entry{};
    e.name = "Files/x.txt:stream:$FOO";
    c.push_back({"ads_type", one(e), "$DATA"});
    e = Entry{};
    e.name = "Files/a<b";
    c.push_back({"windows_forbidden_char", one(e), "Files/a<b"});
    e = Entry{};
    e.name = "weird";
    e.type = 'Z';
    c.push_back({"unknown_type", one(e), "unsupported entry type"});
    e = Entry{};
    e.name = "file";
    e.data = "f";
    Entry child;
    child.name = "file/child";
    c.push_back({"file_as_parent", tartest::build({e, child}), "not a directory"});
    e = Entry{};
    e.name = "xattr";
    e.pax = {{"SCHILY.xattr.user.big", std::string(70000, 'v')}};
    c.push_back({"xattr_too_big", one(e), "'xattr'"});
    return c;
}

class LayerImportHostile : public ::testing::TestWithParam<Hostile> {};

TEST_P(LayerImportHostile, RefusedAndNothingLeft) {
    const Hostile& h = GetParam();
    TempDir d;
    writeFile(d / "h.tar", h.tar);
    std::string outside = d / "outside";
    mkdir(outside.c_str(), 0755);
    auto o = options(h.format, 2);
    o.MaxUncompressedBytes = h.limit;
    HRESULT r = CimImportLayer((d / "h.tar").c_str(), (outside + "/../h.bcim").c_str(), "layer.cim", &o, nullptr);
    std::string msg = CimGetLastErrorMessage();
    if (std::getenv("OPENCIM_TEST_VERBOSE")) std::printf("%s\n", msg.c_str());
    EXPECT_EQ(r, h.code) << msg;
    EXPECT_NE(msg.find(h.mention), std::string::npos) << msg;
    EXPECT_TRUE(msg.starts_with("CimImportLayer: ")) << msg;
    EXPECT_EQ(listDir(d.path), (std::set<std::string>{"h.tar", "outside"}));
    EXPECT_TRUE(listDir(outside).empty());
    // Same with one thread.
    o.Threads = 1;
    EXPECT_EQ(CimImportLayer((d / "h.tar").c_str(), (d / "h.bcim").c_str(), "layer.cim", &o, nullptr), h.code);
    EXPECT_EQ(listDir(d.path), (std::set<std::string>{"h.tar", "outside"}));
}

INSTANTIATE_TEST_SUITE_P(Cases, LayerImportHostile, ::testing::ValuesIn(hostileCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(LayerImport, CorruptGzip) {
    if (!haveTool("gzip")) GTEST_SKIP() << "no gzip";
    TempDir d;
    writeFile(d / "g.tar", tartest::build(linuxLayer()));
    ASSERT_EQ(std::system(("gzip -c '" + (d / "g.tar") + "' > '" + (d / "g.tar.gz") + "'").c_str()), 0);
    std::string gz = readFile(d / "g.tar.gz");
    for (size_t i = gz.size() / 2; i < gz.size() / 2 + 64; ++i) gz[i] = char(gz[i] ^ 0x5A);
    writeFile(d / "bad.tar.gz", gz);
    EXPECT_EQ(importTar(d / "bad.tar.gz", d / "g.bcim", options()), kInvalidData) << CimGetLastErrorMessage();
    std::string cut = readFile(d / "g.tar.gz");
    writeFile(d / "cut.tar.gz", cut.substr(0, cut.size() - 20));  // loses the CRC trailer
    EXPECT_EQ(importTar(d / "cut.tar.gz", d / "g.bcim", options()), kInvalidData) << CimGetLastErrorMessage();
    EXPECT_FALSE(listDir(d.path).count("g.bcim"));
    // A real bomb: 64 MiB of zeros compress to ~64 KiB; refused at the 16 MiB limit.
    Entry z;
    z.name = "zeros";
    z.data = std::string(64 << 20, '\0');
    writeFile(d / "z.tar", tartest::build({z}));
    ASSERT_EQ(std::system(("gzip -c '" + (d / "z.tar") + "' > '" + (d / "z.tar.gz") + "'").c_str()), 0);
    auto o = options();
    o.MaxUncompressedBytes = 16 << 20;
    z.data.clear();
    EXPECT_EQ(importTar(d / "z.tar.gz", d / "z.bcim", o), kInvalidData);
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("exceeds the limit"), std::string::npos) << CimGetLastErrorMessage();
    std::vector<Entry> parts(8);
    for (size_t i = 0; i < parts.size(); ++i) {
        parts[i].name = "z" + std::to_string(i);
        parts[i].data = std::string(8 << 20, '\0');
    }
    writeFile(d / "zz.tar", tartest::build(parts));
    ASSERT_EQ(std::system(("gzip -c '" + (d / "zz.tar") + "' > '" + (d / "zz.tar.gz") + "'").c_str()), 0);
    EXPECT_EQ(importTar(d / "zz.tar.gz", d / "z.bcim", o), kInvalidData);
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("decompression bomb"), std::string::npos) << CimGetLastErrorMessage();
    EXPECT_FALSE(listDir(d.path).count("z.bcim"));
}

// ---- Layers stacked and merged: whiteouts, opaque directories and merge links. ----

TEST(LayerImport, MergeOfImportedLayers) {
    TempDir d;
    std::vector<Entry> base(6);
    base[0].name = "keep";
    base[0].data = "keep";
    base[1].name = "gone";
    base[1].data = "gone";
    base[2].name = "op/";
    base[2].type = '5';
    base[3].name = "op/lower";
    base[3].data = "lower";
    base[4].name = "target";
    base[4].data = "target data";
    base[5].name = "dir/";
    base[5].type = '5';
    writeFile(d / "base.tar", tartest::build(base));
    ASSERT_EQ(importTar(d / "base.tar", d / "base.bcim", options(CIM_LAYER_FORMAT_LINUX)), 0) << CimGetLastErrorMessage();

    std::vector<Entry> up(5);
    up[0].name = ".wh.gone";
    up[1].name = "op/.wh..wh..opq";
    up[2].name = "op/upper";
    up[2].data = "upper";
    up[3].name = "dir/link";  // hard link to a file of the parent layer: a merge link
    up[3].type = '1';
    up[3].link = "target";
    up[4].name = "dir/missing";
    up[4].type = '1';
    up[4].link = "nope";
    writeFile(d / "bad-up.tar", tartest::build(up));
    std::string basePath = d / "base.bcim";
    CIMFS_IMAGE_PATH parent{basePath.c_str(), "layer.cim"};
    auto o = options(CIM_LAYER_FORMAT_LINUX);
    o.NumParentLayers = 1;
    o.ParentLayers = &parent;
    // "dir/missing" is in neither layer.
    EXPECT_EQ(importTar(d / "bad-up.tar", d / "up.bcim", o), kInvalidData);
    EXPECT_NE(std::string(CimGetLastErrorMessage()).find("dir/missing"), std::string::npos);
    up.pop_back();
    writeFile(d / "up.tar", tartest::build(up));
    ASSERT_EQ(importTar(d / "up.tar", d / "up.bcim", o), 0) << CimGetLastErrorMessage();
    {
        Reader r(d / "up.bcim");
        EXPECT_FALSE(r.exists("dir/link"));  // merge links are invisible alone
    }

    CIMFS_IMAGE_HANDLE h = nullptr;
    ASSERT_EQ(CimCreateImage2((d / "merged.bcim").c_str(), CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM, nullptr,
                              "merged.cim", &h),
              0)
        << CimGetLastErrorMessage();
    ASSERT_EQ(CimAddFsToMergedImage2(h, (d / "up.bcim/layer.cim").c_str(), CIM_MERGE_SINGLE_FILE), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(CimAddFsToMergedImage2(h, (d / "base.bcim/layer.cim").c_str(), CIM_MERGE_SINGLE_FILE), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(CimCommitImage(h), 0) << CimGetLastErrorMessage();
    CimCloseImage(h);
    std::string m = d / "merged.bcim", u = d / "up.bcim", b = d / "base.bcim";
    CIMFS_IMAGE_PATH paths[] = {{m.c_str(), "merged.cim"}, {u.c_str(), "layer.cim"}, {b.c_str(), "layer.cim"}};
    CIMFS_READER_HANDLE rh = nullptr;
    ASSERT_EQ(CimOpenMergedImage(3, paths, CIM_MOUNT_SINGLE_FILE_CIM, &rh), 0) << CimGetLastErrorMessage();
    Reader r(rh);
    EXPECT_EQ(r.read("keep"), "keep");
    EXPECT_FALSE(r.exists("gone"));
    EXPECT_EQ(r.list("op"), std::vector<std::string>{"upper"});
    EXPECT_EQ(r.read("dir/link"), "target data");
    EXPECT_EQ(r.stat("dir/link").FileId, r.stat("target").FileId);
}

// ---- Export: tar -> CIM -> tar. ----

namespace {

// tar1 -> cim1 -> tar2 -> cim2 -> tar3 -> cim3: tar2 == tar3 and cim2 == cim3 byte for byte.
void fixedPoint(const TempDir& d, const std::string& tar1, uint32_t format) {
    writeFile(d / "t1.tar", tar1);
    ASSERT_EQ(importTar(d / "t1.tar", d / "c1.bcim", options(format)), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(CimExportLayer((d / "c1.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, (d / "t2.tar").c_str()), 0)
        << CimGetLastErrorMessage();
    ASSERT_EQ(importTar(d / "t2.tar", d / "c2.bcim", options(format)), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(CimExportLayer((d / "c2.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, (d / "t3.tar").c_str()), 0)
        << CimGetLastErrorMessage();
    ASSERT_EQ(importTar(d / "t3.tar", d / "c3.bcim", options(format)), 0) << CimGetLastErrorMessage();
    EXPECT_TRUE(readFile(d / "t2.tar") == readFile(d / "t3.tar"));
    EXPECT_TRUE(readFile(d / "c2.bcim") == readFile(d / "c3.bcim"));
}

// Compares two tars entry by entry with Python's tarfile (an independent reader): names, types,
// modes, owners, link targets, device numbers, xattrs, whiteouts and data. Directories only
// present in the second one (implicit parents) are ignored.
void compareWithPython(const TempDir& d, const std::string& a, const std::string& b) {
    if (!haveTool("python3")) GTEST_SKIP() << "python3 not available";
    const char* script = R"PY(
import sys, tarfile, hashlib
def load(p):
    out = {}
    with tarfile.open(p) as t:
        for m in t:
            name = m.name.rstrip('/')
            name = '.' if name in ('', '.') else name[2:] if name.startswith('./') else name
            data = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isreg() else None
            x = {k: v for k, v in m.pax_headers.items() if k.startswith('SCHILY.xattr.') or k.startswith('MSWINDOWS.')}
            out[name] = (m.type, m.mode if not m.islnk() else None, m.uid, m.gid, m.linkname if m.issym() else None,
                         (m.devmajor, m.devminor) if m.ischr() or m.isblk() else None, x, data,
                         m.linkname if m.islnk() else None, round(m.mtime * 1e7) if not m.name.split('/')[-1].startswith('.wh.') else 0)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
bad = 0
links_a = {k: v[8] for k, v in a.items() if v[8]}
for k, v in a.items():
    w = b.get(k)
    if w is None: print('missing', k); bad = 1; continue
    if v[8] or w[8]:
        # a hard link group may pick another name as the file: compare the group's data instead
        continue
    # times: a CIM keeps 100 ns (FILETIME) precision; Python's float mtimes lose a little more
    if v[:9] != w[:9] or abs(v[9] - w[9]) > 10: print('differs', k, v, w); bad = 1
for k, v in b.items():
    if k not in a and v[0] != tarfile.DIRTYPE: print('extra', k); bad = 1
sys.exit(bad)
)PY";
    writeFile(d / "cmp.py", script);
    std::string cmd = "python3 '" + (d / "cmp.py") + "' '" + a + "' '" + b + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace

TEST(LayerExport, LinuxRoundTrip) {
    TempDir d;
    fixedPoint(d, tartest::build(linuxLayer()), CIM_LAYER_FORMAT_AUTO);
    // Linux export is chosen from the image (identity upcase table), without being told.
    std::string t2 = readFile(d / "t2.tar");
    EXPECT_NE(t2.find("SCHILY.xattr.security.capability"), std::string::npos);
    EXPECT_NE(t2.find("usr/bin/.wh.") == std::string::npos ? t2.find("data/.wh.deleted") : 0, std::string::npos);
    EXPECT_NE(t2.find("opaque/.wh..wh..opq"), std::string::npos);
    compareWithPython(d, d / "t1.tar", d / "t2.tar");
}

TEST(LayerExport, WindowsRoundTrip) {
    TempDir d;
    std::vector<Entry> v(5);
    v[0].name = "Files/";
    v[0].type = '5';
    v[0].pax = {{"MSWINDOWS.fileattr", "16"}};
    v[0].mode = 0755;  // the modes go-winio writes (Windows layers ignore them)
    v[3].mode = 0777;
    v[1].name = "Files/a.txt";
    v[1].data = "data";
    v[1].pax = {{"MSWINDOWS.fileattr", "34"}, {"MSWINDOWS.xattr.NAME", "dmFsdWU="}, {"LIBARCHIVE.creationtime", "1500000000"}};
    v[2].name = "Files/a.txt:s:$DATA";
    v[2].data = "stream";
    v[3].name = "Files/l";
    v[3].type = '2';
    v[3].link = "a.txt";
    v[3].pax = {{"MSWINDOWS.fileattr", "1056"}};
    v[4].name = "Files/.wh.x";
    fixedPoint(d, tartest::build(v), CIM_LAYER_FORMAT_WINDOWS);
    std::string t2 = readFile(d / "t2.tar");
    EXPECT_NE(t2.find("Files/a.txt:s:$DATA"), std::string::npos);
    EXPECT_NE(t2.find("MSWINDOWS.xattr.NAME=dmFsdWU="), std::string::npos);
    EXPECT_NE(t2.find("Files/.wh.x"), std::string::npos);
    compareWithPython(d, d / "t1.tar", d / "t2.tar");
}

TEST(LayerExport, ToStdoutPipe) {
    TempDir d;
    writeFile(d / "s.tar", tartest::build(linuxLayer()));
    ASSERT_EQ(importTar(d / "s.tar", d / "s.bcim", options()), 0);
    ASSERT_EQ(CimExportLayer((d / "s.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, (d / "f.tar").c_str()), 0);
    int saved = dup(STDOUT_FILENO);
    int fd = open((d / "o.tar").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    HRESULT r = CimExportLayer((d / "s.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, "-");
    dup2(saved, STDOUT_FILENO);
    close(fd);
    close(saved);
    ASSERT_EQ(r, 0) << CimGetLastErrorMessage();
    EXPECT_TRUE(readFile(d / "o.tar") == readFile(d / "f.tar"));
}

// Real data: a tar of files installed on this machine (with xattrs) survives tar -> CIM -> tar.
TEST(LayerExport, RealFilesRoundTrip) {
    if (std::system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) GTEST_SKIP() << "GNU tar not available";
    TempDir d;
    std::string cmd = "tar --xattrs --format=pax -cf '" + (d / "real.tar") + "' -C / etc usr/share/doc usr/lib/os-release 2>/dev/null";
    std::system(cmd.c_str());  // unreadable files make tar exit 2; the archive is still valid
    ASSERT_GT(readFile(d / "real.tar").size(), 1u << 20);
    ASSERT_EQ(importTar(d / "real.tar", d / "real.bcim", options(0, 2)), 0) << CimGetLastErrorMessage();
    ASSERT_EQ(CimExportLayer((d / "real.bcim").c_str(), "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 0, (d / "back.tar").c_str()), 0)
        << CimGetLastErrorMessage();
    compareWithPython(d, d / "real.tar", d / "back.tar");
}
