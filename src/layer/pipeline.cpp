#include "layer/pipeline.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <variant>

#include "layer/entry_mapper.h"
#include "layer/layer_error.h"
#include "layer/progress.h"
#include "layer/tar_reader.h"

namespace cim::layer {

void produce(Decompressor& src, TarReader& reader, std::optional<LayerFormat> forced, Sink& sink, Progress& progress) {
    std::unique_ptr<EntryMapper> mapper;
    uint64_t entries = 0;
    while (auto e = reader.next()) {
        if (!mapper) {
            LayerFormat f = forced ? *forced : detectFormat(*e);
            mapper = f == LayerFormat::Windows ? makeWindowsMapper() : makeLinuxMapper();
            sink.start(f);
        }
        std::string what = reader.describe(*e);
        LayerOp op = mapper->map(*e, what);
        ++entries;
        bool hasData = (op.kind == OpKind::file || op.kind == OpKind::altStream) && op.size > 0;
        if (hasData && op.size <= kInlineDataMax) {
            op.inlineData.resize(op.size);
            size_t n = reader.read(op.inlineData);
            if (n != op.size) failData("{}: data is shorter than the header says", what);
            op.hasInline = true;
            sink.op(std::move(op));
        } else if (hasData) {
            sink.op(std::move(op));
            for (;;) {
                auto c = reader.readChunk(kChunkSize);
                if (c.empty()) break;
                sink.data(c);
                progress.update(src.inputBytes(), entries);
            }
            sink.endData();
        } else {
            sink.op(std::move(op));
        }
        progress.update(src.inputBytes(), entries);
    }
    if (!mapper) sink.start(forced ? *forced : LayerFormat::Linux);  // an empty layer
    sink.end();
}

namespace {

struct Cancelled {};

struct Event {
    enum class Kind { start, op, data, endData, end, error } kind;
    LayerFormat format = LayerFormat::Linux;
    LayerOp op;
    std::vector<std::byte> data;
    std::exception_ptr error;
};

class Queue {
public:
    void push(Event&& e, size_t bytes) {
        std::unique_lock lk(m_);
        notFull_.wait(lk, [&] { return cancelled_ || ((bytes_ + bytes <= kQueueBytes || q_.empty()) && q_.size() < kMaxEvents); });
        if (cancelled_) throw Cancelled{};
        bytes_ += bytes;
        q_.emplace_back(std::move(e), bytes);
        notEmpty_.notify_one();
    }
    Event pop() {
        std::unique_lock lk(m_);
        notEmpty_.wait(lk, [&] { return !q_.empty(); });
        auto [e, bytes] = std::move(q_.front());
        q_.pop_front();
        bytes_ -= bytes;
        notFull_.notify_one();
        return std::move(e);
    }
    void cancel() {
        std::lock_guard lk(m_);
        cancelled_ = true;
        notFull_.notify_all();
    }

private:
    static constexpr size_t kMaxEvents = 16384;
    std::mutex m_;
    std::condition_variable notEmpty_, notFull_;
    std::deque<std::pair<Event, size_t>> q_;
    size_t bytes_ = 0;
    bool cancelled_ = false;
};

// Producer side: batches data into kChunkSize buffers and queues every event.
class QueueSink final : public Sink {
public:
    explicit QueueSink(Queue& q) : q_(q) {}
    void start(LayerFormat f) override {
        Event e{Event::Kind::start};
        e.format = f;
        q_.push(std::move(e), 0);
    }
    void op(LayerOp&& op) override {
        size_t bytes = op.inlineData.size() + op.extendedAttributes.size() + op.securityDescriptor.size() + 256;
        Event e{Event::Kind::op};
        e.op = std::move(op);
        q_.push(std::move(e), bytes);
    }
    void data(std::span<const std::byte> d) override {
        while (!d.empty()) {
            if (buf_.capacity() < kChunkSize) buf_.reserve(kChunkSize);
            size_t n = std::min(d.size(), kChunkSize - buf_.size());
            buf_.insert(buf_.end(), d.begin(), d.begin() + static_cast<ptrdiff_t>(n));
            d = d.subspan(n);
            if (buf_.size() == kChunkSize) flush();
        }
    }
    void endData() override {
        flush();
        q_.push(Event{Event::Kind::endData}, 0);
    }
    void end() override { q_.push(Event{Event::Kind::end}, 0); }

private:
    void flush() {
        if (buf_.empty()) return;
        Event e{Event::Kind::data};
        size_t n = buf_.size();
        e.data = std::move(buf_);
        buf_ = {};
        q_.push(std::move(e), n);
    }
    Queue& q_;
    std::vector<std::byte> buf_;
};

}  // namespace

void runPipeline(Decompressor& src, TarReader& reader, std::optional<LayerFormat> forced, Sink& consumer, Progress& progress,
                 unsigned threads) {
    if (threads <= 1) {
        produce(src, reader, forced, consumer, progress);
        return;
    }
    Queue q;
    std::thread producer([&] {
        try {
            QueueSink s(q);
            produce(src, reader, forced, s, progress);
        } catch (const Cancelled&) {
        } catch (...) {
            Event e{Event::Kind::error};
            e.error = std::current_exception();
            try {
                q.push(std::move(e), 0);
            } catch (const Cancelled&) {
            }
        }
    });
    try {
        for (;;) {
            Event e = q.pop();
            switch (e.kind) {
                case Event::Kind::start: consumer.start(e.format); break;
                case Event::Kind::op: consumer.op(std::move(e.op)); break;
                case Event::Kind::data: consumer.data(e.data); break;
                case Event::Kind::endData: consumer.endData(); break;
                case Event::Kind::error: std::rethrow_exception(e.error);
                case Event::Kind::end:
                    consumer.end();
                    producer.join();
                    return;
            }
        }
    } catch (...) {
        q.cancel();
        producer.join();
        throw;
    }
}

}  // namespace cim::layer
