// opencim ls: lists a directory (or one file) of an image through CimEnumerateDirectory/CimStatPath.
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

struct LsOptions {
    ImageSpec image;
    bool longFormat = false, recursive = false, json = false;
    std::vector<std::string> args;
};

struct Row {
    std::string path;  // full image path
    std::string shown; // relative to the listed directory
    CIMFS_FILE_INFO info;
};

bool isLink(const CIMFS_FILE_INFO& i) {
    std::string t = fileType(i);
    return t == "symlink" || t == "junction";
}

void run(LsOptions& o) {
    auto rest = resolveImage(o.image, o.args);
    if (rest.size() > 1) throw UsageError("expected [IMAGE] [PATH]");
    std::string base = normalizeImagePath(rest.empty() ? "" : rest[0]);
    Reader r = openReader(o.image);

    std::vector<Row> rows;
    CIMFS_FILE_INFO top = r.stat(base);
    if (!(top.Attributes & 0x10)) {
        rows.push_back({base, base, top});
    } else if (o.recursive) {
        size_t strip = base.empty() ? 0 : base.size() + 1;
        r.walk(base, [&](const std::string& p, const Reader::Entry& e) { rows.push_back({p, p.substr(strip), e.info}); });
    } else {
        for (auto& e : r.list(base)) rows.push_back({joinImagePath(base, e.name), e.name, e.info});
    }

    if (o.json) {
        Json arr = Json::array();
        for (const Row& row : rows) {
            Json j;
            j["path"] = row.path;
            j["name"] = row.shown;
            j.update(infoJson(row.info));
            if (isLink(row.info)) {
                if (auto t = symlinkTarget(r.reparseData(row.path))) j["target"] = *t;
            }
            arr.push_back(std::move(j));
        }
        std::cout << dumpJson(arr) << '\n';
        return;
    }
    for (const Row& row : rows) {
        if (!o.longFormat) {
            std::printf("%s\n", row.shown.c_str());
            continue;
        }
        std::string target;
        if (isLink(row.info)) {
            if (auto t = symlinkTarget(r.reparseData(row.path))) target = " -> " + *t;
        }
        std::printf("%s %3u %12lld %s %8llu %s%s\n", attributeLetters(row.info.Attributes).c_str(), row.info.LinkCount,
                    static_cast<long long>(row.info.FileSize), filetimeShort(row.info.LastWriteTime).c_str(),
                    static_cast<unsigned long long>(row.info.FileId), row.shown.c_str(), target.c_str());
    }
}

}  // namespace

void registerLs(CLI::App& app) {
    auto o = std::make_shared<LsOptions>();
    auto* cmd = app.add_subcommand("ls", "List a directory of an image");
    cmd->add_flag("-l,--long", o->longFormat, "Long format: ATTR LINKS SIZE MTIME(UTC) FILEID NAME");
    cmd->add_flag("-R,--recursive", o->recursive, "List the whole subtree (paths relative to PATH)");
    cmd->add_flag("--json", o->json, "Print a JSON array of entries");
    addImageOptions(*cmd, o->image);
    cmd->add_option("ARGS", o->args, "[IMAGE] [PATH]: PATH inside the image, default the root")->type_name("");
    cmd->footer(std::string(kImageHelp) +
                "\nATTR letters: d=directory r=read-only h=hidden s=system a=archive L=reparse point.");
    cmd->callback([o] { run(*o); });
}

}  // namespace cim::cli
