// A one-line progress bar on stderr for long imports: bytes read, rate and (when the input size
// is known) percentage and ETA. Drawn only when enabled and stderr is a terminal; redrawn at most
// ten times a second; erased when done. Quiet otherwise.
#pragma once
#include <chrono>
#include <cstdint>

namespace cim::layer {

class Progress {
public:
    // `total`: input size in bytes, 0 when unknown (a pipe).
    Progress(bool enabled, uint64_t total);
    ~Progress();
    void update(uint64_t inputBytes, uint64_t entries);
    void finish();
    bool active() const { return active_; }

private:
    void draw(uint64_t inputBytes, uint64_t entries, bool final);

    bool active_;
    uint64_t total_;
    std::chrono::steady_clock::time_point start_, last_;
    bool drawn_ = false;
};

}  // namespace cim::layer
