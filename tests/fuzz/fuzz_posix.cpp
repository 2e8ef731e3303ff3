// libFuzzer target: what the FUSE mount derives from a file's Windows metadata — reparse buffers
// (fuse::linkTarget and the layer decoders), times (fuse::fileTimeToTimespec), $LX* EAs, security
// descriptors and alternate streams (fuse::xattrNames / xattrValue) — through both paths a
// hostile value can take:
//  1. raw bytes straight into the decoders;
//  2. a CIM written with those bytes as metadata (the writer checks only the framing), read back
//     and described as the mount would (fuse::describe, fuse::fileType, every xattr).
// Input: u32 attributes, 4 x i64 times, u16 reparse length, u16 EA length, u16 SD length,
// u8 flags (1: directory, 2: add an alternate stream), then the reparse, EA and SD bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "common/path.h"
#include "format/ea.h"
#include "fuse/posix_view.h"
#include "fuse/xattr_view.h"
#include "fuzz_util.h"
#include "image/create.h"
#include "image/open.h"
#include "layer/reparse.h"

using namespace cim;

namespace {

std::span<const std::byte> asBytes(const std::string& s) { return {reinterpret_cast<const std::byte*>(s.data()), s.size()}; }

void decodeRaw(const std::string& reparse, const std::string& ea, int64_t t) {
    (void)fuse::linkTarget(asBytes(reparse));
    try {
        (void)layer::reparseTag(asBytes(reparse));
        (void)layer::decodeWindowsLink(asBytes(reparse), "fuzz");
    } catch (const Error&) {
    }
    try {
        (void)layer::decodeLxSymlink(asBytes(reparse), "fuzz");
    } catch (const Error&) {
    }
    try {
        (void)fuse::linuxMetadata(format::parseEaChain(asBytes(ea), hr::corrupt));
    } catch (const Error&) {
    }
    struct timespec ts = fuse::fileTimeToTimespec(t);
    if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000) {
        std::fprintf(stderr, "fileTimeToTimespec(%lld) gave tv_nsec %ld\n", static_cast<long long>(t), ts.tv_nsec);
        std::abort();
    }
}

void describeAll(const image::Image& img) {
    img.walk([&](const std::vector<std::u16string>&, const image::FileNode& f) {
        try {
            (void)fuse::fileType(img, f);
            auto p = fuse::describe(img, f, img.linkCount(f.id));
            if ((p.st.st_mode & S_IFMT) == S_IFLNK && p.linkTarget.empty()) {
                std::fprintf(stderr, "symlink without a target\n");
                std::abort();
            }
            for (const auto& n : fuse::xattrNames(img, f)) {
                try {
                    auto v = fuse::xattrValue(img, f, n);
                    if (v && v->size() > fuse::kMaxXattrValue) std::abort();
                } catch (const Error&) {
                }
            }
            (void)fuse::xattrValue(img, f, "user.");
            (void)fuse::xattrValue(img, f, "user.\xff\xfe");
        } catch (const Error&) {
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    fuzzutil::Input in{data, size};
    image::FileMetadata md;
    md.attributes = in.take<uint32_t>();
    md.creationTime = in.take<int64_t>();
    md.lastWriteTime = in.take<int64_t>();
    md.changeTime = in.take<int64_t>();
    md.lastAccessTime = in.take<int64_t>();
    uint16_t rl = in.take<uint16_t>(), el = in.take<uint16_t>(), sl = in.take<uint16_t>();
    uint8_t flags = in.take<uint8_t>();
    std::string reparse = in.bytes(rl), ea = in.bytes(el), sd = in.bytes(sl);

    for (int64_t t : {md.creationTime, md.lastWriteTime, md.changeTime, md.lastAccessTime}) decodeRaw(reparse, ea, t);

    md.reparseData = asBytes(reparse);
    md.extendedAttributes = asBytes(ea);
    md.securityDescriptor = asBytes(sd);
    if (flags & 1) md.attributes |= 0x10;
    else md.attributes &= ~0x10u;
    md.fileSize = (flags & 1) ? 0 : 5;
    std::string dir = fuzzutil::freshDir("posix");
    try {
        auto w = image::createStandardImage(dir, nullptr, "p.cim", 0x10);
        image::FileMetadata plainDir;
        plainDir.attributes = 0x10;
        w->createFile(parseImagePath("d"), plainDir);
        uint64_t s = w->createFile(parseImagePath("d\\f"), md);
        if (s) {
            w->write(s, asBytes(std::string("hello")));
            w->closeStream(s);
        }
        if (flags & 2) {
            uint64_t a = w->createAlternateStream(parseImagePath("d\\f:ads", StreamSyntax::required), 3);
            w->write(a, asBytes(std::string("abc")));
            w->closeStream(a);
        }
        w->commit();
    } catch (const Error&) {
        return 0;  // the writer refused the metadata: fine, nothing to read back
    }
    try {
        describeAll(*image::openStandard(dir, "p.cim"));
    } catch (const Error&) {
    }
    return 0;
}
