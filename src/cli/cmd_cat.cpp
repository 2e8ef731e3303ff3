// opencim cat: copies a file's primary stream (or "file:stream") to standard output.
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/image_spec.h"

namespace cim::cli {

namespace {

struct CatOptions {
    ImageSpec image;
    std::vector<std::string> args;
};

void writeOut(std::span<const std::byte> data) {
    while (!data.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) failErrno(errno, "standard output");
        data = data.subspan(static_cast<size_t>(n));
    }
}

void run(CatOptions& o) {
    auto rest = resolveImage(o.image, o.args);
    if (rest.empty()) throw UsageError("expected [IMAGE] PATH...");
    Reader r = openReader(o.image);
    for (const auto& p : rest) r.readAll(normalizeImagePath(p), writeOut);
}

}  // namespace

void registerCat(CLI::App& app) {
    auto o = std::make_shared<CatOptions>();
    auto* cmd = app.add_subcommand("cat", "Write files of an image to standard output");
    addImageOptions(*cmd, o->image);
    cmd->add_option("ARGS", o->args, "[IMAGE] PATH...: files inside the image (file:stream for an alternate stream)")->type_name("");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
