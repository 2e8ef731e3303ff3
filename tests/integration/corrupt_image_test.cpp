// Damaged images: truncated or altered .cim, region and block files must give 0x80070570 (or
// 0x80070002 for a missing file) with a message, from CimOpenImage or from a later call, and
// never crash. The targeted cases follow the documented v2 layout (docs/format.md); a few hundred
// random byte flips (fixed seed, printed) check that every call fails cleanly or succeeds.
#include <cstring>

#include "test_util.h"

using namespace itest;

namespace {

// ---- the pristine images, built once ----

const uint8_t kSd[] = {// self-relative SD: owner S-1-5-18, DACL granting Everyone (S-1-1-0) GENERIC_ALL
                       1, 0, 0x04, 0x80, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,  // header
                       1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,                                 // owner
                       2, 0, 28, 0, 1, 0, 0, 0,                                             // ACL
                       0, 0, 20, 0, 0, 0, 0, 0x10, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};     // ACE
const uint8_t kEa[] = {16, 0, 0, 0, 0, 2, 3, 0, 'E', '1', 0, 'a', 'b', 'c', 0, 0,
                       0,  0, 0, 0, 0, 2, 1, 0, 'E', '2', 0, 'z'};

std::vector<uint8_t> symlinkReparse() {
    std::u16string target = u"\\??\\C:\\target";
    std::vector<uint8_t> b(20 + target.size() * 2);
    uint32_t tag = 0xA000000C;
    uint16_t dataLen = static_cast<uint16_t>(b.size() - 8), nameBytes = static_cast<uint16_t>(target.size() * 2);
    std::memcpy(&b[0], &tag, 4);
    std::memcpy(&b[4], &dataLen, 2);
    std::memcpy(&b[10], &nameBytes, 2);  // SubstituteName: offset 0, this length
    std::memcpy(&b[14], &nameBytes, 2);  // PrintName: same text
    std::memcpy(&b[20], target.data(), nameBytes);
    return b;
}

HRESULT writeContent(CIMFS_IMAGE_HANDLE h) {
    if (HRESULT hr = addDir(h, "d"); hr < 0) return hr;
    if (HRESULT hr = addDir(h, "d\\sub"); hr < 0) return hr;
    if (HRESULT hr = addFile(h, "d\\small.txt", "small file data"); hr < 0) return hr;
    if (HRESULT hr = addFile(h, "big.bin", std::string(20000, 'B')); hr < 0) return hr;
    if (HRESULT hr = CimCreateHardLink(h, "d\\sub\\link", "big.bin"); hr < 0) return hr;
    auto rp = symlinkReparse();
    CIMFS_FILE_METADATA md = fileMetadata(5, kAttrHidden);
    md.SecurityDescriptorBuffer = kSd;
    md.SecurityDescriptorSize = sizeof kSd;
    md.ExtendedAttributes = kEa;
    md.EACount = sizeof kEa;
    md.ReparseDataBuffer = rp.data();
    md.ReparseDataSize = static_cast<uint32_t>(rp.size());
    CIMFS_STREAM_HANDLE s = nullptr;
    if (HRESULT hr = CimCreateFile(h, "meta.txt", &md, &s); hr < 0) return hr;
    if (HRESULT hr = CimWriteStream(s, "hello", 5); hr < 0) return hr;
    if (HRESULT hr = CimCloseStream(s); hr < 0) return hr;
    if (HRESULT hr = addStream(h, "meta.txt:s", std::string(100, 'S')); hr < 0) return hr;
    for (int i = 0; i < 30; ++i) {
        std::string n = "d\\file" + std::to_string(i);
        if (HRESULT hr = addFile(h, n.c_str(), std::string(static_cast<size_t>(i) * 13, 'f')); hr < 0) return hr;
    }
    return kOk;
}

// Built on first use, removed at exit.
struct Pristine {
    TempDir dir;  // standard image "img.cim" and block file "layer.bcim" (CIM "layer.cim")
    std::vector<std::string> files;

    Pristine() {
        EXPECT_TRUE(buildStandard(dir.path(), nullptr, "img.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(writeContent(h)); }));
        EXPECT_TRUE(buildBlock(dir / "layer.bcim", CIM_CREATE_IMAGE_SINGLE_FILE_CIM, "layer.cim",
                               [](CIMFS_IMAGE_HANDLE h) { return ok(writeContent(h)); }));
        files = dir.list();
    }
};

const Pristine& pristine() {
    static const Pristine p;
    return p;
}

// A private copy of the pristine images to damage.
struct Copy {
    TempDir dir;
    Copy() {
        for (const auto& f : pristine().files) fs::copy_file(pristine().dir / f, dir / f);
    }
};

// ---- the documented v2 layout, to aim at structures ----

struct Loc {
    std::string file;
    uint64_t offset;
};

class Layout {
public:
    Layout(const std::string& dir, const std::string& cim) : dir_(dir), cim_(dir + "/" + cim) {
        guid_ = readCimHeader(cim_).ownSet;
        fsOffset_ = get64({cim_, 56});
    }
    const std::string& cimFile() const { return cim_; }
    std::string region(uint32_t i) const { return dir_ + "/region_" + guid_ + "_" + std::to_string(i); }
    Loc at(uint64_t regionOffset) const { return {region(static_cast<uint32_t>(regionOffset >> 48)), regionOffset & 0xFFFFFFFFFFFFull}; }
    Loc filesystem() const { return at(fsOffset_); }
    Loc fileTableDirectory() const { return at(get64(filesystem())); }
    Loc fileTableDirectoryEntry() const { return at(get64(shift(filesystem(), 8))); }
    Loc record(uint32_t id) const {
        Loc e = fileTableDirectoryEntry();
        uint16_t entrySize = static_cast<uint16_t>(get(shift(e, 10), 2));
        Loc t = at(get64(e));
        return shift(t, uint64_t(id - 1) * entrySize);
    }
    // The link table of a directory record.
    Loc linkTable(uint32_t dirId) const { return at(get64(shift(record(dirId), 40))); }

    static Loc shift(Loc l, uint64_t by) { return {l.file, l.offset + by}; }
    static uint64_t get(const Loc& l, int bytes) {
        auto b = readHostFile(l.file);
        uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = v << 8 | (l.offset + i < b.size() ? b[l.offset + i] : 0);
        return v;
    }
    static uint64_t get64(const Loc& l) { return get(l, 8); }
    static void put(const Loc& l, uint64_t v, int bytes) {
        auto b = readHostFile(l.file);
        ASSERT_LE(l.offset + bytes, b.size()) << l.file;
        for (int i = 0; i < bytes; ++i) b[l.offset + i] = static_cast<uint8_t>(v >> (8 * i));
        writeHostFile(l.file, b);
    }

private:
    std::string dir_, cim_, guid_;
    uint64_t fsOffset_ = 0;
};

void truncateTo(const std::string& path, uint64_t size) { fs::resize_file(path, size); }

// ---- exercising every reader call ----

struct Probe {
    CIMFS_READER_HANDLE r;
    SplitMix64* rng;
    int entries = 0;
    bool sawCorrupt = false;
    std::vector<std::string> problems;  // calls that broke the contract

    // Records a call's outcome; returns true on success.
    bool note(HRESULT hr, const std::string& what) {
        std::string msg = CimGetLastErrorMessage();
        if (hr >= 0) {
            if (!msg.empty()) problems.push_back(what + ": success with message \"" + msg + "\"");
            return true;
        }
        if (msg.empty()) problems.push_back(what + ": " + hex(hr) + " without a message");
        if (hr == kCorrupt) sawCorrupt = true;
        return false;
    }

    void blob(BlobGetter get, const std::string& path, const char* what) {
        uint32_t size = 0;
        HRESULT hr = get(r, path.c_str(), nullptr, &size);
        if (hr == kInsufficientBuffer) {
            std::vector<uint8_t> b(size);
            note(get(r, path.c_str(), b.data(), &size), what + (": " + path));
        } else {
            note(hr, what + (": " + path));
        }
    }

    void read(const std::string& path, int64_t size) {
        std::vector<char> buf(65536);
        uint64_t offsets[] = {0, size > 100 ? uint64_t(size - 100) : 0, size > 0 ? rng->below(uint64_t(size)) : 0};
        for (uint64_t off : offsets) {
            uint32_t n = 0;
            if (!note(CimReadFile(r, path.c_str(), off, buf.data(), static_cast<uint32_t>(buf.size()), &n), "CimReadFile " + path)) {
                return;
            }
            if (n > buf.size()) problems.push_back("CimReadFile " + path + ": bytesRead past the buffer");
        }
    }

    void file(const std::string& path, const CIMFS_FILE_INFO& info) {
        blob(CimGetSecurityDescriptor, path, "CimGetSecurityDescriptor");
        blob(CimGetExtendedAttributes, path, "CimGetExtendedAttributes");
        blob(CimGetReparseData, path, "CimGetReparseData");
        if (!(info.Attributes & kAttrDirectory)) read(path, info.FileSize);
        for (uint32_t i = 0; i < 64; ++i) {
            char name[1024];
            uint32_t n = sizeof name;
            uint64_t size = 0;
            HRESULT hr = CimEnumerateAlternateStreams(r, path.c_str(), i, name, &n, &size);
            if (hr == kNoMoreFiles) break;
            if (!note(hr, "CimEnumerateAlternateStreams " + path)) break;
            read(path + ":" + name, static_cast<int64_t>(std::min<uint64_t>(size, INT64_MAX)));
        }
    }

    void dir(const std::string& path, int depth) {
        if (depth > 24) return;
        for (uint32_t i = 0; entries < 3000; ++i, ++entries) {
            std::vector<char> name(256);
            uint32_t n = static_cast<uint32_t>(name.size());
            CIMFS_FILE_INFO info = newInfo();
            HRESULT hr = CimEnumerateDirectory(r, path.c_str(), i, name.data(), &n, &info);
            if (hr == kInsufficientBuffer && n > name.size() && n < (1u << 20)) {
                name.resize(n);
                hr = CimEnumerateDirectory(r, path.c_str(), i, name.data(), &n, &info);
            }
            if (hr == kNoMoreFiles) {
                if (*CimGetLastErrorMessage() == '\0') problems.push_back("CimEnumerateDirectory: end without a message");
                break;
            }
            if (!note(hr, "CimEnumerateDirectory " + path)) break;
            std::string child = path.empty() ? std::string(name.data()) : path + "\\" + name.data();
            CIMFS_FILE_INFO st;
            if (!note(statPath(r, child.c_str(), &st), "CimStatPath " + child)) continue;
            file(child, st);
            if (st.Attributes & kAttrDirectory) dir(child, depth + 1);
        }
    }
};

// Opens and walks an image; returns the Probe (problems empty when every call kept the contract).
struct Outcome {
    HRESULT open = kOk;
    std::string openMessage;
    bool sawCorrupt = false;
    std::vector<std::string> problems;
};

Outcome explore(const std::string& dir, const char* name, uint32_t flags, uint64_t seed) {
    Outcome o;
    ReaderHandle r;
    o.open = CimOpenImage(dir.c_str(), name, flags, r.out());
    o.openMessage = CimGetLastErrorMessage();
    if (o.open < 0) {
        if (o.openMessage.empty()) o.problems.push_back("CimOpenImage failed " + hex(o.open) + " without a message");
        if (r.get()) o.problems.push_back("CimOpenImage failed but returned a handle");
        return o;
    }
    if (!o.openMessage.empty()) o.problems.push_back("CimOpenImage succeeded with a message");
    SplitMix64 rng(seed);
    Probe p{r.get(), &rng};
    CIMFS_FILE_INFO root;
    if (p.note(statPath(r, "", &root), "CimStatPath root")) p.file("", root);
    p.dir("", 0);
    o.sawCorrupt = p.sawCorrupt;
    o.problems = std::move(p.problems);
    return o;
}

// The damage must be reported as corruption (`want`), at open or by a later call.
void expectDetected(const Outcome& o, HRESULT want = kCorrupt) {
    for (const auto& p : o.problems) ADD_FAILURE() << p;
    if (o.open < 0) {
        EXPECT_EQ(hex(o.open), hex(want)) << o.openMessage;
        EXPECT_FALSE(o.openMessage.empty());
        EXPECT_EQ(o.openMessage.rfind("CimOpenImage", 0), 0u) << o.openMessage;
    } else {
        EXPECT_TRUE(o.sawCorrupt) << "damage went unnoticed (open succeeded, no call reported 0x80070570)";
    }
}

Outcome exploreStandard(const Copy& c) { return explore(c.dir.path(), "img.cim", 0, 1); }

TEST(CorruptImage, PristineImagesReadCleanly) {
    Copy c;
    for (auto [name, flags, dir] : {std::tuple{"img.cim", 0u, c.dir.path()},
                                    std::tuple{"layer.cim", uint32_t(CIM_MOUNT_SINGLE_FILE_CIM), c.dir / "layer.bcim"}}) {
        Outcome o = explore(dir, name, flags, 1);
        EXPECT_OK(o.open);
        EXPECT_FALSE(o.sawCorrupt);
        EXPECT_EQ(o.problems, std::vector<std::string>{});
    }
}

// ---- the filesystem file ----

TEST(CorruptImage, CimFileHeader) {
    struct Case {
        const char* what;
        uint64_t offset;
        uint64_t value;
        int bytes;
    };
    const Case cases[] = {
        {"magic", 0, 'X', 1},
        {"file type", 12, 1, 1},
        {"version 1", 16, 1, 4},
        {"version 4", 16, 4, 4},
        {"version 0xFFFFFFFF", 16, 0xFFFFFFFF, 4},
        {"no regions", 48, 0, 2},
        {"filesystem offset 0", 56, 0, 8},
        {"filesystem offset in region 9", 56, uint64_t(9) << 48 | 64, 8},
        {"filesystem offset past the region", 56, 0x0000FFFFFFFFFF00ull, 8},
        {"parent count 1000", 70, 1000, 2},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(k.what);
        Copy c;
        Layout::put({c.dir / "img.cim", k.offset}, k.value, k.bytes);
        expectDetected(exploreStandard(c));
    }
}

TEST(CorruptImage, TruncatedFiles) {
    for (uint64_t size : {0, 8, 31, 71}) {
        SCOPED_TRACE("img.cim truncated to " + std::to_string(size));
        Copy c;
        truncateTo(c.dir / "img.cim", size);
        expectDetected(exploreStandard(c));
    }
    for (uint32_t region = 0; region < 3; ++region) {
        Copy c;
        Layout l(c.dir.path(), "img.cim");
        uint64_t full = fs::file_size(l.region(region));
        for (uint64_t size : {uint64_t(0), uint64_t(20), full / 2, full - 1}) {
            SCOPED_TRACE("region " + std::to_string(region) + " truncated to " + std::to_string(size));
            Copy d;
            truncateTo(Layout(d.dir.path(), "img.cim").region(region), size);
            expectDetected(exploreStandard(d));
        }
    }
}

TEST(CorruptImage, MissingRegionFile) {
    for (uint32_t region = 0; region < 3; ++region) {
        Copy c;
        Layout l(c.dir.path(), "img.cim");
        fs::remove(l.region(region));
        Outcome o = exploreStandard(c);
        expectDetected(o, kFileNotFound);
        EXPECT_NE(o.openMessage.find("region_"), std::string::npos) << o.openMessage;
    }
    // A region count larger than the files on disk.
    Copy c;
    Layout::put({c.dir / "img.cim", 48}, 5, 2);
    expectDetected(exploreStandard(c), kFileNotFound);
}

TEST(CorruptImage, RegionHeaders) {
    for (uint32_t region = 0; region < 3; ++region) {
        for (auto [off, value, bytes] : {std::tuple{0ull, int('Y'), 1}, std::tuple{12ull, 0, 1}, std::tuple{16ull, 7, 4},
                                         std::tuple{34ull, 9, 1}}) {
            SCOPED_TRACE("region " + std::to_string(region) + " byte " + std::to_string(off));
            Copy c;
            Layout l(c.dir.path(), "img.cim");
            Layout::put({l.region(region), off}, static_cast<uint64_t>(value), bytes);
            expectDetected(exploreStandard(c));
        }
    }
}

// ---- objects inside the metadata region ----

TEST(CorruptImage, FilesystemObjectAndFileTables) {
    using Mutation = void (*)(const Layout&);
    const std::pair<const char*, Mutation> cases[] = {
        {"upcase table offset", [](const Layout& l) { Layout::put(l.filesystem(), 0x0000FFFFFFFFFF00ull, 8); }},
        {"file table directory offset", [](const Layout& l) { Layout::put(Layout::shift(l.filesystem(), 8), uint64_t(7) << 48 | 8, 8); }},
        {"file table directory length 0", [](const Layout& l) { Layout::put(Layout::shift(l.filesystem(), 16), 0, 4); }},
        {"file table directory length huge", [](const Layout& l) { Layout::put(Layout::shift(l.filesystem(), 16), 0x7FFFFFFF, 4); }},
        {"root id 0", [](const Layout& l) { Layout::put(Layout::shift(l.filesystem(), 20), 0, 4); }},
        {"root id past the tables", [](const Layout& l) { Layout::put(Layout::shift(l.filesystem(), 20), 0xFFFFFF, 4); }},
        {"file table offset", [](const Layout& l) { Layout::put(l.fileTableDirectoryEntry(), 0x0000FFFFFFFFFF00ull, 8); }},
        {"file table count 0", [](const Layout& l) { Layout::put(Layout::shift(l.fileTableDirectoryEntry(), 8), 0, 2); }},
        {"file table count 0xFFFF", [](const Layout& l) { Layout::put(Layout::shift(l.fileTableDirectoryEntry(), 8), 0xFFFF, 2); }},
        {"file table entry size 0xFFFF", [](const Layout& l) { Layout::put(Layout::shift(l.fileTableDirectoryEntry(), 10), 0xFFFF, 2); }},
    };
    for (const auto& [what, mutate] : cases) {
        SCOPED_TRACE(what);
        Copy c;
        mutate(Layout(c.dir.path(), "img.cim"));
        expectDetected(exploreStandard(c));
    }
}

TEST(CorruptImage, FileRecordsAndLinkTables) {
    // Ids of the things to damage, from the pristine image itself.
    Copy probe;
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(probe.dir.c_str(), "img.cim", 0, r.out()));
    CIMFS_FILE_INFO root, big, meta, d;
    ASSERT_OK(statPath(r, "", &root));
    ASSERT_OK(statPath(r, "big.bin", &big));
    ASSERT_OK(statPath(r, "meta.txt", &meta));
    ASSERT_OK(statPath(r, "d", &d));
    r.reset();
    const uint32_t rootId = static_cast<uint32_t>(root.FileId), bigId = static_cast<uint32_t>(big.FileId),
                   metaId = static_cast<uint32_t>(meta.FileId), dId = static_cast<uint32_t>(d.FileId);

    struct Case {
        const char* what;
        uint32_t id;     // record to damage (0: the link table of `d` instead)
        uint64_t offset;  // in the record or link table
        uint64_t value;
        int bytes;
    };
    const uint64_t past = 0x0000FFFFFFFFFF00ull, region9 = uint64_t(9) << 48 | 16;
    // Link table offsets computed from its count: the first name offset, and the first name.
    constexpr uint64_t kFirstNameOffset = ~uint64_t(0), kFirstName = ~uint64_t(1);
    const Case cases[] = {
        {"root stream type 7", rootId, 54, 7, 1},
        {"root link table past the region", rootId, 40, past, 8},
        {"root link table length huge", rootId, 48, 0xFFFFFFFFFFull, 6},
        {"file data past the region", bigId, 40, past, 8},
        {"file data in region 9", bigId, 40, region9, 8},
        {"file length past the region", bigId, 48, 0xFFFFFFFFFFull, 6},
        {"file stream type 9", bigId, 54, 9, 1},
        {"security descriptor offset", metaId, 56, past, 8},
        {"security descriptor region", metaId, 56, region9, 8},
        {"EA offset", metaId, 64, past, 8},
        {"EA length vs region", metaId, 64, 0, 0},  // patched below: EA at the region's last byte
        {"reparse offset", metaId, 72, past, 8},
        {"stream table offset", metaId, 80, past, 8},
        {"stream table region", metaId, 80, region9, 8},
        {"link table length 0xFFFFFFFF", 0, 0, 0xFFFFFFFF, 4},
        {"link table length 3", 0, 0, 3, 4},
        {"link table count huge", 0, 4, 0x7FFFFFFF, 4},
        {"link table entry id 0", 0, 8, 0, 4},
        {"link table entry id huge", 0, 8, 0x00FFFFFF, 4},
        {"link table name offset", 0, kFirstNameOffset, 0xFFFFFFF0, 4},
        {"link table name length", 0, kFirstName, 0xFFFF, 2},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(k.what);
        Copy c;
        Layout l(c.dir.path(), "img.cim");
        if (k.bytes == 0) {
            // EA pointing at the last byte of the metadata region with its full length.
            Loc rec = l.record(k.id);
            uint64_t ea = Layout::get64(Layout::shift(rec, 64));
            uint64_t size = fs::file_size(l.region(static_cast<uint32_t>(ea >> 48)));
            Layout::put(Layout::shift(rec, 64), (ea & ~0xFFFFFFFFFFFFull) | (size - 1), 8);
        } else if (k.id == 0) {
            Loc table = l.linkTable(dId);
            uint64_t off = k.offset;
            uint64_t count = Layout::get(Layout::shift(table, 4), 4);
            if (off == kFirstNameOffset) off = 8 + 4 * count;
            if (off == kFirstName) off = Layout::get(Layout::shift(table, 8 + 4 * count), 4);
            Layout::put(Layout::shift(table, off), k.value, k.bytes);
        } else {
            Layout::put(Layout::shift(l.record(k.id), k.offset), k.value, k.bytes);
        }
        expectDetected(exploreStandard(c));
    }
}

// ---- block containers ----

// Rewrites the SHA-256 that guards block 0 so that a damaged field gets past the checksum.
void resealHeader(const std::string& path) {
    auto b = readHostFile(path);
    auto d = sha256(b.data(), 4096 - 32);
    std::memcpy(&b[4096 - 32], d.data(), 32);
    writeHostFile(path, b);
}

TEST(CorruptImage, BlockContainer) {
    auto exploreBlock = [](const Copy& c) { return explore(c.dir / "layer.bcim", "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, 1); };
    struct Case {
        const char* what;
        uint64_t offset;
        uint64_t value;
        int bytes;
        bool reseal;
    };
    const Case cases[] = {
        {"magic", 0, 'Z', 1, false},
        {"any header byte (checksum)", 100, 0x55, 1, false},
        {"version", 8, 2, 4, true},
        {"block size", 16, 512, 4, true},
        {"directory offset", 24, 0xFFFFFFFF000ull, 8, true},
        {"directory length", 32, 0xFFFFFFFF, 4, true},
        {"CIM count", 36, 1000, 4, true},
        {"data end past the file", 40, 1ull << 40, 8, true},
        {"data end unaligned", 40, 4097, 8, true},
        {"directory digest", 56, 0x12, 1, true},
    };
    for (const auto& k : cases) {
        SCOPED_TRACE(k.what);
        Copy c;
        Layout::put({c.dir / "layer.bcim", k.offset}, k.value, k.bytes);
        if (k.reseal) resealHeader(c.dir / "layer.bcim");
        expectDetected(exploreBlock(c));
    }
    for (uint64_t size : {0, 100, 4095, 4096, 8192}) {
        SCOPED_TRACE("block file truncated to " + std::to_string(size));
        Copy c;
        truncateTo(c.dir / "layer.bcim", size);
        expectDetected(exploreBlock(c));
    }
    Copy c;
    uint64_t size = fs::file_size(c.dir / "layer.bcim");
    truncateTo(c.dir / "layer.bcim", size - 4096);  // the directory and part of the descriptor gone
    expectDetected(exploreBlock(c));
}

// ---- random damage ----

TEST(CorruptImage, RandomFlipsNeverCrash) {
    SplitMix64 rng(testSeed(20240601));
    const int iterations = 300;
    int detected = 0, unnoticed = 0;
    Layout pristineLayout(pristine().dir.path(), "img.cim");
    // Where the upcase table sits: flipping its bytes changes name order, which is legal data.
    Loc upcase = pristineLayout.at(Layout::get64(pristineLayout.filesystem()));
    for (int it = 0; it < iterations; ++it) {
        Copy c;
        Layout l(c.dir.path(), "img.cim");
        bool block = rng.chance(0.3);
        std::string target;
        if (block) {
            target = c.dir / "layer.bcim";
        } else {
            double p = static_cast<double>(rng.below(100)) / 100.0;
            target = p < 0.15 ? l.cimFile() : p < 0.8 ? l.region(0) : l.region(static_cast<uint32_t>(1 + rng.below(2)));
        }
        uint64_t size = fs::file_size(target);
        std::string what;
        if (size > 0 && rng.chance(0.1)) {
            uint64_t to = rng.below(size);
            truncateTo(target, to);
            what = "truncate " + target + " to " + std::to_string(to);
        } else {
            auto bytes = readHostFile(target);
            int flips = static_cast<int>(rng.range(1, 4));
            for (int f = 0; f < flips && !bytes.empty(); ++f) {
                uint64_t off;
                do {
                    off = rng.chance(0.5) ? rng.below(std::min<uint64_t>(bytes.size(), 4096)) : rng.below(bytes.size());
                } while (target == l.region(0) && off >= upcase.offset && off < upcase.offset + 0x20000 && !rng.chance(0.05));
                bytes[off] ^= static_cast<uint8_t>(rng.range(1, 255));
                what += " flip " + std::to_string(off);
            }
            writeHostFile(target, bytes);
            what = fs::path(target).filename().string() + what;
        }
        SCOPED_TRACE("iteration " + std::to_string(it) + ": " + what);
        Outcome o = block ? explore(c.dir / "layer.bcim", "layer.cim", CIM_MOUNT_SINGLE_FILE_CIM, rng.next())
                          : explore(c.dir.path(), "img.cim", 0, rng.next());
        for (const auto& p : o.problems) ADD_FAILURE() << p;
        (o.open < 0 || o.sawCorrupt ? detected : unnoticed)++;
    }
    std::printf("[ info     ] %d damaged images: %d reported as failures, %d read without error\n", iterations, detected,
                unnoticed);
    EXPECT_GT(detected, iterations / 4);
}

}  // namespace
