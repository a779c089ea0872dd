"""Which flows this installation offers, in the order the start page lists them."""

from __future__ import annotations

from app.flows.model import Flow

_FLOWS: dict[str, Flow] = {}


def add(flow: Flow) -> Flow:
    _FLOWS[flow.id] = flow
    return flow


def all_flows() -> list[Flow]:
    return list(_FLOWS.values())


def get(flow_id: str) -> Flow | None:
    return _FLOWS.get(flow_id)
