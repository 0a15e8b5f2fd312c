"""The Locust side of the load: users that place orders on the SUT and record every operation.

Run only by ``harness.load.driver`` as ``python -m locust -f <this file> --headless ...``; the
job (``harness.load.job.LoadJob``) comes from the JSON file named by ``INVOICE_CHAOS_LOAD_JOB``.
Never import this module into the harness: Locust monkey-patches the process with gevent.

Two user classes, one active per run:

- ``ClosedUser`` (model ``closed``): place an order, wait for the answer, think, repeat. The
  shape sets how many of them run.
- ``ArrivalUser`` (model ``open``): one per worker process. It walks the shared arrival
  schedule (``ArrivalClock``) and fires each of its arrivals on time in its own greenlet, up to
  ``in_flight_cap`` outstanding requests. When the cap is reached (the SUT is slower than
  cap / rate) or the process is CPU-bound, arrivals go out late: the load is no longer open,
  and each second with late arrivals becomes an ``open_model_lag`` event in load-stats.jsonl.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from typing import Any

import gevent
from gevent.pool import Pool
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.data.orders import OrderFactory
from harness.history import Operation, Recorder, invoke_record
from harness.load.job import ERROR_INTERRUPTED, JOB_ENV, STATS_FILE, LoadJob, StatsLog, classify
from harness.load.shapes import ArrivalClock, LoadConfig, cumulative, locust_tick, target_at, total_duration

JOB = LoadJob.read(os.environ[JOB_ENV])
CONFIG = LoadConfig.model_validate(JOB.load)
STATS_PATH = os.path.join(JOB.run_dir, STATS_FILE)
BAD_STATUS_ERRORS = ("LocustBadStatusCode", "BadStatusCode")
# The completion record leaves the order out: the invoke record written before the request
# carries it (harness.history.merge_records joins the two).
OP_FIELDS = tuple(f.name for f in dataclasses.fields(Operation) if f.name != "order")


def as_record(op: Operation) -> dict[str, Any]:
    """The completion as a shallow dict: ``asdict`` deep-copies the order, a hot-path cost."""
    return {name: getattr(op, name) for name in OP_FIELDS}


class Node:
    """This process's share of the load, set up when the test starts."""

    def __init__(self, worker: str, t0: float) -> None:
        self.worker = worker
        self.t0 = t0
        self.recorder = Recorder(JOB.operations_path(worker))
        self.factory = OrderFactory(JOB.seed, JOB.order_prefix, worker)
        self.stats = StatsLog(STATS_PATH, worker)
        self.sent = 0
        self.interrupted = 0
        self.unsent = 0  # open model: arrivals never sent because the shape ended first
        self.stopping = False
        self.pool: Pool | None = None
        self._flusher = gevent.spawn(self._flush_every_second)

    def _flush_every_second(self) -> None:
        # The recorder flushes on write; this covers quiet seconds, so a crash loses at most one.
        while True:
            gevent.sleep(1.0)
            self.recorder.flush()

    def close(self) -> None:
        self._flusher.kill(block=False)
        self.recorder.close()


NODE: Node | None = None
MASTER_T0: float | None = None  # the master's load start, sent to workers so all share one clock
DONE_WORKERS: set[int] = set()  # open model: workers whose schedule has ended (seen by the master)
MSG_T0, MSG_DONE = "invoice_chaos_t0", "invoice_chaos_done"
IS_WORKER = False
ENDED = False
SIGTERM_WATCHER: Any = None  # keeps gevent's signal watcher alive


def place_order(client: Any, node: Node) -> None:
    """POST one order to the SUT and record the operation, whatever happens."""
    order = node.factory.next()
    op_id = f"{node.worker}-{node.factory.count:06d}"
    invoke_at = time.time()
    node.recorder.write(invoke_record(op_id, "issue", order["order_id"], invoke_at, node.worker, order), flush=True)
    node.sent += 1
    try:
        with client.post("/invoices", json=order, name="POST /invoices", catch_response=True) as resp:
            op = _operation(resp, op_id, order, invoke_at, node.worker)
            if op.outcome == "ok":
                resp.success()
            else:
                resp.failure(op.error or "error")
    except gevent.GreenletExit:
        node.interrupted += 1
        node.recorder.write(as_record(
            Operation(op_id, "issue", order["order_id"], invoke_at, None, "info",
                      error=ERROR_INTERRUPTED, worker=node.worker, order=order)
        ))
        raise
    node.recorder.write(as_record(op))


def _operation(resp: Any, op_id: str, order: dict[str, Any], invoke_at: float, worker: str) -> Operation:
    complete_at = time.time()
    status = int(getattr(resp, "status_code", 0) or 0)
    exc = resp.request_meta.get("exception") or getattr(resp, "error", None)
    if exc is not None and status > 0 and type(exc).__name__ in BAD_STATUS_ERRORS:
        exc = None  # an answered non-2xx status: a plain failure, not an indeterminate one
    outcome, error = classify(status, exc)
    body: dict[str, Any] = {}
    if outcome == "ok":
        try:
            parsed = json.loads(resp.content or b"{}")
            body = parsed if isinstance(parsed, dict) else {}
        except (ValueError, TypeError):
            body = {}  # the status line is the SUT's answer; a garbled body does not undo it
    return Operation(
        op_id=op_id, kind="issue", order_id=order["order_id"], invoke_at=invoke_at,
        complete_at=complete_at, outcome=outcome,  # type: ignore[arg-type]
        http_status=status if outcome != "info" else None, error=error,
        sut_status=body.get("status") if isinstance(body.get("status"), str) else None,
        invoice_number=body.get("invoice_number") if isinstance(body.get("invoice_number"), str) else None,
        worker=worker, order=order,
    )


class ClosedUser(FastHttpUser):
    """Closed model: one order at a time, ``think_time_s`` between answers."""

    abstract = CONFIG.model != "closed"
    host = JOB.target_url
    wait_time = constant(CONFIG.think_time_s)
    network_timeout = CONFIG.timeout_s
    connection_timeout = CONFIG.timeout_s
    concurrency = 1

    @task
    def order(self) -> None:
        if NODE is not None and not NODE.stopping:
            place_order(self.client, NODE)


class ArrivalUser(FastHttpUser):
    """Open model: fire this worker's arrivals on schedule, regardless of answers."""

    abstract = CONFIG.model != "open"
    host = JOB.target_url
    wait_time = constant(0.2)
    network_timeout = CONFIG.timeout_s
    connection_timeout = CONFIG.timeout_s
    concurrency = CONFIG.in_flight_cap()
    _done = False

    @task
    def arrivals(self) -> None:
        node = NODE
        if node is None or self._done:
            return
        self._done = True
        index, every = _worker_slot(self.environment)
        clock = ArrivalClock(CONFIG.shape, poisson=CONFIG.arrivals == "poisson", seed=JOB.seed, offset=index, every=every)
        cap = CONFIG.in_flight_cap()
        node.pool = pool = Pool(cap)
        lag = _LagWindow(node, cap)
        end = total_duration(CONFIG.shape) + CONFIG.lag_tolerance_s
        while not node.stopping:
            due = clock.next_due()
            if due is None:
                break
            if time.time() - node.t0 > end:
                # The shape is over: arrivals still queued behind a full pool are dropped, not
                # sent after the load window; worker_end reports how many.
                node.unsent = 1 + sum(1 for _ in iter(clock.next_due, None))
                break
            delay = node.t0 + due - time.time()
            if delay > 0:
                gevent.sleep(delay)
            if node.stopping:
                break
            pool.spawn(place_order, self.client, node)  # blocks while cap requests are in flight
            lag.note(time.time() - node.t0 - due, len(pool))
        lag.close()
        pool.join(timeout=CONFIG.timeout_s + 1.0)  # let the last answers arrive before Locust stops us
        _report_done(self.environment, index)


class _LagWindow:
    """Counts arrivals sent later than ``lag_tolerance_s`` per second; emits one event a second."""

    def __init__(self, node: Node, cap: int) -> None:
        self._node, self._cap = node, cap
        self._second = int(time.time())
        self._late = 0
        self._max_lag = 0.0

    def note(self, lag_s: float, in_flight: int) -> None:
        now = int(time.time())
        if now != self._second:
            self._emit(in_flight)
            self._second = now
        if lag_s > CONFIG.lag_tolerance_s:
            self._late += 1
            self._max_lag = max(self._max_lag, lag_s)

    def close(self) -> None:
        self._emit(len(self._node.pool or ()))

    def _emit(self, in_flight: int) -> None:
        if self._late:
            self._node.stats.emit(
                "open_model_lag", t_s=round(time.time() - self._node.t0, 3), late=self._late,
                max_lag_s=round(self._max_lag, 3), in_flight=in_flight, cap=self._cap,
            )
        self._late, self._max_lag = 0, 0.0


def _report_done(env: Environment, index: int) -> None:
    if isinstance(env.runner, WorkerRunner):
        env.runner.send_message(MSG_DONE, {"worker": index})
    else:
        DONE_WORKERS.add(index)


def _worker_slot(env: Environment) -> tuple[int, int]:
    if isinstance(env.runner, WorkerRunner):
        return max(0, env.runner.worker_index), max(1, JOB.workers)
    return 0, 1


class Shape(LoadTestShape):
    """The scenario's shape; ``tick`` is ``shapes.locust_tick``, a pure function of time."""

    def tick(self) -> tuple[int, float] | None:
        t: float = self.get_run_time()  # type: ignore[no-untyped-call]
        end = total_duration(CONFIG.shape)
        if CONFIG.model == "open" and t >= end:
            # Workers start a few ms after the master: keep them running until each has sent
            # its last arrival and heard its answers (bounded by the answer timeout).
            if len(DONE_WORKERS) >= max(1, JOB.workers) or t >= end + CONFIG.timeout_s + 3.0:
                return None
            return locust_tick(CONFIG, end - 1e-6)
        return locust_tick(CONFIG, t)


# --- lifecycle ---------------------------------------------------------------------------------


def _on_init(environment: Environment, **_: Any) -> None:
    global IS_WORKER, SIGTERM_WATCHER
    runner = environment.runner
    IS_WORKER = isinstance(runner, WorkerRunner)
    # Headless Locust installs its SIGTERM handler only after a shape test ends, so until then
    # SIGTERM would kill it outright, unflushed. Stop now instead: cut requests in flight
    # (recorded as interrupted) and let Locust's normal shutdown run the quit hooks.
    SIGTERM_WATCHER = gevent.signal_handler(signal.SIGTERM, lambda: _stop_now(environment))
    if isinstance(runner, MasterRunner):
        runner.register_message(MSG_DONE, lambda msg, **__: DONE_WORKERS.add(int(msg.data["worker"])))
    elif isinstance(runner, WorkerRunner):
        runner.register_message(MSG_T0, _on_master_t0)


def _on_master_t0(msg: Any, **_: Any) -> None:
    global MASTER_T0
    MASTER_T0 = float(msg.data["t0"])


def _on_test_start(environment: Environment, **_: Any) -> None:
    global NODE
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        t0 = time.time()
        StatsLog(STATS_PATH, "master").emit("load_start", at=t0, duration_s=total_duration(CONFIG.shape), model=CONFIG.model)
        gevent.spawn(_ticker, environment, t0)
        if isinstance(runner, MasterRunner):
            # Sent before the spawn message on the same socket, so workers have it at test_start.
            runner.send_message(MSG_T0, {"t0": t0})
            return
        clock_t0 = t0
    else:
        clock_t0 = MASTER_T0 if MASTER_T0 is not None else time.time()
    worker = f"w{runner.worker_index}" if isinstance(runner, WorkerRunner) else "w0"
    if NODE is None:
        NODE = Node(worker, clock_t0)


def _on_test_stopping(**_: Any) -> None:
    if NODE is not None:
        NODE.stopping = True  # no new arrivals or orders; in-flight ones may still finish


def _stop_now(environment: Environment) -> None:
    _cut_in_flight(environment)
    if environment.runner is not None:
        gevent.spawn(environment.runner.quit)


def _on_quitting(environment: Environment, **_: Any) -> None:
    _cut_in_flight(environment)


def _cut_in_flight(environment: Environment) -> None:
    """Stop placing orders; a stop from here on does not wait for answers (the shape is over,
    or the driver asked to stop): closed users are killed at once, open requests cut."""
    environment.stop_timeout = 0.0
    node = NODE
    if node is not None:
        node.stopping = True
        if node.pool is not None:
            # Each request cut here is recorded as info/interrupted; closed users get the
            # same when Locust kills them next (stop_timeout is now 0).
            node.pool.kill(block=True, timeout=2.0)
        node.recorder.flush()


def _on_quit(**_: Any) -> None:
    """Last hook before the process exits: every user is gone, so the recorder can close.

    Runs once: a worker told to quit by the master while handling SIGTERM shuts down twice."""
    global ENDED
    if ENDED:
        return
    ENDED = True
    node = NODE
    if node is not None:
        due = cumulative(CONFIG.shape, time.time() - node.t0) / max(1, JOB.workers) if CONFIG.model == "open" else None
        node.stats.emit(
            "worker_end", sent=node.sent, due=None if due is None else round(due, 1),
            interrupted=node.interrupted, unsent=node.unsent,
        )
        node.close()
    if not IS_WORKER:
        StatsLog(STATS_PATH, "master").emit("load_end")


def _ticker(env: Environment, t0: float) -> None:
    """Once a second: where the shape is and what Locust measured (for progress and audits)."""
    log = StatsLog(STATS_PATH, "master")
    last_count, last_at = 0, t0
    for _ in range(10_000_000):
        gevent.sleep(1.0)
        runner = env.runner
        if runner is None or runner.state in ("stopped", "quitting"):
            return
        now = time.time()
        total = runner.stats.total
        # Our own rate over the last tick: Locust's current_rps averages a 10 s window.
        rate = (total.num_requests - last_count) / max(1e-3, now - last_at)
        last_count, last_at = total.num_requests, now
        log.emit(
            "tick", t_s=round(now - t0, 3), target=target_at(CONFIG.shape, now - t0), users=runner.user_count,
            rps=round(rate, 2), requests=total.num_requests, failures=total.num_failures,
        )


# Locust's event hooks are untyped; registering by call keeps these functions typed.
events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_on_test_start)  # type: ignore[no-untyped-call]
events.test_stopping.add_listener(_on_test_stopping)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_on_quitting)  # type: ignore[no-untyped-call]
events.quit.add_listener(_on_quit)  # type: ignore[no-untyped-call]
