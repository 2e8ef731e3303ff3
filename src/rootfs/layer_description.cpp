#include "rootfs/layer_description.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <set>

#include "common/error.h"

namespace cim::rootfs {

namespace {
constexpr const char* kWhat = "layer description";

block::Hash parseHash(const std::string& field, const std::string& hex) {
    if (hex.size() != 64) fail(hr::invalidArg, "{}: {}: root hash must be 64 hex digits, got {}", kWhat, field, hex.size());
    block::Hash h;
    for (size_t i = 0; i < 32; ++i) {
        auto nib = [&](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            fail(hr::invalidArg, "{}: {}: '{}' is not a hex digit", kWhat, field, c);
        };
        h[i] = static_cast<uint8_t>(nib(hex[2 * i]) * 16 + nib(hex[2 * i + 1]));
    }
    return h;
}

std::string requireString(const nlohmann::json& obj, const std::string& where, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) fail(hr::invalidArg, "{}: {}.{}: missing", kWhat, where, key);
    if (!it->is_string()) fail(hr::invalidArg, "{}: {}.{}: must be a string", kWhat, where, key);
    std::string v = it->get<std::string>();
    if (v.empty()) fail(hr::invalidArg, "{}: {}.{}: is empty", kWhat, where, key);
    return v;
}
}  // namespace

std::string defaultMergedCacheDir() {
    const char* e = std::getenv("OPENCIM_CACHE_DIR");
    return (e && *e) ? e : "/var/lib/opencim/merged";
}

LayerDescription parseLayerDescription(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        fail(hr::invalidArg, "{}: not valid JSON: {}", kWhat, e.what());
    }
    if (!j.is_object()) fail(hr::invalidArg, "{}: must be a JSON object", kWhat);
    for (auto& [key, value] : j.items()) {
        if (key != "layers" && key != "mergedCacheDir") fail(hr::invalidArg, "{}: unknown field '{}'", kWhat, key);
        (void)value;
    }
    auto layers = j.find("layers");
    if (layers == j.end()) fail(hr::invalidArg, "{}: layers: missing", kWhat);
    if (!layers->is_array()) fail(hr::invalidArg, "{}: layers: must be an array", kWhat);
    if (layers->empty()) fail(hr::invalidArg, "{}: layers: at least one layer is required", kWhat);
    if (layers->size() > 1000) fail(hr::invalidArg, "{}: layers: {} layers (at most 1000)", kWhat, layers->size());
    LayerDescription d;
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < layers->size(); ++i) {
        const auto& l = (*layers)[i];
        std::string where = fmt::format("layers[{}]", i);
        if (!l.is_object()) fail(hr::invalidArg, "{}: {}: must be an object", kWhat, where);
        for (auto& [key, value] : l.items()) {
            if (key != "blockPath" && key != "cimName" && key != "rootHash") {
                fail(hr::invalidArg, "{}: {}: unknown field '{}'", kWhat, where, key);
            }
            (void)value;
        }
        LayerRef r;
        r.blockPath = requireString(l, where, "blockPath");
        r.cimName = requireString(l, where, "cimName");
        if (l.contains("rootHash")) r.rootHash = parseHash(where + ".rootHash", requireString(l, where, "rootHash"));
        if (!seen.insert({r.blockPath, r.cimName}).second) {
            fail(hr::invalidArg, "{}: {}: {}:{} is listed twice (a layer appears once, topmost first)", kWhat, where,
                 r.blockPath, r.cimName);
        }
        d.layers.push_back(std::move(r));
    }
    bool anyVerified = false, anyUnverified = false;
    for (const auto& l : d.layers) (l.rootHash ? anyVerified : anyUnverified) = true;
    if (anyVerified && anyUnverified) {
        fail(hr::invalidArg, "{}: layers: verified and unverified layers cannot be mixed (give every layer a rootHash, or none)",
             kWhat);
    }
    if (j.contains("mergedCacheDir")) {
        if (!j["mergedCacheDir"].is_string() || j["mergedCacheDir"].get<std::string>().empty()) {
            fail(hr::invalidArg, "{}: mergedCacheDir: must be a non-empty string", kWhat);
        }
        d.mergedCacheDir = j["mergedCacheDir"].get<std::string>();
    } else {
        d.mergedCacheDir = defaultMergedCacheDir();
    }
    return d;
}

}  // namespace cim::rootfs
