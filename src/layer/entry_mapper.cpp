// Shared parts of the two mappers: format detection and OCI whiteouts.
#include "layer/entry_mapper.h"

#include <strings.h>

#include "layer/layer_error.h"
#include "layer/whiteout.h"

namespace cim::layer {

LayerFormat detectFormat(const TarEntry& e) {
    for (const auto& [k, v] : e.pax) {
        if (k.starts_with("MSWINDOWS.")) return LayerFormat::Windows;
    }
    std::string_view p = e.path;
    while (!p.empty() && (p.front() == '/' || p.front() == '\\')) p.remove_prefix(1);
    if (p.starts_with("./")) p.remove_prefix(2);
    size_t end = p.find_first_of("/\\");
    std::string first(p.substr(0, end));
    for (const char* w : {"Files", "Hives", "UtilityVM"}) {
        if (strcasecmp(first.c_str(), w) == 0) return LayerFormat::Windows;
    }
    return LayerFormat::Linux;
}

bool mapWhiteout(const std::vector<std::string>& comps, LayerFormat f, const std::string& what, LayerOp& op) {
    if (comps.empty()) return false;
    const std::string& base = comps.back();
    if (!base.starts_with(kWhiteoutPrefix)) return false;
    std::vector<std::string> dir(comps.begin(), comps.end() - 1);
    if (base == kOpaqueWhiteout) {
        if (dir.empty()) fail(hr::notSupported, "{}: an opaque whiteout of the layer's root directory is not supported", what);
        op.kind = OpKind::opaque;
        op.path = toImagePath(dir, f, what);
        return true;
    }
    std::string rest = base.substr(sizeof(kWhiteoutPrefix) - 1);
    if (rest.empty() || rest == "." || rest == "..") failData("{}: whiteout without a valid name", what);
    dir.push_back(rest);
    op.kind = OpKind::whiteout;
    op.path = toImagePath(dir, f, what);
    return true;
}

}  // namespace cim::layer
