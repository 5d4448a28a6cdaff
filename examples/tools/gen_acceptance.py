#!/usr/bin/env python3
"""Generate the labelled acceptance samples of the example projects.

Every example project declares an acceptance set

    acceptance AUTOMATION { samples "acceptance/FILE.jsonl" precision >= P false_positive_rate <= Q }

and this script writes that samples file: one case per line,

    {"case": "...", "events": [envelope, ...], "expected": "executed" | "held" | "human"}

(envelopes as in the language reference, section 15.1; the format is described in
docs/testing.md). `expected` is what a person decided for the case. Most labels follow
the project's rules the way a careful ops engineer would read them; a small, deliberate
minority disagree with the rules (documented per category below) so that precision,
recall and the false-positive rate are not trivially 100% / 0%.

For every sample the script also computes the outcome the rules predict, with a small
Python mirror of the automation's trigger and gates, and prints the confusion matrix and
metrics it designed, so the numbers `meshline test` reports can be checked against them.

Usage (from anywhere; Python 3.8+, standard library only, deterministic):

    python3 examples/tools/gen_acceptance.py            # write the five samples files
    python3 examples/tools/gen_acceptance.py --check    # exit 1 if a file is out of date
    python3 examples/tools/gen_acceptance.py --project refunds

The first lines of each file are the hand-written samples the project started with; they
are kept verbatim (SEEDS below) and count towards the metrics.
"""

import argparse
import datetime as dt
import json
import random
import re
import sys
from pathlib import Path

SEED = 20260302
EXAMPLES = Path(__file__).resolve().parent.parent
OUTCOMES = ("executed", "held", "human")


# ------------------------------------------------------------------------------------------
# helpers


def usd(cents, cur="USD"):
    """Money on the wire: "250.00 USD" (exact, from integer cents)."""
    return "%d.%02d %s" % (cents // 100, cents % 100, cur)


def money_cents(text):
    amount, cur = text.split()
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2]), cur


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def pct(p):
    return ("%g" % p) + "%"


def pick_time(rng, start, end, hours=(8, 18), weekdays=True):
    """A random instant between two dates, inside `hours` (UTC), on weekdays if asked."""
    days = (end - start).days
    while True:
        d = start + dt.timedelta(days=rng.randrange(days + 1))
        if weekdays and d.weekday() >= 5:
            continue
        secs = rng.randrange(hours[0] * 3600, hours[1] * 3600)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=secs
        )


def later(t, rng, lo_min, hi_min):
    return t + dt.timedelta(seconds=rng.randrange(lo_min * 60, hi_min * 60 + 1))


class Case:
    """Events of one sample. Ids are `<prefix>_<case number>_<n>`, unique per file."""

    def __init__(self, case_id, id_prefix):
        self.case = case_id
        self.num = re.sub(r"\D", "", case_id)
        self.prefix = id_prefix
        self.events = []

    def ev(self, type_, at, data):
        self.events.append(
            {
                "id": "%s_%s_%d" % (self.prefix, self.num, len(self.events) + 1),
                "type": type_,
                "at": iso(at),
                "case": self.case,
                "data": data,
            }
        )
        return at


class Spec:
    """One planned sample: its category, label and the outcome the rules should give."""

    def __init__(self, category, expected, predicted, build):
        self.category = category
        self.expected = expected
        self.predicted = predicted  # what the category is designed to make the rules do
        self.build = build  # build(rng, case_id, t0) -> Case


def plan(rng, specs_by_count, start, end, time_fn=None):
    """Expand (count, category, expected, predicted, build) into timed specs."""
    out = []
    for count, category, expected, predicted, build in specs_by_count:
        for _ in range(count):
            t0 = time_fn(rng) if time_fn else pick_time(rng, start, end)
            out.append((t0, Spec(category, expected, predicted, build)))
    out.sort(key=lambda x: x[0])
    return out


# ------------------------------------------------------------------------------------------
# seeds: the samples each project started with (kept verbatim)

SEEDS = {
    "agency-support": r"""
{"case": "T-2101", "events": [{"id": "evt_01J9A1", "type": "TicketCreated", "at": "2026-01-05T09:12:44Z", "case": "T-2101", "data": {"ticket": {"id": "T-2101", "type": "billing", "subject": "Refund for duplicate January invoice", "tags": ["refund", "duplicate"], "tier": "Gold", "priority": "Normal", "status": "New", "client_id": "c-9", "charge_id": "ch_3OaB11", "refund_amount": "180.00 USD"}, "channel": "Email", "signals": {"intent_confidence": "96%"}}}], "expected": "executed"}
{"case": "T-2107", "events": [{"id": "evt_01J9A7", "type": "TicketCreated", "at": "2026-01-05T11:40:02Z", "case": "T-2107", "data": {"ticket": {"id": "T-2107", "type": "billing", "subject": "Please refund the unused seats", "tags": ["refund"], "tier": "Silver", "priority": "Normal", "status": "New", "client_id": "c-31", "charge_id": "ch_3OaC72", "refund_amount": "95.00 USD"}, "channel": "Chat", "signals": {"intent_confidence": "91%"}}}], "expected": "executed"}
{"case": "T-2115", "events": [{"id": "evt_01J9B2", "type": "TicketCreated", "at": "2026-01-06T14:03:19Z", "case": "T-2115", "data": {"ticket": {"id": "T-2115", "type": "billing", "subject": "Refund the annual plan, we are leaving", "tags": ["refund", "churn"], "tier": "Gold", "priority": "Normal", "status": "New", "client_id": "c-4", "charge_id": "ch_3OaD90", "refund_amount": "1200.00 USD"}, "channel": "Email", "signals": {"intent_confidence": "98%"}}}, {"id": "evt_01J9B3", "type": "ApprovalGranted", "at": "2026-01-06T16:30:00Z", "case": "T-2115", "data": {"approval": "refund_approval", "by": "cfo@agency.io"}}], "expected": "held"}
{"case": "T-2120", "events": [{"id": "evt_01J9C0", "type": "TicketCreated", "at": "2026-01-07T08:55:10Z", "case": "T-2120", "data": {"ticket": {"id": "T-2120", "type": "billing", "subject": "Invoice question and maybe a refund?", "tags": ["invoice", "refund"], "tier": "Bronze", "priority": "Normal", "status": "New", "client_id": "c-52", "charge_id": "ch_3OaE05", "refund_amount": "40.00 USD"}, "channel": "Email", "signals": {"intent_confidence": "62%"}}}], "expected": "human"}
{"case": "T-2124", "events": [{"id": "evt_01J9C4", "type": "TicketCreated", "at": "2026-01-07T10:21:37Z", "case": "T-2124", "data": {"ticket": {"id": "T-2124", "type": "billing", "subject": "Charged twice this month", "tags": ["refund", "duplicate"], "tier": "Silver", "priority": "Normal", "status": "New", "client_id": "c-14", "charge_id": "ch_3OaE44", "refund_amount": "49.00 USD"}, "channel": "Slack", "signals": {"intent_confidence": "94%"}}}], "expected": "executed"}
{"case": "T-2131", "events": [{"id": "evt_01J9D1", "type": "TicketCreated", "at": "2026-01-08T15:02:11Z", "case": "T-2131", "data": {"ticket": {"id": "T-2131", "type": "billing", "subject": "Refund request - service outage credit", "tags": ["refund", "outage"], "tier": "Gold", "priority": "Normal", "status": "New", "client_id": "c-3", "charge_id": "ch_3OaF13", "refund_amount": "250.00 USD"}, "channel": "Email", "signals": {"intent_confidence": "89%"}}}], "expected": "executed"}
{"case": "T-2138", "events": [{"id": "evt_01J9D8", "type": "TicketCreated", "at": "2026-01-09T09:47:50Z", "case": "T-2138", "data": {"ticket": {"id": "T-2138", "type": "billing", "subject": "Chargeback threat - refund now", "tags": ["refund", "dispute-risk"], "tier": "Bronze", "priority": "Normal", "status": "New", "client_id": "c-77", "charge_id": "ch_3OaG38", "refund_amount": "75.00 USD"}, "channel": "Email", "signals": {"intent_confidence": "88%"}}}], "expected": "human"}
{"case": "T-2142", "events": [{"id": "evt_01J9E2", "type": "TicketCreated", "at": "2026-01-09T13:15:05Z", "case": "T-2142", "data": {"ticket": {"id": "T-2142", "type": "billing", "subject": "Wrong plan billed, please refund the difference", "tags": ["refund"], "tier": "Silver", "priority": "Normal", "status": "New", "client_id": "c-19", "charge_id": "ch_3OaH42", "refund_amount": "30.00 USD"}, "channel": "Chat", "signals": {"intent_confidence": "97%"}}}], "expected": "executed"}
""",
    "refunds": r"""
{"case": "T-4810", "events": [{"id": "hist_4810_1", "type": "TicketCreated", "at": "2025-10-06T14:20:00Z", "case": "T-4810", "data": {"ticket": {"id": "T-4810", "type": "billing", "subject": "Double charged this month", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "kai@pinegrove.io", "organization": "Pinegrove", "url": "https://tallyhub.zendesk.com/agent/tickets/4810"}, "channel": "Email"}}, {"id": "hist_4810_2", "type": "RefundRequested", "at": "2025-10-06T14:27:00Z", "case": "T-4810", "data": {"charge": {"id": "ch_hist4810", "customer": "cus_pine57", "amount": "49.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-10-03T09:09:00Z"}, "amount": "49.00 USD", "refund_reason": "Duplicate", "requested_by": "marcus@tallyhub.com"}}], "expected": "executed"}
{"case": "T-4822", "events": [{"id": "hist_4822_1", "type": "TicketCreated", "at": "2025-10-08T16:03:00Z", "case": "T-4822", "data": {"ticket": {"id": "T-4822", "type": "billing", "subject": "Refund annual plan", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "li@fernway.com", "organization": "Fernway", "url": "https://tallyhub.zendesk.com/agent/tickets/4822"}, "channel": "Email"}}, {"id": "hist_4822_2", "type": "RefundRequested", "at": "2025-10-08T16:10:00Z", "case": "T-4822", "data": {"charge": {"id": "ch_hist4822", "customer": "cus_fern69", "amount": "960.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-10-05T10:52:00Z"}, "amount": "960.00 USD", "refund_reason": "RequestedByCustomer", "requested_by": "aisha@tallyhub.com"}}], "expected": "held"}
{"case": "T-4837", "events": [{"id": "hist_4837_1", "type": "TicketCreated", "at": "2025-10-13T13:41:00Z", "case": "T-4837", "data": {"ticket": {"id": "T-4837", "type": "billing", "subject": "Refund after outage last week", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "ana@saltmarsh.co", "organization": "Saltmarsh", "url": "https://tallyhub.zendesk.com/agent/tickets/4837"}, "channel": "Email"}}, {"id": "hist_4837_2", "type": "RefundRequested", "at": "2025-10-13T13:48:00Z", "case": "T-4837", "data": {"charge": {"id": "ch_hist4837", "customer": "cus_salt84", "amount": "390.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-10-10T08:30:00Z"}, "amount": "120.00 USD", "refund_reason": "ServiceIssue", "requested_by": "ken@tallyhub.com"}}], "expected": "executed"}
{"case": "T-4851", "events": [{"id": "hist_4851_1", "type": "TicketCreated", "at": "2025-10-20T15:12:00Z", "case": "T-4851", "data": {"ticket": {"id": "T-4851", "type": "billing", "subject": "Refund please, bank says disputed", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "bo@tinlake.net", "organization": "Tinlake", "url": "https://tallyhub.zendesk.com/agent/tickets/4851"}, "channel": "Email"}}, {"id": "hist_4851_2", "type": "RefundRequested", "at": "2025-10-20T15:19:00Z", "case": "T-4851", "data": {"charge": {"id": "ch_hist4851", "customer": "cus_tinl1", "amount": "79.00 USD", "amount_refunded": "0.00 USD", "status": "Disputed", "created_at": "2025-10-17T10:01:00Z"}, "amount": "79.00 USD", "refund_reason": "Duplicate", "requested_by": "ken@tallyhub.com"}}], "expected": "human"}
{"case": "T-4866", "events": [{"id": "hist_4866_1", "type": "TicketCreated", "at": "2025-10-27T18:30:00Z", "case": "T-4866", "data": {"ticket": {"id": "T-4866", "type": "billing", "subject": "Refund the seats we removed", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "eve@redkite.app", "organization": "Redkite", "url": "https://tallyhub.zendesk.com/agent/tickets/4866"}, "channel": "Email"}}, {"id": "hist_4866_2", "type": "RefundRequested", "at": "2025-10-27T18:37:00Z", "case": "T-4866", "data": {"charge": {"id": "ch_hist4866", "customer": "cus_redk16", "amount": "640.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-10-24T13:19:00Z"}, "amount": "160.00 USD", "refund_reason": "RequestedByCustomer", "requested_by": "marcus@tallyhub.com"}}], "expected": "executed"}
{"case": "T-4879", "events": [{"id": "hist_4879_1", "type": "TicketCreated", "at": "2025-11-03T14:55:00Z", "case": "T-4879", "data": {"ticket": {"id": "T-4879", "type": "billing", "subject": "Wrong plan, refund the difference", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "jon@ambercliff.org", "organization": "Ambercliff", "url": "https://tallyhub.zendesk.com/agent/tickets/4879"}, "channel": "Email"}}, {"id": "hist_4879_2", "type": "RefundRequested", "at": "2025-11-03T15:02:00Z", "case": "T-4879", "data": {"charge": {"id": "ch_hist4879", "customer": "cus_ambe29", "amount": "480.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-10-31T09:44:00Z"}, "amount": "250.00 USD", "refund_reason": "Other", "requested_by": "aisha@tallyhub.com"}}], "expected": "executed"}
{"case": "T-4893", "events": [{"id": "hist_4893_1", "type": "TicketCreated", "at": "2025-11-10T20:10:00Z", "case": "T-4893", "data": {"ticket": {"id": "T-4893", "type": "billing", "subject": "Full refund for 2025", "tags": ["refund"], "status": "New", "priority": "Normal", "requester": "max@harbourline.eu", "organization": "Harbourline", "url": "https://tallyhub.zendesk.com/agent/tickets/4893"}, "channel": "Email"}}, {"id": "hist_4893_2", "type": "RefundRequested", "at": "2025-11-10T20:17:00Z", "case": "T-4893", "data": {"charge": {"id": "ch_hist4893", "customer": "cus_harb43", "amount": "1440.00 USD", "amount_refunded": "0.00 USD", "status": "Succeeded", "created_at": "2025-11-07T14:59:00Z"}, "amount": "1440.00 USD", "refund_reason": "RequestedByCustomer", "requested_by": "marcus@tallyhub.com"}}], "expected": "held"}
""",
    "onboarding": r"""
{"case": "CON-1904", "events": [{"id": "hist_con_1904", "type": "ContractSigned", "at": "2025-10-02T08:40:00Z", "case": "CON-1904", "data": {"contract": {"id": "CON-1904", "account_id": "acc_alpenblick", "account_name": "Alpenblick Hotels", "plan": "growth", "value": "14400.00 EUR", "term_months": 12, "start_date": "2025-10-15", "attachments": ["msa_signed", "brand_guidelines", "logo_pack", "admin_contacts"]}, "signed_by": "k.moser@alpenblick.at"}}], "expected": "executed"}
{"case": "CON-1911", "events": [{"id": "hist_con_1911", "type": "ContractSigned", "at": "2025-10-06T13:12:00Z", "case": "CON-1911", "data": {"contract": {"id": "CON-1911", "account_id": "acc_ferrum", "account_name": "Ferrum Werkzeuge", "plan": "growth", "value": "12000.00 EUR", "term_months": 12, "start_date": "2025-11-01", "attachments": ["msa_signed", "logo_pack"]}, "signed_by": "t.kraus@ferrum.de"}}], "expected": "human"}
{"case": "CON-1923", "events": [{"id": "hist_con_1923", "type": "ContractSigned", "at": "2025-10-14T09:55:00Z", "case": "CON-1923", "data": {"contract": {"id": "CON-1923", "account_id": "acc_baltic", "account_name": "Baltic Freight OÜ", "plan": "enterprise", "value": "180000.00 EUR", "term_months": 36, "start_date": "2025-11-01", "attachments": ["msa_signed", "brand_guidelines", "logo_pack", "admin_contacts", "dpa_signed"]}, "signed_by": "mari@balticfreight.ee"}}], "expected": "held"}
{"case": "CON-1930", "events": [{"id": "hist_con_1930", "type": "ContractSigned", "at": "2025-10-21T15:30:00Z", "case": "CON-1930", "data": {"contract": {"id": "CON-1930", "account_id": "acc_lumo", "account_name": "Lumo Design", "plan": "starter", "value": "2400.00 EUR", "term_months": 12, "start_date": "2025-11-01", "attachments": ["msa_signed", "brand_guidelines", "logo_pack", "admin_contacts"]}, "signed_by": "ella@lumo.design"}}], "expected": "executed"}
{"case": "CON-1942", "events": [{"id": "hist_con_1942", "type": "ContractSigned", "at": "2025-11-04T10:05:00Z", "case": "CON-1942", "data": {"contract": {"id": "CON-1942", "account_id": "acc_rheinblick", "account_name": "Rheinblick Medien", "plan": "growth", "value": "16800.00 EUR", "term_months": 12, "start_date": "2025-12-01", "attachments": ["msa_signed", "brand_guidelines", "logo_pack", "admin_contacts"]}, "signed_by": "p.vogel@rheinblick.de"}}], "expected": "executed"}
{"case": "CON-1957", "events": [{"id": "hist_con_1957", "type": "ContractSigned", "at": "2025-11-18T11:47:00Z", "case": "CON-1957", "data": {"contract": {"id": "CON-1957", "account_id": "acc_corvid", "account_name": "Corvid Analytics", "plan": "growth", "value": "21600.00 EUR", "term_months": 24, "start_date": "2026-01-01", "attachments": ["msa_signed", "brand_guidelines", "admin_contacts"]}, "signed_by": "sam@corvid.ai"}}], "expected": "human"}
""",
    "incidents": r"""
{"case": "INC-7012", "events": [{"id": "hist_inc_7012", "type": "IncidentReported", "at": "2025-12-02T16:40:00Z", "case": "INC-7012", "data": {"incident": {"id": "INC-7012", "title": "Rate quotes time out for UPS", "service": "rates", "severity": "High", "status": "Investigating", "customer_impact": true, "affected_customers": 22, "reported_by": "carla@parcelwise.com"}, "source": "Customer"}}], "expected": "executed"}
{"case": "INC-7020", "events": [{"id": "hist_inc_7020", "type": "IncidentReported", "at": "2025-12-04T09:12:00Z", "case": "INC-7020", "data": {"incident": {"id": "INC-7020", "title": "Dashboard chart colours wrong in dark mode", "service": "web-app", "severity": "Low", "status": "Investigating", "customer_impact": false, "affected_customers": 0, "reported_by": "carla@parcelwise.com"}, "source": "Staff"}}], "expected": "human"}
{"case": "INC-7033", "events": [{"id": "hist_inc_7033", "type": "IncidentReported", "at": "2025-12-09T02:47:00Z", "case": "INC-7033", "data": {"incident": {"id": "INC-7033", "title": "Database failover, writes failing", "service": "core-db", "severity": "Critical", "status": "Investigating", "customer_impact": true, "affected_customers": 900, "reported_by": "monitoring@parcelwise.com"}, "source": "Alerting"}}], "expected": "executed"}
{"case": "INC-7041", "events": [{"id": "hist_inc_7041", "type": "IncidentReported", "at": "2025-12-11T14:05:00Z", "case": "INC-7041", "data": {"incident": {"id": "INC-7041", "title": "CSV export drops the reference column", "service": "exports", "severity": "Medium", "status": "Investigating", "customer_impact": true, "affected_customers": 5, "reported_by": "carla@parcelwise.com"}, "source": "Customer"}}], "expected": "human"}
{"case": "INC-7058", "events": [{"id": "hist_inc_7058", "type": "IncidentReported", "at": "2025-12-16T20:31:00Z", "case": "INC-7058", "data": {"incident": {"id": "INC-7058", "title": "Webhook deliveries delayed 40 minutes", "service": "webhooks", "severity": "High", "status": "Investigating", "customer_impact": true, "affected_customers": 64, "reported_by": "monitoring@parcelwise.com"}, "source": "Alerting"}}], "expected": "executed"}
{"case": "INC-7066", "events": [{"id": "hist_inc_7066", "type": "IncidentReported", "at": "2025-12-19T11:00:00Z", "case": "INC-7066", "data": {"incident": {"id": "INC-7066", "title": "Staging certificate expires in 3 days", "service": "infra", "severity": "High", "status": "Investigating", "customer_impact": false, "affected_customers": 0, "reported_by": "monitoring@parcelwise.com"}, "source": "Alerting"}}], "expected": "human"}
""",
    "scope-change": r"""
{"case": "R-2901", "events": [{"id": "hist_r_2901", "type": "RequestOpened", "at": "2025-11-03T15:10:00Z", "case": "R-2901", "data": {"request": {"id": "R-2901", "subject": "Change order: move launch to include the shop", "tags": [], "status": "New", "priority": "Normal", "requester": "alice@umbrella-bio.example", "client": "umbrella", "project": "UMB-SITE-26", "estimate_hours": 60}, "channel": "Email"}}], "expected": "executed"}
{"case": "R-2915", "events": [{"id": "hist_r_2915", "type": "RequestOpened", "at": "2025-11-05T18:02:00Z", "case": "R-2915", "data": {"request": {"id": "R-2915", "subject": "Scope change - drop the blog, add a careers page", "tags": [], "status": "New", "priority": "Normal", "requester": "hank@globex.example", "client": "globex", "project": "GLX-SITE", "estimate_hours": 24}, "channel": "Email"}}], "expected": "executed"}
{"case": "R-2922", "events": [{"id": "hist_r_2922", "type": "RequestOpened", "at": "2025-11-07T14:40:00Z", "case": "R-2922", "data": {"request": {"id": "R-2922", "subject": "Additional pages? Just asking what it would cost", "tags": [], "status": "New", "priority": "Normal", "requester": "peter@initech.example", "client": "initech", "project": "INI-INTRANET"}, "channel": "Email"}}], "expected": "human"}
{"case": "R-2930", "events": [{"id": "hist_r_2930", "type": "RequestOpened", "at": "2025-11-12T16:25:00Z", "case": "R-2930", "data": {"request": {"id": "R-2930", "subject": "Change request: swap hero image", "tags": ["scope-change"], "status": "New", "priority": "Normal", "requester": "wile@acme.example", "client": "acme", "project": "ACME-WEB-26", "estimate_hours": 1}, "channel": "Email"}}], "expected": "human"}
{"case": "R-2944", "events": [{"id": "hist_r_2944", "type": "RequestOpened", "at": "2025-11-18T13:55:00Z", "case": "R-2944", "data": {"request": {"id": "R-2944", "subject": "Additional features for the member area", "tags": ["scope-change"], "status": "New", "priority": "Normal", "requester": "wile@acme.example", "client": "acme", "project": "ACME-APP", "estimate_hours": 120}, "channel": "Email"}}], "expected": "executed"}
{"case": "R-2958", "events": [{"id": "hist_r_2958", "type": "RequestOpened", "at": "2025-11-24T20:12:00Z", "case": "R-2958", "data": {"request": {"id": "R-2958", "subject": "Scope change: second language (French)", "tags": [], "status": "New", "priority": "Normal", "requester": "alice@umbrella-bio.example", "client": "umbrella", "project": "UMB-SITE-26", "estimate_hours": 32}, "channel": "Email"}}], "expected": "executed"}
""",
}

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def month_of(t, back=1):
    return MONTHS[(t.month - 1 - back) % 12]


# ==========================================================================================
# agency-support: refund_small
#
#   on TicketCreated when class == Billing and ticket.refund_amount != none
#   do { stripe.refund(charge: ticket.charge_id!, amount: ticket.refund_amount!); helpdesk.reply }
#   gates: refund_approval (stripe.refund when amount > 250 USD),
#          low_confidence (every automation step when (signals?.intent_confidence ?? 0%) < 85%)
#   class Billing: tags contain "refund" or "invoice" (first arm).


def agency_classify(t):
    tags = t["tags"]
    if "refund" in tags or "invoice" in tags:
        return "Billing"
    if t["type"] == "access":
        return "Access"
    if t["type"] == "implementation" or "onboarding" in tags:
        return "Implementation"
    if t["priority"] == "Urgent":
        return "Incident"
    if re.search(r"(?i)scope change|change order", t["subject"]):
        return "ScopeChange"
    return "Triage"


def agency_predict(events):
    outcome = "human"
    for e in events:
        if e["type"] != "TicketCreated":
            continue
        d = e["data"]
        t = d["ticket"]
        if agency_classify(t) != "Billing" or t.get("refund_amount") is None:
            continue
        if t.get("charge_id") is None:
            continue  # `ticket.charge_id!` fails: eval error, the rule does not fire
        cents, cur = money_cents(t["refund_amount"])
        signals = d.get("signals")
        conf = float(signals["intent_confidence"].rstrip("%")) if signals else 0.0
        # a currency other than USD cannot be compared with the limit: the gate holds
        held = cur != "USD" or cents > 25000 or conf < 85
        outcome = "held" if held else "executed"
    return outcome


AGENCY_OWNERS = {  # who acknowledges and replies, by class (the owners block)
    "Billing": ["ana@agency.io", "li@agency.io"],
    "Access": ["sam@agency.io", "noor@agency.io", "jo@agency.io"],
    "Implementation": ["tomas@agency.io", "mei@agency.io"],
    "Incident": ["dev@agency.io", "sre@agency.io"],
    "ScopeChange": ["hana@agency.io", "leo@agency.io"],
    "Triage": ["triage@agency.io"],
}
AGENCY_FINANCE = ["cfo@agency.io", "priya@agency.io"]

REFUND_SUBJECTS = [
    ("Refund for duplicate {m} invoice", ["duplicate"]),
    ("Please refund the unused seats", ["seats"]),
    ("Charged twice this month", ["duplicate"]),
    ("Refund the difference after our downgrade", ["downgrade"]),
    ("Cancelled during the trial, please refund", ["trial"]),
    ("Refund the {m} overage charge", ["overage"]),
    ("Wrong plan billed, please refund the difference", []),
    ("Refund request - service outage credit", ["outage"]),
    ("Refund the seats we removed in {m}", ["seats"]),
    ("Refund an add-on we never activated", ["add-on"]),
    ("Please refund the setup fee", ["setup-fee"]),
    ("Refund the SMS bundle we did not use", ["add-on"]),
    ("Overcharged for extra storage in {m}, refund please", ["overage"]),
    ("Refund for the {m} renewal, we cancelled before it", ["renewal"]),
    ("Duplicate payment on card, please refund one", ["duplicate"]),
    ("Refund the training session that was cancelled", []),
    ("VAT charged twice on the {m} invoice, refund it", ["vat"]),
]
INVOICE_REFUND_SUBJECTS = [
    "Invoice {n} overcharged, refund the difference",
    "{m} invoice billed the old seat count, please refund",
    "Invoice {n}: we were charged for the premium tier",
]
LARGE_SUBJECTS = [
    ("Refund the annual plan, we are leaving", ["churn", "annual"]),
    ("Refund our annual licence, renewed by mistake", ["annual", "renewal"]),
    ("Refund {m} - the platform was down for two days", ["outage"]),
    ("Refund the implementation package we cancelled", []),
    ("Annual seats billed twice, refund the duplicate", ["duplicate", "annual"]),
    ("Refund the unused part of our yearly plan", ["annual", "downgrade"]),
]
BILLING_NO_AMOUNT = [
    ("Can we get a refund if we cancel mid-year?", ["refund"]),
    ("Invoice copy for {m} please", ["invoice"]),
    ("VAT number is wrong on our invoice", ["invoice"]),
    ("Invoice sent to the wrong address", ["invoice"]),
    ("Status of the refund I asked for last week?", ["refund"]),
    ("Please add our PO number to invoices", ["invoice"]),
    ("Do you refund unused seats?", ["refund"]),
    ("Invoice {n} is missing the discount", ["invoice"]),
    ("Refund policy question for the annual plan", ["refund"]),
    ("Need all {m} invoices as PDF", ["invoice"]),
]
ACCESS_SUBJECTS = [
    ("Access for our new CFO", ["vip"]),
    ("Reset 2FA for our office manager", ["2fa"]),
    ("Add three users to the portal", []),
    ("Remove access for a leaver", []),
    ("SSO login fails for the marketing team", ["sso"]),
    ("Locked out after the password reset", []),
    ("Give our agency partner read-only access", []),
]
IMPL_SUBJECTS = [
    ("implementation", "Help setting up the Shopify integration", []),
    ("implementation", "Migrate our historical tickets", []),
    ("implementation", "Configure webhooks for our CRM", []),
    ("question", "Onboarding session for the new team", ["onboarding"]),
    ("implementation", "Import the product catalogue from CSV", []),
    ("question", "Second onboarding call for the Berlin office", ["onboarding"]),
]
INCIDENT_SUBJECTS = [
    "Checkout returns 500 for every customer",
    "Portal down for all our users",
    "E-mails have not been sent since 9am",
    "API returns 503 on every request",
    "Payments page is blank",
    "Orders are not syncing to the warehouse",
]
SCOPE_SUBJECTS = [
    "Scope change: add a second storefront",
    "Change order for the Q2 campaign",
    "Scope change request - three extra landing pages",
    "Change order: add the loyalty programme",
]
TRIAGE_SUBJECTS = [
    "How do I export last month's reports?",
    "Question about the API rate limits",
    "Can we rename our workspace?",
    "Where can I find your DPA?",
    "Feature idea: dark mode for the dashboard",
    "Who is our account manager now?",
    "Is there a status page we can subscribe to?",
    "Training materials for new agents",
]
NOT_BILLING_AMOUNT = [
    ("Overcharged on the {m} card payment", ["billing"]),
    ("Payment taken twice from our card", ["payment"]),
    ("Please return the extra seat charge", ["overcharge"]),
]


def agency_builder(kind, label_note=None):
    """Return a build(rng, case_id, t0) for one agency-support category."""

    def build(rng, case_id, t0):
        c = Case(case_id, "evt")
        tier = rng.choices(["Gold", "Silver", "Bronze"], [25, 40, 35])[0]
        client = "c-%d" % rng.randrange(1, 120)
        charge = "ch_3%s%02d" % ("".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz") for _ in range(3)), rng.randrange(100))
        channel = rng.choices(["Email", "Chat", "Slack"], [55, 30, 15])[0]
        priority = rng.choices(["Low", "Normal", "High"], [10, 72, 18])[0]
        status = rng.choices(["New", "Open"], [85, 15])[0]
        hi_conf = {"intent_confidence": pct(rng.choice([85, 86, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 99]))}
        lo_conf = {"intent_confidence": pct(rng.choice([41, 48, 55, 58, 62, 66, 70, 73, 77, 80, 82, 84, 84.9]))}
        m = month_of(t0)
        n = "INV-%d-%04d" % (t0.year, rng.randrange(1, 9999))

        def ticket(type_, subject, tags, amount=None, charge_id=None, prio=None, tr=None):
            t = {"id": case_id, "type": type_, "subject": subject, "tags": tags,
                 "tier": tr or tier, "priority": prio or priority, "status": status,
                 "client_id": client}
            if charge_id is not None:
                t["charge_id"] = charge_id
            elif rng.random() < 0.1:
                t["charge_id"] = None
            if amount is not None:
                t["refund_amount"] = amount
            elif rng.random() < 0.1:
                t["refund_amount"] = None
            return t

        def created(t, signals, ch=None):
            data = {"ticket": t, "channel": ch or channel}
            if signals is not None:
                data["signals"] = signals
            return c.ev("TicketCreated", t0, data)

        def refund_ticket(amount, large=False):
            if large:
                subj, extra = rng.choice(LARGE_SUBJECTS)
                return ticket("billing", subj.format(m=m), ["refund"] + extra, amount, charge)
            if rng.random() < 0.15:
                subj = rng.choice(INVOICE_REFUND_SUBJECTS).format(m=m, n=n)
                tags = ["invoice"] if rng.random() < 0.5 else ["invoice", "refund"]
                return ticket("billing", subj, tags, amount, charge)
            subj, extra = rng.choice(REFUND_SUBJECTS)
            return ticket(rng.choice(["billing", "billing", "billing", "question"]),
                          subj.format(m=m), ["refund"] + extra, amount, charge)

        def follow_up(t, held=False, approve=None):
            """What happened next on the ticket (historical; shadow mode ignores it)."""
            at = t0
            team = AGENCY_OWNERS[agency_classify(t)]
            if rng.random() < 0.6:
                at = c.ev("OwnerAcknowledged", later(at, rng, 2, 25), {"by": rng.choice(team)})
            if approve and rng.random() < 0.7:
                at = c.ev(approve, later(at, rng, 20, 300),
                          {"approval": "refund_approval", "by": rng.choice(AGENCY_FINANCE)})
            if rng.random() < 0.5:
                at = c.ev("ReplySent", later(at, rng, 5, 90),
                          {"by": rng.choice(team), "public": rng.random() < 0.85})

        small = lambda: usd(rng.choice(
            [900, 1900, 2900, 3900, 4900, 7900, 9900, 12000, 14900, 15000, 18000, 19900, 22000, 24000,
             24550, 24900, 24999, 25000, 25000, 3000, 4500, 6000, 8750, 11000]))
        large = lambda: usd(rng.choice(
            [25001, 25100, 25500, 26000, 27500, 28000, 29900, 30000, 32000, 35000, 40000, 45000, 48000,
             60000, 75000, 90000, 120000, 180000, 240000]))

        if kind == "small_ok":
            t = refund_ticket(small())
            if rng.random() < 0.04:
                t["priority"] = "Urgent"  # still Billing: the first classify arm wins
            created(t, hi_conf)
            follow_up(t)
        elif kind == "small_fp":
            # Human refused: the client is in collections, the refund is offset against the debt.
            t = ticket("billing", "Refund the %s seats, we downsized" % m, ["refund", "collections"],
                       usd(12000), charge, tr="Silver")
            created(t, {"intent_confidence": "95%"})
            c.ev("ReplySent", later(t0, rng, 30, 120), {"by": "li@agency.io", "public": False})
        elif kind == "large":
            t = refund_ticket(large(), large=True)
            created(t, hi_conf)
            follow_up(t, approve=rng.choice(["ApprovalGranted", "ApprovalGranted", "ApprovalDenied"]))
        elif kind == "large_human":
            # Human: the account manager negotiated a downgrade instead of the refund.
            t = ticket("billing", "Refund the annual plan, we are leaving", ["refund", "churn"],
                       usd(rng.choice([60000, 96000])), charge, tr="Gold")
            created(t, hi_conf)
            c.ev("ReplySent", later(t0, rng, 30, 240), {"by": "ana@agency.io", "public": True})
        elif kind == "large_exec":
            # Human: an agent refunded 252 USD straight away, without a finance manager.
            t = ticket("billing", "Charged twice for the %s renewal" % m, ["refund", "duplicate"],
                       usd(25200), charge)
            created(t, {"intent_confidence": "97%"})
        elif kind == "lowconf":
            t = refund_ticket(small())
            created(t, lo_conf if rng.random() < 0.6 else None)
            follow_up(t)
        elif kind == "lowconf_large":
            t = refund_ticket(large(), large=True)
            created(t, lo_conf if rng.random() < 0.5 else None)
            follow_up(t)
        elif kind == "lowconf_human":
            # Human: unclear request, the agent asked the client and handled it by hand.
            subj = rng.choice(["Invoice question and maybe a refund?", "Refund? Not sure what this charge is",
                               "Something looks off on the %s invoice" % m])
            t = ticket("billing", subj, ["invoice", "refund"], small(), charge)
            created(t, lo_conf)
            c.ev("ReplySent", later(t0, rng, 10, 120), {"by": "ana@agency.io", "public": True})
        elif kind == "lowconf_exec":
            # Human: an obvious duplicate charge the classifier was unsure about; refunded at once.
            t = ticket("billing", "Charged twice this month", ["refund", "duplicate"],
                       usd(rng.choice([4900, 7900])), charge)
            created(t, {"intent_confidence": pct(rng.choice([78, 81, 83]))})
        elif kind == "foreign":
            # A refund in EUR/GBP: the gate cannot compare it with the 250 USD limit, so it holds.
            cur = rng.choice(["EUR", "GBP"])
            t = ticket("billing", "Refund the %s charge on our %s account" % (m, cur),
                       ["refund"], usd(rng.choice([4500, 9000, 16000]), cur), charge, tr="Gold")
            created(t, hi_conf)
        elif kind == "no_charge":
            # The intake form captured an amount but no charge: `charge_id!` fails, nothing fires.
            t = ticket("billing", "Refund what we paid by bank transfer in %s" % m,
                       ["refund"], small())
            t.pop("charge_id", None)
            created(t, hi_conf)
        elif kind == "billing_no_amount":
            subj, tags = rng.choice(BILLING_NO_AMOUNT)
            t = ticket("billing", subj.format(m=m, n=n), list(tags))
            created(t, hi_conf if rng.random() < 0.7 else None)
            follow_up(t)
        elif kind == "access":
            subj, tags = rng.choice(ACCESS_SUBJECTS)
            tr = "Gold" if "vip" in tags else tier
            t = ticket("access", subj, list(tags), tr=tr)
            created(t, hi_conf if rng.random() < 0.5 else None)
            follow_up(t)
        elif kind == "implementation":
            type_, subj, tags = rng.choice(IMPL_SUBJECTS)
            created(ticket(type_, subj, list(tags)), None)
        elif kind == "incident":
            t = ticket(rng.choice(["bug", "question"]), rng.choice(INCIDENT_SUBJECTS), [], prio="Urgent")
            created(t, None)
            follow_up(t)
        elif kind == "scope":
            created(ticket("question", rng.choice(SCOPE_SUBJECTS), []), None, ch="Email")
        elif kind == "triage":
            created(ticket("question", rng.choice(TRIAGE_SUBJECTS), []), None)
        elif kind in ("amount_not_billing", "amount_not_billing_exec"):
            # A refund amount on a ticket without the refund/invoice tag: class Triage.
            subj, tags = rng.choice(NOT_BILLING_AMOUNT)
            created(ticket("billing", subj.format(m=m), list(tags), small(), charge), hi_conf)
        elif kind in ("late_amount", "late_amount_exec"):
            # The amount arrives in a later update; refund_small only fires on TicketCreated.
            subj, extra = rng.choice(REFUND_SUBJECTS)
            t = ticket("billing", subj.format(m=m), ["refund"] + extra, None, charge)
            t.pop("refund_amount", None)
            created(t, hi_conf)
            t2 = dict(t, refund_amount=small(), status="Open")
            c.ev("TicketUpdated", later(t0, rng, 20, 180), {"ticket": t2})
        else:
            raise ValueError(kind)
        return c

    return build


def agency_plan(rng):
    b = agency_builder
    rows = [
        # count, category, expected (human), predicted (rules), builder
        (95, "refund <= 250 USD, confident intake", "executed", "executed", b("small_ok")),
        (1, "refund <= 250 USD, client in collections (human refused)", "human", "executed", b("small_fp")),
        (45, "refund > 250 USD", "held", "held", b("large")),
        (2, "refund > 250 USD, downgrade negotiated instead", "human", "held", b("large_human")),
        (1, "refund of 252 USD an agent issued at once", "executed", "held", b("large_exec")),
        (16, "refund <= 250 USD, unsure or no intake score", "held", "held", b("lowconf")),
        (5, "refund > 250 USD, unsure or no intake score", "held", "held", b("lowconf_large")),
        (5, "unclear refund ask, unsure intake, handled by hand", "human", "held", b("lowconf_human")),
        (2, "obvious duplicate, unsure intake, refunded at once", "executed", "held", b("lowconf_exec")),
        (3, "refund in EUR/GBP (limit is in USD)", "held", "held", b("foreign")),
        (3, "refund amount but no charge id", "human", "human", b("no_charge")),
        (25, "billing question, no refund amount", "human", "human", b("billing_no_amount")),
        (12, "access request", "human", "human", b("access")),
        (10, "implementation", "human", "human", b("implementation")),
        (10, "urgent incident", "human", "human", b("incident")),
        (6, "scope change", "human", "human", b("scope")),
        (15, "triage question", "human", "human", b("triage")),
        (4, "refund amount without refund/invoice tag", "human", "human", b("amount_not_billing")),
        (2, "same, refunded by an agent anyway", "executed", "human", b("amount_not_billing_exec")),
        (1, "refund amount added by a later update", "human", "human", b("late_amount")),
        (2, "same, refunded by an agent", "executed", "human", b("late_amount_exec")),
    ]
    return plan(rng, rows, dt.date(2026, 1, 12), dt.date(2026, 4, 24))


def agency_ids(i):
    return "T-%d" % (2201 + i * 3)


# ==========================================================================================
# refunds: refund_and_sync
#
#   on RefundRequested when class == Refund and refundable(charge)
#   do { stripe.refund; accounting.sync_refund; helpdesk.reply }
#   gate manager_approval: stripe.refund when amount > 250 USD
#   classify: Dispute (tags chargeback|dispute) > Refund (tag refund or type "refund")
#             > BillingQuestion (tag invoice or type "billing") > General


def refunds_classify(t):
    tags = t["tags"]
    if "chargeback" in tags or "dispute" in tags:
        return "Dispute"
    if "refund" in tags or t["type"] == "refund":
        return "Refund"
    if "invoice" in tags or t["type"] == "billing":
        return "BillingQuestion"
    return "General"


def refunds_predict(events):
    cls = None
    outcome = "human"
    for e in events:
        d = e["data"]
        if e["type"] in ("TicketCreated", "TicketUpdated"):
            cls = refunds_classify(d["ticket"])
        elif e["type"] == "RefundRequested":
            if cls == "Refund" and d["charge"]["status"] not in ("Disputed", "Refunded"):
                cents, cur = money_cents(d["amount"])
                assert cur == "USD"
                outcome = "held" if cents > 25000 else "executed"
    return outcome


REFUNDS_AGENTS = ["marcus@tallyhub.com", "aisha@tallyhub.com", "ken@tallyhub.com"]
REFUNDS_MANAGERS = ["dana@tallyhub.com", "luis@tallyhub.com"]
REFUNDS_OWNERS = {
    "Refund": REFUNDS_AGENTS, "BillingQuestion": REFUNDS_AGENTS,
    "Dispute": ["ines@tallyhub.com", "owen@tallyhub.com"], "General": ["tom@tallyhub.com", "zoe@tallyhub.com"],
}
REFUND_NOTES = {
    "Duplicate": ["Charged twice on the same day.", "Two identical charges, see ticket."],
    "RequestedByCustomer": ["Cancelled before renewal.", "Customer confirmed on the phone.", "See ticket thread."],
    "ServiceIssue": ["Outage credit agreed with the customer.", "Feature unavailable for most of the month."],
    "Other": ["Billed on the wrong plan.", "See ticket thread."],
    "Fraudulent": ["Card holder says they did not make this purchase."],
}
ORGS = [
    ("Pinegrove", "pinegrove.io"), ("Fernway", "fernway.com"), ("Saltmarsh", "saltmarsh.co"),
    ("Redkite", "redkite.app"), ("Ambercliff", "ambercliff.org"), ("Harbourline", "harbourline.eu"),
    ("Lumen Studio", "lumen.studio"), ("Brightlane Co", "brightlane.co"), ("Harbor Dev", "harbor.dev"),
    ("Quillwork", "quillwork.io"), ("Northbeam", "northbeam.co"), ("Copperleaf", "copperleaf.com"),
    ("Mossgate", "mossgate.net"), ("Orchard Lane", "orchardlane.shop"), ("Tidewater Labs", "tidewater.dev"),
    ("Bluestem", "bluestem.ai"), ("Glasshouse", "glasshouse.design"), ("Kettle & Co", "kettleco.com"),
    ("Driftwood", "driftwood.so"), ("Marigold Health", "marigoldhealth.com"), ("Stonebridge", "stonebridge.law"),
    ("Ferncliff", "ferncliff.org"), ("Wildflower", "wildflower.events"), ("Ironbark", "ironbark.build"),
    ("Cobalt Ridge", "cobaltridge.io"), ("Sunhollow", "sunhollow.farm"), ("Larkspur", "larkspur.media"),
    ("Oakhaven", "oakhaven.edu"), ("Silverpine", "silverpine.ca"), ("Rowan & Finch", "rowanfinch.com"),
]
FIRST_NAMES = ["kai", "li", "ana", "bo", "eve", "jon", "max", "maya", "olivia", "sam", "nora", "raj",
               "lena", "theo", "iris", "omar", "zara", "felix", "ines", "hugo", "june", "pablo", "ruth",
               "yuki", "arlo", "dina", "emil", "gwen", "ivan", "kira"]
PLAN_CHARGES = [1900, 2900, 3900, 4900, 7900, 9900, 14900, 19900, 24000, 29000, 39000, 48000,
                58800, 64000, 96000, 118800, 144000]
REFUND_TICKET_SUBJECTS = [
    "Double charged this month", "Refund annual plan", "Refund the seats we removed",
    "Wrong plan, refund the difference", "Please refund, we cancelled before renewal",
    "Charged after cancelling", "Refund for the {m} outage", "Refund the unused months",
    "Refund our upgrade, it was a mistake", "Trial converted without asking, refund please",
    "Refund for duplicate seats", "Refund request for invoice {n}",
]
BILLING_QUESTION_SUBJECTS = [
    "Please add our VAT ID to invoices", "Export all invoices for 2025",
    "Change the billing e-mail address", "Invoice {n} shows the wrong address",
    "Why is the {m} invoice higher than usual?", "Can we pay by bank transfer?",
]
GENERAL_SUBJECTS = [
    "How do I update my card?", "Add a teammate to our account", "Where do I download receipts?",
    "Why did my payment fail?", "Can we switch to annual billing?", "Close our account at the end of the month",
]


def refunds_builder(kind):
    def build(rng, case_id, t0):
        c = Case(case_id, "hist")
        num = case_id.split("-")[1]
        org, domain = rng.choice(ORGS)
        requester = "%s@%s" % (rng.choice(FIRST_NAMES), domain)
        m = month_of(t0)
        n = "INV-%04d" % rng.randrange(1000, 9999)
        channel = rng.choices(["Email", "Web", "Chat", "Phone"], [60, 20, 15, 5])[0]
        priority = rng.choices(["Low", "Normal", "High"], [8, 80, 12])[0]
        state = {}

        def ticket(subject, tags, type_="billing"):
            t = {"id": case_id, "type": type_, "subject": subject.format(m=m, n=n), "tags": tags,
                 "status": "New", "priority": priority, "requester": requester,
                 "organization": org, "url": "https://tallyhub.zendesk.com/agent/tickets/%s" % num}
            if rng.random() < 0.3:
                t["language"] = rng.choice(["en-US", "en-GB", "fr-CA", "es-MX"])
            return t

        def charge(amount_cents, status="Succeeded", refunded=0):
            ch = {"id": "ch_3Q%s%s" % (num, "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))),
                  "customer": "cus_%s%02d" % (re.sub(r"[^a-z]", "", org.lower())[:4], rng.randrange(100)),
                  "amount": usd(amount_cents), "amount_refunded": usd(refunded), "status": status}
            if rng.random() < 0.5:
                tier = "Starter" if amount_cents <= 4900 else "Team" if amount_cents <= 19900 else "Pro"
                period = "annual" if amount_cents >= 39000 else month_of(t0)
                ch["description"] = "Tallyhub %s, %s" % (tier, period)
            if rng.random() < 0.4:
                ch["invoice_id"] = "in_1Q%s" % num
            ch["created_at"] = iso(t0 - dt.timedelta(days=rng.randrange(1, 25), minutes=rng.randrange(600)))
            return ch

        def request(at, ch, amount_cents, reason=None, by=None, note=None):
            reason = reason or rng.choices(
                ["Duplicate", "RequestedByCustomer", "ServiceIssue", "Other"], [25, 50, 18, 7])[0]
            data = {"charge": ch, "amount": usd(amount_cents), "refund_reason": reason,
                    "requested_by": by or (rng.choice(REFUNDS_AGENTS) if rng.random() < 0.8 else requester)}
            if note or rng.random() < 0.3:
                data["note"] = note or rng.choice(REFUND_NOTES[reason])
            state["reason"] = reason
            return c.ev("RefundRequested", at, data)

        def created(t):
            state["team"] = REFUNDS_OWNERS[refunds_classify(t)]
            return c.ev("TicketCreated", t0, {"ticket": t, "channel": channel})

        def small_refund():
            amt = rng.choice([1900, 2900, 3900, 4900, 7900, 9900, 12000, 14900, 16000, 19900, 24000,
                              24999, 25000, 25000, 4000, 6000, 8000, 10000])
            total = rng.choice([p for p in PLAN_CHARGES if p >= amt] or [amt])
            return amt, total

        def large_refund():
            amt = rng.choice([25001, 26000, 29000, 32000, 39000, 48000, 58800, 64000, 96000, 118800, 144000])
            total = rng.choice([p for p in PLAN_CHARGES if p >= amt] or [amt])
            return amt, total

        def after(at, issued=None, approve=False):
            team = state.get("team", REFUNDS_AGENTS)
            if rng.random() < 0.5:
                at = c.ev("OwnerAcknowledged", later(at, rng, 1, 20), {"by": rng.choice(team)})
            if approve and rng.random() < 0.6:
                at = c.ev("ApprovalGranted", later(at, rng, 30, 600),
                          {"approval": "manager_approval", "by": rng.choice(REFUNDS_MANAGERS)})
            if issued and rng.random() < 0.5:
                ch_id, amount = issued
                at = c.ev("RefundIssued", later(at, rng, 1, 90),
                          {"refund": {"id": "re_3Q%s" % num, "charge_id": ch_id, "amount": amount,
                                      "reason": state.get("reason", "RequestedByCustomer")}})
            if rng.random() < 0.4:
                c.ev("ReplySent", later(at, rng, 2, 60), {"by": rng.choice(team), "public": True})

        def refund_case(amt, total, status="Succeeded", refunded=0, tags=None, reason=None, type_=None):
            t = ticket(rng.choice(REFUND_TICKET_SUBJECTS), tags or ["refund"],
                       type_ or rng.choice(["billing", "billing", "refund"]))
            if tags is None and t["type"] == "refund" and rng.random() < 0.5:
                t["tags"] = []  # type "refund" alone makes it a Refund case
            created(t)
            ch = charge(total, status, refunded)
            at = request(later(t0, rng, 3, 90), ch, amt, reason)
            return ch, at

        if kind in ("small", "small_partial"):
            amt, total = small_refund()
            refunded = 0
            status = "Succeeded"
            if kind == "small_partial":
                total = max(total, amt + 4900)
                refunded = rng.choice([1000, 2900, 4900])
                total = max(total, amt + refunded)
                status = "PartiallyRefunded"
            ch, at = refund_case(amt, total, status, refunded)
            after(at, issued=(ch["id"], usd(amt)))
        elif kind == "small_fraud_fp":
            # Human: reason Fraudulent; the agent sent it to the risk team instead of refunding.
            ch, at = refund_case(18000, 18000, reason="Fraudulent")
            c.ev("ReplySent", later(at, rng, 10, 60), {"by": "ken@tallyhub.com", "public": False})
        elif kind == "small_pending_fp":
            # Human: the charge had not been captured yet (Pending); the agent cancelled it instead.
            ch, at = refund_case(7900, 7900, status="Pending")
        elif kind == "large":
            amt, total = large_refund()
            ch, at = refund_case(amt, total)
            after(at, issued=(ch["id"], usd(amt)), approve=True)
        elif kind == "large_human":
            # Human: the manager gave an account credit instead of the refund.
            ch, at = refund_case(48000, 48000)
            c.ev("ReplySent", later(at, rng, 60, 300), {"by": "dana@tallyhub.com", "public": True})
        elif kind == "large_exec":
            # Human: a 260 USD refund an agent issued without a manager.
            ch, at = refund_case(26000, 29000, reason="Duplicate")
        elif kind == "not_refundable":
            amt, total = small_refund() if rng.random() < 0.7 else large_refund()
            if rng.random() < 0.55:
                ch, at = refund_case(amt, total, status="Disputed")
            else:
                ch, at = refund_case(amt, total, status="Refunded", refunded=total)
            after(at)
        elif kind == "dispute_class":
            subj = rng.choice(["Bank chargeback on our {m} invoice", "We disputed the charge, please refund instead",
                               "Chargeback filed by mistake, refund us"])
            t = ticket(subj, rng.choice([["refund", "chargeback"], ["dispute"], ["chargeback"]]))
            created(t)
            amt, total = small_refund()
            request(later(t0, rng, 5, 120), charge(total), amt)
        elif kind in ("billing_question_refund", "billing_question_refund_exec"):
            # An invoice question on which an agent asked for a refund: class BillingQuestion.
            t = ticket("Invoice {n} overcharged us", ["invoice"])
            created(t)
            amt, total = small_refund()
            request(later(t0, rng, 5, 120), charge(total), amt, reason="Other")
        elif kind == "general_refund":
            t = ticket(rng.choice(GENERAL_SUBJECTS), [], "question")
            created(t)
            amt, total = small_refund()
            request(later(t0, rng, 5, 120), charge(total), amt)
        elif kind == "no_request":
            r = rng.random()
            if r < 0.35:
                t = ticket(rng.choice(["Do you refund annual plans?", "How long do refunds take?",
                                       "Refund status for last week's request?"]), ["refund"])
            elif r < 0.7:
                t = ticket(rng.choice(BILLING_QUESTION_SUBJECTS), rng.choice([["invoice"], []]))
            else:
                t = ticket(rng.choice(GENERAL_SUBJECTS), [], rng.choice(["question", "task"]))
            created(t)
            at = t0
            if "payment fail" in t["subject"] and rng.random() < 0.8:
                ch = charge(rng.choice(PLAN_CHARGES), "Failed")
                data = {"charge": ch, "failure_code": rng.choice(["card_declined", "processing_error",
                                                                  "insufficient_funds", "expired_card"]),
                        "attempt": rng.choice([1, 2])}
                if rng.random() < 0.5:
                    data["failure_message"] = "Your card was declined."
                at = c.ev("PaymentFailed", later(t0, rng, 1, 30), data)
            after(at)
        elif kind in ("no_ticket", "no_ticket_exec"):
            # A self-service refund request with no ticket on the case: never classified.
            amt, total = small_refund()
            request(t0, charge(total), amt, by=requester, note="Requested from the billing portal.")
        elif kind in ("reclassified_small", "reclassified_large"):
            t = ticket(rng.choice(["Question about our last charge", "Cancel our plan please",
                                   "Charged after we cancelled?"]), [], "question")
            created(t)
            at = later(t0, rng, 10, 120)
            c.ev("TicketUpdated", at, {"ticket": dict(t, tags=["refund"], status="Open")})
            amt, total = small_refund() if kind == "reclassified_small" else large_refund()
            ch = charge(total)
            at = request(later(at, rng, 2, 30), ch, amt)
            after(at, issued=(ch["id"], usd(amt)), approve=kind == "reclassified_large")
        elif kind == "became_dispute":
            t = ticket(rng.choice(REFUND_TICKET_SUBJECTS), ["refund"])
            created(t)
            at = later(t0, rng, 30, 600)
            c.ev("TicketUpdated", at, {"ticket": dict(t, tags=["refund", "chargeback"], status="Open")})
            amt, total = small_refund()
            request(later(at, rng, 5, 60), charge(total), amt)
        else:
            raise ValueError(kind)
        return c

    return build


def refunds_plan(rng):
    b = refunds_builder
    rows = [
        (88, "refund <= 250 USD on a refund ticket", "executed", "executed", b("small")),
        (12, "same, partially refunded charge", "executed", "executed", b("small_partial")),
        (1, "refund reason Fraudulent, sent to risk (human refused)", "human", "executed", b("small_fraud_fp")),
        (1, "charge still Pending, cancelled instead (human refused)", "human", "executed", b("small_pending_fp")),
        (48, "refund > 250 USD", "held", "held", b("large")),
        (2, "refund > 250 USD, credit given instead", "human", "held", b("large_human")),
        (1, "refund of 260 USD an agent issued at once", "executed", "held", b("large_exec")),
        (12, "charge Disputed or already Refunded", "human", "human", b("not_refundable")),
        (10, "dispute / chargeback ticket", "human", "human", b("dispute_class")),
        (6, "refund asked on an invoice question", "human", "human", b("billing_question_refund")),
        (2, "same, refunded by an agent", "executed", "human", b("billing_question_refund_exec")),
        (2, "refund asked on a general ticket", "human", "human", b("general_refund")),
        (45, "ticket without a refund request", "human", "human", b("no_request")),
        (4, "self-service request, no ticket", "human", "human", b("no_ticket")),
        (1, "same, refunded by an agent", "executed", "human", b("no_ticket_exec")),
        (6, "ticket re-tagged refund, refund <= 250 USD", "executed", "executed", b("reclassified_small")),
        (3, "ticket re-tagged refund, refund > 250 USD", "held", "held", b("reclassified_large")),
        (4, "refund ticket that became a chargeback", "human", "human", b("became_dispute")),
    ]
    return plan(rng, rows, dt.date(2025, 11, 11), dt.date(2026, 3, 31),
                time_fn=lambda r: pick_time(r, dt.date(2025, 11, 11), dt.date(2026, 3, 31), (13, 22)))


def refunds_ids(i):
    return "T-%d" % (4901 + i * 2)


# ==========================================================================================
# onboarding: kickoff_prep
#
#   on ContractSigned when has_all_assets(contract)   (brand_guidelines, logo_pack, admin_contacts)
#   do { provisioning.create_workspace; email.send(to: signed_by, ...); crm.log_activity }
#   gate enterprise_welcome: email.send when contract.plan == "enterprise" (step 2 is held)


ASSETS = ["brand_guidelines", "logo_pack", "admin_contacts"]


def onboarding_predict(events):
    outcome = "human"
    for e in events:
        if e["type"] != "ContractSigned":
            continue
        contract = e["data"]["contract"]
        if all(a in contract["attachments"] for a in ASSETS):
            outcome = "held" if contract["plan"] == "enterprise" else "executed"
    return outcome


STEMS = ["Alpen", "Nord", "Rhein", "Elb", "Isar", "Havel", "Mosel", "Spree", "Weser", "Oder", "Main",
         "Ruhr", "Harz", "Taunus", "Eifel", "Bodensee", "Fjord", "Baltic", "Tatra", "Danube", "Vistula",
         "Brenner", "Tessin", "Lagom", "Castello", "Algarve", "Inntal", "Lindenhof", "Kranich", "Ostwind",
         "Sundsvall", "Kestrel", "Helvetia", "Praha", "Gdansk", "Wattenmeer", "Schwarzwald", "Zugspitz",
         "Nordlicht", "Seeblick", "Falken", "Birken", "Eichen", "Sonnen", "Stern", "Adler"]
SECTORS = ["Logistik GmbH", "Medien GmbH", "Software AG", "Hotels", "Bau GmbH", "Analytics", "Design",
           "Foods", "Energie AG", "Robotik GmbH", "Kliniken", "Versicherungen AG", "Textil GmbH", "Reisen",
           "Immobilien", "Brauerei", "Optik", "Legal", "Apps", "Mobility"]
_ACCOUNTS_USED = set()


def new_account(rng):
    """A client company that has not signed before in this file."""
    while True:
        stem, sector = rng.choice(STEMS), rng.choice(SECTORS)
        name = "%s %s" % (stem, sector)
        if name not in _ACCOUNTS_USED:
            _ACCOUNTS_USED.add(name)
            word = sector.split()[0].lower()
            domain = "%s-%s.%s" % (stem.lower(), word, rng.choice(["de", "de", "de", "at", "ch", "eu"]))
            return name, domain


CONTACT_NAMES = ["lena", "h.brandt", "k.moser", "t.kraus", "mari", "p.vogel", "sam", "ella", "j.weber",
                 "a.nowak", "m.rossi", "e.berg", "f.dubois", "s.novak", "l.jansen", "c.meier", "r.fischer",
                 "o.lind", "n.horvat", "b.schulz"]
ONBOARDING_MEMBERS = ["nina@brightpath.io", "joel@brightpath.io", "sofia@brightpath.io"]
ENTERPRISE_MEMBERS = ["amelie@brightpath.io", "ravi@brightpath.io"]
ACCOUNT_MANAGERS = ["jonas@brightpath.io", "marta@brightpath.io", "pieter@brightpath.io", "clara@brightpath.io"]


def onboarding_builder(kind):
    def build(rng, case_id, t0):
        c = Case(case_id, "hist_con")
        name, domain = new_account(rng)
        acc = "acc_" + domain.split(".")[0].replace("-", "_")
        signer = "%s@%s" % (rng.choice(CONTACT_NAMES), domain)
        enterprise_plan = kind in ("enterprise", "enterprise_human")
        if enterprise_plan:
            plan_name, term = "enterprise", rng.choice([24, 36, 36, 12])
            value = rng.choice([90000, 120000, 150000, 180000, 240000, 300000])
        elif kind in ("long_term", "long_term_held_fp"):
            plan_name, term = rng.choice(["growth", "business"]), rng.choice([24, 36])
            value = rng.choice([19200, 28800, 43200, 57600, 72000])
        else:
            plan_name = rng.choices(["starter", "growth", "business", "enterprise"], [25, 45, 20, 10])[0]
            term = 12 if plan_name == "starter" else rng.choices([12, 24, 36], [80, 12, 8])[0]
            value = {"starter": rng.choice([2400, 3600, 4800]), "growth": rng.choice([9600, 12000, 14400, 18000, 24000]),
                     "business": rng.choice([30000, 42000, 60000]),
                     "enterprise": rng.choice([90000, 180000, 240000])}[plan_name]
            if value > 0 and term > 12:
                value = value * term // 12
        start = (t0 + dt.timedelta(days=rng.randrange(10, 45))).date()
        start = start.replace(day=1) if rng.random() < 0.6 else start
        if start < t0.date():
            start = (t0 + dt.timedelta(days=20)).date()
        attachments = ["msa_signed"] + [a for a in ASSETS]
        if plan_name == "enterprise" or rng.random() < 0.15:
            attachments.insert(1, "dpa_signed")
        if rng.random() < 0.1:
            attachments.append(rng.choice(["sow", "security_questionnaire"]))
        missing = kind in ("missing", "amended", "amended_exec")
        if missing:
            drop = rng.sample(ASSETS, rng.choice([1, 1, 1, 2, 3]))
            complete_list = list(attachments)
            attachments = [a for a in attachments if a not in drop]
        contract = {"id": case_id, "account_id": acc, "account_name": name, "plan": plan_name,
                    "value": usd(value * 100, "EUR"), "term_months": term, "start_date": start.isoformat()}
        if rng.random() < 0.6:
            contract["account_manager"] = rng.choice(ACCOUNT_MANAGERS)
        contract["attachments"] = attachments
        if kind == "fp_far_start":
            # Human: service starts in nine months; provisioning was deliberately deferred.
            contract["plan"] = "growth"
            contract["term_months"] = 12
            contract["start_date"] = (t0 + dt.timedelta(days=270)).date().replace(day=1).isoformat()
        if kind in ("complete", "fp_far_start") and contract["plan"] == "enterprise":
            contract["plan"] = "business"
        c.ev("ContractSigned", t0, {"contract": contract, "signed_by": signer})
        owner = ENTERPRISE_MEMBERS if (contract["plan"] == "enterprise" or contract["term_months"] >= 24) else ONBOARDING_MEMBERS
        at = t0
        if rng.random() < 0.5:
            at = c.ev("OwnerAcknowledged", later(at, rng, 3, 28), {"by": rng.choice(owner)})
        if kind == "enterprise" and rng.random() < 0.6:
            at = c.ev("ApprovalGranted", later(at, rng, 20, 200),
                      {"approval": "enterprise_welcome", "by": "greta@brightpath.io"})
        if kind in ("amended", "amended_exec"):
            # The client sent the missing assets; the CRM contract was amended. kickoff_prep only
            # listens to ContractSigned, so it never fires for these cases.
            at = c.ev("ContractAmended", later(at, rng, 600, 5 * 1440),
                      {"contract": dict(contract, attachments=complete_list)})
        if not missing or kind in ("amended", "amended_exec"):
            if rng.random() < 0.45:
                kick = later(at, rng, 2 * 1440, 8 * 1440).replace(minute=0, second=0)
                at = c.ev("KickoffScheduled", later(at, rng, 60, 1440),
                          {"kickoff_at": iso(kick), "by": rng.choice(owner)})
                if rng.random() < 0.6 and kick > at:
                    data = {"by": rng.choice(owner)}
                    if rng.random() < 0.7:
                        data["notes_url"] = "https://notes.brightpath.io/kickoff/%s" % case_id.lower()
                    c.ev("KickoffHeld", kick + dt.timedelta(minutes=55), data)
        return c

    return build


def onboarding_plan(rng):
    _ACCOUNTS_USED.clear()
    b = onboarding_builder
    rows = [
        (95, "complete contract, not enterprise plan", "executed", "executed", b("complete")),
        (1, "complete contract, start in 9 months (human deferred)", "human", "executed", b("fp_far_start")),
        (38, "complete enterprise-plan contract (welcome reviewed)", "held", "held", b("enterprise")),
        (3, "complete enterprise-plan contract, lead called the client instead", "human", "held", b("enterprise_human")),
        (12, "complete growth/business contract of 24+ months", "executed", "executed", b("long_term")),
        (1, "same, lead reviewed the welcome anyway", "held", "executed", b("long_term_held_fp")),
        (90, "kickoff assets missing", "human", "human", b("missing")),
        (2, "assets amended later, client paused the project", "human", "human", b("amended")),
        (6, "assets amended later, prepared by hand", "executed", "human", b("amended_exec")),
    ]
    return plan(rng, rows, dt.date(2025, 10, 1), dt.date(2025, 12, 31),
                time_fn=lambda r: pick_time(r, dt.date(2025, 10, 1), dt.date(2025, 12, 30), (7, 17)))


def onboarding_ids(i):
    return "CON-%d" % (2001 + i * 2)


# ==========================================================================================
# incidents: page_oncall
#
#   on IncidentReported when is_severe(incident.severity)   (High | Critical)
#   do { pager.page; slack.post }   -- no gate covers either action: never `held`


def incidents_predict(events):
    outcome = "human"
    for e in events:
        if e["type"] == "IncidentReported" and e["data"]["incident"]["severity"] in ("High", "Critical"):
            outcome = "executed"
    return outcome


SEVERE_TITLES = [
    ("label-api", "Label API returns 502 for DHL labels"), ("tracking", "Tracking updates stalled for FedEx"),
    ("rates", "Rate quotes time out for UPS"), ("core-db", "Database failover, writes failing"),
    ("auth", "Login fails for all SSO users"), ("webhooks", "Webhook deliveries delayed over 30 minutes"),
    ("customs-docs", "Customs documents not generated for EU shipments"), ("pickups", "Pickup booking returns 500"),
    ("rates", "Checkout rates missing for USPS"), ("mobile-app", "Mobile app crashes on launch"),
    ("address-validation", "Address validation rejects valid UK postcodes"), ("label-api", "Labels print with the wrong barcode"),
    ("billing", "Customers charged twice for label purchases"), ("web-app", "Dashboard does not load (blank page)"),
    ("tracking", "Tracking page shows other customers' shipments"), ("label-api", "Royal Mail labels fail with timeout"),
    ("returns-portal", "Returns portal down"), ("core-db", "Replica lag over 10 minutes, stale data everywhere"),
    ("webhooks", "Webhooks sent with an invalid signature"), ("search", "Shipment search returns nothing"),
]
MILD_TITLES = [
    ("notifications", "Typo in the delivery confirmation e-mail"), ("exports", "CSV export drops the reference column"),
    ("web-app", "Dashboard chart colours wrong in dark mode"), ("tracking", "Tracking pages take 20s to load"),
    ("search", "Search ignores accents in city names"), ("label-api", "Slow label preview for multi-piece shipments"),
    ("returns-portal", "Returns portal logo is blurry"), ("exports", "Bulk import warns on empty rows"),
    ("webhooks", "Webhook retry log shows duplicate entries"), ("billing", "Invoice PDF footer misaligned"),
    ("mobile-app", "Push notifications arrive twice on Android"), ("address-validation", "Suggestions slow for Irish addresses"),
    ("rates", "Rate card shows the old fuel surcharge"), ("web-app", "Date picker starts weeks on Sunday for EU users"),
    ("notifications", "SMS sender name truncated"), ("pickups", "Pickup reminder e-mail sent a day late"),
    ("tracking", "Estimated delivery off by one day for DPD"), ("customs-docs", "HS code lookup slow"),
    ("auth", "Password reset e-mail lands in spam for Outlook"), ("infra", "Log retention job fails nightly"),
]
SUPPORT = ["carla@parcelwise.com", "deshawn@parcelwise.com", "mina@parcelwise.com", "yusuf@parcelwise.com",
           "beth@parcelwise.com"]
MONITORING = "monitoring@parcelwise.com"


def incidents_builder(kind):
    def build(rng, case_id, t0):
        c = Case(case_id, "hist_inc")
        severe = kind in ("severe", "severe_downgraded", "fp_internal")
        service, title = rng.choice(SEVERE_TITLES if severe else MILD_TITLES)
        source = rng.choices(["Alerting", "Customer", "Staff"], [45, 40, 15] if severe else [20, 50, 30])[0]
        reporter = MONITORING if source == "Alerting" else rng.choice(SUPPORT)
        if severe:
            severity = rng.choices(["High", "Critical"], [70, 30])[0]
            impact = rng.random() < 0.88
            affected = rng.choice([3, 8, 12, 22, 40, 64, 120, 300, 900, 1500]) if impact else 0
        else:
            severity = rng.choices(["Low", "Medium"], [45, 55])[0]
            impact = rng.random() < 0.6
            affected = rng.choice([1, 2, 3, 5, 8, 14, 25]) if impact else 0
        if kind in ("outage_medium", "outage_medium_exec"):
            severity, impact, affected = "Medium", True, rng.choice([55, 80, 140, 260])
            service, title = rng.choice([("tracking", "Tracking updates delayed about an hour"),
                                         ("notifications", "Delivery e-mails delayed for many customers"),
                                         ("exports", "Scheduled exports not delivered this morning")])
        if kind in ("upgraded", "upgraded_exec"):
            severity, impact = "Medium", True
            affected = rng.choice([4, 9, 15, 30])
            service, title = rng.choice(SEVERE_TITLES)
        if kind == "fp_internal":
            # Human: internal reporting job, no customer sees it; L2 took it in the morning.
            service, title = "admin-reports", "Nightly finance export job failed"
            severity, impact, affected, source, reporter = "High", False, 0, "Alerting", MONITORING
        incident = {"id": case_id, "title": title, "service": service, "severity": severity,
                    "status": "Investigating", "customer_impact": impact, "affected_customers": affected,
                    "reported_by": reporter}
        c.ev("IncidentReported", t0, {"incident": incident, "source": source})
        at = t0
        if rng.random() < 0.55:
            at = c.ev("OwnerAcknowledged", later(at, rng, 1, 25),
                      {"by": rng.choice(SUPPORT[:3] if impact else SUPPORT[3:])})
        if kind in ("upgraded", "upgraded_exec"):
            # Raised to High by an update: page_oncall listens to IncidentReported only.
            at = c.ev("IncidentUpdated", later(at, rng, 15, 90),
                      {"incident": dict(incident, severity="High", status="Investigating",
                                        affected_customers=affected * 4)})
            incident = dict(incident, severity="High", affected_customers=affected * 4)
        if kind == "severe_downgraded":
            at = c.ev("IncidentUpdated", later(at, rng, 10, 40), {"incident": dict(incident, severity="Medium")})
            incident = dict(incident, severity="Medium")
        for status in ("Identified", "Monitoring", "Resolved"):
            if rng.random() < 0.5:
                break
            at = c.ev("IncidentUpdated", later(at, rng, 10, 240), {"incident": dict(incident, status=status)})
        return c

    return build


def incidents_plan(rng):
    b = incidents_builder
    rows = [
        (101, "High/Critical reported", "executed", "executed", b("severe")),
        (6, "High/Critical reported, downgraded soon after", "executed", "executed", b("severe_downgraded")),
        (1, "High on an internal job, no customer impact (not paged)", "human", "executed", b("fp_internal")),
        (125, "Low/Medium reported", "human", "human", b("mild")),
        (4, "Medium, 50+ customers affected", "human", "human", b("outage_medium")),
        (2, "same, paged by support anyway", "executed", "human", b("outage_medium_exec")),
        (5, "reported Medium, raised to High by an update (paged)", "executed", "human", b("upgraded_exec")),
    ]
    return plan(rng, rows, dt.date(2025, 10, 1), dt.date(2025, 12, 29),
                time_fn=lambda r: pick_time(r, dt.date(2025, 10, 1), dt.date(2025, 12, 29), (0, 24), False))


def incidents_ids(i):
    return "INC-%d" % (6101 + i * 3)


# ==========================================================================================
# scope-change: freeze_on_scope_change (rolled out in shadow)
#
#   on RequestOpened when class == ScopeChange
#   do { projects.freeze_work; slack.post; helpdesk.reply }
#   gate freeze_review: projects.freeze_work, no condition -- every trigger is `held`
#   classify: ScopeChange (tag scope-change or subject matches the regex) > Bug (tag bug or
#             Urgent) > Content (tag content) > Question

SCOPE_RE = re.compile(r"(?i)scope change|change (order|request)|additional (pages?|features?)")


def scope_classify(r):
    if "scope-change" in r["tags"] or SCOPE_RE.search(r["subject"]):
        return "ScopeChange"
    if "bug" in r["tags"] or r["priority"] == "Urgent":
        return "Bug"
    if "content" in r["tags"]:
        return "Content"
    return "Question"


def scope_predict(events):
    outcome = "human"
    for e in events:
        if e["type"] == "RequestOpened" and scope_classify(e["data"]["request"]) == "ScopeChange":
            outcome = "held"
    return outcome


CLIENTS = [
    ("acme", "acme.example", ["ACME-WEB-26", "ACME-APP"], ["wile", "road"]),
    ("globex", "globex.example", ["GLX-SITE", "GLX-PORTAL"], ["hank", "mindy"]),
    ("initech", "initech.example", ["INI-INTRANET"], ["peter", "joanna"]),
    ("umbrella", "umbrella-bio.example", ["UMB-SITE-26", "UMB-SHOP"], ["alice", "chris"]),
    ("hooli", "hooli.example", ["HOO-DOCS"], ["gavin", "denpok"]),
    ("stark", "stark-ind.example", ["STK-CAREERS"], ["pepper", "happy"]),
    ("wayne", "wayne-ent.example", ["WAY-FOUNDATION"], ["lucius", "alfred"]),
    ("tyrell", "tyrell.example", ["TYR-BRAND"], ["rachael", "eldon"]),
    ("wonka", "wonka.example", ["WNK-SHOP", "WNK-TOURS"], ["charlie", "augustus"]),
    ("vandelay", "vandelay.example", ["VDL-IMPORT"], ["art", "kramer"]),
    ("oscorp", "oscorp.example", ["OSC-LAB"], ["norman", "harry"]),
    ("soylent", "soylent.example", ["SOY-MENU"], ["thorn", "sol"]),
]
SCOPE_TAGGED = [
    "New integration with Salesforce", "Add a careers section", "Second language: German",
    "Member login for the resources area", "Online booking for the showroom", "Extend the shop to Canada",
    "Add a press kit download area", "Newsletter sign-up with double opt-in",
]
SCOPE_SUBJECTS_RE = [
    "Change request: add a store locator page", "Additional pages for the spring campaign",
    "Scope change: second language (Spanish)", "Change order: extend the member area",
    "Additional features for the booking flow", "Scope change - add a partner portal",
    "Change request: product comparison tool", "Additional page for the new product line",
    "Could we add a blog? (scope change)", "Change order for phase 2 of the app",
]
SCOPE_TRIVIAL = [
    "Change request: swap the footer logo", "Change request: new phone number in the header",
    "Additional pages? Just checking the price", "Change request: update the cookie banner text",
]
BUG_SUBJECTS = [
    "Contact form does not send on Safari", "404 on the pricing page", "Images broken on mobile",
    "Search returns no results for 'Paris'", "Checkout button overlaps on iPad", "Newsletter form double-submits",
    "Video does not autoplay on Chrome", "Menu does not close on Android",
]
URGENT_SUBJECTS = ["Site down since 9am", "Shop checkout fails for everyone", "SSL certificate expired"]
CONTENT_SUBJECTS = [
    "New blog post for {m}", "Update the team photos", "Fix typo on the About page",
    "Replace the hero copy for the sale", "Translate the FAQ into French", "New case study: {client}",
]
QUESTION_SUBJECTS = [
    "When is the next status call?", "Invoice for {m}?", "How do I add an editor to the CMS?",
    "Who has the Google Analytics login?", "Can we move the weekly meeting?", "Where are the design files?",
    "What are your holiday hours?", "Is the staging site password still the same?",
]
NORTHLIGHT_AM = ["erin@northlight.digital", "kofi@northlight.digital"]
NORTHLIGHT_OWNERS = {
    "ScopeChange": NORTHLIGHT_AM,
    "Bug": ["ana@northlight.digital", "bo@northlight.digital", "chen@northlight.digital"],
    "Content": ["ines@northlight.digital", "tiago@northlight.digital"],
    "Question": ["priya@northlight.digital", "sam@northlight.digital"],
}


def scope_builder(kind):
    def build(rng, case_id, t0):
        c = Case(case_id, "hist_r")
        client, domain, projects, people = rng.choice(CLIENTS)
        m = month_of(t0, 0)
        request = {"id": case_id, "subject": "", "tags": [], "status": "New",
                   "priority": rng.choices(["Low", "Normal", "High"], [10, 75, 15])[0],
                   "requester": "%s@%s" % (rng.choice(people), domain), "client": client,
                   "project": rng.choice(projects)}
        channel = rng.choices(["Email", "Web", "Chat", "Slack", "Phone"], [55, 20, 10, 10, 5])[0]
        if kind in ("scope", "scope_exec", "scope_human"):
            if kind == "scope_human":
                request["subject"] = rng.choice(SCOPE_TRIVIAL)
                request["estimate_hours"] = rng.choice([1, 2])
            elif rng.random() < 0.45:
                request["subject"] = rng.choice(SCOPE_TAGGED)
                request["tags"] = ["scope-change"] + (["urgent-launch"] if rng.random() < 0.1 else [])
            else:
                request["subject"] = rng.choice(SCOPE_SUBJECTS_RE)
                if rng.random() < 0.3:
                    request["tags"] = ["scope-change"]
            if kind != "scope_human" and rng.random() < 0.8:
                request["estimate_hours"] = rng.choice([6, 8, 12, 16, 24, 32, 40, 60, 80, 120, 200])
            if kind == "scope_exec":
                request["priority"] = "Urgent"  # still ScopeChange: the first arm wins
        elif kind == "bug":
            request["subject"] = rng.choice(BUG_SUBJECTS)
            request["tags"] = ["bug"]
        elif kind == "urgent":
            request["subject"] = rng.choice(URGENT_SUBJECTS)
            request["priority"] = "Urgent"
        elif kind == "content":
            request["subject"] = rng.choice(CONTENT_SUBJECTS).format(m=m, client=client.title())
            request["tags"] = ["content"]
        elif kind in ("question", "retagged", "retagged_held"):
            request["subject"] = rng.choice(QUESTION_SUBJECTS).format(m=m)
            if kind != "question":
                request["subject"] = rng.choice(["Quick question about the shop", "Idea for the app",
                                                 "Thoughts on the homepage"])
        else:
            raise ValueError(kind)
        if "estimate_hours" not in request and rng.random() < 0.05:
            request["estimate_hours"] = None
        assert (scope_classify(request) == "ScopeChange") == kind.startswith("scope"), (kind, request)
        c.ev("RequestOpened", t0, {"request": request, "channel": channel})
        at = t0
        team = NORTHLIGHT_OWNERS[scope_classify(request)]
        if rng.random() < 0.5:
            at = c.ev("OwnerAcknowledged", later(at, rng, 2, 25), {"by": rng.choice(team)})
        if kind in ("retagged", "retagged_held"):
            # Account management re-tagged it as a scope change; the freeze only listens to
            # RequestOpened, so it never fires for these cases.
            at = c.ev("RequestUpdated", later(at, rng, 30, 600),
                      {"request": dict(request, tags=["scope-change"], status="Open")})
        if rng.random() < 0.5:
            at = c.ev("ReplySent", later(at, rng, 10, 240), {"by": rng.choice(team), "public": True})
        if kind.startswith("scope") or kind == "retagged_held":
            if rng.random() < 0.3:
                at = c.ev("CustomerReplied", later(at, rng, 60, 1440),
                          {"body": "Any news on this?"} if rng.random() < 0.7 else {})
            if rng.random() < 0.6:
                decision = rng.choices(["Approved", "Rejected", "NeedsEstimate"], [55, 20, 25])[0]
                data = {"decision": decision, "by": rng.choice(NORTHLIGHT_AM)}
                if decision == "Approved":
                    data["change_order"] = "CO-%d-%03d" % (t0.year, rng.randrange(1, 400))
                c.ev("ChangeOrderDecided", later(at, rng, 120, 3 * 1440), data)
        return c

    return build


def scope_plan(rng):
    b = scope_builder
    rows = [
        (85, "scope change, freeze signed off by a delivery lead", "held", "held", b("scope")),
        (4, "urgent scope change, frozen at once without sign-off", "executed", "held", b("scope_exec")),
        (8, "trivial change matching the scope-change pattern, not frozen", "human", "held", b("scope_human")),
        (40, "bug report", "human", "human", b("bug")),
        (10, "urgent request (Bug class)", "human", "human", b("urgent")),
        (35, "content request", "human", "human", b("content")),
        (54, "question", "human", "human", b("question")),
        (3, "question re-tagged scope-change later, not frozen", "human", "human", b("retagged")),
        (5, "question re-tagged scope-change later, freeze signed off", "held", "human", b("retagged_held")),
    ]
    return plan(rng, rows, dt.date(2025, 9, 1), dt.date(2026, 2, 27),
                time_fn=lambda r: pick_time(r, dt.date(2025, 9, 1), dt.date(2026, 2, 27), (13, 23)))


def scope_ids(i):
    return "R-%d" % (3001 + i)


# ==========================================================================================

PROJECTS = {
    "agency-support": ("refund_small", agency_plan, agency_ids, agency_predict),
    "refunds": ("refund_and_sync", refunds_plan, refunds_ids, refunds_predict),
    "onboarding": ("kickoff_prep", onboarding_plan, onboarding_ids, onboarding_predict),
    "incidents": ("page_oncall", incidents_plan, incidents_ids, incidents_predict),
    "scope-change": ("freeze_on_scope_change", scope_plan, scope_ids, scope_predict),
}


def acceptance_block(project, automation):
    """Find `acceptance AUTOMATION { samples "PATH" THRESHOLDS }` in the project's rules."""
    pat = re.compile(r"acceptance\s+%s\s*\{(.*?)\}" % re.escape(automation), re.S)
    for f in sorted((EXAMPLES / project / "rules").rglob("*.mesh")):
        text = re.sub(r"//[^\n]*", "", f.read_text(encoding="utf-8"))
        m = pat.search(text)
        if m:
            body = m.group(1)
            path = re.search(r'samples\s+"([^"]+)"', body).group(1)
            thresholds = [(k, op, float(v)) for k, op, v in
                          re.findall(r"(precision|recall|false_positive_rate)\s*(>=|<=|>|<)\s*([\d.]+)%", body)]
            return path, thresholds
    raise SystemExit("%s: no `acceptance %s` block found" % (project, automation))


def metrics(samples):
    conf = {(e, p): 0 for e in OUTCOMES for p in OUTCOMES}
    for s in samples:
        conf[(s["expected"], s["predicted"])] += 1
    tp = conf[("executed", "executed")]
    fp = conf[("held", "executed")] + conf[("human", "executed")]
    fn = conf[("executed", "held")] + conf[("executed", "human")]
    tn = sum(conf[(e, p)] for e in ("held", "human") for p in ("held", "human"))
    ratio = lambda n, d: (100.0 * n / d) if d else None
    return conf, {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": ratio(tp, tp + fp),
                  "recall": ratio(tp, tp + fn), "false_positive_rate": ratio(fp, fp + tn)}


def generate(project):
    automation, plan_fn, ids_fn, predict = PROJECTS[project]
    rng = random.Random("%d/%s" % (SEED, project))
    samples = []
    for line in SEEDS[project].strip().splitlines():
        obj = json.loads(line)
        samples.append({"line": line, "case": obj["case"], "expected": obj["expected"],
                        "predicted": predict(obj["events"]), "category": "original hand-written sample",
                        "at": obj["events"][0]["at"], "events": obj["events"]})
    for i, (t0, spec) in enumerate(plan_fn(rng)):
        case_id = ids_fn(i)
        c = spec.build(rng, case_id, t0)
        predicted = predict(c.events)
        if predicted != spec.predicted:
            raise SystemExit("%s %s (%s): rules give %s, category expects %s"
                             % (project, case_id, spec.category, predicted, spec.predicted))
        obj = {"case": case_id, "events": c.events, "expected": spec.expected}
        samples.append({"line": json.dumps(obj, ensure_ascii=False), "case": case_id,
                        "expected": spec.expected, "predicted": predicted, "category": spec.category,
                        "at": c.events[0]["at"], "events": c.events})
    samples.sort(key=lambda s: (s["at"], s["case"]))
    # invariants the harness relies on
    seen_cases, seen_ids = set(), set()
    for s in samples:
        assert s["case"] not in seen_cases, s["case"]
        seen_cases.add(s["case"])
        for e in s["events"]:
            assert e["case"] == s["case"], (s["case"], e["id"])
            assert e["id"] not in seen_ids, e["id"]
            seen_ids.add(e["id"])
        ats = [e["at"] for e in s["events"]]
        assert ats == sorted(ats), s["case"]
        assert s["expected"] in OUTCOMES
    return automation, samples


def fmt_pct(x):
    return "n/a" if x is None else "%.1f%%" % x


def report(project, automation, path, thresholds, samples):
    conf, m = metrics(samples)
    out = ["== %s: acceptance %s (%s): %d samples" % (project, automation, path, len(samples))]
    out.append("   expected \\ predicted   executed      held     human")
    for e in OUTCOMES:
        out.append("   %-22s %8d  %8d  %8d" % (e, conf[(e, "executed")], conf[(e, "held")], conf[(e, "human")]))
    out.append("   TP %d  FP %d  FN %d  TN %d" % (m["tp"], m["fp"], m["fn"], m["tn"]))
    out.append("   precision %s  recall %s  false_positive_rate %s"
               % (fmt_pct(m["precision"]), fmt_pct(m["recall"]), fmt_pct(m["false_positive_rate"])))
    ok = True
    for k, op, want in thresholds:
        got = m[k]
        if got is None:
            out.append("   %s %s %g%%: UNDEFINED (no case is predicted `executed`; "
                       "meshline test reports 0.0%%, so this threshold fails)" % (k, op, want))
            ok = False
            continue
        passed = {">=": got >= want, "<=": got <= want, ">": got > want, "<": got < want}[op]
        ok &= passed
        out.append("   %s %s %g%%: %s (%.1f%%)" % (k, op, want, "pass" if passed else "FAIL", got))
    cats = {}
    for s in samples:
        key = (s["category"], s["expected"], s["predicted"])
        cats[key] = cats.get(key, 0) + 1
    out.append("   by category (count: expected/predicted):")
    for (cat, e, p), n in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0])):
        mark = "" if e == p else "   <- disagreement"
        out.append("     %4d  %-9s/%-9s %s%s" % (n, e, p, cat, mark))
    return "\n".join(out), ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if a file differs")
    ap.add_argument("--project", choices=sorted(PROJECTS), action="append",
                    help="only this project (repeatable)")
    ap.add_argument("--quiet", action="store_true", help="print only the summary lines")
    args = ap.parse_args(argv)
    status = 0
    for project in args.project or list(PROJECTS):
        automation, samples = generate(project)
        path, thresholds = acceptance_block(project, automation)
        target = EXAMPLES / project / path
        text = "".join(s["line"] + "\n" for s in samples)
        text_report, ok = report(project, automation, path, thresholds, samples)
        print(text_report.splitlines()[0] if args.quiet else text_report)
        if not ok:
            print("   note: the designed metrics miss a threshold of the acceptance block")
        if args.check:
            current = target.read_text(encoding="utf-8") if target.exists() else None
            if current != text:
                print("   OUT OF DATE: %s" % target.relative_to(EXAMPLES.parent))
                status = 1
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print("   wrote %s" % target.relative_to(EXAMPLES.parent))
        print()
    return status


if __name__ == "__main__":
    sys.exit(main())
