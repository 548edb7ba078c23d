// The Nexmark benchmark's source (nexmark.h): its events, split across the
// source's subtasks by event number (subtask i of n generates i, i + n, …,
// so any parallelism produces the same events), each stamped with its event
// time, and the benchmark's watermark: date_time - 4 s.
//
//   auto events = sluice::nexmark::Source(env, config);
//   auto bids = sluice::nexmark::Bids(events);
#ifndef SLUICE_NEXMARK_SOURCE_H_
#define SLUICE_NEXMARK_SOURCE_H_

#include <chrono>
#include <cstdint>

#include "sluice/datastream.h"
#include "sluice/nexmark.h"
#include "sluice/watermarks.h"

namespace sluice::nexmark {

inline DataStream<Event> Source(
    StreamEnvironment& env, const GeneratorConfig& config,
    std::chrono::milliseconds out_of_orderness = std::chrono::seconds(4)) {
  Generator generator(config);
  return env.Generate([generator](int64_t n) { return generator.At(n); }, config.events)
      .Name("Nexmark")
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Event>::ForBoundedOutOfOrderness(out_of_orderness)
              .WithTimestampAssigner([](const Event& e) { return e.timestamp(); }))
      .Name("NexmarkWatermarks");
}

// The benchmark's views: the events of one type.
inline DataStream<Bid> Bids(DataStream<Event> events) {
  return events.Filter([](const Event& e) { return e.type == EventType::kBid; })
      .Name("bid")
      .Map([](const Event& e) { return e.bid; })
      .Name("bid");
}
inline DataStream<Auction> Auctions(DataStream<Event> events) {
  return events.Filter([](const Event& e) { return e.type == EventType::kAuction; })
      .Name("auction")
      .Map([](const Event& e) { return e.auction; })
      .Name("auction");
}
inline DataStream<Person> Persons(DataStream<Event> events) {
  return events.Filter([](const Event& e) { return e.type == EventType::kPerson; })
      .Name("person")
      .Map([](const Event& e) { return e.person; })
      .Name("person");
}

}  // namespace sluice::nexmark

#endif  // SLUICE_NEXMARK_SOURCE_H_
