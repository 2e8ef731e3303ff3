// opencim stat: everything the reader API knows about one path: CimStatPath, the security
// descriptor, the EAs (decoded), the reparse buffer and the alternate streams.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/display.h"
#include "cli/errors.h"
#include "cli/image_spec.h"

namespace cim::cli {

namespace {

struct StatOptions {
    ImageSpec image;
    bool json = false;
    std::vector<std::string> args;
};

void run(StatOptions& o) {
    auto rest = resolveImage(o.image, o.args);
    if (rest.size() != 1) throw UsageError("expected [IMAGE] PATH");
    std::string path = normalizeImagePath(rest[0]);
    Reader r = openReader(o.image);
    CIMFS_FILE_INFO info = r.stat(path);
    auto sd = r.securityDescriptor(path);
    auto eaBytes = r.extendedAttributes(path);
    auto eas = decodeEas(eaBytes);
    auto reparse = r.reparseData(path);
    auto target = symlinkTarget(reparse);
    auto streams = r.alternateStreams(path);  // for "file:stream", the streams of file

    if (o.json) {
        Json j;
        j["path"] = path;
        j.update(infoJson(info));
        j["reparseTagName"] = info.ReparseTag ? reparseTagName(info.ReparseTag) : "";
        j["securityDescriptor"] = {{"size", sd.size()}, {"hex", toHex(sd)}};
        Json ja = Json::array();
        for (const auto& ea : eas) {
            Json e{{"name", ea.name}, {"flags", ea.flags}, {"size", ea.value.size()}, {"hex", toHex(ea.value)}};
            if (!ea.meaning.empty()) e["decoded"] = ea.meaning;
            ja.push_back(std::move(e));
        }
        j["extendedAttributes"] = {{"size", eaBytes.size()}, {"entries", ja}};
        j["reparseData"] = {{"size", reparse.size()}, {"hex", toHex(reparse)}};
        if (target) j["target"] = *target;
        Json js = Json::array();
        for (const auto& s : streams) js.push_back({{"name", s.name}, {"size", s.size}});
        j["alternateStreams"] = js;
        std::cout << dumpJson(j) << '\n';
        return;
    }
    std::printf("Path:        %s\n", path.empty() ? "(root)" : path.c_str());
    std::printf("Type:        %s\n", fileType(info).c_str());
    std::printf("Attributes:  0x%08x (%s)\n", info.Attributes, attributeNames(info.Attributes).c_str());
    std::printf("Size:        %lld\n", static_cast<long long>(info.FileSize));
    std::printf("File ID:     %llu\n", static_cast<unsigned long long>(info.FileId));
    std::printf("Links:       %u\n", info.LinkCount);
    std::printf("Created:     %s (%lld)\n", filetimeIso(info.CreationTime).c_str(), static_cast<long long>(info.CreationTime));
    std::printf("Modified:    %s (%lld)\n", filetimeIso(info.LastWriteTime).c_str(), static_cast<long long>(info.LastWriteTime));
    std::printf("Changed:     %s (%lld)\n", filetimeIso(info.ChangeTime).c_str(), static_cast<long long>(info.ChangeTime));
    std::printf("Accessed:    %s (%lld)\n", filetimeIso(info.LastAccessTime).c_str(), static_cast<long long>(info.LastAccessTime));
    if (info.ReparseTag) {
        std::printf("Reparse tag: 0x%08x (%s)\n", info.ReparseTag, reparseTagName(info.ReparseTag).c_str());
        std::printf("Reparse data (%zu bytes): %s\n", reparse.size(), toHex(reparse).c_str());
        if (target) std::printf("Target:      %s\n", target->c_str());
    }
    std::printf("Security descriptor (%zu bytes): %s\n", sd.size(), sd.empty() ? "none" : toHex(sd).c_str());
    std::printf("Extended attributes (%zu bytes, %zu entries)%s\n", eaBytes.size(), eas.size(), eas.empty() ? "" : ":");
    for (const auto& ea : eas) {
        std::printf("  %-8s %3zu bytes  %s%s%s\n", ea.name.c_str(), ea.value.size(), toHex(ea.value).c_str(),
                    ea.meaning.empty() ? "" : "  = ", ea.meaning.c_str());
    }
    std::printf("Alternate streams (%zu)%s\n", streams.size(), streams.empty() ? "" : ":");
    for (const auto& s : streams) std::printf("  %-20s %llu bytes\n", s.name.c_str(), static_cast<unsigned long long>(s.size));
}

}  // namespace

void registerStat(CLI::App& app) {
    auto o = std::make_shared<StatOptions>();
    auto* cmd = app.add_subcommand("stat", "Show all metadata of one path in an image");
    cmd->add_flag("--json", o->json, "Print a JSON object");
    addImageOptions(*cmd, o->image);
    cmd->add_option("ARGS", o->args, "[IMAGE] PATH: PATH inside the image ('' is the root; file:stream for a stream)")->type_name("");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
