#include "layer/layer_import.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <thread>

#include "block/block_image.h"
#include "block/seal.h"
#include "block/vhd_footer.h"
#include "common/sha256.h"
#include "common/upcase.h"
#include "image/image.h"
#include "io/file.h"
#include "layer/decompressor.h"
#include "layer/importer.h"
#include "layer/layer_error.h"
#include "layer/pipeline.h"
#include "layer/progress.h"
#include "layer/tar_reader.h"
#include "opencim/cimfs.h"


namespace cim::layer {

namespace {

// The consumer: creates the writer once the format is known, applies ops, commits at the end.
class Consumer final : public Sink {
public:
    Consumer(std::string tempBlock, std::string cimName, uint32_t createFlags, std::function<bool(const ImagePath&)> parentHas)
        : tempBlock_(std::move(tempBlock)), cimName_(std::move(cimName)), flags_(createFlags), parentHas_(std::move(parentHas)) {}

    void start(LayerFormat f) override {
        format_ = f;
        const UpcaseTable& up = f == LayerFormat::Linux ? identityUpcaseTable() : defaultUpcaseTable();
        writer_ = block::createBlockImage(tempBlock_, nullptr, cimName_.c_str(), flags_, &up);
        applier_ = std::make_unique<LayerApplier>(*writer_, f, parentHas_);
    }
    void op(LayerOp&& op) override { applier_->apply(op); }
    void data(std::span<const std::byte> d) override { applier_->write(d); }
    void endData() override { applier_->endStream(); }
    void end() override {
        applier_->finish();
        writer_->commit();
        writer_.reset();
    }
    LayerFormat format() const { return format_; }
    const LayerApplier& applier() const { return *applier_; }

private:
    std::string tempBlock_, cimName_;
    uint32_t flags_;
    std::function<bool(const ImagePath&)> parentHas_;
    LayerFormat format_ = LayerFormat::Linux;
    std::unique_ptr<image::Writer> writer_;
    std::unique_ptr<LayerApplier> applier_;
};

// Removes the files it names unless released.
struct Cleanup {
    std::vector<std::string> paths;
    ~Cleanup() {
        for (const auto& p : paths) ::unlink(p.c_str());
    }
};

void writeWholeFile(const std::string& path, const std::string& content) {
    io::File f = io::File::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    f.writeExact(0, std::as_bytes(std::span(content.data(), content.size())));
    f.sync();
}

}  // namespace

ImportResult importLayer(int fd, const std::string& sourceName, const std::string& blockPath, const std::string& cimName,
                         const ImportOptions& o) {
    const char* op = "CimImportLayer";
    if (blockPath.empty()) fail(hr::invalidArg, "{}: the block file path is empty", op);
    if (cimName.empty()) fail(hr::invalidArg, "{}: {}: the CIM name is empty", op, blockPath);
    if (io::exists(blockPath)) fail(hr::fileExists, "{}: {}: the block file already exists", op, blockPath);
    std::string dir = io::dirName(blockPath);
    if (!io::isDirectory(dir)) fail(hr::pathNotFound, "{}: {}: directory does not exist", op, dir);
    std::string checksumPath = io::joinPath(dir, "integrity_checksum");

    // Parent layers: single-file block CIMs (as hcsshim requires), opened up front so a bad list
    // fails before any work; used to check cross-layer hard link targets.
    std::vector<std::shared_ptr<image::Image>> parents;
    for (const auto& [path, name] : o.parents) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0) fail(hr::fileNotFound, "{}: parent layer {}: no such block file", op, path);
        if (!S_ISREG(st.st_mode)) fail(hr::invalidArg, "{}: parent layer {}: not a single-file block CIM", op, path);
        try {
            parents.push_back(block::openBlock(path, name));
        } catch (const Error& e) {
            throw withContext(e, fmt::format("{}: parent layer {}:{}", op, path, name));
        }
    }
    std::function<bool(const ImagePath&)> parentHas;
    if (!parents.empty()) {
        parentHas = [&parents](const ImagePath& p) {
            for (const auto& img : parents) {
                try {
                    img->resolve(p);
                    return true;
                } catch (const Error&) {
                }
            }
            return false;
        };
    }

    unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    uint64_t limit = o.maxUncompressed ? o.maxUncompressed : kDefaultMaxUncompressed;
    uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM | (o.verified ? CIM_CREATE_IMAGE_VERIFIED_CIM : 0);

    Cleanup cleanup;
    std::string tempBlock = io::tempNameFor(blockPath);
    cleanup.paths.push_back(tempBlock);

    struct stat st;
    uint64_t total = (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? uint64_t(st.st_size) : 0;
    Progress progress(o.progress, total);
    Decompressor src(fd, sourceName, limit);
    TarReader reader(src, limit);
    Consumer consumer(tempBlock, cimName, flags, parentHas);
    runPipeline(src, reader, o.format, consumer, progress, std::min(threads, 2u));
    progress.finish();

    ImportResult r;
    r.format = consumer.format();
    r.entries = consumer.applier().entries();
    r.dataBytes = consumer.applier().dataBytes();
    if (o.verified) {
        block::Hash h = block::sealContainer(tempBlock, threads);
        std::copy(h.begin(), h.end(), r.rootHash.begin());
    }
    if (o.vhdFooter) {
        // A reproducible unique id: derived from block 0, whose directory digest covers the content.
        io::File f = io::File::open(tempBlock, O_RDWR | O_CLOEXEC);
        std::vector<std::byte> b0(4096);
        f.readExact(0, b0);
        auto d = Sha256::of(b0);
        block::appendVhdFooter(f.fd(), d.data());
    }
    std::string checksumTemp;
    if (o.verified) {
        std::string hex;
        for (uint8_t b : r.rootHash) hex += fmt::format("{:02x}", b);
        checksumTemp = io::tempNameFor(checksumPath);
        cleanup.paths.push_back(checksumTemp);
        writeWholeFile(checksumTemp, hex);
    }
    if (o.verified || o.vhdFooter) {  // changed after the writer's own (synced) commit
        io::File f = io::File::open(tempBlock, O_RDONLY | O_CLOEXEC);
        f.sync();
    }
    if (::renameat2(AT_FDCWD, tempBlock.c_str(), AT_FDCWD, blockPath.c_str(), RENAME_NOREPLACE) != 0) {
        int e = errno;
        if (e == EEXIST) fail(hr::fileExists, "{}: {}: the block file appeared during the import", op, blockPath);
        failErrno(e, "publish " + blockPath);
    }
    cleanup.paths[0] = blockPath;  // until the checksum is in place, a failure removes the block file
    if (o.verified) io::renameFile(checksumTemp, checksumPath);
    cleanup.paths.clear();
    io::syncDirectory(dir);
    return r;
}

}  // namespace cim::layer
