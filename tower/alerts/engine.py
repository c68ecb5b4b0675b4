"""The alert engine: runs every rule "as of" the clock's now, and turns what they find into alerts
that do not flap. A condition must hold for `hold_count` consecutive evaluations before it fires
and be absent for `clear_count` before it resolves; one unresolved alert per (rule, entity), which
the store itself enforces (alerts.open_key is unique, queries/schema/007_alert_uniqueness.sql).
An open alert's severity is always the one its rule gives for the metric it shows: it changes in
place both ways (each change logged), and only the first rise to red is notified, so a metric
wobbling around the red line does not re-notify. Unacknowledged alerts past the target are
re-notified once on the red channels, still showing their own severity.
Every change is written to alert_log in the same transaction as the change itself."""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pandas as pd

import queries
from tower import foreground
from tower.alerts import rules as rules_mod
from tower.alerts.notify import Notice, Notifier
from tower.alerts.settings import AlertSettings, load as load_settings

log = logging.getLogger("tower.alerts")
ENGINE = "engine"
RETRIES = 8


@dataclass
class Evaluation:
    """What one evaluation did (ids of alerts per change), for callers, tests and the bench."""
    at: datetime
    findings: int = 0
    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    ack_overdue: list[int] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)   # rule -> error message
    skipped: bool = False                                  # coalesced into the previous one


STATE_COLUMNS = ("rule", "entity_type", "entity_id", "hits", "misses", "first_hit_at",
                 "open_alert_id", "suppressed", "updated_at")
LOG_COLUMNS = ("alert_id", "logged_at", "actor", "action", "old_value", "new_value", "note")


@dataclass
class _Plan:
    """What one evaluation will write: decided first, then written in bulk."""
    states: list = field(default_factory=list)      # alert_state rows to keep (STATE_COLUMNS order)
    opens: list = field(default_factory=list)       # (finding, first_hit_at, playbook, its state row)
    refreshes: list = field(default_factory=list)   # (alert_id, old severity, finding, ever escalated)
    resolves: list = field(default_factory=list)    # (alert_id, clear_count)


def open_key(key: tuple[str, str, str]) -> str:
    """alerts.open_key of an unresolved alert: rule, entity type and entity id joined by the unit
    separator (never in a name). The unique index on it is what makes a second open alert for the
    same (rule, entity) impossible, whoever writes it."""
    return "\x1f".join(key)


def _bulk(cur, sql: str, rows: list[dict], params: dict | None = None) -> list:
    """Run `sql` once with all `rows` registered as the relation `staged`."""
    if not rows:
        return []
    cur.register("staged", pd.DataFrame.from_records(rows))
    try:
        return cur.execute(sql, params).fetchall() if params else cur.execute(sql).fetchall()
    finally:
        cur.unregister("staged")


def _log_rows(cur, logs: list[tuple]) -> None:
    _bulk(cur, queries.load("alerts/store/log_rows"), [dict(zip(LOG_COLUMNS, row)) for row in logs])


class AlertEngine:
    def __init__(self, db, config: AlertSettings, clock, notifier: Notifier | None = None,
                 source_intervals: dict[str, float] | None = None):
        self.db = db
        self.config = config
        self.clock = clock
        self.notifier = notifier
        # configured sources -> their sync interval in clock minutes (staleness is judged against it)
        self.source_intervals = dict(source_intervals or {})
        self._sources_json = json.dumps(
            [{"source": k, "interval_minutes": v} for k, v in self.source_intervals.items()])
        self._lock = threading.Lock()      # after_sync callbacks and the timer may overlap
        self._coalesce = threading.Lock()  # guards the two flags below (after_sync)
        self._evaluating = False           # an after_sync caller is evaluating
        self._data_changed = False         # a sync finished since that evaluation began
        self._last_at: datetime | None = None
        self._last_wall: float | None = None        # time.monotonic() of the last evaluation
        self._deferred: threading.Timer | None = None  # after_sync's evaluation, waiting for the floor
        self._timer: threading.Thread | None = None
        self._stop = threading.Event()
        # called with each evaluation that ran (e.g. the action worker's poke); a failing one is logged
        self.after_evaluate: list = []

    @classmethod
    def from_config(cls, db, cfg, clock) -> "AlertEngine":
        """Engine wired from tower.toml's Config: alerts file, webhook secrets, source intervals."""
        settings = load_settings(tower_config=cfg)
        notifier = Notifier(settings.notify, secret=cfg.secret, db=db, clock=clock)
        speed = getattr(clock, "speed", 1.0)  # intervals are wall seconds; rules read clock time
        intervals = {name: src.interval_s * speed / 60 for name, src in cfg.sources.items()}
        return cls(db, settings, clock, notifier, source_intervals=intervals)

    # ── evaluation ──────────────────────────────────────────────────────────────────────────────
    def evaluate(self, force: bool = False, when_due: bool = False) -> Evaluation:
        """Run all rules once. Never raises for a broken rule or a failed delivery: the rule's
        error is recorded (alert_rule_runs) and its existing alerts are left as they are.
        `when_due`: also skipped inside the wall floor (`min_interval_wall_s`), judged once the lock
        is held — a trigger that waited for another's evaluation does not repeat it."""
        with self._lock:
            now = self.clock.now()
            if (not force and self._last_at is not None
                    and (now - self._last_at).total_seconds() < self.config.min_interval_s):
                return Evaluation(at=now, skipped=True)
            if when_due and self._wall_wait() > 0:
                return Evaluation(at=now, skipped=True)
            result = Evaluation(at=now)
            findings, ok_rules, runs = self._run_rules(now, result)
            notices: list[Notice] = []
            for attempt in range(RETRIES):
                try:
                    notices = self._apply(now, findings, ok_rules, runs, result)
                    break
                except (duckdb.TransactionException, duckdb.ConstraintException) as e:
                    # Another writer got there first: a person acknowledged the same alert in the
                    # same instant, or another evaluation (a second engine on this database) opened
                    # the same key — the unique open_key refuses the twin. Re-read and start again.
                    log.warning("alert evaluation conflicted (%s), retrying", e)
                    result.opened, result.escalated, result.resolved, result.ack_overdue = [], [], [], []
                    if attempt == RETRIES - 1:
                        raise
                    # The other transaction may still be running: give it a moment (jittered, so
                    # two losers do not collide again in lockstep).
                    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            self._last_at, self._last_wall = now, time.monotonic()
        if self.notifier and notices:
            self.notifier.submit(notices)
        for callback in self.after_evaluate:
            try:
                callback(result)
            except Exception:  # noqa: BLE001 - a listener must not break evaluation
                log.exception("after-evaluation callback failed")
        return result

    def _params(self, rule, now: datetime) -> dict:
        return {"now": now, "sources": self._sources_json, **rule.params}

    def _run_rules(self, now: datetime, result: Evaluation):
        findings: dict[tuple, rules_mod.Finding] = {}
        ok_rules: list[str] = []
        runs: list[dict] = []       # alert_rule_runs rows, written with the evaluation's changes
        with self.db.cursor() as cur:
            for rule in self.config.rules.values():
                if not rule.enabled:
                    continue
                started = time.perf_counter()
                error = None
                try:
                    found = rules_mod.run(cur, rule.name, self._params(rule, now))
                except Exception as e:  # noqa: BLE001 - one broken rule must not stop the others
                    error = f"{type(e).__name__}: {e}"[:500]
                    result.errors[rule.name] = error
                    log.warning("alert rule %s failed: %s", rule.name, error)
                    found = []
                else:
                    ok_rules.append(rule.name)
                    for f in found:
                        findings[f.key] = f
                runs.append({"rule": rule.name, "evaluated_at": now, "rows_matched": len(found),
                             "duration_ms": (time.perf_counter() - started) * 1000, "error": error})
        result.findings = len(findings)
        return findings, ok_rules, runs

    def _apply(self, now, findings, ok_rules, runs, result: Evaluation) -> list[Notice]:
        """Decide every (rule, entity) step in Python, then write all changes in bulk inside one
        transaction: thousands of findings cost a handful of statements, not thousands."""
        notices: list[Notice] = []
        cur = self.db.cursor()
        cur.execute("begin")
        try:
            states = {}
            if ok_rules:
                rows = cur.execute(queries.load("alerts/store/tracked_states"),
                                   {"rules": ok_rules}).fetchall()
                for r in rows:
                    states[(r[0], r[1], r[2])] = {
                        "hits": r[3], "misses": r[4], "first_hit_at": r[5], "alert_id": r[6],
                        "suppressed": bool(r[7]), "alert_state": r[8], "severity": r[9],
                        "escalated_at": r[10]}
                self._adopt_untracked(cur, ok_rules, states)
            plan = _Plan()
            for key in sorted(set(states) | set(findings)):
                self._step(now, key, states.get(key), findings.get(key), plan)
            self._write(cur, now, ok_rules, plan, result, notices)
            _bulk(cur, queries.load("alerts/store/insert_rule_runs"), runs)
            notices += self._check_ack_overdue(cur, now, result)
            cur.execute("commit")
        except Exception:
            cur.execute("rollback")
            raise
        finally:
            cur.close()
        return notices

    @staticmethod
    def _adopt_untracked(cur, ok_rules, states: dict) -> None:
        """An unresolved alert whose key the engine's memory does not point at (its state row was
        lost, or another writer opened it) is adopted as this key's open alert rather than twinned:
        the store would refuse a second one anyway (unique open_key)."""
        rows = cur.execute(queries.load("alerts/store/untracked_open"), {"rules": ok_rules}).fetchall()
        for rule, entity_type, entity_id, alert_id, state, severity, escalated_at in rows:
            key = (rule, entity_type, entity_id)
            st = states.get(key) or {"hits": 0, "misses": 0, "first_hit_at": None, "suppressed": False}
            states[key] = {**st, "alert_id": alert_id, "alert_state": state, "severity": severity,
                           "escalated_at": escalated_at, "suppressed": False}

    def _step(self, now, key, st, finding, plan: "_Plan") -> None:
        """One (rule, entity): update its hit/miss counts and decide open / refresh / resolve."""
        settings = self.config.rules[key[0]]
        if st and st["alert_id"] is not None and st["alert_state"] == "resolved":
            # Resolved by hand while the engine still tracked it: wait for the condition to clear
            # before it may fire again, or a manual resolve would just re-open it.
            st = {**st, "alert_id": None, "suppressed": True}
        if finding is None:
            if st is None or st["alert_id"] is None:
                return                                     # nothing open: forget the key
            misses = st["misses"] + 1
            if misses >= settings.clear_count:
                plan.resolves.append((st["alert_id"], settings.clear_count))
            else:
                plan.states.append([*key, 0, misses, st["first_hit_at"], st["alert_id"], False, now])
            return

        hits = (st["hits"] if st else 0) + 1
        first_hit_at = st["first_hit_at"] if st and st["hits"] else now
        alert_id = st["alert_id"] if st else None
        suppressed = bool(st and st["suppressed"])
        row = [*key, hits, 0, first_hit_at, alert_id, suppressed, now]
        if alert_id is not None:
            plan.refreshes.append((alert_id, st["severity"], finding, st["escalated_at"] is not None))
        elif not suppressed and hits >= settings.hold_count:
            plan.opens.append((finding, first_hit_at, settings.playbook, row))
        plan.states.append(row)

    def _write(self, cur, now, ok_rules, plan: "_Plan", result: Evaluation, notices) -> None:
        logs = []
        if plan.opens:
            # Ids come from the sequence first, so the state rows can point at their alerts.
            ids = [r[0] for r in cur.execute(queries.load("alerts/store/next_alert_ids"),
                                             {"n": len(plan.opens)}).fetchall()]
            rows = []
            for alert_id, (f, first_hit_at, playbook, state_row) in zip(ids, plan.opens):
                state_row[6] = alert_id
                rows.append({"alert_id": alert_id, "open_key": open_key(f.key),
                             "rule": f.rule, "entity_type": f.entity_type,
                             "entity_id": f.entity_id, "severity": f.severity, "state": "open",
                             "title": f.title, "detail": f.detail, "metric": f.metric,
                             "threshold": f.threshold, "playbook": playbook,
                             "first_seen_at": first_hit_at, "opened_at": now, "last_seen_at": now,
                             # escalated_at = when it was first red (opening red counts), so a later
                             # return to red after a dip is not announced again
                             "escalated_at": now if f.severity == "red" else None,
                             "updated_at": now})
                logs.append((alert_id, now, ENGINE, "opened", None, f.severity, f.title))
                result.opened.append(alert_id)
                notices.append(Notice(alert_id, "opened", f.severity, f.title, f.detail, f.rule,
                                      f.entity_id, playbook, now))
            _bulk(cur, queries.load("alerts/store/insert_alerts"), rows)

        if plan.refreshes:
            rows = []
            for alert_id, severity, f, was_escalated in plan.refreshes:
                # The severity is the one the rule gives now, for the metric and title written
                # alongside it: an alert that once hit red and came back to 154 % is yellow again.
                # (Keeping the peak severity is what showed "RED at 154 %" with red at 200 %.)
                change = (rules_mod.SEVERITY_RANK[f.severity]
                          - rules_mod.SEVERITY_RANK.get(severity, 0))
                escalate = change > 0
                rows.append({"alert_id": alert_id, "title": f.title, "detail": f.detail,
                             "metric": f.metric, "threshold": f.threshold,
                             "severity": f.severity, "escalate": escalate})
                if change:
                    action = "escalated" if escalate else "deescalated"
                    logs.append((alert_id, now, ENGINE, action, severity, f.severity, f.title))
                if escalate:
                    result.escalated.append(alert_id)
                if escalate and not was_escalated:
                    # Only the first rise to red is news; a metric wobbling around the red line
                    # changes the shown severity (logged) without re-notifying every time.
                    notices.append(Notice(alert_id, "escalated", f.severity, f.title, f.detail, f.rule,
                                          f.entity_id, self.config.rules[f.rule].playbook, now))
            _bulk(cur, queries.load("alerts/store/refresh_alerts"), rows, {"now": now})

        if plan.resolves:
            rows = [{"alert_id": a, "note": f"condition clear for {n} evaluations"} for a, n in plan.resolves]
            done = _bulk(cur, queries.load("alerts/store/resolve_alerts"), rows, {"now": now})
            for alert_id, severity, title, detail, rule, entity_id, playbook, note in sorted(done):
                logs.append((alert_id, now, ENGINE, "resolved", None, "resolved", note))
                result.resolved.append(alert_id)
                notices.append(Notice(alert_id, "resolved", severity, title, detail, rule, entity_id,
                                      playbook, now))

        if ok_rules:
            cur.execute(queries.load("alerts/store/forget_states"), {"rules": ok_rules})
        _bulk(cur, queries.load("alerts/store/insert_states"),
              [dict(zip(STATE_COLUMNS, row)) for row in plan.states])
        _log_rows(cur, logs)

    def _check_ack_overdue(self, cur, now, result) -> list[Notice]:
        deadline = now - timedelta(minutes=self.config.ack_target_minutes)
        rows = cur.execute(queries.load("alerts/store/mark_ack_overdue"),
                           {"now": now, "deadline": deadline}).fetchall()
        notices, logs = [], []
        for alert_id, severity, title, detail, rule, entity_id, playbook in sorted(rows):
            note = f"not acknowledged within {self.config.ack_target_minutes:g} min"
            logs.append((alert_id, now, ENGINE, "ack_overdue", None, None, note))
            result.ack_overdue.append(alert_id)
            # The reminder goes to the red channels but shows the alert's own severity: a yellow
            # alert is not red because nobody acknowledged it (see Notice.route_severity).
            notices.append(Notice(alert_id, "ack_overdue", severity, title, detail, rule, entity_id,
                                  playbook, now))
        _log_rows(cur, logs)
        return notices

    def evaluate_when_due(self) -> Evaluation:
        """evaluate(), unless the last evaluation is less than `min_interval_wall_s` wall seconds
        ago (then a skipped Evaluation): how the app's own triggers (timer, webhooks) call it."""
        if self._wall_wait() > 0:
            return Evaluation(at=self.clock.now(), skipped=True)
        if not self._after_the_screens():
            return Evaluation(at=self.clock.now(), skipped=True)
        return self.evaluate(when_due=True)

    def _after_the_screens(self) -> bool:
        """Wait for the screens' tick to be drawn (tower.foreground); False if the engine was
        stopped meanwhile (the app is closing its database: no evaluation may start now)."""
        foreground.shared.wait_quiet()
        return not self._stop.is_set()

    def _wall_wait(self) -> float:
        """Wall seconds until `min_interval_wall_s` has passed since the last evaluation (≤ 0: now).
        The clock-time floor alone is 0.5 wall s on the 60× sandbox, where a sync finishes every
        ~2 s and each evaluation costs ~0.75 CPU-s at the reference scale."""
        if self._last_wall is None:
            return 0.0
        return self.config.min_interval_wall_s - (time.monotonic() - self._last_wall)

    # ── background timer (the app process) ─────────────────────────────────────────────────────
    def start(self, interval_wall_s: float | None = None) -> None:
        """Evaluate every `interval_wall_s` wall seconds in a daemon thread until stop()."""
        if self._timer and self._timer.is_alive():
            return
        interval = interval_wall_s or self.config.timer_wall_s
        self._stop.clear()

        def loop():
            while not self._stop.wait(interval):
                try:
                    self.evaluate_when_due()
                except Exception:  # noqa: BLE001 - the timer must survive a bad moment
                    log.exception("alert evaluation failed")

        self._timer = threading.Thread(target=loop, name="tower-alerts", daemon=True)
        self._timer.start()

    def after_sync(self, *_args, **_kwargs) -> None:
        """Callback for connectors.scheduler.Scheduler.after_sync: evaluate with fresh data.

        Coalesced: a sync that finishes while an evaluation runs only marks the data as new and
        returns; the running caller evaluates once more when it is done. Ten sources finishing
        together cost two evaluations, not ten queued on the lock (at the reference scale one
        evaluation is ~0.5 s, and queued ones kept a core busy). A sync within
        `min_interval_wall_s` of the last evaluation is evaluated when that floor ends (one
        deferred evaluation for all of them), not dropped until the timer."""
        with self._coalesce:
            self._data_changed = True
            if self._evaluating:
                return
            self._evaluating = True
        try:
            while True:
                with self._coalesce:
                    if not self._data_changed:
                        self._evaluating = False
                        return
                    wait = self._wall_wait()
                    if wait > 0:
                        self._evaluating = False
                        self._defer(wait)
                        return
                    self._data_changed = False
                if not self._after_the_screens():
                    with self._coalesce:
                        self._evaluating = False
                    return
                try:
                    if self.evaluate(when_due=True).skipped and self._wall_wait() > 0:
                        # another trigger evaluated while this one waited: this sync's data may
                        # have come after that evaluation began, so it is deferred, not dropped
                        with self._coalesce:
                            self._data_changed = True
                except Exception:  # noqa: BLE001 - never break the scheduler
                    log.exception("alert evaluation after sync failed")
        except BaseException:
            with self._coalesce:
                self._evaluating = False
            raise

    def _defer(self, wait: float) -> None:
        """after_sync again in `wait` wall seconds, unless one is already waiting (under _coalesce)."""
        if self._deferred is not None or self._stop.is_set():
            return

        def fire():
            with self._coalesce:
                self._deferred = None
            self.after_sync()

        self._deferred = threading.Timer(wait, fire)
        self._deferred.daemon = True
        self._deferred.start()

    def stop(self) -> None:
        self._stop.set()
        with self._coalesce:
            if self._deferred:
                self._deferred.cancel()
                self._deferred = None
        if self._timer:
            self._timer.join(timeout=5)
        # an evaluation already under way (after a sync, a deferred one) ends before the app
        # closes the database: one started at the stop failed on a closed connection
        if self._lock.acquire(timeout=30):
            self._lock.release()
        if self.notifier:
            self.notifier.close()
