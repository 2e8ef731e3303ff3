// opencim export: writes a CIM back as an OCI layer tar (CimExportLayer), to a file or stdout.
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/image_spec.h"

namespace cim::cli {

namespace {

struct Args {
    ImageSpec spec;
    std::vector<std::string> positional;
    std::string format = "auto";
};

void run(Args& a) {
    auto rest = resolveImage(a.spec, a.positional);
    if (rest.size() != 1) throw UsageError("export needs IMAGE and TAR (- for stdout)");
    if (a.spec.kind == ImageSpec::Kind::merged) throw UsageError("export writes one layer; merged CIMs are not supported");
    if (a.spec.rootHash) throw UsageError("export does not verify; drop --verify");
    uint32_t fmt = a.format == "windows" ? CIM_LAYER_FORMAT_WINDOWS : a.format == "linux" ? CIM_LAYER_FORMAT_LINUX : CIM_LAYER_FORMAT_AUTO;
    if (a.spec.kind == ImageSpec::Kind::block) {
        uint32_t flags = a.spec.block.device ? CIM_MOUNT_BLOCK_DEVICE_CIM : CIM_MOUNT_SINGLE_FILE_CIM;
        check(CimExportLayer(a.spec.block.path.c_str(), a.spec.block.name.c_str(), flags, fmt, rest[0].c_str()), "CimExportLayer");
    } else {
        check(CimExportLayer(a.spec.dir.c_str(), a.spec.file.c_str(), 0, fmt, rest[0].c_str()), "CimExportLayer");
    }
}

}  // namespace

void registerExport(CLI::App& app) {
    auto a = std::make_shared<Args>();
    auto* cmd = app.add_subcommand("export", "Write a CIM back as an OCI layer tar (- for stdout)");
    addImageOptions(*cmd, a->spec);
    cmd->add_option("ARGS", a->positional, "[IMAGE] TAR: the image (see below) and the tar to write")->type_name("");
    cmd->add_option("--format", a->format, "Layer format: windows, linux or auto (the image's: case-sensitive = linux)")
        ->check(CLI::IsMember({"auto", "windows", "linux"}))
        ->type_name("FMT");
    cmd->footer(kImageHelp);
    cmd->callback([a] { run(*a); });
}

}  // namespace cim::cli
