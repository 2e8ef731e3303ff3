// The rules of spec/c-abi.md ("Semantics fixed by this contract", return codes, handles, last
// error) exercised on standard CIMs through the public ABI.
#include <thread>

#include "test_util.h"

using namespace itest;

namespace {

class Semantics : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "test.cim", img_.out())); }

    // Commits the image being written and opens it for reading.
    ReaderHandle commitAndOpen() {
        ReaderHandle r;
        EXPECT_OK(CimCommitImage(img_));
        EXPECT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, r.out()));
        return r;
    }

    TempDir dir_;
    ImageHandle img_;
};

CIMFS_FILE_INFO stat(CIMFS_READER_HANDLE r, const char* path) {
    CIMFS_FILE_INFO i;
    EXPECT_OK(statPath(r, path, &i)) << path;
    return i;
}

// ---- parents, replacing, directories ----

TEST_F(Semantics, MissingParentIsPathNotFound) {
    EXPECT_HR(addFile(img_, "a\\b.txt", "x"), kPathNotFound, "CimCreateFile");
    EXPECT_HR(addFile(img_, "a\\b.txt", "x"), kPathNotFound, "a\\b.txt");
    EXPECT_HR(addDir(img_, "a/b/c"), kPathNotFound, "parent directory does not exist");
    // A file is not a parent either.
    ASSERT_OK(addFile(img_, "f", "data"));
    EXPECT_HR(addFile(img_, "f\\g", "x"), kPathNotFound, "CimCreateFile");
    // Nothing was created implicitly.
    auto r = commitAndOpen();
    CIMFS_FILE_INFO info;
    EXPECT_HR(statPath(r, "a", &info), kFileNotFound, "CimStatPath");
}

TEST_F(Semantics, MissingItemsInsideAnImageArePathNotFound) {
    ASSERT_OK(addFile(img_, "present", "x"));
    EXPECT_HR(CimCreateHardLink(img_, "link", "missing"), kPathNotFound, "CimCreateHardLink");
    EXPECT_HR(CimCreateHardLink(img_, "nodir\\link", "present"), kPathNotFound, "CimCreateHardLink");
    EXPECT_HR(addStream(img_, "missing:s", "x"), kPathNotFound, "CimCreateAlternateStream");
    EXPECT_HR(CimDeletePath(img_, "missing"), kPathNotFound, "CimDeletePath");
    EXPECT_HR(CimDeletePath(img_, "nodir\\missing"), kPathNotFound, "CimDeletePath");
    EXPECT_HR(CimDeletePath(img_, "present:nostream"), kPathNotFound, "CimDeletePath");
}

TEST_F(Semantics, CreateOverExistingFileReplacesIt) {
    ASSERT_OK(addFile(img_, "a.txt", "old content", kAttrReadOnly));
    ASSERT_OK(addStream(img_, "a.txt:ads", "old stream"));
    ASSERT_OK(CimCreateHardLink(img_, "other-name.txt", "a.txt"));
    ASSERT_OK(addFile(img_, "a.txt", "new", kAttrHidden));
    // A file replaced by a directory; a file replaced through a differently cased path.
    ASSERT_OK(addFile(img_, "was-file", "x"));
    ASSERT_OK(addDir(img_, "was-file"));
    ASSERT_OK(addFile(img_, "was-file\\child", "c"));
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addFile(img_, "d\\f", "first"));
    ASSERT_OK(addFile(img_, "D\\F", "second!"));
    auto r = commitAndOpen();

    EXPECT_EQ(readAll(r, "a.txt"), "new");
    CIMFS_FILE_INFO a = stat(r, "a.txt");
    EXPECT_EQ(a.Attributes, kAttrHidden);
    EXPECT_EQ(a.LinkCount, 1u);
    uint32_t n = 0;
    EXPECT_HR(CimReadFile(r, "a.txt:ads", 0, nullptr, 0, &n), kFileNotFound, "ads");
    // The other name still refers to the old file: the path was replaced, not the file.
    EXPECT_EQ(readAll(r, "other-name.txt"), "old content");
    CIMFS_FILE_INFO o = stat(r, "other-name.txt");
    EXPECT_EQ(o.LinkCount, 1u);
    EXPECT_NE(o.FileId, a.FileId);
    EXPECT_EQ(readAll(r, "other-name.txt:ads"), "old stream");

    EXPECT_EQ(stat(r, "was-file").Attributes & kAttrDirectory, kAttrDirectory);
    EXPECT_EQ(readAll(r, "was-file\\child"), "c");
    auto d = listImageDir(r, "d");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(readAll(r, "d\\f"), "second!");
}

TEST_F(Semantics, DirectoryOverDirectoryKeepsChildrenAndTakesNewMetadata) {
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addDir(img_, "d\\sub"));
    ASSERT_OK(addFile(img_, "d\\sub\\f.txt", "child"));
    ASSERT_OK(addFile(img_, "d\\g.txt", "g"));
    CIMFS_FILE_METADATA md = dirMetadata(kAttrHidden | kAttrSystem);
    md.CreationTime = filetimeFromUnix(1000);
    md.LastWriteTime = filetimeFromUnix(2000);
    md.ChangeTime = filetimeFromUnix(3000);
    md.LastAccessTime = filetimeFromUnix(4000);
    ASSERT_OK(CimCreateFile(img_, "d", &md, nullptr));
    auto r = commitAndOpen();
    CIMFS_FILE_INFO d = stat(r, "d");
    EXPECT_EQ(d.Attributes, kAttrDirectory | kAttrHidden | kAttrSystem);
    EXPECT_EQ(d.CreationTime, filetimeFromUnix(1000));
    EXPECT_EQ(d.LastWriteTime, filetimeFromUnix(2000));
    EXPECT_EQ(d.ChangeTime, filetimeFromUnix(3000));
    EXPECT_EQ(d.LastAccessTime, filetimeFromUnix(4000));
    EXPECT_EQ(namesOf(listImageDir(r, "d")), (std::vector<std::string>{"g.txt", "sub"}));
    EXPECT_EQ(readAll(r, "d\\sub\\f.txt"), "child");
}

TEST_F(Semantics, RootMetadataCanBeSet) {
    CIMFS_FILE_METADATA md = dirMetadata(kAttrHidden);
    md.LastWriteTime = filetimeFromUnix(42);
    ASSERT_OK(CimCreateFile(img_, "", &md, nullptr));
    CIMFS_FILE_METADATA file = fileMetadata(0);
    EXPECT_HR(CimCreateFile(img_, "", &file, nullptr), kInvalidArg, "root");
    ASSERT_OK(addFile(img_, "x", "x"));
    auto r = commitAndOpen();
    CIMFS_FILE_INFO root = stat(r, "");
    EXPECT_EQ(root.Attributes, kAttrDirectory | kAttrHidden);
    EXPECT_EQ(root.LastWriteTime, filetimeFromUnix(42));
    EXPECT_EQ(root.LinkCount, 1u);
    EXPECT_EQ(stat(r, "\\").FileId, root.FileId);
}

// ---- streams: declared sizes ----

TEST_F(Semantics, WritePastDeclaredSizeIsRefused) {
    CIMFS_FILE_METADATA md = fileMetadata(10);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "ten.bin", &md, &s));
    EXPECT_HR(CimWriteStream(s, "0123456789ABCDE", 15), kHandleEof, "ten.bin");
    EXPECT_HR(CimWriteStream(s, "Z", 1), kHandleEof, "CimWriteStream");
    EXPECT_OK(CimCloseStream(s));

    ASSERT_OK(CimCreateFile(img_, "five.bin", &(md = fileMetadata(5)), &s));
    EXPECT_OK(CimWriteStream(s, "abc", 3));
    EXPECT_HR(CimWriteStream(s, "defg", 4), kHandleEof, "CimWriteStream");
    EXPECT_OK(CimCloseStream(s));

    ASSERT_OK(CimCreateAlternateStream(img_, "five.bin:alt", 2, &s));
    EXPECT_HR(CimWriteStream(s, "xyz", 3), kHandleEof, "CimWriteStream");
    EXPECT_OK(CimCloseStream(s));

    auto r = commitAndOpen();
    EXPECT_EQ(readAll(r, "ten.bin"), "0123456789");
    EXPECT_EQ(stat(r, "ten.bin").FileSize, 10);
    EXPECT_EQ(readAll(r, "five.bin"), "abcde");
    EXPECT_EQ(readAll(r, "five.bin:alt"), "xy");
}

TEST_F(Semantics, ShortStreamCloseFailsNamingThePath) {
    ASSERT_OK(addDir(img_, "dir"));
    CIMFS_FILE_METADATA md = fileMetadata(10);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "dir/short.txt", &md, &s));
    ASSERT_OK(CimWriteStream(s, "1234", 4));
    HRESULT hr = CimCloseStream(s);
    std::string msg = CimGetLastErrorMessage();
    EXPECT_LT(hr, 0);
    EXPECT_EQ(hr, kHandleEof);  // documented in cimfs.h
    EXPECT_NE(msg.find("incomplete write"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dir\\short.txt"), std::string::npos) << msg;
    EXPECT_HR(CimCloseStream(s), kInvalidHandle, "CimCloseStream");  // closed anyway

    ASSERT_OK(addFile(img_, "dir\\file", "abc"));
    ASSERT_OK(CimCreateAlternateStream(img_, "dir\\file:s", 8, &s));
    ASSERT_OK(CimWriteStream(s, "12", 2));
    EXPECT_HR(CimCloseStream(s), kHandleEof, "incomplete write");

    auto r = commitAndOpen();
    // Never silent zeros: the short file is gone (or at least holds no data).
    CIMFS_FILE_INFO i;
    HRESULT st = statPath(r, "dir\\short.txt", &i);
    EXPECT_TRUE(st == kFileNotFound || (st == kOk && i.FileSize == 0)) << hex(st) << " size " << i.FileSize;
    HRESULT rs = kOk;
    std::string alt = readAll(r, "dir\\file:s", &rs);
    EXPECT_TRUE(rs == kFileNotFound || (rs == kOk && alt.empty())) << hex(rs);
    EXPECT_EQ(readAll(r, "dir\\file"), "abc");
}

TEST_F(Semantics, CommitWithShortOpenStreamFailsNamingThePath) {
    CIMFS_FILE_METADATA md = fileMetadata(100);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "half.bin", &md, &s));
    ASSERT_OK(CimWriteStream(s, "0123456789", 10));
    EXPECT_HR(CimCommitImage(img_), kHandleEof, "half.bin");
    EXPECT_HR(CimCommitImage(img_), kHandleEof, "incomplete write");
    img_.reset();
    EXPECT_EQ(dir_.list(), std::vector<std::string>{}) << "a failed commit left files behind";
}

TEST_F(Semantics, IncompleteStreamBlocksOtherChanges) {
    ASSERT_OK(addFile(img_, "existing", "e"));
    CIMFS_FILE_METADATA md = fileMetadata(4);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "open.bin", &md, &s));
    ASSERT_OK(CimWriteStream(s, "ab", 2));
    CIMFS_FILE_METADATA other = fileMetadata(0);
    EXPECT_HR(CimCreateFile(img_, "other", &other, nullptr), kSharingViolation, "open.bin");
    EXPECT_HR(CimCreateHardLink(img_, "link", "existing"), kSharingViolation, "CimCreateHardLink");
    EXPECT_HR(CimDeletePath(img_, "existing"), kSharingViolation, "CimDeletePath");
    EXPECT_HR(CimCreateAlternateStream(img_, "existing:s", 1, nullptr), kSharingViolation, "CimCreateAlternateStream");
    ASSERT_OK(CimWriteStream(s, "cd", 2));
    ASSERT_OK(CimCloseStream(s));
    ASSERT_OK(CimCreateFile(img_, "other", &other, nullptr));
    auto r = commitAndOpen();
    EXPECT_EQ(readAll(r, "open.bin"), "abcd");
    EXPECT_TRUE(exists(r, "other"));
}

TEST_F(Semantics, DirectoryStreamTakesNoData) {
    CIMFS_FILE_METADATA md = dirMetadata();
    md.FileSize = 100;  // ignored for directories
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "d", &md, &s));
    EXPECT_LT(CimWriteStream(s, "x", 1), 0);
    EXPECT_NE(std::string(CimGetLastErrorMessage()), "");
    EXPECT_OK(CimCloseStream(s));
    auto r = commitAndOpen();
    CIMFS_FILE_INFO d = stat(r, "d");
    EXPECT_EQ(d.FileSize, 0);
    char buf[4];
    uint32_t n = 7;
    EXPECT_HR(CimReadFile(r, "d", 0, buf, sizeof buf, &n), kAccessDenied, "CimReadFile");
    EXPECT_EQ(n, 0u);
}

TEST_F(Semantics, MetadataIsValidated) {
    CIMFS_FILE_METADATA md = fileMetadata(-1);
    EXPECT_HR(CimCreateFile(img_, "neg", &md, nullptr), kInvalidArg, "negative");
    md = fileMetadata(0);
    uint8_t shortSd[10] = {1, 0, 4, 0x80};
    md.SecurityDescriptorBuffer = shortSd;
    md.SecurityDescriptorSize = sizeof shortSd;
    EXPECT_HR(CimCreateFile(img_, "sd", &md, nullptr), kInvalidArg, "security descriptor");
    md = fileMetadata(0);
    md.SecurityDescriptorSize = 20;  // NULL buffer
    EXPECT_HR(CimCreateFile(img_, "sd", &md, nullptr), kInvalidArg, "NULL");
    md = fileMetadata(0);
    uint8_t badEa[12] = {0, 0, 0, 0, 0, 200, 0, 0, 'A', 0, 0, 0};  // name length past the buffer
    md.ExtendedAttributes = badEa;
    md.EACount = sizeof badEa;
    EXPECT_HR(CimCreateFile(img_, "ea", &md, nullptr), kInvalidArg, "EA");
    md = fileMetadata(0);
    uint8_t badReparse[12] = {0x0C, 0, 0, 0xA0, 100, 0, 0, 0};  // length 100 in a 12-byte buffer
    md.ReparseDataBuffer = badReparse;
    md.ReparseDataSize = sizeof badReparse;
    EXPECT_HR(CimCreateFile(img_, "rp", &md, nullptr), kInvalidArg, "reparse");
    EXPECT_HR(CimCreateFile(img_, "nometa", nullptr, nullptr), kInvalidArg, "fileMetadata");
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "ok", &(md = fileMetadata(3)), &s));
    EXPECT_HR(CimWriteStream(s, nullptr, 3), kPointer, "CimWriteStream");
    EXPECT_OK(CimWriteStream(s, nullptr, 0));
    EXPECT_OK(CimWriteStream(s, "abc", 3));
    EXPECT_OK(CimCloseStream(s));
}

// ---- hard links ----

TEST_F(Semantics, HardLinks) {
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addFile(img_, "d\\target.txt", "shared data", kAttrReadOnly));
    ASSERT_OK(addStream(img_, "d\\target.txt:meta", "stream data"));
    ASSERT_OK(CimCreateHardLink(img_, "link1.txt", "d\\target.txt"));
    ASSERT_OK(CimCreateHardLink(img_, "d\\link2.txt", "LINK1.TXT"));  // a link of a link, other case
    ASSERT_OK(addFile(img_, "victim.txt", "to be replaced"));
    ASSERT_OK(CimCreateHardLink(img_, "victim.txt", "d\\target.txt"));  // replaces victim.txt
    ASSERT_OK(CimCreateHardLink(img_, "gone.txt", "d\\target.txt"));
    ASSERT_OK(CimDeletePath(img_, "gone.txt"));
    EXPECT_HR(CimCreateHardLink(img_, "dirlink", "d"), kAccessDenied, "directory");
    EXPECT_HR(CimCreateHardLink(img_, "missing-link", "d\\nothing"), kPathNotFound, "CimCreateHardLink");
    EXPECT_FAILS(CimCreateHardLink(img_, "adslink", "d\\target.txt:meta"), "CimCreateHardLink");
    auto r = commitAndOpen();

    const char* names[] = {"d\\target.txt", "link1.txt", "d\\link2.txt", "victim.txt"};
    CIMFS_FILE_INFO first = stat(r, names[0]);
    for (const char* n : names) {
        CIMFS_FILE_INFO i = stat(r, n);
        EXPECT_EQ(i.FileId, first.FileId) << n;
        EXPECT_EQ(i.LinkCount, 4u) << n;
        EXPECT_EQ(i.Attributes, kAttrReadOnly) << n;
        EXPECT_EQ(readAll(r, n), "shared data") << n;
        EXPECT_EQ(readAll(r, (std::string(n) + ":meta").c_str()), "stream data") << n;
    }
    EXPECT_FALSE(exists(r, "gone.txt"));
    EXPECT_FALSE(exists(r, "dirlink"));
    // Enumeration reports the same identity as stat.
    for (const auto& e : listImageDir(r, "d")) {
        if (e.name == "link2.txt" || e.name == "target.txt") {
            EXPECT_EQ(e.info.FileId, first.FileId);
            EXPECT_EQ(e.info.LinkCount, 4u);
        }
    }
    CIMFS_FILE_INFO d = stat(r, "d");
    EXPECT_NE(d.FileId, first.FileId);
    EXPECT_EQ(d.LinkCount, 1u);
}

// ---- deleting ----

TEST_F(Semantics, DeleteFileDirectorySubtreeAndStream) {
    ASSERT_OK(addDir(img_, "tree"));
    ASSERT_OK(addDir(img_, "tree\\a"));
    ASSERT_OK(addDir(img_, "tree\\a\\b"));
    ASSERT_OK(addFile(img_, "tree\\a\\b\\deep.txt", "deep"));
    ASSERT_OK(addFile(img_, "tree\\top.txt", "top"));
    ASSERT_OK(addFile(img_, "keep.txt", "keep"));
    ASSERT_OK(CimCreateHardLink(img_, "keep-link.txt", "tree\\top.txt"));  // survives the subtree
    ASSERT_OK(addFile(img_, "file.txt", "f"));
    ASSERT_OK(addStream(img_, "file.txt:s1", "one"));
    ASSERT_OK(addStream(img_, "file.txt:s2", "two"));
    ASSERT_OK(addFile(img_, "del.txt", "x"));

    EXPECT_OK(CimDeletePath(img_, "del.txt"));
    EXPECT_OK(CimDeletePath(img_, "TREE"));
    EXPECT_OK(CimDeletePath(img_, "file.txt:s1"));
    EXPECT_OK(CimDeletePath(img_, "file.txt:S2:$DATA"));
    EXPECT_HR(CimDeletePath(img_, "del.txt"), kPathNotFound, "CimDeletePath");
    EXPECT_HR(CimDeletePath(img_, "tree\\top.txt"), kPathNotFound, "CimDeletePath");
    EXPECT_HR(CimDeletePath(img_, ""), kInvalidArg, "root");
    auto r = commitAndOpen();
    EXPECT_EQ(namesOf(listImageDir(r, "")), (std::vector<std::string>{"file.txt", "keep-link.txt", "keep.txt"}));
    EXPECT_EQ(readAll(r, "keep-link.txt"), "top");
    EXPECT_EQ(stat(r, "keep-link.txt").LinkCount, 1u);
    char name[64];
    uint32_t size = sizeof name;
    uint64_t ssize;
    EXPECT_HR(CimEnumerateAlternateStreams(r, "file.txt", 0, name, &size, &ssize), kNoMoreFiles, "");
}

// ---- alternate streams ----

TEST_F(Semantics, AlternateStreamSyntax) {
    ASSERT_OK(addFile(img_, "f.txt", "primary"));
    ASSERT_OK(addDir(img_, "d"));
    EXPECT_OK(addStream(img_, "f.txt:plain", "1"));
    EXPECT_OK(addStream(img_, "f.txt:typed:$DATA", "22"));
    EXPECT_OK(addStream(img_, "f.txt:lower:$data", "333"));
    EXPECT_OK(addStream(img_, "d:onadir", "4444"));
    EXPECT_OK(addStream(img_, "f.txt:empty", ""));
    EXPECT_HR(addStream(img_, "f.txt:x:$INDEX_ALLOCATION", "x"), kInvalidArg, "CimCreateAlternateStream");
    EXPECT_HR(addStream(img_, "f.txt:", "x"), kInvalidArg, "CimCreateAlternateStream");
    EXPECT_HR(addStream(img_, "f.txt::$DATA", "x"), kInvalidArg, "CimCreateAlternateStream");
    EXPECT_HR(addStream(img_, "f.txt", "x"), kInvalidArg, "CimCreateAlternateStream");
    EXPECT_HR(addStream(img_, ":s", "x"), kInvalidArg, "CimCreateAlternateStream");
    // File and stream names are limited separately: "name:stream" may exceed 255 units as a whole.
    std::string longName(250, 'n');
    ASSERT_OK(addFile(img_, longName.c_str(), "long"));
    EXPECT_OK(addStream(img_, (longName + ":a-stream-name-of-some-length").c_str(), "on a long name"));
    auto r = commitAndOpen();
    EXPECT_EQ(readAll(r, (longName + ":a-stream-name-of-some-length").c_str()), "on a long name");

    std::vector<std::pair<std::string, uint64_t>> streams;
    for (uint32_t i = 0;; ++i) {
        char name[64];
        uint32_t size = sizeof name;
        uint64_t ssize = 0;
        HRESULT hr = CimEnumerateAlternateStreams(r, "f.txt", i, name, &size, &ssize);
        if (hr == kNoMoreFiles) break;
        ASSERT_OK(hr);
        EXPECT_EQ(size, std::strlen(name) + 1);
        streams.emplace_back(name, ssize);
    }
    EXPECT_EQ(streams, (std::vector<std::pair<std::string, uint64_t>>{{"empty", 0}, {"lower", 3}, {"plain", 1}, {"typed", 2}}));
    EXPECT_EQ(readAll(r, "f.txt:typed"), "22");
    EXPECT_EQ(readAll(r, "f.txt:TYPED:$DATA"), "22");
    EXPECT_EQ(readAll(r, "d:onadir"), "4444");
    EXPECT_EQ(readAll(r, "f.txt"), "primary");
    CIMFS_FILE_INFO s = stat(r, "f.txt:lower");
    EXPECT_EQ(s.FileSize, 3);
    EXPECT_EQ(s.FileId, stat(r, "f.txt").FileId);
}

// ---- paths ----

TEST_F(Semantics, InvalidPathComponentsAreInvalidArg) {
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addFile(img_, "f", "x"));
    std::string u255(255, 'a'), u256(256, 'a');
    // 128 astral characters are 256 UTF-16 units (512 UTF-8 bytes); 127 of them plus one ASCII are 255.
    std::string emoji = "\xF0\x9F\x98\x80";
    std::string e256, e255 = "a";
    for (int i = 0; i < 128; ++i) e256 += emoji;
    for (int i = 0; i < 127; ++i) e255 += emoji;
    const std::string bad[] = {".",          "..",         "d\\.\\x",     "d/../x",       u256,          "d\\" + u256,
                               e256,         "a\x01" "b",  "tab\there",   "del\x7f",      "nl\n",        "\xff",
                               "a\xc3\x28",  "\xc0\xaf",   "\xed\xa0\x80", "\xf4\x90\x80\x80", "trunc\xe2\x82"};
    for (const auto& p : bad) {
        SCOPED_TRACE("path: " + p);
        EXPECT_HR(addFile(img_, p.c_str(), "x"), kInvalidArg, "CimCreateFile");
        EXPECT_HR(addDir(img_, p.c_str()), kInvalidArg, "CimCreateFile");
        EXPECT_HR(CimCreateHardLink(img_, p.c_str(), "f"), kInvalidArg, "CimCreateHardLink");
        EXPECT_HR(CimCreateHardLink(img_, "newlink", p.c_str()), kInvalidArg, "CimCreateHardLink");
        EXPECT_HR(CimDeletePath(img_, p.c_str()), kInvalidArg, "CimDeletePath");
        EXPECT_HR(addStream(img_, ("f:" + p).c_str(), "x"), kInvalidArg, "CimCreateAlternateStream");
    }
    EXPECT_OK(addFile(img_, u255.c_str(), "255"));
    EXPECT_OK(addFile(img_, e255.c_str(), "e255"));
    EXPECT_OK(addFile(img_, "ok.", "dots are fine inside names"));
    EXPECT_OK(addFile(img_, "...x", "x"));
    auto r = commitAndOpen();
    EXPECT_EQ(readAll(r, u255.c_str()), "255");
    EXPECT_EQ(readAll(r, e255.c_str()), "e255");
    EXPECT_FALSE(exists(r, "newlink"));
    auto names = namesOf(listImageDir(r, ""));
    EXPECT_EQ(names.size(), 6u);
    EXPECT_NE(std::find(names.begin(), names.end(), e255), names.end());
}

TEST_F(Semantics, BothSeparatorsAndLeadingSeparator) {
    ASSERT_OK(addDir(img_, "a"));
    ASSERT_OK(addDir(img_, "a/b"));
    ASSERT_OK(addDir(img_, "\\a\\b\\c"));
    ASSERT_OK(addFile(img_, "/a\\b/c\\f1", "1"));
    ASSERT_OK(addFile(img_, "a//b\\\\c/f2", "2"));
    ASSERT_OK(CimCreateHardLink(img_, "a/link", "\\a\\b\\c\\f1"));
    auto r = commitAndOpen();
    for (const char* p : {"a\\b\\c\\f1", "a/b/c/f1", "/a/b/c/f1", "\\a/b\\c/f1", "a\\\\b//c\\f1"}) {
        EXPECT_EQ(readAll(r, p), "1") << p;
    }
    EXPECT_EQ(readAll(r, "a\\b\\c\\f2"), "2");
    EXPECT_EQ(readAll(r, "a\\link"), "1");
    EXPECT_EQ(namesOf(listImageDir(r, "/a/b/c/")), (std::vector<std::string>{"f1", "f2"}));
}

TEST_F(Semantics, LookupsAreCaseInsensitive) {
    ASSERT_OK(addDir(img_, "Dir"));
    ASSERT_OK(addFile(img_, "DIR\\foo.txt", "foo"));
    ASSERT_OK(addFile(img_, "dir\\\xC3\xA9t\xC3\xA9.txt", "ete"));  // "été.txt"
    ASSERT_OK(CimCreateHardLink(img_, "dir\\link", "dIr\\FOO.txt"));
    ASSERT_OK(addStream(img_, "Dir\\Foo.Txt:Meta", "m"));
    auto r = commitAndOpen();
    EXPECT_EQ(readAll(r, "dir\\FOO.TXT"), "foo");
    EXPECT_EQ(stat(r, "DIR\\FOO.TXT").FileId, stat(r, "Dir\\foo.txt").FileId);
    EXPECT_EQ(readAll(r, "DIR\\\xC3\x89T\xC3\x89.TXT"), "ete");  // "ÉTÉ.TXT"
    EXPECT_EQ(readAll(r, "dir\\foo.txt:META"), "m");
    // Names keep the case they were created with.
    EXPECT_EQ(namesOf(listImageDir(r, "")), std::vector<std::string>{"Dir"});
    EXPECT_EQ(namesOf(listImageDir(r, "dir")), (std::vector<std::string>{"foo.txt", "link", "\xC3\xA9t\xC3\xA9.txt"}));
}

// ---- images: names, visibility, discarding ----

TEST_F(Semantics, ImageNameRules) {
    ASSERT_OK(addFile(img_, "x", "x"));
    ASSERT_OK(CimCommitImage(img_));
    img_.reset();
    ImageHandle h;
    EXPECT_TRUE(expectHrEither(CimCreateImage(dir_.c_str(), nullptr, "test.cim", h.out()), kFileExists, kAlreadyExists,
                               "test.cim"));
    EXPECT_EQ(h.get(), nullptr);
    for (const char* bad : {"", ".", "..", "a/b"}) {
        EXPECT_HR(CimCreateImage(dir_.c_str(), nullptr, bad, h.out()), kInvalidArg, "CimCreateImage") << bad;
    }
    EXPECT_HR(CimCreateImage(dir_.c_str(), nullptr, nullptr, h.out()), kInvalidArg, "CimCreateImage");
    EXPECT_HR(CimCreateImage(nullptr, nullptr, "n.cim", h.out()), kInvalidArg, "CimCreateImage");
    EXPECT_HR(CimCreateImage(dir_.c_str(), nullptr, "n.cim", nullptr), kInvalidArg, "CimCreateImage");
    EXPECT_HR(CimCreateImage((dir_ / "no-such-dir").c_str(), nullptr, "n.cim", h.out()), kPathNotFound, "no-such-dir");
    EXPECT_HR(CimCreateImage2(dir_.c_str(), 0x100, nullptr, "n.cim", h.out()), kInvalidArg, "flags");
    EXPECT_HR(CimCreateImage2(dir_.c_str(), 0x40, nullptr, "n.cim", h.out()), kInvalidArg, "CimCreateImage2");
    ReaderHandle r;
    EXPECT_HR(CimOpenImage(dir_.c_str(), "nope.cim", 0, r.out()), kFileNotFound, "nope.cim");
    EXPECT_HR(CimOpenImage((dir_ / "nodir").c_str(), "test.cim", 0, r.out()), kFileNotFound, "CimOpenImage");
    EXPECT_HR(CimOpenImage(dir_.c_str(), "test.cim", CIM_MOUNT_VERIFIED_CIM, r.out()), kInvalidArg, "CimOpenImage");
    EXPECT_HR(CimOpenImage(dir_.c_str(), "test.cim", 0x4000, r.out()), kInvalidArg, "CimOpenImage");
    EXPECT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, r.out()));
}

TEST_F(Semantics, TwoWritersOfOneNameOnlyFirstCommitWins) {
    ImageHandle second;
    ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "test.cim", second.out()));
    ASSERT_OK(addFile(img_, "who", "first"));
    ASSERT_OK(addFile(second, "who", "second"));
    ASSERT_OK(CimCommitImage(img_));
    EXPECT_TRUE(expectHrEither(CimCommitImage(second), kFileExists, kAlreadyExists, "test.cim"));
    img_.reset();
    second.reset();
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, r.out()));
    EXPECT_EQ(readAll(r, "who"), "first");
    for (const auto& n : dir_.list()) {
        EXPECT_TRUE(n == "test.cim" || n.rfind("region_", 0) == 0 || n.rfind("objectid_", 0) == 0) << "stray file " << n;
    }
    EXPECT_EQ(dir_.list().size(), 7u);
}

TEST_F(Semantics, NothingIsVisibleBeforeCommit) {
    ASSERT_OK(addFile(img_, "f", std::string(100000, 'x')));
    ReaderHandle r;
    EXPECT_HR(CimOpenImage(dir_.c_str(), "test.cim", 0, r.out()), kFileNotFound, "test.cim");
    for (const auto& n : dir_.list()) EXPECT_NE(n, "test.cim");
    ASSERT_OK(CimCommitImage(img_));
    EXPECT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, r.out()));
    // Committed: no more changes through the handle, which must still be closed.
    EXPECT_LT(addFile(img_, "late", "x"), 0);
    EXPECT_NE(std::string(CimGetLastErrorMessage()), "");
    EXPECT_LT(CimCommitImage(img_), 0);
    EXPECT_FALSE(exists(r, "late"));
}

TEST_F(Semantics, CloseWithoutCommitLeavesNothing) {
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addFile(img_, "d\\big", std::string(3 << 20, 'b')));
    ASSERT_OK(addFile(img_, "small", "s"));
    CIMFS_FILE_METADATA md = fileMetadata(10);
    CIMFS_STREAM_HANDLE s = nullptr;
    ASSERT_OK(CimCreateFile(img_, "open", &md, &s));
    ASSERT_OK(CimWriteStream(s, "12", 2));
    img_.reset();
    EXPECT_EQ(dir_.list(), std::vector<std::string>{});
    // The stream died with its image.
    EXPECT_HR(CimWriteStream(s, "3", 1), kInvalidHandle, "CimWriteStream");
    CimCloseStream(s);
    EXPECT_HR(CimCloseStream(s), kInvalidHandle, "CimCloseStream");

    // Discarding a rewrite of an existing image leaves that image as it was.
    ASSERT_TRUE(buildStandard(dir_.path(), nullptr, "keep.cim", [](CIMFS_IMAGE_HANDLE h) { return ok(addFile(h, "v", "1")); }));
    auto before = dir_.list();
    ImageHandle rw;
    ASSERT_OK(CimCreateImage(dir_.c_str(), "keep.cim", nullptr, rw.out()));
    ASSERT_OK(addFile(rw, "v", "2"));
    ASSERT_OK(addFile(rw, "w", std::string(70000, 'w')));
    rw.reset();
    EXPECT_EQ(dir_.list(), before);
    ReaderHandle r;
    ASSERT_OK(CimOpenImage(dir_.c_str(), "keep.cim", 0, r.out()));
    EXPECT_EQ(readAll(r, "v"), "1");
    EXPECT_FALSE(exists(r, "w"));
}

TEST_F(Semantics, CommittedFilesAreNamedAfterTheRegionSet) {
    ASSERT_OK(addFile(img_, "small", "s"));
    ASSERT_OK(addFile(img_, "large", std::string(10000, 'L')));
    ASSERT_OK(CimCommitImage(img_));
    auto names = dir_.list();
    std::string guid;
    int regions = 0, objectids = 0;
    for (const auto& n : names) {
        if (n == "test.cim") continue;
        bool region = n.rfind("region_", 0) == 0, objectid = n.rfind("objectid_", 0) == 0;
        ASSERT_TRUE(region || objectid) << n;
        std::string rest = n.substr(region ? 7 : 9);
        auto us = rest.rfind('_');
        ASSERT_NE(us, std::string::npos) << n;
        std::string g = rest.substr(0, us);
        ASSERT_EQ(g.size(), 36u) << n;
        for (size_t i = 0; i < g.size(); ++i) {
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            EXPECT_TRUE(dash ? g[i] == '-' : std::isxdigit(static_cast<unsigned char>(g[i])) && !std::isupper(static_cast<unsigned char>(g[i])))
                << n;
        }
        if (guid.empty()) guid = g;
        EXPECT_EQ(g, guid) << "one region set per image";
        (region ? regions : objectids)++;
    }
    EXPECT_GT(regions, 0);
    EXPECT_EQ(regions, objectids);
    for (int i = 0; i < regions; ++i) {
        EXPECT_NE(std::find(names.begin(), names.end(), "region_" + guid + "_" + std::to_string(i)), names.end()) << i;
        EXPECT_NE(std::find(names.begin(), names.end(), "objectid_" + guid + "_" + std::to_string(i)), names.end()) << i;
    }
}

// ---- handles ----

TEST_F(Semantics, NullStaleAndForeignHandlesAreInvalid) {
    CIMFS_FILE_METADATA md = fileMetadata(1);
    CIMFS_STREAM_HANDLE s = nullptr;
    CIMFS_FILE_INFO info = newInfo();
    char buf[16];
    uint32_t n = sizeof buf;
    uint64_t size64 = 0;

    ASSERT_OK(addFile(img_, "f", "x"));
    ASSERT_OK(CimCommitImage(img_));
    ReaderHandle reader;
    ASSERT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, reader.out()));
    ImageHandle other;
    ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "other.cim", other.out()));
    CIMFS_STREAM_HANDLE closedStream = nullptr;
    ASSERT_OK(CimCreateFile(other, "t", &(md = fileMetadata(0)), &closedStream));
    ASSERT_OK(CimCloseStream(closedStream));
    EXPECT_HR(CimCloseStream(closedStream), kInvalidHandle, "CimCloseStream");
    CIMFS_STREAM_HANDLE liveStream = nullptr;
    ASSERT_OK(CimCreateFile(other, "s", &(md = fileMetadata(1)), &liveStream));

    // Closed handles.
    CIMFS_IMAGE_HANDLE closedImage = nullptr;
    ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "closed.cim", &closedImage));
    CimCloseImage(closedImage);
    CimCloseImage(closedImage);  // double close is harmless
    CIMFS_READER_HANDLE closedReader = nullptr;
    ASSERT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, &closedReader));
    CimCloseReader(closedReader);
    CimCloseReader(closedReader);

    int local = 0;
    std::vector<CIMFS_IMAGE_HANDLE> badImages = {nullptr, closedImage, reinterpret_cast<CIMFS_IMAGE_HANDLE>(reader.get()),
                                                 reinterpret_cast<CIMFS_IMAGE_HANDLE>(liveStream),
                                                 reinterpret_cast<CIMFS_IMAGE_HANDLE>(&local),
                                                 reinterpret_cast<CIMFS_IMAGE_HANDLE>(uintptr_t(0xdeadbeef)),
                                                 reinterpret_cast<CIMFS_IMAGE_HANDLE>(~uintptr_t(0))};
    for (CIMFS_IMAGE_HANDLE h : badImages) {
        SCOPED_TRACE(hex(static_cast<HRESULT>(reinterpret_cast<uintptr_t>(h))));
        EXPECT_HR(CimCommitImage(h), kInvalidHandle, "CimCommitImage");
        EXPECT_HR(CimCreateFile(h, "x", &md, &s), kInvalidHandle, "CimCreateFile");
        EXPECT_EQ(s, nullptr);
        EXPECT_HR(CimCreateAlternateStream(h, "f:s", 1, &s), kInvalidHandle, "CimCreateAlternateStream");
        EXPECT_HR(CimCreateHardLink(h, "x", "f"), kInvalidHandle, "CimCreateHardLink");
        EXPECT_HR(CimDeletePath(h, "f"), kInvalidHandle, "CimDeletePath");
        EXPECT_HR(CimTombstoneFile(h, "f"), kInvalidHandle, "CimTombstoneFile");
        EXPECT_HR(CimCreateMergeLink(h, "x", "f"), kInvalidHandle, "CimCreateMergeLink");
        EXPECT_HR(CimAddFsToMergedImage(h, "/tmp/x/y"), kInvalidHandle, "CimAddFsToMergedImage");
        EXPECT_HR(CimAddFsToMergedImage2(h, "/tmp/x/y", CIM_MERGE_SINGLE_FILE), kInvalidHandle, "CimAddFsToMergedImage2");
        CimCloseImage(h);  // harmless
    }
    std::vector<CIMFS_STREAM_HANDLE> badStreams = {nullptr, closedStream, reinterpret_cast<CIMFS_STREAM_HANDLE>(other.get()),
                                                   reinterpret_cast<CIMFS_STREAM_HANDLE>(reader.get()),
                                                   reinterpret_cast<CIMFS_STREAM_HANDLE>(&local)};
    for (CIMFS_STREAM_HANDLE h : badStreams) {
        EXPECT_HR(CimWriteStream(h, "x", 1), kInvalidHandle, "CimWriteStream");
        EXPECT_HR(CimCloseStream(h), kInvalidHandle, "CimCloseStream");
    }
    std::vector<CIMFS_READER_HANDLE> badReaders = {nullptr, closedReader, reinterpret_cast<CIMFS_READER_HANDLE>(other.get()),
                                                   reinterpret_cast<CIMFS_READER_HANDLE>(liveStream),
                                                   reinterpret_cast<CIMFS_READER_HANDLE>(&local)};
    for (CIMFS_READER_HANDLE h : badReaders) {
        EXPECT_HR(CimStatPath(h, "f", &info), kInvalidHandle, "CimStatPath");
        EXPECT_HR(CimGetSecurityDescriptor(h, "f", buf, &n), kInvalidHandle, "CimGetSecurityDescriptor");
        EXPECT_HR(CimGetExtendedAttributes(h, "f", buf, &n), kInvalidHandle, "CimGetExtendedAttributes");
        EXPECT_HR(CimGetReparseData(h, "f", buf, &n), kInvalidHandle, "CimGetReparseData");
        EXPECT_HR(CimReadFile(h, "f", 0, buf, sizeof buf, &n), kInvalidHandle, "CimReadFile");
        EXPECT_HR(CimEnumerateDirectory(h, "", 0, buf, &n, &info), kInvalidHandle, "CimEnumerateDirectory");
        EXPECT_HR(CimEnumerateAlternateStreams(h, "f", 0, buf, &n, &size64), kInvalidHandle, "CimEnumerateAlternateStreams");
        CimCloseReader(h);  // harmless
    }
    // The live handles survived all of that.
    EXPECT_OK(CimWriteStream(liveStream, "z", 1));
    EXPECT_OK(CimCloseStream(liveStream));
    EXPECT_OK(CimCommitImage(other));
    EXPECT_EQ(readAll(reader, "f"), "x");
}

TEST_F(Semantics, HandleValuesAreNeverReused) {
    ASSERT_OK(CimCommitImage(img_));
    std::set<uintptr_t> seen;
    std::vector<CIMFS_READER_HANDLE> closedReaders;
    std::vector<CIMFS_IMAGE_HANDLE> closedImages;
    for (int i = 0; i < 200; ++i) {
        CIMFS_READER_HANDLE r = nullptr;
        ASSERT_OK(CimOpenImage(dir_.c_str(), "test.cim", 0, &r));
        EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(r)).second) << "reader handle value reused";
        CimCloseReader(r);
        closedReaders.push_back(r);
        CIMFS_IMAGE_HANDLE h = nullptr;
        ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "scratch.cim", &h));
        EXPECT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(h)).second) << "image handle value reused";
        CimCloseImage(h);
        closedImages.push_back(h);
    }
    CIMFS_FILE_INFO info = newInfo();
    for (auto r : closedReaders) ASSERT_EQ(CimStatPath(r, "", &info), kInvalidHandle);
    for (auto h : closedImages) ASSERT_EQ(CimCommitImage(h), kInvalidHandle);
    EXPECT_EQ(dir_.list().size(), 7u);  // test.cim + 3 region + 3 objectid files; no scratch leftovers
}

// ---- last error ----

TEST_F(Semantics, LastErrorMessageIsPerCallAndPerThread) {
    EXPECT_STREQ(CimGetLastErrorMessage(), "");
    EXPECT_EQ(addFile(img_, "missing\\f", "x"), kPathNotFound);
    std::string msg = CimGetLastErrorMessage();
    EXPECT_EQ(msg.rfind("CimCreateFile", 0), 0u) << msg;  // names the operation first
    EXPECT_NE(msg.find("test.cim"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing\\f"), std::string::npos) << msg;
    // Stays until the thread's next call, which clears it on success.
    EXPECT_EQ(std::string(CimGetLastErrorMessage()), msg);
    EXPECT_OK(addDir(img_, "missing"));
    EXPECT_STREQ(CimGetLastErrorMessage(), "");

    // Another thread's failure does not show here, and this thread's does not show there.
    EXPECT_EQ(CimCommitImage(nullptr), kInvalidHandle);
    std::string mine = CimGetLastErrorMessage();
    std::string theirsBefore, theirsAfter;
    std::thread t([&] {
        theirsBefore = CimGetLastErrorMessage();
        CimDeletePath(nullptr, "x");
        theirsAfter = CimGetLastErrorMessage();
    });
    t.join();
    EXPECT_EQ(theirsBefore, "");
    EXPECT_EQ(theirsAfter.rfind("CimDeletePath", 0), 0u) << theirsAfter;
    EXPECT_EQ(std::string(CimGetLastErrorMessage()), mine);
    EXPECT_EQ(mine.rfind("CimCommitImage", 0), 0u) << mine;
}

// ---- caller buffers ----

TEST_F(Semantics, BufferTooSmallReturnsTheNeededSize) {
    CIMFS_GUID id{0x00112233, 0x4455, 0x6677, {0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF}};
    uint32_t size = 0;
    EXPECT_HR(CimGetVolumeMountPath(&id, nullptr, &size), kInsufficientBuffer, "CimGetVolumeMountPath");
    ASSERT_GT(size, 37u);
    std::vector<char> path(size);
    uint32_t small = size - 1;
    EXPECT_HR(CimGetVolumeMountPath(&id, path.data(), &small), kInsufficientBuffer, "CimGetVolumeMountPath");
    EXPECT_EQ(small, size);
    EXPECT_OK(CimGetVolumeMountPath(&id, path.data(), &size));
    EXPECT_EQ(std::strlen(path.data()) + 1, size);
    std::string p(path.data());
    EXPECT_EQ(p.substr(p.size() - 37), "/00112233-4455-6677-8899-aabbccddeeff");

    static const uint8_t sd[20] = {1, 0, 4, 0x80};
    CIMFS_FILE_METADATA md = fileMetadata(0);
    md.SecurityDescriptorBuffer = sd;
    md.SecurityDescriptorSize = sizeof sd;
    ASSERT_OK(CimCreateFile(img_, "a-rather-long-file-name.txt", &md, nullptr));
    ASSERT_OK(addStream(img_, "a-rather-long-file-name.txt:a-long-stream-name", "x"));
    auto r = commitAndOpen();
    uint8_t buf[8];
    uint32_t n = sizeof buf;
    EXPECT_HR(CimGetSecurityDescriptor(r, "a-rather-long-file-name.txt", buf, &n), kInsufficientBuffer,
              "CimGetSecurityDescriptor");
    EXPECT_EQ(n, 20u);
    n = 0;
    EXPECT_OK(CimGetExtendedAttributes(r, "a-rather-long-file-name.txt", nullptr, &n));  // none: size 0, success
    EXPECT_EQ(n, 0u);
    char name[8];
    n = sizeof name;
    CIMFS_FILE_INFO info = newInfo();
    EXPECT_HR(CimEnumerateDirectory(r, "", 0, name, &n, &info), kInsufficientBuffer, "CimEnumerateDirectory");
    EXPECT_EQ(n, sizeof("a-rather-long-file-name.txt"));
    n = sizeof name;
    uint64_t ss;
    EXPECT_HR(CimEnumerateAlternateStreams(r, "a-rather-long-file-name.txt", 0, name, &n, &ss), kInsufficientBuffer,
              "CimEnumerateAlternateStreams");
    EXPECT_EQ(n, sizeof("a-long-stream-name"));
}

// ---- reader errors ----

TEST_F(Semantics, ReaderErrors) {
    ASSERT_OK(addDir(img_, "d"));
    ASSERT_OK(addFile(img_, "d\\f", "0123456789"));
    auto r = commitAndOpen();
    CIMFS_FILE_INFO info;
    EXPECT_HR(statPath(r, "d\\missing", &info), kFileNotFound, "CimStatPath");
    EXPECT_HR(statPath(r, "nodir\\missing", &info), kPathNotFound, "CimStatPath");
    EXPECT_HR(statPath(r, "d\\f\\below", &info), kDirectory, "CimStatPath");
    EXPECT_HR(statPath(r, "d\\f:nostream", &info), kFileNotFound, "CimStatPath");
    info = newInfo();
    info.Size = 8;
    EXPECT_HR(CimStatPath(r, "d", &info), kInvalidArg, "Size");
    EXPECT_HR(CimStatPath(r, nullptr, &info), kInvalidArg, "CimStatPath");
    EXPECT_HR(CimStatPath(r, "d", nullptr), kInvalidArg, "CimStatPath");
    char name[64];
    uint32_t n = sizeof name;
    EXPECT_HR(CimEnumerateDirectory(r, "d\\f", 0, name, &n, nullptr), kDirectory, "CimEnumerateDirectory");
    n = sizeof name;
    EXPECT_HR(CimEnumerateDirectory(r, "d", 1, name, &n, nullptr), kNoMoreFiles, "CimEnumerateDirectory");
    n = sizeof name;
    EXPECT_OK(CimEnumerateDirectory(r, "d", 0, name, &n, nullptr));
    EXPECT_STREQ(name, "f");

    char buf[16];
    uint32_t got = 99;
    EXPECT_OK(CimReadFile(r, "d\\f", 4, buf, 3, &got));
    EXPECT_EQ(std::string(buf, got), "456");
    EXPECT_OK(CimReadFile(r, "d\\f", 8, buf, sizeof buf, &got));
    EXPECT_EQ(std::string(buf, got), "89");
    EXPECT_OK(CimReadFile(r, "d\\f", 10, buf, sizeof buf, &got));
    EXPECT_EQ(got, 0u);
    EXPECT_OK(CimReadFile(r, "d\\f", uint64_t(1) << 62, buf, sizeof buf, &got));
    EXPECT_EQ(got, 0u);
    EXPECT_HR(CimReadFile(r, "d\\f", 0, nullptr, 4, &got), kPointer, "CimReadFile");
    EXPECT_HR(CimReadFile(r, "d\\f", 0, buf, 4, nullptr), kInvalidArg, "CimReadFile");
    EXPECT_HR(CimReadFile(r, "d", 0, buf, 4, &got), kAccessDenied, "CimReadFile");
}

}  // namespace
