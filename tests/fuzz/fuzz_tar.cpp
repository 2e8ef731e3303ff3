// libFuzzer target: the layer importer (layer::importLayer, what CimImportLayerFromFd runs) on
// hostile tar streams — ustar/GNU/PAX headers, PAX records (incl. MSWINDOWS.* and xattrs), sparse
// maps, compression filters, Windows and Linux layer mapping, whiteouts, links, implicit
// directories, sealing — fed through a memfd. Beyond "no crash" it checks the promises of the
// import: a failed import leaves the target directory empty (no partial block file, no temp
// files); a successful one leaves exactly the block file (and integrity_checksum when verified)
// and the result opens and reads cleanly; nothing is ever written outside the target directory.
// Input: u8 mode, then the tar stream.
//   mode bits 0-1: layer format (0 auto, 1 Windows, 2 Linux, 3 auto); bit 2: verified (seal);
//   bit 3: with a parent layer (cross-layer hard links become merge links); bit 4: two threads.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "block/block_image.h"
#include "common/error.h"
#include "common/path.h"
#include "fuzz_exercise.h"
#include "fuzz_util.h"
#include "layer/layer_import.h"
#include "opencim/cimfs.h"

using namespace cim;

namespace {

// A parent layer holding a few Windows- and Linux-style paths, built once per process.
const std::string& parentLayer() {
    static std::string path = [] {
        std::string d = fuzzutil::freshDir("parent");
        std::string p = d + "/parent.bcim";
        auto w = block::createBlockImage(p, nullptr, "parent.cim", CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM);
        image::FileMetadata dmd;
        dmd.attributes = 0x10;
        for (const char* dirPath : {"Files", "Files\\Windows", "etc", "usr", "usr/bin"}) w->createFile(parseImagePath(dirPath), dmd);
        for (const char* filePath : {"Files\\Windows\\a.txt", "etc/passwd", "usr/bin/sh"}) {
            image::FileMetadata md;
            md.attributes = 0x20;
            md.fileSize = 2;
            uint64_t s = w->createFile(parseImagePath(filePath), md);
            w->write(s, std::as_bytes(std::span("hi", 2)));
            w->closeStream(s);
        }
        w->commit();
        return p;
    }();
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    const std::string& parent = parentLayer();
    std::string dir = fuzzutil::freshDir("tar");

    int fd = ::memfd_create("fuzz-tar", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    for (size_t off = 1; off < size;) {
        ssize_t n = ::write(fd, data + off, size - off);
        if (n <= 0) std::abort();
        off += static_cast<size_t>(n);
    }
    ::lseek(fd, 0, SEEK_SET);

    layer::ImportOptions o;
    if ((mode & 3) == 1) o.format = layer::LayerFormat::Windows;
    if ((mode & 3) == 2) o.format = layer::LayerFormat::Linux;
    o.verified = mode & 4;
    if (mode & 8) o.parents.emplace_back(parent, "parent.cim");
    o.threads = (mode & 16) ? 2 : 1;
    o.maxUncompressed = 64u << 20;  // bombs stop here, quickly

    bool ok = false;
    try {
        layer::importLayer(fd, "fuzz", dir + "/layer.bcim", "layer.cim", o);
        ok = true;
    } catch (const Error&) {
    } catch (const std::bad_alloc&) {
    }
    ::close(fd);

    if (!ok) {
        fuzzutil::requireDirIs(dir, {}, "failed import left output");
    } else {
        std::set<std::string> want{"layer.bcim"};
        if (o.verified) want.insert("integrity_checksum");
        fuzzutil::requireDirIs(dir, want, "successful import left extra files");
        try {
            fuzzutil::exercise(*block::openBlock(dir + "/layer.bcim", "layer.cim"), 1000);
        } catch (const Error& e) {
            std::fprintf(stderr, "an imported layer does not read back: %s\n", e.what());
            std::abort();
        }
    }
    // Nothing outside the target: the scratch directory holds only the two sub-directories.
    fuzzutil::requireDirIs(fuzzutil::scratchDir(), {"tar", "parent"}, "import wrote outside its directory");
    fuzzutil::requireDirIs(fuzzutil::scratchDir() + "/parent", {"parent.bcim"}, "import touched the parent layer's directory");
    return 0;
}
