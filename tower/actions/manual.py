"""The manual procedure when a vendor's API cannot be reached (issue 13 item 6): a document a person
can send by hand (the PO as CSV for a purchase order) and the message to go with it, in English and
Chinese. Files go under <data folder>/actions/, written whole or not at all."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from tower.actions.log import Action

PO_COLUMNS = ("po_reference", "supplier_id", "sku", "quantity", "ship_to_warehouse", "need_by",
              "quick_response", "estimated_cost_usd", "proposed_at")


def reference(action: Action) -> str:
    """The order reference the supplier sees in the portal for this action (the clients send
    "tower:<idempotency key>"), so a PO sent by hand and one that did reach the portal match."""
    return f"tower:{action.idempotency_key}"


def folder(cfg) -> Path:
    return cfg.data_dir / "actions"


def _po_csv(action: Action) -> str:
    p = action.params
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PO_COLUMNS)
    writer.writerow([reference(action), p["supplier_id"], p["sku"], p["quantity"], p["warehouse_id"],
                     p.get("need_by") or "", "yes" if p.get("quick_response", True) else "no",
                     action.estimated_cost if action.estimated_cost is not None else "",
                     action.proposed_at.isoformat()])
    return out.getvalue()


def _generic_csv(action: Action) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("field", "value"))
    writer.writerow(("action_id", action.action_id))
    writer.writerow(("kind", action.kind))
    writer.writerow(("reference", action.idempotency_key))
    for name, value in action.params.items():
        writer.writerow((name, value if not isinstance(value, list) else "; ".join(map(str, value))))
    return out.getvalue()


def message(action: Action, error: str) -> str:
    p = action.params
    if action.kind == "raise_po":
        en = (f"Quick-response purchase order {reference(action)}: please produce {p['quantity']} "
              f"units of {p['sku']} for warehouse {p['warehouse_id']}"
              + (f", needed by {p['need_by']}" if p.get("need_by") else "")
              + ". The PO document is attached; please confirm with your PO number. If an order with "
              f"reference {reference(action)} already reached you through the portal, it is the same "
              "order: do not produce it twice.")
        zh = (f"快速反应采购订单 {reference(action)}：请为仓库 {p['warehouse_id']} 生产 {p['sku']} "
              f"共 {p['quantity']} 件" + (f"，需于 {p['need_by']} 前交付" if p.get("need_by") else "")
              + f"。采购单见附件，请回复确认并告知订单号。如已通过门户收到参考号为 {reference(action)} "
              "的订单，则为同一订单，请勿重复生产。")
    else:
        en = (f"Action {action.kind} ({action.idempotency_key}) could not be sent through the API; "
              "please carry it out by hand as described in the attached document.")
        zh = f"操作 {action.kind}（{action.idempotency_key}）无法通过接口发送，请按附件说明手动执行。"
    return f"{en}\n\n{zh}\n\n(API: {error})"


def write(cfg, action: Action, error: str) -> tuple[Path, str]:
    """The document's path and the message to send. Same action, same file (a retry rewrites it)."""
    target = folder(cfg)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"action-{action.action_id}-{action.kind}.csv"
    text = _po_csv(action) if action.kind == "raise_po" else _generic_csv(action)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path, message(action, error)
