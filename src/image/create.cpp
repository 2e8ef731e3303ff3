#include "image/create.h"

#include "common/error.h"
#include "image/open.h"
#include "image/standard_target.h"
#include "io/file.h"

namespace cim::image {

void checkImageName(const char* op, const std::string& where, const std::string& name) {
    if (name.empty() || name == "." || name == ".." || name.size() > 255 || name.find('/') != std::string::npos) {
        fail(hr::invalidArg, "{}: {}: '{}' is not a valid image name", op, where, name);
    }
}

std::unique_ptr<Writer> createStandardImage(const std::string& dir, const char* existing, const char* newName, uint32_t flags) {
    const char* op = "CimCreateImage";
    if (!existing && !newName) fail(hr::invalidArg, "{}: {}: neither an existing nor a new image name was given", op, dir);
    if (dir.empty()) fail(hr::invalidArg, "{}: the image directory is empty", op);
    if (!io::isDirectory(dir)) fail(hr::pathNotFound, "{}: {}: directory does not exist", op, dir);
    if (existing) checkImageName(op, dir, existing);
    if (newName) checkImageName(op, dir, newName);
    bool consistent = (flags & 0x10) != 0;

    if (!existing) {
        if (io::exists(io::joinPath(dir, newName))) fail(hr::fileExists, "{}: {}: image already exists", op, io::joinPath(dir, newName));
        return std::make_unique<Writer>(makeStandardTarget(dir, newName, false), defaultUpcaseTable(), consistent);
    }
    std::string existingPath = io::joinPath(dir, existing);
    if (!io::exists(existingPath)) fail(hr::fileNotFound, "{}: {}: image does not exist", op, existingPath);
    std::string target = newName ? newName : existing;
    bool overwrite = target == existing;
    if (!overwrite && io::exists(io::joinPath(dir, target))) {
        fail(hr::fileExists, "{}: {}: image already exists", op, io::joinPath(dir, target));
    }
    std::shared_ptr<Image> base;
    StandardHeader sh;
    try {
        sh = readStandardHeader(dir, existing);
        base = openStandard(dir, existing);
    } catch (const Error& e) {
        throw withContext(e, fmt::format("{}: opening {}", op, existingPath));
    }
    if (sh.regionSets.size() > 0xFFFF) fail(hr::corrupt, "{}: {}: too many region sets", op, existingPath);
    return std::make_unique<Writer>(makeStandardTarget(dir, target, overwrite), base->upcase(), consistent, base,
                                    sh.regionSets);
}

}  // namespace cim::image
