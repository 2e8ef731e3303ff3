// Writes the seed corpora of every fuzz target from real artefacts built by the current code
// (images by the writer, merged and sealed block files, layer tars, EA chains, reparse buffers),
// so seeds always match the current formats. Usage: make_fuzz_seeds <dir>; seeds for target T
// go to <dir>/T/. Run by tests/fuzz/run.sh and by the fuzz.replay.* ctests.
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "block/block_image.h"
#include "block/seal.h"
#include "capi/image_session.h"
#include "common/utf.h"
#include "format/ea.h"
#include "format/link_table.h"
#include "image/create.h"
#include "layer/reparse.h"
#include "merge/merge.h"
#include "opencim/cimfs.h"
#include "../integration/tar_builder.h"

using namespace cim;

namespace {
std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(const std::string& dir, const std::string& name, const std::string& bytes) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

std::string str(const std::vector<std::byte>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size()); }
template <typename T>
std::string le(T v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

void fill(image::Writer& w, int variant) {
    image::FileMetadata dir;
    dir.attributes = 0x10;
    w.closeStream(w.createFile(parseImagePath("d"), dir));
    for (int i = 0; i < 3 + variant; ++i) {
        std::string data(static_cast<size_t>(i * 700 + variant * 3000), char('a' + i));
        image::FileMetadata md;
        md.attributes = 0x20;
        md.fileSize = static_cast<int64_t>(data.size());
        static const unsigned char sd[20] = {1, 0, 4, 0x80};
        md.securityDescriptor = std::as_bytes(std::span(sd));
        auto s = w.createFile(parseImagePath("d/f" + std::to_string(i)), md);
        w.write(s, std::as_bytes(std::span(data.data(), data.size())));
        w.closeStream(s);
    }
    w.createHardLink(parseImagePath("link"), parseImagePath("d/f1"));
    auto s = w.createAlternateStream(parseImagePath("d/f0:ads", StreamSyntax::required), 4);
    w.write(s, std::as_bytes(std::span("abcd", 4)));
    w.closeStream(s);
    // A symlink with $LX* EAs, as the FUSE view sees Linux layers.
    auto rp = layer::lxSymlinkReparse("../d/f0");
    auto eas = format::buildEaChain({{0, "$LXUID", {std::byte{1}, {}, {}, {}}}, {0, "$LXMOD", {std::byte{0xff}, std::byte{0xa1}, {}, {}}}});
    image::FileMetadata lm;
    lm.attributes = 0x400;
    lm.reparseData = rp;
    lm.extendedAttributes = eas;
    w.createFile(parseImagePath("sym"), lm);
    if (variant) {
        w.tombstone(parseImagePath("gone"));
        w.createMergeLink(parseImagePath("ml"), parseImagePath("d/f0"));
    }
}

// Standard CIM in the fuzz_image layout: [0][u32 fs][u32 r0][u32 r1][u32 r2][fs][r0][r1][r2].
std::string standardSeed(const std::string& sub) {
    std::string fs = slurp(sub + "/t.cim");
    uint32_t lens[4] = {static_cast<uint32_t>(fs.size()), 0, 0, 0};
    std::string regions[3];
    for (auto& e : std::filesystem::directory_iterator(sub)) {
        std::string n = e.path().filename();
        if (n.rfind("region_", 0) == 0) {
            int i = n.back() - '0';
            regions[i] = slurp(e.path());
            lens[i + 1] = static_cast<uint32_t>(regions[i].size());
        }
    }
    std::string seed(1, '\0');
    seed.append(reinterpret_cast<const char*>(lens), sizeof lens);
    seed += fs;
    for (auto& r : regions) seed += r;
    return seed;
}

std::string blockFile(const std::string& path, const char* name, uint32_t extraFlags, int variant) {
    auto w = block::createBlockImage(path, nullptr, name, CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | extraFlags);
    fill(*w, variant);
    w->commit();
    return path;
}

std::string mergedFile(const std::string& path, const std::string& s0, const std::string& s1, uint32_t extraFlags) {
    uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | extraFlags;
    auto w = block::createBlockImage(path, nullptr, "merged.cim", flags);
    uint32_t mflags = CIM_MERGE_SINGLE_FILE | ((extraFlags & CIM_CREATE_IMAGE_VERIFIED_CIM) ? CIM_MERGE_VERIFIED_CIM : 0);
    merge::prepareMerge(*w, {{s0 + "/top.cim", mflags}, {s1 + "/base.cim", mflags}}, flags);
    w->commit();
    return path;
}

std::string blockSeed(uint8_t mode, const block::Hash& root, const std::vector<std::string>& files) {
    std::string s(1, static_cast<char>(mode));
    s.append(reinterpret_cast<const char*>(root.data()), 32);
    for (size_t i = 0; i < files.size(); ++i) {
        std::string c = slurp(files[i]);
        if (i + 1 < files.size()) s += le<uint32_t>(static_cast<uint32_t>(c.size()));
        s += c;
    }
    return s;
}

void tarSeeds(const std::string& out) {
    using tartest::Entry;
    auto put1 = [&](const std::string& name, uint8_t mode, const std::vector<Entry>& es) {
        put(out, name, std::string(1, static_cast<char>(mode)) + tartest::build(es));
    };
    Entry dir{"etc/", '5'};
    Entry passwd{"etc/passwd", '0', "root:x:0:0::/root:/bin/sh\n"};
    passwd.pax = {{"SCHILY.xattr.security.capability", std::string("\x01\x00\x00\x02", 4)}, {"mtime", "1700000000.5"}};
    Entry sym{"etc/link", '2'};
    sym.link = "passwd";
    Entry hard{"etc/hard", '1'};
    hard.link = "etc/passwd";
    Entry dev{"dev/null", '3'};
    dev.devMajor = 1;
    dev.devMinor = 3;
    Entry fifo{"run/fifo", '6'};
    Entry wh{"usr/.wh.gone", '0'};
    Entry opq{"var/.wh..wh..opq", '0'};
    Entry longName{std::string(150, 'n'), '0', "long"};
    Entry gnuLong{std::string(120, 'g'), '0', "gnu"};
    gnuLong.gnuLongName = true;
    put1("linux-basic", 2, {dir, passwd, sym, hard, dev, fifo, wh, opq, longName, gnuLong});
    put1("linux-auto-verified", 4, {dir, passwd, sym, hard});
    Entry crossLink{"usr/bin/sh2", '1'};
    crossLink.link = "usr/bin/sh";
    put1("linux-parent-link", 2 | 8, {crossLink, passwd});

    Entry files{"Files", '5'};
    Entry hives{"Hives", '5'};
    Entry wf{"Files/Windows/a.txt", '0', "windows data"};
    wf.pax = {{"MSWINDOWS.fileattr", "32"},
              {"MSWINDOWS.rawsd", "AQAEgBQAAAAkAAAAAAAAADAAAAABAQAAAAAABRIAAAABAQAAAAAABRIAAAACABwAAQAAAAADFAD/AR8AAQEAAAAAAAUSAAAA"},
              {"MSWINDOWS.xattr.USER.TEST", "aGVsbG8="},
              {"LIBARCHIVE.creationtime", "1600000000"}};
    Entry wads{"Files/Windows/a.txt:stream", '0', "ads"};
    Entry wsym{"Files/Windows/sym", '2'};
    wsym.link = "a.txt";
    Entry wjunction{"Files/junction", '2'};
    wjunction.link = "C:\\Windows";
    wjunction.pax = {{"MSWINDOWS.mountpoint", "1"}};
    Entry whard{"Files/Windows/b.txt", '1'};
    whard.link = "Files/Windows/a.txt";
    Entry hive{"Files/Windows/System32/config/SYSTEM", '0', "regf"};
    put1("windows-basic", 1, {files, hives, wf, wads, wsym, wjunction, whard, hive});
    put1("windows-auto-parent", 8, {files, wf, whard});
    // Sparse (GNU PAX 0.1) and a truncated archive.
    Entry sparse{"sparse", '0', "abcd"};
    sparse.pax = {{"GNU.sparse.map", "0,2,100,2"}, {"GNU.sparse.realsize", "102"}, {"GNU.sparse.size", "102"}};
    put1("linux-sparse", 2, {sparse});
    std::string t = tartest::build({dir, passwd});
    put(out, "truncated", std::string(1, '\2') + t.substr(0, t.size() - 700));
}

void eaSeeds(const std::string& out) {
    put(out, "lx", str(format::buildEaChain({{0, "$LXUID", {std::byte{0xe8}, std::byte{3}, {}, {}}},
                                             {0, "$LXGID", {std::byte{0xe8}, std::byte{3}, {}, {}}},
                                             {0, "$LXMOD", {std::byte{0xa4}, std::byte{0x81}, {}, {}}},
                                             {0, "$LXDEV", std::vector<std::byte>(8, std::byte{1})}})));
    put(out, "xattr", str(format::buildEaChain({{0, "$XATTR.SECURITY.CAPABILITY", {std::byte{1}, {}, {}, std::byte{2}}},
                                                {0x80, "$XATTR.USER.%46OO", {std::byte{'x'}}}})));
}

void posixSeed(const std::string& out, const std::string& name, uint32_t attrs, int64_t t, const std::vector<std::byte>& rp,
               const std::vector<std::byte>& ea, const std::vector<std::byte>& sd, uint8_t flags) {
    std::string s = le(attrs) + le(t) + le(t) + le(t) + le(t) + le<uint16_t>(static_cast<uint16_t>(rp.size())) +
                    le<uint16_t>(static_cast<uint16_t>(ea.size())) + le<uint16_t>(static_cast<uint16_t>(sd.size())) +
                    std::string(1, static_cast<char>(flags)) + str(rp) + str(ea) + str(sd);
    put(out, name, s);
}

void posixSeeds(const std::string& out) {
    auto lxMode = [](uint32_t mode) {
        std::vector<std::byte> v(4);
        std::memcpy(v.data(), &mode, 4);
        return format::buildEaChain({{0, "$LXMOD", v}, {0, "$LXDEV", std::vector<std::byte>(8, std::byte{2})}});
    };
    std::vector<std::byte> sd(20, std::byte{0});
    sd[0] = std::byte{1};
    posixSeed(out, "winsym", 0x420, 133000000000000000, layer::windowsLinkReparse(u"..\\target\\file", false), {}, sd, 0);
    posixSeed(out, "junction", 0x410, 0, layer::windowsLinkReparse(u"\\??\\C:\\Windows", true), {}, {}, 1);
    posixSeed(out, "lxsym", 0x400, -1, layer::lxSymlinkReparse("/usr/bin/env"), lxMode(0120777), {}, 2);
    posixSeed(out, "chr", 0x400, INT64_MAX, layer::emptyReparse(layer::kTagLxChr), lxMode(020644), {}, 0);
    posixSeed(out, "fifo", 0x20, INT64_MIN, {}, lxMode(010600), sd, 2);
}

void nameSeeds(const std::string& out) {
    auto table = [](const std::vector<std::u16string>& names, size_t entrySize) {
        std::vector<std::pair<std::u16string, std::vector<std::byte>>> es;
        uint32_t id = 2;
        for (const auto& n : names) {
            std::vector<std::byte> e(entrySize);
            std::memcpy(e.data(), &id, 4);
            ++id;
            es.emplace_back(n, e);
        }
        return format::buildLinkTable(es, entrySize);
    };
    put(out, "dir", std::string(1, '\0') + str(table({u"a", u"B", u"c.txt", u"\u00e9t\u00e9", u"\xd83d\xde00"}, 4)));
    put(out, "streams", std::string(1, '\1') + str(table({u"ads", u"Zone.Identifier"}, 16)));
    put(out, "utf8", std::string(1, '\2') + "dir/\xc3\xa9\xff\xfe/a:b:$DATA");
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    std::string out = argv[1];
    std::filesystem::create_directories(out);
    char t[] = "/tmp/opencim-seeds-XXXXXX";
    std::string tmp = mkdtemp(t);
    for (int v = 0; v < 2; ++v) {
        std::string sub = tmp + "/s" + std::to_string(v);
        std::filesystem::create_directories(sub);
        {
            auto w = image::createStandardImage(sub, nullptr, "t.cim", 0x10);
            fill(*w, v);
            w->commit();
        }
        put(out + "/fuzz_image", "standard-" + std::to_string(v), standardSeed(sub));
        blockFile(sub + "/b.bcim", "layer.cim", 0, v);
        put(out + "/fuzz_image", "block-" + std::to_string(v), std::string(1, '\1') + slurp(sub + "/b.bcim"));
    }

    // Block containers: plain, sealed (opened with the right root), appended to, sealed copy, merged.
    std::string b = tmp + "/b";
    std::filesystem::create_directories(b);
    block::Hash zero{};
    std::string plain = blockFile(b + "/plain.bcim", "layer.cim", 0, 1);
    std::string sealed = blockFile(b + "/sealed.bcim", "layer.cim", CIM_CREATE_IMAGE_VERIFIED_CIM, 0);
    block::Hash root = block::sealContainer(sealed, 1);
    std::string unsealed = blockFile(b + "/verified.bcim", "layer.cim", CIM_CREATE_IMAGE_VERIFIED_CIM, 0);
    put(out + "/fuzz_block", "plain", blockSeed(0, zero, {plain}));
    put(out + "/fuzz_block", "sealed-verified", blockSeed(1, root, {sealed}));
    put(out + "/fuzz_block", "append", blockSeed(4, zero, {plain}));
    put(out + "/fuzz_block", "seal-copy", blockSeed(8 | 4 | 16, zero, {unsealed}));
    std::string top = blockFile(b + "/top.bcim", "top.cim", 0, 1), base = blockFile(b + "/base.bcim", "base.cim", 0, 0);
    std::string merged = mergedFile(b + "/merged.bcim", top, base, 0);
    put(out + "/fuzz_block", "merged", blockSeed(2, zero, {merged, top, base}));
    std::string vtop = blockFile(b + "/vtop.bcim", "top.cim", CIM_CREATE_IMAGE_VERIFIED_CIM, 1);
    std::string vbase = blockFile(b + "/vbase.bcim", "base.cim", CIM_CREATE_IMAGE_VERIFIED_CIM, 0);
    block::sealContainer(vtop, 1);
    block::sealContainer(vbase, 1);
    std::string vmerged = mergedFile(b + "/vmerged.bcim", vtop, vbase, CIM_CREATE_IMAGE_VERIFIED_CIM);
    block::Hash mroot = block::sealContainer(vmerged, 1);
    put(out + "/fuzz_block", "merged-verified", blockSeed(3, mroot, {vmerged, vtop, vbase}));

    tarSeeds(out + "/fuzz_tar");
    eaSeeds(out + "/fuzz_ea");
    posixSeeds(out + "/fuzz_posix");
    nameSeeds(out + "/fuzz_names");
    std::filesystem::remove_all(tmp);
    return 0;
}
