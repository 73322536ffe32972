"""The only door to the database: every read and write of the app goes through these functions.

Each takes the caller's `Session` (one transaction, from `storage.db.Database.transaction`) and
keyword-only arguments. Times in and out are aware UTC datetimes, stored in UTC. The functions
live in modules by subject; import them from here.
"""

from storage.repo._common import ConcurrentUpdate, as_utc, new_code
from storage.repo.dialogue import (
    find_inbound,
    load_dialogue,
    recent_inbound,
    record_inbound,
    save_dialogue,
    set_reply,
)
from storage.repo.org import (
    all_units,
    ancestors,
    cadres_of,
    city_unit,
    get_unit,
    responsible_unit,
    seed_org_tree,
    unit_by_path,
    unit_contains,
    unit_for_place,
    units_below,
)
from storage.repo.outbox import (
    due_pushes,
    enqueue,
    enqueue_to,
    list_outbox,
    mark_failed,
    mark_sent,
    outbox_rows,
    take_pending,
)
from storage.repo.people import (
    create_invite,
    deactivate_identity,
    erase_user,
    find_invite,
    get_or_create_identity,
    get_user,
    identity_of,
    latest_identity,
    redeem_invite,
    set_consent,
)
from storage.repo.requests import (
    add_event,
    create_help_request,
    erase_requests_of,
    list_help_requests,
    open_requests_in,
    request_by_code,
    requests_of,
    set_status,
)
from storage.repo.visits import create_visit, list_visits

__all__ = [
    "ConcurrentUpdate",
    "add_event",
    "all_units",
    "ancestors",
    "as_utc",
    "cadres_of",
    "city_unit",
    "create_help_request",
    "create_invite",
    "create_visit",
    "deactivate_identity",
    "due_pushes",
    "enqueue",
    "enqueue_to",
    "erase_requests_of",
    "erase_user",
    "find_inbound",
    "find_invite",
    "get_or_create_identity",
    "get_unit",
    "get_user",
    "identity_of",
    "latest_identity",
    "list_help_requests",
    "list_outbox",
    "list_visits",
    "load_dialogue",
    "mark_failed",
    "mark_sent",
    "new_code",
    "open_requests_in",
    "outbox_rows",
    "recent_inbound",
    "record_inbound",
    "redeem_invite",
    "request_by_code",
    "requests_of",
    "responsible_unit",
    "save_dialogue",
    "seed_org_tree",
    "set_consent",
    "set_reply",
    "set_status",
    "take_pending",
    "unit_by_path",
    "unit_contains",
    "unit_for_place",
    "units_below",
]
