#include "cli/image_spec.h"

#include <fcntl.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "block/container.h"
#include "cli/display.h"
#include "cli/errors.h"

namespace cim::cli {

const char* const kImageHelp =
    "Images:\n"
    "  DIR/NAME.cim                 standard CIM\n"
    "  BLOCKFILE:NAME               CIM NAME inside block file or device BLOCKFILE\n"
    "  BLOCKFILE                    the only CIM inside BLOCKFILE\n"
    "  --block FILE --name NAME     same as FILE:NAME (IMAGE is then omitted)\n"
    "  --merged BLOCKFILE:NAME --source BLOCKFILE:NAME [--source ...]\n"
    "                               merged CIM and its sources, topmost first (IMAGE omitted)\n"
    "  --verify HEX                 read verified against the 64-hex-digit root hash\n"
    "A path that exists is used whole; otherwise it is split at its last ':'.";

namespace {

bool existsAsFile(const std::string& path, bool* isDir = nullptr) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    if (isDir) *isDir = S_ISDIR(st.st_mode);
    return true;
}

}  // namespace

ImageFileKind detectImageFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) failErrno(errno, path);
    char m[8] = {};
    ssize_t n = ::pread(fd, m, sizeof m, 0);
    ::close(fd);
    if (n == 8 && std::memcmp(m, format::kMagic, 8) == 0) return ImageFileKind::standard;
    if (n == 8 && std::memcmp(m, block::kContainerMagic, 8) == 0) return ImageFileKind::block;
    return ImageFileKind::unknown;
}

bool isBlockDevice(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

std::vector<std::string> blockCimNames(const std::string& path) {
    std::vector<std::string> names;
    auto c = block::Container::open(path);  // must outlive the loop over its cims()
    for (const auto& e : c->cims()) names.push_back(e.name);
    return names;
}

BlockRef parseBlockRef(const std::string& text) {
    bool dir = false;
    if (existsAsFile(text, &dir)) {
        if (dir) throw UsageError(fmt::format("{}: is a directory, not a block file", text));
        auto names = blockCimNames(text);
        if (names.size() != 1) {
            fail(hr::invalidArg, "{}: holds {} CIMs ({}); name one as {}:NAME", text, names.size(), fmt::join(names, ", "), text);
        }
        return {text, names[0], isBlockDevice(text)};
    }
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        fail(hr::fileNotFound, "{}: no such file (a block CIM is BLOCKFILE:NAME)", text);
    }
    BlockRef r{text.substr(0, colon), text.substr(colon + 1), false};
    r.device = isBlockDevice(r.path);
    return r;
}

void addImageOptions(CLI::App& cmd, ImageSpec& spec) {
    cmd.add_option("--block", spec.blockOpt, "Block file or device holding the CIM (instead of IMAGE)")->type_name("FILE");
    cmd.add_option("--name", spec.nameOpt, "Name of the CIM inside the --block file")->type_name("NAME");
    cmd.add_option("--merged", spec.mergedOpt, "Merged CIM as BLOCKFILE:NAME (needs --source)")->type_name("BLOCKFILE:NAME");
    cmd.add_option("--source", spec.sourceOpts, "Source of the --merged CIM as BLOCKFILE:NAME, topmost first (repeat)")
        ->type_name("BLOCKFILE:NAME")
        ->allow_extra_args(false);  // one value per --source, so IMAGE/PATH arguments may follow
    cmd.add_option("--verify", spec.verifyOpt, "Open verified against this root hash (64 hex digits)")->type_name("HEX");
    cmd.footer(kImageHelp);
}

std::vector<std::string> resolveImage(ImageSpec& s, std::vector<std::string> args) {
    bool blockMode = !s.blockOpt.empty() || !s.nameOpt.empty();
    bool mergedMode = !s.mergedOpt.empty() || !s.sourceOpts.empty();
    if (blockMode && mergedMode) throw UsageError("--block/--name and --merged/--source cannot be combined");
    if (!s.nameOpt.empty() && s.blockOpt.empty()) throw UsageError("--name needs --block");
    if (mergedMode) {
        if (s.mergedOpt.empty()) throw UsageError("--source needs --merged");
        if (s.sourceOpts.empty()) throw UsageError("--merged needs its sources (--source, topmost first)");
        s.kind = ImageSpec::Kind::merged;
        s.block = parseBlockRef(s.mergedOpt);
        for (const auto& src : s.sourceOpts) s.sources.push_back(parseBlockRef(src));
    } else if (blockMode) {
        s.kind = ImageSpec::Kind::block;
        if (s.nameOpt.empty()) {
            if (!existsAsFile(s.blockOpt)) fail(hr::fileNotFound, "{}: no such file", s.blockOpt);
            s.block = parseBlockRef(s.blockOpt);
        } else {
            s.block = {s.blockOpt, s.nameOpt, isBlockDevice(s.blockOpt)};
        }
    } else {
        if (args.empty()) throw UsageError("missing IMAGE (see 'Images' in --help)");
        std::string image = args.front();
        args.erase(args.begin());
        bool dir = false;
        if (existsAsFile(image, &dir)) {
            if (dir) throw UsageError(fmt::format("{}: is a directory; name the image file (DIR/NAME.cim)", image));
            switch (detectImageFile(image)) {
                case ImageFileKind::standard: {
                    size_t slash = image.rfind('/');
                    s.kind = ImageSpec::Kind::standard;
                    s.dir = slash == std::string::npos ? "." : slash == 0 ? "/" : image.substr(0, slash);
                    s.file = slash == std::string::npos ? image : image.substr(slash + 1);
                    break;
                }
                case ImageFileKind::block:
                    s.kind = ImageSpec::Kind::block;
                    s.block = parseBlockRef(image);
                    break;
                case ImageFileKind::unknown:
                    fail(hr::corrupt, "{}: neither a CIM nor an opencim block file", image);
            }
        } else {
            s.kind = ImageSpec::Kind::block;
            s.block = parseBlockRef(image);
        }
    }
    if (!s.verifyOpt.empty()) {
        if (s.kind == ImageSpec::Kind::standard) throw UsageError("--verify: only block and merged CIMs can be verified");
        s.rootHash = parseHex(s.verifyOpt, 32, "--verify");
    }
    return args;
}

std::string ImageSpec::describe() const {
    switch (kind) {
        case Kind::standard: return dir + "/" + file;
        case Kind::block: return block.path + ":" + block.name;
        case Kind::merged: return "merged " + block.path + ":" + block.name;
    }
    return {};
}

Reader openReader(const ImageSpec& s) {
    CIMFS_READER_HANDLE h = nullptr;
    const uint8_t* hash = s.rootHash ? s.rootHash->data() : nullptr;
    auto typeFlag = [](const BlockRef& b) { return b.device ? CIM_MOUNT_BLOCK_DEVICE_CIM : CIM_MOUNT_SINGLE_FILE_CIM; };
    switch (s.kind) {
        case ImageSpec::Kind::standard:
            check(CimOpenImage(s.dir.c_str(), s.file.c_str(), 0, &h), "CimOpenImage");
            break;
        case ImageSpec::Kind::block:
            if (hash) {
                check(CimOpenVerifiedImage(s.block.path.c_str(), s.block.name.c_str(), typeFlag(s.block), 32, hash, &h),
                      "CimOpenVerifiedImage");
            } else {
                check(CimOpenImage(s.block.path.c_str(), s.block.name.c_str(), typeFlag(s.block), &h), "CimOpenImage");
            }
            break;
        case ImageSpec::Kind::merged: {
            std::vector<CIMFS_IMAGE_PATH> paths;
            paths.push_back({s.block.path.c_str(), s.block.name.c_str()});
            for (const auto& src : s.sources) paths.push_back({src.path.c_str(), src.name.c_str()});
            auto n = static_cast<uint32_t>(paths.size());
            if (hash) {
                check(CimOpenMergedVerifiedImage(n, paths.data(), typeFlag(s.block), 32, hash, &h), "CimOpenMergedVerifiedImage");
            } else {
                check(CimOpenMergedImage(n, paths.data(), typeFlag(s.block), &h), "CimOpenMergedImage");
            }
            break;
        }
    }
    return Reader(h);
}

}  // namespace cim::cli
