"""A headless Streamlit session speaking the app's websocket protocol (the streamlit package's own
protobufs), for soak tests: many real sessions without a browser each.

It does what the frontend does for a page without user input: connect to /_stcore/stream, request
the first run with the URL's query string, follow page switches (st.switch_page: new_session carries
the new page), and rerun each auto-rerun fragment (st.fragment(run_every=…): ForwardMsg.auto_rerun)
at its interval with is_auto_rerun set. Every ForwardMsg is read; exception elements are counted.
"""
from __future__ import annotations

import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# the server did not take the connection (refused, or no handshake within the open timeout)
NOT_ACCEPTED = (OSError, TimeoutError, websockets.WebSocketException)


class Session:
    def __init__(self, url: str, query: str, name: str = ""):
        self.url, self.query, self.name = url, query, name
        self.page_hash = ""
        self.fragments: dict[str, float] = {}      # fragment id → interval (s)
        self.pending: dict[str, float] = {}        # fragment id → when its rerun was asked
        self.latencies: list[float] = []           # fragment rerun asked → its script_finished (s)
        self.asked_at: list[float] = []            # when each of those reruns was asked (epoch s)
        self.exceptions = 0
        self.exception_texts: list[str] = []
        self.overdue = 0                           # ticks at which the previous rerun was not back yet
        self.full_runs = 0
        self.disconnects = 0
        self.refused = 0                           # connections the server did not accept in time
        self.first_metric_at: float | None = None
        self._ws = None

    def _rerun(self, fragment_id: str = "") -> bytes:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = True
        return msg.SerializeToString()

    def _on(self, data: bytes) -> None:
        fm = ForwardMsg()
        fm.ParseFromString(data)
        kind = fm.WhichOneof("type")
        if kind == "new_session":
            if fm.new_session.page_script_hash:
                self.page_hash = fm.new_session.page_script_hash
            if not fm.metadata.run.fragment_ids:  # a full run re-registers its fragments
                self.fragments.clear()
                # and Streamlit drops the fragment reruns queued before it: never answered, they
                # would count every later tick of that fragment as overdue
                self.pending.clear()
                self.full_runs += 1
        elif kind == "page_info_changed":
            self.query = fm.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.fragments[fm.auto_rerun.fragment_id] = fm.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            self.fragments.clear()
        elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            element = fm.delta.new_element
            which = element.WhichOneof("type")
            if which == "exception":
                self.exceptions += 1
                self.exception_texts.append(f"{element.exception.type}: {element.exception.message}")
            elif which == "metric" and self.first_metric_at is None:
                self.first_metric_at = time.time()
        elif kind == "script_finished":
            now = time.time()
            for fid in fm.metadata.run.fragment_ids:
                asked = self.pending.pop(fid, None)
                if asked is not None:
                    self.latencies.append(now - asked)
                    self.asked_at.append(asked)

    async def _connect(self):
        ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                      open_timeout=30, ping_interval=None)
        await ws.send(self._rerun())
        return ws

    async def _reader(self, ws) -> None:
        async for data in ws:
            if isinstance(data, bytes):
                self._on(data)

    async def _timer(self, ws, fragment_id: str, end: float) -> None:
        while time.time() < end:
            interval = self.fragments.get(fragment_id)
            if interval is None:
                return
            await asyncio.sleep(interval)
            if fragment_id not in self.fragments or time.time() >= end:
                return
            if fragment_id in self.pending:
                self.overdue += 1  # its last rerun has not come back: still running, or dropped
            else:
                self.pending[fragment_id] = time.time()  # a latency counts from the first unanswered ask
            # the frontend's timer is a setInterval: it asks again whether or not the last one came
            # back (a client that waited would leave a dropped rerun's fragment dead for good)
            await ws.send(self._rerun(fragment_id))

    async def run(self, seconds: float) -> None:
        """Stay connected for `seconds`, rerunning fragments as the frontend would."""
        end = time.time() + seconds
        ws = await self._connect()
        reader = asyncio.create_task(self._reader(ws))
        timers: dict[str, asyncio.Task] = {}
        try:
            while time.time() < end:
                if reader.done():  # the server closed the socket: reconnect as the frontend does
                    try:
                        ws = await self._connect()
                    except NOT_ACCEPTED:
                        self.refused += 1
                        await asyncio.sleep(1)
                        continue
                    self.disconnects += 1
                    reader = asyncio.create_task(self._reader(ws))
                    timers.clear()
                for fid in list(self.fragments):
                    if fid not in timers or timers[fid].done():
                        timers[fid] = asyncio.create_task(self._timer(ws, fid, end))
                await asyncio.sleep(0.1)
        finally:
            for t in timers.values():
                t.cancel()
            await ws.close()
            reader.cancel()

    async def first_metric(self, timeout_s: float = 30) -> float:
        """Connect as a new viewer; seconds until the first KPI tile (st.metric) arrives, or NaN."""
        t0 = time.time()
        try:
            ws = await self._connect()
        except NOT_ACCEPTED:
            # a server too busy to finish the handshake in 30 s gave this viewer no tile: a figure of
            # the soak, not the end of it (the tracemalloc'ed reference server did that once)
            self.refused += 1
            return float("nan")
        reader = asyncio.create_task(self._reader(ws))
        try:
            while self.first_metric_at is None and time.time() - t0 < timeout_s and not reader.done():
                await asyncio.sleep(0.02)
        finally:
            await ws.close()
            reader.cancel()
        return self.first_metric_at - t0 if self.first_metric_at else float("nan")
