// The import pipeline: a producer (decompress, parse tar, map entries to LayerOps) feeding a
// consumer (write the CIM) through the Sink interface. With one thread the producer calls the
// consumer directly; with two it runs in its own thread and hands events over a bounded queue
// (at most kQueueBytes of data in flight, so memory does not grow with the layer). The consumer
// sees exactly the same sequence of events either way, so the image is byte-identical
// regardless of the thread count.
#pragma once
#include <cstddef>
#include <optional>
#include <span>

#include "layer/layer_op.h"
#include "layer/layer_path.h"

namespace cim::layer {

class TarReader;
class Progress;
class Decompressor;

inline constexpr size_t kInlineDataMax = 64 * 1024;  // smaller payloads travel inside the op
inline constexpr size_t kChunkSize = 1 << 20;
inline constexpr size_t kQueueBytes = 16u << 20;

class Sink {
public:
    virtual ~Sink() = default;
    virtual void start(LayerFormat f) = 0;  // before the first op (the format decides the upcase table)
    virtual void op(LayerOp&& op) = 0;
    virtual void data(std::span<const std::byte> d) = 0;  // data of the last op without inline data
    virtual void endData() = 0;
    virtual void end() = 0;
};

// Reads the whole archive into `sink`. `forced`: the layer format, or nullopt to detect it.
void produce(Decompressor& src, TarReader& reader, std::optional<LayerFormat> forced, Sink& sink, Progress& progress);

// Runs produce() on `threads` (1 or 2) threads into `consumer`. Exceptions from either side are
// rethrown here (the consumer's first); both sides have stopped when this returns.
void runPipeline(Decompressor& src, TarReader& reader, std::optional<LayerFormat> forced, Sink& consumer, Progress& progress,
                 unsigned threads);

}  // namespace cim::layer
