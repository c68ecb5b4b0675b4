"""After delivery: returns, NPS and CSAT answers, drawn per order from their own RNG streams
when a parcel is delivered, plus their vendor-shaped views."""
from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.model import NpsResponse, Return, ReturnItem, SurveyResponse
from sandbox.sim import _rng, _pick, _Track, _Return, _sec


CSAT_ANSWER_RATE = 0.3           # share of delivered orders whose CSAT survey is answered
CSAT_DELAY_H = (2, 72)           # the answer comes 2 h … 3 days after delivery


class Aftercare:
    """Mixin of World (sandbox/world.py): after delivery. It uses the state World.__init__ sets up."""

    def _after_delivery(self, tr: _Track) -> None:
        tr.delivered_done = True
        order = tr.order
        rng = _rng(self.seed, "post", order.order_id)
        late = tr.delivered_at > order.promised
        troubled = any(cp.tag == "Exception" for cp in tr.checkpoints)
        reason = None
        if rng.random() < 0.05 + (0.03 if late else 0) + (0.06 if troubled else 0):
            line = rng.choice(order.lines)
            reasons = list(cat.RETURN_REASONS)
            if late:
                reasons = [(r, w * (4 if r == "late_delivery" else 1)) for r, w in reasons]
            reason = _pick(rng, reasons)
            qty = rng.randint(1, line.quantity)
            created = _sec(tr.delivered_at + timedelta(days=rng.uniform(1, 6)))
            decided = _sec(created + timedelta(hours=rng.uniform(6, 48)))
            approved = rng.random() < 0.94
            refunded = _sec(decided + timedelta(days=rng.uniform(2, 7))) if approved else None
            total = round(line.price * qty, 2)
            rma = "RMA" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
            ret = _Return(rma, order, (ReturnItem(line.sku, qty, reason),), created, decided, approved,
                          refunded, total)
            self._insert(self._returns_keys, self._returns, created, ret)
            if refunded is not None:
                order.refunds.append((refunded, total))
                order.refunds.sort()
                order.memo.clear()
        if rng.random() < 0.25:
            created = _sec(tr.delivered_at + timedelta(days=rng.uniform(1, 4)))
            mean = 8.7 - (2.8 if late else 0) * self._late_weight(order, tr) - (2.5 if troubled else 0)
            mean += self._goodwill(order, tr, "nps")
            score = max(0, min(10, round(rng.gauss(mean, 1.4))))
            group = "promoter" if score >= 9 else ("passive" if score >= 7 else "detractor")
            comment = rng.choice(cat.NPS_COMMENTS[group])
            self._nps_seq += 1
            self._insert(self._nps_keys, self._nps, created, NpsResponse(
                487_000_000 + self._nps_seq * 7, order.order_id,
                f"#{order.number}", order.shop, order.market, order.email, score, comment,
                created, created))
        self._csat_answer(tr, late, troubled, reason)

    def _csat_answer(self, tr: _Track, late: bool, troubled: bool, return_reason: str | None) -> None:
        """The CSAT survey sent at delivery ("How satisfied were you with your order?", 1–5). Its own
        RNG stream, so adding it left every other record of the world unchanged."""
        order = tr.order
        rng = _rng(self.seed, "csat", order.order_id)
        if rng.random() >= CSAT_ANSWER_RATE:
            return
        created = _sec(tr.delivered_at + timedelta(hours=rng.uniform(*CSAT_DELAY_H)))
        faulty = return_reason in ("damaged", "wrong_item", "not_as_described")
        mean = (4.5 - (1.6 if late else 0) * self._late_weight(order, tr) - (1.2 if troubled else 0)
                - (1.8 if faulty else 0) + self._goodwill(order, tr, "csat"))
        score = max(1, min(5, round(rng.gauss(mean, 0.8))))
        group = "satisfied" if score >= 4 else ("neutral" if score == 3 else "unsatisfied")
        comment = rng.choice(cat.CSAT_COMMENTS[group])
        self._csat_seq += 1
        self._insert(self._csat_keys, self._csat, created, SurveyResponse(
            612_000_000 + self._csat_seq * 11, order.order_id, f"#{order.number}", order.shop,
            order.market, order.email, score, comment, created, created, "csat"))

    # Hooks the storefront writes (sandbox/world_storefront.py) override: a coupon or a timely
    # message changes how a buyer answers, on the answer's own RNG stream (nothing else moves).
    def _goodwill(self, order, tr: _Track, survey: str) -> float:
        """Points added to the mean score of this buyer's answer (a coupon they got)."""
        return 0.0

    def _late_weight(self, order, tr: _Track) -> float:
        """How much of the lateness penalty the buyer applies (less when told in time)."""
        return 1.0

    def returns(self, now: datetime) -> list[Return]:
        with self._lock:
            c, hit = self._view("returns", now)
            if hit is not None:
                return hit
            n = bisect.bisect_left(self._returns_keys, (c,))
            out = [self._return_view(r, c) for r in self._returns[:n]]
            return self._remember("returns", c, None, out)

    def _return_view(self, r: _Return, c: datetime) -> Return:
        decided = r.decided_at < c
        done = r.refunded_at is not None and r.refunded_at < c
        key = (decided, done)
        hit = r.memo.get(key)
        if hit is not None:
            return hit
        if done:
            status, updated = "done", r.refunded_at
        elif decided:
            status, updated = ("approved" if r.approved else "rejected"), r.decided_at
        else:
            status, updated = "submitted", r.created_at
        o = r.order
        view = Return(r.rma, o.order_id, f"#{o.number}", o.shop, o.market, r.items, r.created_at.replace(microsecond=0),
                      updated.replace(microsecond=0), status, r.refunded_at.replace(microsecond=0) if done else None,
                      r.total, o.currency)
        r.memo[key] = view
        return view

    def nps_responses(self, now: datetime) -> list[NpsResponse]:
        with self._lock:
            c, _ = self._view("nps", now)
            return self._nps[:bisect.bisect_left(self._nps_keys, (c,))]

    def csat_responses(self, now: datetime) -> list[SurveyResponse]:
        with self._lock:
            c, _ = self._view("csat", now)
            return self._csat[:bisect.bisect_left(self._csat_keys, (c,))]
