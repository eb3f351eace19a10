"""The notifier's HTTP face: /healthz for the orchestrator, /metrics for Prometheus."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from clinic import booking_share, outbound, outbox_store, sites
from clinic.models import OutboxStatus
from clinic.uow import UnitOfWork
from notifier.fhir_read import fhir_routes
from notifier.his_webhook import MAX_BODY, WebhookConfig, add_routes
from notifier.sms_inbound_web import sms_inbound_routes

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp.typedefs import Middleware

    from notifier.peers import AllowList, GuardStats

UowFactory = Callable[[], UnitOfWork]
UOW: web.AppKey[UowFactory] = web.AppKey("uow")
LISTENERS: web.AppKey[Mapping[str, GuardStats]] = web.AppKey("listeners")
METRICS_TOKEN: web.AppKey[bytes] = web.AppKey("metrics_token")
LATENCY_WINDOW_ROWS = 1000
OUTBOUND_STATES = [s for s in OutboxStatus if s is not OutboxStatus.EXPIRED]
SHARE_DAYS = 30  # the e-booking share over the last 30 days, today included


def _may_look(request: web.Request) -> web.Response | None:
    """None when the caller may read /healthz and /metrics; else the refusal. With
    RADYAR_METRICS_TOKEN set, only a request bearing it (from anywhere; behind a reverse proxy
    every caller is the proxy); without one, only a caller on this machine (loopback)."""
    token = request.app[METRICS_TOKEN]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token):
            return None
        return web.Response(
            status=401, text="a bearer token is required\n",
            headers={"WWW-Authenticate": 'Bearer realm="radyar-metrics"'},
        )  # fmt: skip
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        loopback = False
    return None if loopback else web.Response(status=403, text="loopback only\n")


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 when it does not."""
    if (refused := _may_look(request)) is not None:
        return refused
    try:
        async with request.app[UOW]() as uow:
            await outbox_store.database_answers(uow)
    except Exception:  # any database failure means "not healthy"; the reason is not for callers
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Outbox depth by status, sent and failed by channel and kind, recent delivery latency."""
    if (refused := _may_look(request)) is not None:
        return refused
    async with request.app[UOW]().reading() as uow:
        counts = await outbox_store.counts(uow, LATENCY_WINDOW_ROWS)
        share = await booking_share.recent(uow, SHARE_DAYS)
        keys = {s.id: s.key for s in await sites.all_sites(uow)}
        told = await outbound.counts(uow)
    lines = _depth_lines(counts.by_status)
    lines += _done_lines(list(counts.done))
    lines += _latency_lines(list(counts.latencies))
    lines += _labelled(
        "radyar_sms_delivery_states",
        "SMS sent, by the delivery state the gateway last reported.",
        "state",
        counts.sms_states,
    )
    lines += _labelled(
        "radyar_hospital_events_waiting",
        "Hospital events no booking matched, waiting for staff, by source.",
        "source",
        counts.events_waiting,
    )
    lines += _labelled(
        "radyar_hospital_messages_refused",
        "Hospital messages refused as unusable, not yet looked at, by source.",
        "source",
        counts.messages_refused,
    )
    lines += _outbound_lines(told)
    lines += _listener_lines(request.app[LISTENERS])
    lines += _share_lines(share)
    lines += _site_share_lines(share, keys)
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


def _depth_lines(depth: Mapping[str, int]) -> list[str]:
    lines = [
        "# HELP radyar_outbox_messages Outbox rows by status.",
        "# TYPE radyar_outbox_messages gauge",
    ]
    for status in OutboxStatus:
        lines.append(f'radyar_outbox_messages{{status="{status}"}} {depth.get(status, 0)}')
    return lines


def _outbound_lines(rows: list[tuple[str, str, int]]) -> list[str]:
    """Booking events for the hospital's systems, by adapter and state (every state of an
    adapter that has any, so a rate of failures can be graphed from zero)."""
    lines = [
        "# HELP radyar_outbound_events Booking events for the hospital's systems, by adapter "
        "and state.",
        "# TYPE radyar_outbound_events gauge",
    ]
    found = {(adapter, state): n for adapter, state, n in rows}
    for adapter in sorted({adapter for adapter, _, _ in rows}):
        for state in OUTBOUND_STATES:
            n = found.get((adapter, str(state)), 0)
            lines.append(f'radyar_outbound_events{{adapter="{adapter}",state="{state}"}} {n}')
    return lines


def _done_lines(rows: list[tuple[str, str | None, str, int]]) -> list[str]:
    lines = [
        "# HELP radyar_outbox_delivered_total Messages sent or failed, by channel and kind.",
        "# TYPE radyar_outbox_delivered_total counter",
    ]
    for status, channel, kind, count in sorted(rows, key=lambda r: (r[0], r[1] or "", r[2])):
        labels = f'status="{status}",channel="{channel or "none"}",kind="{kind}"'
        lines.append(f"radyar_outbox_delivered_total{{{labels}}} {count}")
    return lines


def _labelled(
    name: str, help_text: str, label: str, values: Mapping[str, int], kind: str = "gauge"
) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for key in sorted(values):
        lines.append(f'{name}{{{label}="{key}"}} {values[key]}')
    return lines


def _listener_lines(listeners: Mapping[str, GuardStats]) -> list[str]:
    lines = _labelled(
        "radyar_listener_connections",
        "Connections each hospital listener holds now.",
        "listener",
        {name: stats.open for name, stats in listeners.items()},
    )
    lines += _labelled(
        "radyar_listener_accepted_total",
        "Connections each hospital listener has accepted (then admitted or refused).",
        "listener",
        {name: stats.accepted for name, stats in listeners.items()},
        kind="counter",
    )
    lines += [
        "# HELP radyar_listener_limited_total Connections refused or closed, requests refused and "
        "messages slowed by the hospital listeners' limits, by listener and reason.",
        "# TYPE radyar_listener_limited_total counter",
    ]
    for name, stats in listeners.items():
        for reason, count in sorted(stats.counts.items()):
            labels = f'listener="{name}",reason="{reason}"'
            lines.append(f"radyar_listener_limited_total{{{labels}}} {count}")
    return lines


def _share_lines(report: booking_share.ShareReport) -> list[str]:
    lines = [
        f"# HELP radyar_appointments Appointments on the last {SHARE_DAYS} days, today "
        "included, by modality and how they were booked (radyar report bookings).",
        "# TYPE radyar_appointments gauge",
    ]
    for row in report.by_modality:
        for channel, count in sorted(row.by_channel.items()):
            labels = f'modality="{row.modality}",channel="{channel}"'
            lines.append(f"radyar_appointments{{{labels}}} {count}")
    share = report.total.share
    lines += [
        f"# HELP radyar_electronic_booking_share Share of the last {SHARE_DAYS} days' "
        "appointments booked electronically (the Ministry's target is 0.6).",
        "# TYPE radyar_electronic_booking_share gauge",
        f"radyar_electronic_booking_share {0.0 if share is None else share:.4f}",
    ]
    return lines


def _site_share_lines(report: booking_share.ShareReport, keys: Mapping[int, str]) -> list[str]:
    """Each site's appointments and electronic share (the university's figures above)."""
    totals = {keys.get(site, "none"): row.total for site, row in report.by_site.items()}
    lines = _labelled(
        "radyar_site_appointments",
        f"Appointments on the last {SHARE_DAYS} days at each site (hospital/department).",
        "site",
        {keys[site]: 0 for site in keys} | totals,
    )
    lines += [
        f"# HELP radyar_site_electronic_booking_share Share of each site's last {SHARE_DAYS} "
        "days' appointments booked electronically.",
        "# TYPE radyar_site_electronic_booking_share gauge",
    ]
    for site, row in sorted(report.by_site.items(), key=lambda item: keys.get(item[0], "")):
        share = row.share
        key = keys.get(site, "none")
        lines.append(
            f'radyar_site_electronic_booking_share{{site="{key}"}} '
            f"{0.0 if share is None else share:.4f}"
        )
    return lines


def _latency_lines(pairs: list[tuple[datetime, datetime]]) -> list[str]:
    seconds = sorted(max((sent - due).total_seconds(), 0.0) for due, sent in pairs)
    lines = [
        "# HELP radyar_delivery_latency_seconds Due time to sent time, last 1000 sent messages.",
        "# TYPE radyar_delivery_latency_seconds summary",
    ]
    for quantile in (0.5, 0.9, 0.99):
        value = seconds[min(int(quantile * len(seconds)), len(seconds) - 1)] if seconds else 0.0
        lines.append(f'radyar_delivery_latency_seconds{{quantile="{quantile}"}} {value:.3f}')
    lines.append(f"radyar_delivery_latency_seconds_count {len(seconds)}")
    lines.append(f"radyar_delivery_latency_seconds_sum {sum(seconds):.3f}")
    return lines


def create_app(
    uow: Callable[[], UnitOfWork],
    webhook: WebhookConfig | None = None,
    *,
    guard: Middleware | None = None,
    listeners: Mapping[str, GuardStats] | None = None,
    fhir_token: bytes = b"",
    metrics_token: bytes = b"",
    sms_secret: str = "",
    sms_allow: AllowList | None = None,
) -> web.Application:
    """The aiohttp application: /healthz, /metrics, the HIS report webhook and, with a
    ``fhir_token``, the FHIR Appointment read endpoint, behind ``guard``
    (``notifier.http_guard``) when given; /metrics shows ``listeners``' counts. /healthz and
    /metrics answer callers bearing ``metrics_token``, or without one loopback callers only."""
    app = web.Application(
        client_max_size=MAX_BODY + 1024, middlewares=[guard] if guard is not None else []
    )
    app[UOW] = uow
    app[LISTENERS] = listeners or {}
    app[METRICS_TOKEN] = metrics_token
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    add_routes(app, uow, webhook or WebhookConfig(secret=b""))
    if fhir_token:
        app.add_routes(fhir_routes(uow, fhir_token))
    if sms_secret:  # the SMS gateway forwards patients' replies here
        app.add_routes(sms_inbound_routes(uow, sms_secret, sms_allow))
    return app
