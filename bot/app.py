"""The FastAPI application factory: `create_app(settings)`.

Start-up builds the services once: the database (SQLite is migrated on the spot; PostgreSQL must
already be at the newest revision), the NLP (jieba and the gazetteer, warmed before the first
message) and the engine. Channels are routers over the same engine.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import metrics as metrics_route
from bot.apidocs import OPENAPI_URL, install_api_docs
from bot.channels import api as api_channel
from bot.channels import webchat
from bot.channels.setup import build_push_channels
from bot.channels.wechat import callback as wechat
from bot.channels.wechat.callback import CallbackChannel
from bot.config import Settings
from bot.console import api as staff_api
from bot.console import contacts_api as contact_points_api
from bot.console import inbox as console_inbox
from bot.console import labels as console_labels
from bot.console import overview as console_overview
from bot.console import reports_api
from bot.console.pages import router as console_pages
from bot.domain import deadlines
from bot.edge import install_edge
from bot.engine import Engine, ServiceUnavailable, database_unreachable
from bot.errors import install_error_handlers
from bot.headers import SecurityHeadersMiddleware
from bot.http import Services
from bot.limits import Limits, LimitsMiddleware
from bot.metrics import Metrics
from bot.nlp import NLP, PlaceUnit
from bot.places import place_units
from bot.production import UnsafeDeployment, check_database
from scheduler.runner import Scheduler
from storage import crypto, migrate
from storage.db import Database
from storage.heartbeat import heartbeat_path
from storage.orgtree import load_units

log = logging.getLogger(__name__)


class SchemaNotReady(RuntimeError):
    """The database schema is behind the code: run `fuqing db upgrade`."""


def build_services(settings: Settings) -> Services:
    """Connect, migrate (SQLite) or check (PostgreSQL), warm the NLP, build the engine."""
    settings.check_secrets()
    crypto.configure(settings.secret_key, old=settings.old_secret_key)
    db = Database(settings.database_url)
    if settings.is_sqlite:
        migrate.upgrade(db)
    else:
        problem = migrate.pending_message(db)
        if problem is not None:
            db.dispose()
            raise SchemaNotReady(problem)
    try:
        check_database(settings, db)  # production: no demo logins or invite left
    except UnsafeDeployment:
        db.dispose()
        raise
    with db.read() as session:
        units = place_units(session)
    nlp = NLP.load(
        units, cache_dir=settings.data_dir / "jieba", model_dir=settings.trained_model_dir
    )
    engine = Engine(settings=settings, db=db, nlp=nlp)
    channels = build_push_channels(settings, db=db, engine=engine)
    return Services(settings=settings, db=db, nlp=nlp, engine=engine, channels=channels)


def _channel(request: Request, name: str) -> CallbackChannel:
    channel = getattr(request.app.state.services.channels, name)
    assert isinstance(channel, CallbackChannel)
    return channel


def create_app(
    settings: Settings, *, services: Services | None = None, multiprocess_metrics: bool = False
) -> FastAPI:
    """Build the app; `services` may be given (tests), else they are built at start-up.
    `multiprocess_metrics`: a worker of `fuqing serve --workers N` (bot/metrics.py). A bad
    FUQING_RESOLVE_DAYS or FUQING_ACCEPT_DAYS is refused here (ValueError), before anything
    starts."""
    deadlines.Limits.of(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = services or build_services(settings)
        app.state.services = built
        if services is None:
            _attach_metrics(app, built)
        # What start-up built (the NLP's dictionaries, the app) lives as long as the process:
        # leave it out of the collector's full scans, which otherwise pause every request
        # (~60 ms each on the 2-core machine; bench/load.py's p99).
        gc.freeze()
        log.info("fuqing ready on %s", built.db.engine.url.render_as_string(hide_password=True))
        runner = None
        if settings.scheduler == "on":
            runner = Scheduler(
                settings=settings,
                db=built.db,
                dispatcher=built.channels.dispatcher,
                clock=built.engine.clock,
            )
            runner.start()
            log.info("scheduler running in this process (FUQING_SCHEDULER=off to run it apart)")
        app.state.scheduler = runner
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            await built.channels.aclose()
            if services is None:
                built.db.dispose()

    app = FastAPI(
        title="妇情通 fuqing",
        version="0.1.0",
        description="The chat assistant of a city women's federation: messages and staff API.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_api_docs, not from a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL if settings.api_docs_enabled else None,
    )
    if settings.api_docs_enabled:
        install_api_docs(app)
    if settings.metrics_token:
        app.state.metrics = Metrics(multiprocess=multiprocess_metrics)
        app.include_router(metrics_route.router)
    if services is not None:
        app.state.services = services
        _attach_metrics(app, services)
    app.state.limits = Limits.from_settings(settings)  # per-user/IP budgets, body cap
    app.add_middleware(LimitsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, production=settings.env == "production")
    install_edge(app, settings)  # outermost: header caps, then the trusted proxy's client IP
    install_error_handlers(app)
    app.include_router(api_channel.router(settings))
    app.include_router(webchat.router)
    app.include_router(webchat.neutral)
    app.include_router(staff_api.router)
    app.include_router(reports_api.router)
    app.include_router(console_pages)
    app.include_router(console_overview.router)
    app.include_router(console_labels.router)
    app.include_router(console_inbox.router)
    app.include_router(contact_points_api.router)
    if settings.effective_wechat_token:
        app.include_router(wechat.router("/wechat", lambda r: _channel(r, "wechat")))
    if settings.wecom_enabled:
        app.include_router(wechat.router("/wecom", lambda r: _channel(r, "wecom")))
    if settings.telegram_webhook_enabled:
        # python-telegram-bot is imported only when the bot is configured (start-up time).
        from bot.channels.telegram import webhook as telegram_webhook

        app.include_router(telegram_webhook.router("/telegram"))

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the app is up."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        responses={503: {"description": "the database cannot be reached or cannot store"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database takes a write (rolled back), and refused none in the last
        30 seconds (a full disk shows only when a write needs the space); else 503."""
        db: Database = request.app.state.services.db
        try:
            await asyncio.to_thread(db.check_writable)
        except DBAPIError as exc:
            log.warning("readiness: the database refused a write (%s)", type(exc.orig).__name__)
            return _unavailable()
        if db.failed_to_store_recently():
            log.warning("readiness: the database refused a write in the last seconds")
            return _unavailable()
        return JSONResponse({"status": "ready"})

    _install_unavailable_handlers(app)
    return app


def _attach_metrics(app: FastAPI, services: Services) -> None:
    """Count the engine's messages and read the database's gauges (when /metrics is on)."""
    metrics: Metrics | None = getattr(app.state, "metrics", None)
    if metrics is not None:
        services.engine.on_handled = metrics.observe_message
        metrics.watch(services.db, heartbeat_path(services.settings.data_dir))


def _unavailable() -> JSONResponse:
    body = {"error": "unavailable", "message": "the service is unavailable; try again shortly"}
    return JSONResponse(body, 503, headers={"Retry-After": "5"})


def _install_unavailable_handlers(app: FastAPI) -> None:
    """A database that cannot be reached or cannot store is a 503 JSON error on every route,
    not a 500."""

    async def unavailable(_request: Request, _exc: Exception) -> JSONResponse:
        return _unavailable()

    async def database_error(_request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and database_unreachable(exc):
            log.warning("database unavailable: %s", type(exc.orig).__name__)
            return _unavailable()
        raise exc  # any other database error stays a 500 with its traceback in the log

    app.add_exception_handler(ServiceUnavailable, unavailable)
    app.add_exception_handler(DBAPIError, database_error)


def place_units_from_settings(settings: Settings) -> list[PlaceUnit]:
    """The gazetteer from the database when it is migrated, else from the seed file."""
    db = Database(settings.database_url)
    try:
        if migrate.pending_message(db) is None:
            with db.read() as session:
                return place_units(session)
    except OperationalError:
        log.warning("database not reachable; using the seed file's places")
    finally:
        db.dispose()
    return [
        PlaceUnit(district=row.district, name=row.name, kind=row.kind, aliases=row.aliases)
        for row in load_units()
    ]
