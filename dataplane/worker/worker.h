// The run-to-completion loop: rx_burst → parse → verdict → tx_burst.
#pragma once

#include "worker/worker_context.h"

namespace conduit {

// One pass over every path of the worker: receive a burst on each, judge
// every packet, send what is forwarded to the peer port. Every mbuf leaves by
// exactly one exit: transmitted, or freed and counted. Returns the number of
// packets received. lcore (hot path); tests call it from their own thread.
uint32_t PollOnce(WorkerContext& ctx);

// rte_eal_remote_launch() entry point: PollOnce() until *ctx->stop, bumping
// the heartbeat every iteration. `arg` is a WorkerContext*.
int RunWorker(void* arg);

}  // namespace conduit
