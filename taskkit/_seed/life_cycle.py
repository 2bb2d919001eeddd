"""Each seeded task's life: when it moved from status to status, and what that made of it.

A task's moves are the slots of one time line, in this order; each slot happens or not:

====  ============  ==========================  ==================================================
slot  move          statuses                    which tasks
====  ============  ==========================  ==================================================
0     created       (none) -> pending           every task
1     started       pending -> in_progress      those picked up (done or cancelled work)
2     paused        in_progress -> pending      about 1 in 6 started tasks (blocked, put back)
3     resumed       pending -> in_progress      the paused ones
4     closed        in_progress -> completed    done work, and work cancelled while under way
                    pending -> completed        never started: duplicates, won't do
5     reopened      completed -> in_progress    about 1 in 14 tasks that were done
6     closed again  in_progress -> completed    the reopened ones
====  ============  ==========================  ==================================================

Times increase along a task's slots, and a move has happened only if its time is at or before
:data:`REFERENCE_END` ("now"); later slots are the task's future. So the status is the last
move's, ``started_at`` is slot 1's time, ``completed_at`` the last close's, ``updated_at`` the
last move's, and each history row's ``from_status`` is the row before's ``to_status``: the
task and its history agree by construction, and every CHECK of both tables holds.

How long things take (log-normal; high-priority work is faster, epics slower): a task waits
about a day before work starts, work takes about two days. About 4% are never picked up: half
of them are closed as won't do after some six weeks, the others stay pending; 3% are closed as
duplicates within a day or so, 3% as won't do after triage (days), 4% cancelled while under
way; the rest are done.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

__all__ = [
    "REFERENCE_END",
    "STREAMS",
    "US_PER_DAY",
    "US_PER_HOUR",
    "LifeCycles",
    "created_at",
    "life_cycles",
]

REFERENCE_END = datetime(2026, 1, 1, tzinfo=UTC)
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
END_US = int(REFERENCE_END.timestamp() * 1_000_000)
START_US = END_US - 365 * US_PER_DAY
_NEVER = np.iinfo(np.int64).max

SLOTS = 7
# The status each slot moves into, as an index into Status (pending, in_progress, completed).
TO_STATUS = np.array([0, 1, 0, 1, 2, 1, 2], dtype=np.int8)
_STARTED = 1
# How a task's path ends, as an index into Resolution (done, wont_do, duplicate, cancelled).
_DONE, _WONT_DO, _DUPLICATE, _CANCELLED = 0, 1, 2, 3
_PATH_P = {_DUPLICATE: 0.03, _WONT_DO: 0.03, _CANCELLED: 0.04}  # the rest: done
_PAUSED_P = 0.18  # of the tasks that start
_REOPENED_P = 0.07  # of the done ones
_SPEED = np.array([1.8, 1.0, 0.5])  # time multiplier per priority: high-priority work is faster
_WORK_BY_KIND = np.array([1.0, 0.7, 1.3, 3.0])  # Task, Bug, Story, Epic

# The random streams a life cycle draws from, each once per batch (see generator.TaskGenerator).
STREAMS = (
    "start_delay", "work_time", "abandoned", "groomed", "path", "close_delay", "cancel_at", "pause",
    "pause_at", "pause_length", "reopen", "reopen_after", "rework",
)  # fmt: skip


def created_at(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sorted creation times (µs since the epoch, UTC) with weekly and daily rhythm."""
    days = np.arange(365)
    weekday = (np.datetime64("2025-01-01") + days).astype("datetime64[D]").view("int64")
    is_weekend = ((weekday + 3) % 7) >= 5  # 1970-01-01 was a Thursday
    day_weight = np.where(is_weekend, 0.08, 1.0) * np.linspace(0.7, 1.3, 365)
    hour_weight = np.array([0.02] * 7 + [0.3, 0.8, 1, 1, 1, 0.6, 1, 1, 1, 1, 0.6, 0.3] + [0.08] * 5)
    day = rng.choice(365, size=n, p=day_weight / day_weight.sum())
    hour = rng.choice(24, size=n, p=hour_weight / hour_weight.sum())
    within = rng.integers(0, US_PER_HOUR, size=n)
    return np.sort(START_US + day * US_PER_DAY + hour * US_PER_HOUR + within)


@dataclass(frozen=True)
class LifeCycles:
    """The life of a batch of tasks: per task (arrays of the batch's length) and per move."""

    status: np.ndarray  # index into Status
    resolution: np.ndarray  # index into Resolution; meaningful where completed
    completed: np.ndarray  # bool
    started: np.ndarray  # bool: started_at is known
    started_at: np.ndarray  # µs; meaningful where started
    completed_at: np.ndarray  # µs; meaningful where completed
    updated_at: np.ndarray  # µs: the last move
    # The history, one entry per move that happened, by task and then time.
    move_task: np.ndarray  # position of the task in the batch
    move_at: np.ndarray  # µs
    move_from: np.ndarray  # index into Status; -1 for a task's first row (no status before)
    move_to: np.ndarray  # index into Status


def _hours(values: np.ndarray, scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Durations drawn in hours as whole µs, at least 1: times strictly increase along a task."""
    return np.maximum((values * scale * US_PER_HOUR).astype(np.int64), 1)


def life_cycles(
    rng: dict[str, np.random.Generator],
    created: np.ndarray,
    priority: np.ndarray,
    kind: np.ndarray,
) -> LifeCycles:
    """Draw the life of each task created at ``created`` (µs) with these priority and kind
    indexes; every stream in STREAMS is drawn once, for every task, whatever it needs."""
    n = len(created)
    speed = _SPEED[priority]
    delay = _hours(rng["start_delay"].lognormal(np.log(20), 1.1, n), speed)
    work = _hours(rng["work_time"].lognormal(np.log(40), 0.9, n), speed * _WORK_BY_KIND[kind])
    abandoned = rng["abandoned"].random(n) < 0.04
    # Half of the tasks nobody picks up are closed when the backlog is groomed; the others
    # stay pending for good.
    groomed = abandoned & (rng["groomed"].random(n) < 0.5)
    path_draw = rng["path"].random(n)
    thresholds = np.cumsum(list(_PATH_P.values()))
    path = np.select([abandoned, *(path_draw < t for t in thresholds)], [_WONT_DO, *_PATH_P], _DONE)
    # Never started: a duplicate is closed within a day or so, won't do after triage (days),
    # an abandoned task after weeks nobody picked it up (or never).
    unstarted = (path == _DUPLICATE) | (path == _WONT_DO)
    close_hours = rng["close_delay"].lognormal(0.0, 0.9, n) * np.select(
        [abandoned, path == _DUPLICATE], [45 * 24, 18], 4 * 24
    )
    # Cancelled work stops part of the way through.
    work = np.where(
        path == _CANCELLED, np.maximum(work * rng["cancel_at"].uniform(0.2, 0.8, n), 1), work
    ).astype(np.int64)
    paused = ~unstarted & (rng["pause"].random(n) < _PAUSED_P)
    before_pause = np.maximum((work * rng["pause_at"].uniform(0.1, 0.9, n)).astype(np.int64), 1)
    pause = _hours(rng["pause_length"].lognormal(np.log(30), 1.0, n))
    reopened = (path == _DONE) & (rng["reopen"].random(n) < _REOPENED_P)
    reopen_after = _hours(rng["reopen_after"].lognormal(np.log(72), 0.9, n))
    rework = _hours(rng["rework"].lognormal(np.log(6), 0.8, n), speed)

    # Every time is computed for every task (then kept where the move is the task's): from
    # finite times only, so that nothing overflows past _NEVER.
    started_at = created + delay
    paused_at = started_at + before_pause
    resumed_at = paused_at + pause
    closed_at = np.select(
        [unstarted, paused],
        [created + _hours(close_hours), resumed_at + np.maximum(work - before_pause, 1)],
        started_at + work,
    )
    reopened_at = closed_at + reopen_after
    at = np.full((n, SLOTS), _NEVER, dtype=np.int64)
    at[:, 0] = created
    at[:, 1] = np.where(unstarted, _NEVER, started_at)
    at[:, 2] = np.where(paused, paused_at, _NEVER)
    at[:, 3] = np.where(paused, resumed_at, _NEVER)
    at[:, 4] = np.where(abandoned & ~groomed, _NEVER, closed_at)
    at[:, 5] = np.where(reopened, reopened_at, _NEVER)
    at[:, 6] = np.where(reopened, reopened_at + rework, _NEVER)

    happened = at <= END_US
    # The last move that happened (slot 0 always has): where the task stands now.
    last = SLOTS - 1 - np.argmax(happened[:, ::-1], axis=1)
    rows = np.arange(n)
    status = TO_STATUS[last]
    moved_at = at[rows, last]
    completed = status == 2

    flat = happened.ravel()
    move_task = np.repeat(rows, SLOTS)[flat]
    move_slot = np.tile(np.arange(SLOTS, dtype=np.int8), n)[flat]
    move_to = TO_STATUS[move_slot]
    # Each move starts where the one before it ended; a task's first row has no status before.
    move_from = np.roll(move_to, 1)
    move_from[move_slot == 0] = -1
    return LifeCycles(
        status=status,
        resolution=path,
        completed=completed,
        started=happened[:, _STARTED],
        started_at=started_at,
        completed_at=moved_at,
        updated_at=moved_at,
        move_task=move_task,
        move_at=at.ravel()[flat],
        move_from=move_from,
        move_to=move_to,
    )
