"""The only door to the database: every read and write of the app goes through these functions.

Each takes the caller's `Session` (one transaction, from `storage.db.Database.transaction`) and
keyword-only arguments. Times in and out are aware UTC datetimes, stored in UTC. The functions
live in modules by subject; import them from here.
"""

from storage.repo._common import ConcurrentUpdate, as_utc, new_code
from storage.repo.callbacks import claim_nonce as claim_nonce
from storage.repo.callbacks import prune_nonces as prune_nonces
from storage.repo.console import CadreRow as CadreRow
from storage.repo.console import InviteRow as InviteRow
from storage.repo.console import PushRow as PushRow
from storage.repo.console import RequestHeadline as RequestHeadline
from storage.repo.console import Scope as Scope
from storage.repo.console import VisitRow as VisitRow
from storage.repo.console import cadres_in as cadres_in
from storage.repo.console import count_requests_by as count_requests_by
from storage.repo.console import diary as diary
from storage.repo.console import invites_in as invites_in
from storage.repo.console import push_counts as push_counts
from storage.repo.console import push_in_scope as push_in_scope
from storage.repo.console import pushes as pushes
from storage.repo.console import request_headline as request_headline
from storage.repo.console import requeue_push as requeue_push
from storage.repo.console import units_in as units_in
from storage.repo.console import visits_per_day as visits_per_day
from storage.repo.contacts import (
    QUOTA,
    add_contact_point,
    contact_point,
    contact_points,
    count_by_kind,
    last_visit_on,
    remove_contact_point,
)
from storage.repo.dialogue import (
    Dialogue,
    expect_rating,
    find_inbound,
    hold_handoff,
    idle_dialogues,
    load_dialogue,
    recent_inbound,
    record_inbound,
    release_handoff,
    save_dialogue,
    set_reply,
    stored_reply,
    unanswered_safety_checks,
)
from storage.repo.gauges import outbox_backlog as outbox_backlog
from storage.repo.handoff import ThreadRow as ThreadRow
from storage.repo.handoff import add_message as add_message
from storage.repo.handoff import count_waiting_threads as count_waiting_threads
from storage.repo.handoff import create_thread as create_thread
from storage.repo.handoff import erase_threads_of as erase_threads_of
from storage.repo.handoff import open_thread_of as open_thread_of
from storage.repo.handoff import save_thread as save_thread
from storage.repo.handoff import thread_by_code as thread_by_code
from storage.repo.handoff import thread_messages as thread_messages
from storage.repo.handoff import threads_in as threads_in
from storage.repo.handoff import threads_opened as threads_opened
from storage.repo.handoff import unanswered_threads as unanswered_threads
from storage.repo.labels import add_correction as add_correction
from storage.repo.labels import all_corrections as all_corrections
from storage.repo.labels import count_corrections as count_corrections
from storage.repo.labels import delete_corrections_of as delete_corrections_of
from storage.repo.labels import first_correction_of as first_correction_of
from storage.repo.labels import recent_corrections as recent_corrections
from storage.repo.org import (
    all_units,
    ancestors,
    cadres_by_unit,
    cadres_of,
    children_of,
    city_unit,
    communities_in,
    district_of,
    get_unit,
    seed_org_tree,
    unit_by_path,
    unit_contains,
    unit_for_place,
    units_below,
)
from storage.repo.outbox import (
    claim_due,
    due_pushes,
    enqueue,
    enqueue_to,
    list_outbox,
    mark_failed,
    mark_sent,
    outbox_row,
    outbox_rows,
    queued_pushes,
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
    revoke_invite,
    set_consent,
    user_at,
)
from storage.repo.privacy import EncryptedColumn as EncryptedColumn
from storage.repo.privacy import Erased as Erased
from storage.repo.privacy import Rotated as Rotated
from storage.repo.privacy import encrypted_columns as encrypted_columns
from storage.repo.privacy import erase_resident as erase_resident
from storage.repo.privacy import forget_idle_web_visitors as forget_idle_web_visitors
from storage.repo.privacy import reencrypt_batch as reencrypt_batch
from storage.repo.quarter import contact_points_of_cadres as contact_points_of_cadres
from storage.repo.quarter import find_district as find_district
from storage.repo.quarter import find_summary_unit as find_summary_unit
from storage.repo.quarter import keys_with_prefix as keys_with_prefix
from storage.repo.quarter import requests_touching as requests_touching
from storage.repo.quarter import visits_by_cadres as visits_by_cadres
from storage.repo.quarter import visits_in as visits_in
from storage.repo.reminders import (
    HeldPoint,
    OpenRequest,
    UnitNode,
    cadre_ids_by_unit,
    duty_user_ids,
    existing_outbox_keys,
    held_points,
    last_pair_visits,
    open_requests_created_in,
    unaccepted_urgent,
    unit_nodes,
    unvisited_points,
)
from storage.repo.reports import (
    district_units,
    due_date_overrides,
    report_for,
    reports_of_quarter,
    reports_of_quarters,
    review_report,
    set_due_date,
    submit_report,
)
from storage.repo.requests import (
    add_event,
    assessment_facts,
    create_help_request,
    erase_requests_of,
    list_help_requests,
    open_requests_in,
    overdue_requests,
    request_by_code,
    requests_of,
    set_labels,
    set_rating,
    set_status,
    update_request,
)
from storage.repo.staff import clear_login_failures as clear_login_failures
from storage.repo.staff import count_urgent_requests as count_urgent_requests
from storage.repo.staff import create_staff as create_staff
from storage.repo.staff import duty_staff as duty_staff
from storage.repo.staff import end_sessions as end_sessions
from storage.repo.staff import forget_login_failures as forget_login_failures
from storage.repo.staff import get_staff as get_staff
from storage.repo.staff import list_staff as list_staff
from storage.repo.staff import login_throttle as login_throttle
from storage.repo.staff import queue_cadres as queue_cadres
from storage.repo.staff import queue_requests as queue_requests
from storage.repo.staff import record_login as record_login
from storage.repo.staff import remove_staff as remove_staff
from storage.repo.staff import request_events as request_events
from storage.repo.staff import request_in_units as request_in_units
from storage.repo.staff import set_duty as set_duty
from storage.repo.staff import staff_by_username as staff_by_username
from storage.repo.visits import create_visit, list_visits

__all__ = [
    "QUOTA",
    "ConcurrentUpdate",
    "Dialogue",
    "HeldPoint",
    "OpenRequest",
    "UnitNode",
    "add_contact_point",
    "add_event",
    "all_units",
    "ancestors",
    "as_utc",
    "assessment_facts",
    "cadre_ids_by_unit",
    "cadres_by_unit",
    "cadres_of",
    "children_of",
    "city_unit",
    "claim_due",
    "communities_in",
    "contact_point",
    "contact_points",
    "count_by_kind",
    "create_help_request",
    "create_invite",
    "create_visit",
    "deactivate_identity",
    "district_of",
    "district_units",
    "due_date_overrides",
    "due_pushes",
    "duty_user_ids",
    "enqueue",
    "enqueue_to",
    "erase_requests_of",
    "erase_user",
    "existing_outbox_keys",
    "expect_rating",
    "find_inbound",
    "find_invite",
    "get_or_create_identity",
    "get_unit",
    "get_user",
    "held_points",
    "hold_handoff",
    "identity_of",
    "idle_dialogues",
    "last_pair_visits",
    "last_visit_on",
    "latest_identity",
    "list_help_requests",
    "list_outbox",
    "list_visits",
    "load_dialogue",
    "mark_failed",
    "mark_sent",
    "new_code",
    "open_requests_created_in",
    "open_requests_in",
    "outbox_row",
    "outbox_rows",
    "overdue_requests",
    "queued_pushes",
    "recent_inbound",
    "record_inbound",
    "redeem_invite",
    "release_handoff",
    "remove_contact_point",
    "report_for",
    "reports_of_quarter",
    "reports_of_quarters",
    "request_by_code",
    "requests_of",
    "review_report",
    "revoke_invite",
    "save_dialogue",
    "seed_org_tree",
    "set_consent",
    "set_due_date",
    "set_labels",
    "set_rating",
    "set_reply",
    "set_status",
    "stored_reply",
    "submit_report",
    "take_pending",
    "unaccepted_urgent",
    "unanswered_safety_checks",
    "unit_by_path",
    "unit_contains",
    "unit_for_place",
    "unit_nodes",
    "units_below",
    "unvisited_points",
    "update_request",
    "user_at",
]
