#include "layer/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace cim::layer {

namespace {
std::string human(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{:.0f} {}", b, units[u]) : fmt::format("{:.1f} {}", b, units[u]);
}
}  // namespace

Progress::Progress(bool enabled, uint64_t total)
    : active_(enabled && ::isatty(STDERR_FILENO) == 1), total_(total), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(uint64_t in, uint64_t entries) {
    if (!active_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw(in, entries, false);
}

void Progress::draw(uint64_t in, uint64_t entries, bool) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double rate = secs > 0 ? double(in) / secs : 0;
    std::string line;
    if (total_ > 0) {
        double frac = std::min(1.0, double(in) / double(total_));
        int width = 30, filled = static_cast<int>(frac * width);
        std::string bar(static_cast<size_t>(filled), '#');
        bar.append(static_cast<size_t>(width - filled), '.');
        double eta = rate > 0 ? double(total_ - std::min(total_, in)) / rate : 0;
        line = fmt::format("\r[{}] {:3.0f}% {} / {}  {}/s  ETA {}:{:02d}  {} entries", bar, frac * 100, human(double(in)),
                           human(double(total_)), human(rate), int(eta) / 60, int(eta) % 60, entries);
    } else {
        line = fmt::format("\r{} read  {}/s  {} entries", human(double(in)), human(rate), entries);
    }
    line += "\x1b[K";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::finish() {
    if (active_ && drawn_) {
        std::fputs("\r\x1b[K", stderr);
        std::fflush(stderr);
    }
    active_ = false;
}

}  // namespace cim::layer
