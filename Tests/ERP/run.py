"""An ERP as the bridge's contract describes it (Services/ERPBridge/asyncapi.yaml), played by an outside
client: pika for the broker, the public API through the gateway with the admin key, and the operator's
`switchboard erp` and `switchboard dead-letters` commands. It knows nothing of the bridge but that
contract. Run by `./compose/local.sh test` after the Swift tests (README, "Tests"), against a fresh
database with the demo data.

    python run.py
"""
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid

import pika

GATEWAY = os.environ["SWITCHBOARD_GATEWAY_URL"].rstrip("/")
ADMIN_KEY = os.environ["SWITCHBOARD_ADMIN_KEY"]
SWITCHBOARD = os.path.join(os.environ["SWITCHBOARD_BIN_PATH"], "switchboard")
AMQP_HOST = os.environ.get("SWITCHBOARD_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("SWITCHBOARD_AMQP_PORT", "5673"))
VHOST = os.environ.get("SWITCHBOARD_AMQP_VHOST", "switchboard")
RUN = uuid.uuid4().hex[:6]


def api(method, path, body=None, headers=None):
    request = urllib.request.Request(GATEWAY + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Authorization", f"Bearer {ADMIN_KEY}")
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            text = answer.read().decode()
            return answer.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        return error.code, json.loads(text) if text else None


def operator(*arguments):
    done = subprocess.run([SWITCHBOARD, *arguments], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"switchboard {' '.join(arguments)} failed: {done.stderr or done.stdout}")
    return done.stdout


def until(what, probe, seconds=20):
    deadline = time.time() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Source:
    """One ERP: `switchboard erp add-source` makes its user; it publishes with it and reads its queue."""

    def __init__(self, name):
        self.name = name
        printed = operator("erp", "add-source", name)
        self.user = re.search(r"user\s+(\S+)", printed).group(1)
        self.password = re.search(r"password\s+(\S+)", printed).group(1)
        self.connection = self.connect()
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()
        self.received = []

    def connect(self):
        credentials = pika.PlainCredentials(self.user, self.password)
        return pika.BlockingConnection(pika.ConnectionParameters(AMQP_HOST, AMQP_PORT, VHOST, credentials))

    def publish(self, kind, body, message_id=None, routing_key=None):
        message_id = message_id or uuid.uuid4().hex
        payload = body if isinstance(body, (bytes, str)) else json.dumps(body)
        self.channel.basic_publish(
            "erp.inbound", routing_key or f"{self.name}.{kind}", payload,
            pika.BasicProperties(message_id=message_id, content_type="application/json", delivery_mode=2), mandatory=True)
        return message_id

    def drain(self):
        """Everything waiting in the source's queue, kept in `received` (routing key, body)."""
        while True:
            method, _, body = self.channel.basic_get(f"erp.{self.name}", auto_ack=True)
            if method is None:
                return
            self.received.append((method.routing_key, json.loads(body)))

    def answers(self, message_id):
        self.drain()
        return [body for key, body in self.received if key == f"{self.name}.ack" and body["message_id"] == message_id]

    def answer(self, message_id):
        """The one acknowledgement of a message (waits for it; fails on a second)."""
        found = until(f"the answer to {message_id}", lambda: self.answers(message_id))
        time.sleep(0.2)
        found = self.answers(message_id)
        assert len(found) == 1, f"{message_id} was answered {len(found)} times: {found}"
        return found[0]

    def of_kind(self, kind):
        self.drain()
        return [body for key, body in self.received if key == f"{self.name}.{kind}"]


def order(number, version=1, status="placed", customer=None, lines=3, gross="119.00", ordered_at="2026-12-01T09:00:00Z", **extra):
    document = {
        "order_number": number, "version": version, "status": status, "status_at": f"2026-12-0{min(version, 9)}T10:00:00Z",
        "ordered_at": ordered_at, "customer": customer or {"erp_id": f"C-{number}", "name": "Erika Musterfrau"}, "currency": "EUR",
        "lines": [{"line_no": n, "sku": f"SKU-{n}", "description": f"Part {n}", "quantity": "1", "unit_price": "33.33",
                   "discount_percent": "0", "tax_amount": "6.33", "line_total": "39.66", "delivered_quantity": "0",
                   "serial_numbers": [f"SN-{number}-{n}"]} for n in range(1, lines + 1)],
        "totals": {"net": "100.00", "tax": "19.00", "gross": gross},
        "payment": {"terms_days": 30, "due_at": "2026-12-31T00:00:00Z", "paid_at": None, "dunning_level": 0},
        "delivery_address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
    }
    document.update(extra)
    return document


def crm_order(source, number):
    status, page = api("GET", f"/api/v1/orders?source={source.name}&limit=200")
    assert status == 200, page
    found = [item for item in page["items"] if item["order_number"] == number]
    return found[0] if found else None


CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


@check
def accepted_and_visible(erp):
    message = erp.publish("order", order(f"A-{RUN}"))
    answer = erp.answer(message)
    assert answer["result"] == "accepted" and answer["order_number"] == f"A-{RUN}", answer
    assert answer["matched_by"] == "created" and answer["errors"] == [], answer
    status, document = api("GET", f"/api/v1/orders/{answer['crm_order_id']}")
    assert status == 200, document
    assert document["status"] == "placed" and len(document["lines"]) == 3 and document["totals"]["gross"] == "119.00", document
    assert document["lines"][0]["serial_numbers"] == [f"SN-A-{RUN}-1"], document["lines"][0]


@check
def shuffled_statuses_end_newest(erp):
    number = f"S-{RUN}"
    statuses = ["placed", "confirmed", "shipped", "delivered", "invoiced", "paid"]
    messages = [(version, erp.publish("order", order(number, version=version, status=status)))
                for version, status in random.sample(list(enumerate(statuses, start=1)), len(statuses))]
    results = {version: erp.answer(message)["result"] for version, message in messages}
    # Each message is accepted when it is the newest seen so far, stale otherwise; the last word is the newest.
    assert results[6] == "accepted" and set(results.values()) <= {"accepted", "stale"}, results
    kept = crm_order(erp, number)
    assert kept["version"] == 6 and kept["status"] == "paid", kept
    _, document = api("GET", f"/api/v1/orders/{kept['id']}")
    assert [(h["version"], h["status"]) for h in document["status_history"]] == list(enumerate(statuses, start=1)), document["status_history"]


@check
def duplicate_and_stale(erp):
    number = f"D-{RUN}"
    first = erp.publish("order", order(number, version=2, status="confirmed"))
    assert erp.answer(first)["result"] == "accepted"
    again = erp.publish("order", order(number, version=2, status="confirmed"), message_id=first)
    time.sleep(0.5)
    answers = erp.answers(first)
    assert [a["result"] for a in answers] == ["accepted", "duplicate"], answers
    assert again == first
    older = erp.publish("order", order(number, version=1, status="placed"))
    answer = erp.answer(older)
    assert answer["result"] == "stale" and answer["crm_order_id"] == answers[0]["crm_order_id"], answer
    kept = crm_order(erp, number)
    assert kept["version"] == 2 and kept["status"] == "confirmed", kept


@check
def unknown_customer_created_once(erp):
    customer = {"erp_id": f"NEW-{RUN}", "name": "Jonas Neumann", "email": f"jonas.{RUN}@example.net"}
    messages = [erp.publish("order", order(f"N{n}-{RUN}", customer=customer)) for n in range(5)]
    answers = [erp.answer(message) for message in messages]
    assert all(a["result"] == "accepted" for a in answers), answers
    assert [a["matched_by"] for a in answers].count("created") == 1, answers
    orders = [api("GET", f"/api/v1/orders/{a['crm_order_id']}")[1] for a in answers]
    customers = {o["contact_id"] for o in orders}
    assert len(customers) == 1 and None not in customers, customers
    contact = customers.pop()
    until("the prospect in contacts", lambda: api("GET", f"/api/v1/contacts/{contact}")[0] == 200)
    _, found = api("GET", f"/api/v1/contacts?q=jonas.{RUN}@example.net")
    assert [c["id"] for c in found["items"]] == [contact], found
    assert found["items"][0]["customer_type"] == "prospect", found["items"][0]


@check
def matched_in_documented_order(erp):
    status, account = api("POST", "/api/v1/accounts", {"name": f"Tax Match {RUN}", "tax_id": f"DE 9{RUN[:5].upper()}"})
    assert status == 201, account
    status, by_mail = api("POST", "/api/v1/contacts", {"first_name": "Mia", "last_name": "Mail", "emails": [{"address": f"mia.{RUN}@example.org"}]})
    assert status == 201, by_mail
    status, by_phone = api("POST", "/api/v1/contacts", {"first_name": "Paul", "last_name": "Phone", "phones": [{"number": f"+49 30 77{random.randint(100000, 999999)}"}]})
    assert status == 201, by_phone
    phone = by_phone["phones"][0]["number"]
    time.sleep(1)  # the bridge's copy of contacts follows their events
    # Every key given at once: the tax id wins over the e-mail, the e-mail over the phone.
    cases = [
        ({"tax_id": f"de9{RUN[:5].upper()}", "email": f"mia.{RUN}@example.org", "phone": phone}, "tax_id", "account_id", account["id"]),
        ({"email": f"MIA.{RUN}@example.org", "phone": phone}, "email", "contact_id", by_mail["id"]),
        ({"phone": re.sub(r"[ ]", "-", phone)}, "phone", "contact_id", by_phone["id"]),
        ({"crm_contact_id": by_phone["id"], "tax_id": f"DE9{RUN[:5].upper()}"}, "crm_id", "contact_id", by_phone["id"]),
    ]
    for index, (keys, expected, field, crm_id) in enumerate(cases):
        customer = {"erp_id": f"M{index}-{RUN}", "name": "Someone", **keys}
        answer = erp.answer(erp.publish("order", order(f"M{index}-{RUN}", customer=customer)))
        assert answer["result"] == "accepted" and answer["matched_by"] == expected, (keys, answer)
        _, document = api("GET", f"/api/v1/orders/{answer['crm_order_id']}")
        assert document[field] == crm_id, (keys, document)
    # The number seen before comes first after that.
    answer = erp.answer(erp.publish("order", order(f"M9-{RUN}", customer={"erp_id": f"M1-{RUN}", "tax_id": f"DE9{RUN[:5].upper()}"})))
    assert answer["matched_by"] == "erp_id", answer


@check
def malformed_rejected_and_dead_lettered(erp):
    good = order(f"X-{RUN}")
    missing = dict(good)
    del missing["customer"]
    wrong_type = dict(good, version="seven")
    bad_status = dict(good, status="lost_in_transit")
    bad_amount = dict(good, totals={"gross": 119.0})
    cases = [("not json at all {", [""]), (missing, ["customer"]), (wrong_type, ["version"]), (bad_status, ["status"]),
             (bad_amount, ["totals.gross"])]
    ids = []
    for body, fields in cases:
        message = erp.publish("order", body)
        ids.append(message)
        answer = erp.answer(message)
        assert answer["result"] == "rejected", answer
        assert sorted(e["field"] for e in answer["errors"]) == fields, answer
    listed = operator("dead-letters", "list", "erp-bridge", "--limit", "1000")
    for message in ids:
        line = next((l for l in listed.splitlines() if l.startswith(message)), None)
        assert line and "failed by erp_bridge" in line and f"{erp.name}.order" in line, (message, listed[-2000:])


@check
def replayed_after_a_fix(erp):
    # A source removed by mistake: what reaches the bridge in its name meanwhile is refused and
    # dead-lettered; added again, its dead letters are replayed and taken.
    late = Source(f"late_{RUN}")
    late.connection.close()
    operator("erp", "remove-source", late.name)
    message = uuid.uuid4().hex
    admin = pika.BlockingConnection(pika.ConnectionParameters(
        AMQP_HOST, AMQP_PORT, VHOST, pika.PlainCredentials(os.environ["SWITCHBOARD_AMQP_USER"], os.environ["SWITCHBOARD_AMQP_PASSWORD"])))
    channel = admin.channel()
    channel.confirm_delivery()
    channel.basic_publish("erp.inbound", f"{late.name}.order", json.dumps(order(f"L-{RUN}")),
                          pika.BasicProperties(message_id=message, delivery_mode=2))
    admin.close()
    until("the dead letter", lambda: message in operator("dead-letters", "list", "erp-bridge", "--limit", "1000"))
    again = Source(late.name)
    replayed = operator("dead-letters", "replay", "erp-bridge", "--id", message)
    assert "erp_bridge.inbound" in replayed, replayed
    answer = again.answer(message)
    assert answer["result"] == "accepted", answer
    assert crm_order(again, f"L-{RUN}")["status"] == "placed"


@check
def other_sources_keys_refused(erp):
    other = Source(f"other_{RUN}")
    try:
        other.publish("order", order(f"F-{RUN}"), routing_key=f"{erp.name}.order")
        raise AssertionError("the broker took a message under another source's routing key")
    except pika.exceptions.ChannelClosedByBroker as refused:
        assert refused.reply_code == 403, refused
    other.connection.close()


@check
def customer_master_out_and_customer_ack(erp):
    answer = erp.answer(erp.publish("order", order(f"CM-{RUN}", customer={"erp_id": f"CM-{RUN}", "name": "Clara Master", "email": f"clara.{RUN}@example.com"})))
    _, document = api("GET", f"/api/v1/orders/{answer['crm_order_id']}")
    contact = document["contact_id"]
    first = until("the customer's master data", lambda: [c for c in erp.of_kind("customer") if c["crm_id"] == contact])
    assert first[0]["erp_id"] == f"CM-{RUN}", first
    status, current = api("GET", f"/api/v1/contacts/{contact}")
    status, changed = api("PATCH", f"/api/v1/contacts/{contact}", {"position": "Head of Purchasing", "tags": ["vip"]},
                          {"If-Match": f'"{current["version"]}"', "Content-Type": "application/merge-patch+json"})
    assert status == 200, changed
    after = until("the change", lambda: [c for c in erp.of_kind("customer") if c["crm_id"] == contact and c["version"] == changed["version"]])
    time.sleep(0.5)
    after = [c for c in erp.of_kind("customer") if c["crm_id"] == contact and c["version"] == changed["version"]]
    assert len(after) == 1, after
    allowed = {"kind", "crm_id", "erp_id", "version", "name", "first_name", "last_name", "legal_name", "tax_id", "addresses", "emails",
               "phones", "customer_type", "company", "account_id", "website", "contact_persons", "deleted"}
    assert set(after[0]) <= allowed, set(after[0]) - allowed
    assert "tags" not in after[0] and "owner" not in after[0] and "credit_limit" not in after[0]
    # An account the ERP did not know, sent by a resync, linked by the ERP's customer_ack.
    status, account = api("POST", "/api/v1/accounts", {"name": f"Resync {RUN}", "tax_id": f"AT U{RUN.upper()}"})
    assert status == 201, account
    until("the account in the bridge", lambda: "queued" in operator("erp", "resync-customers", erp.name, "--since", "2000-01-01T00:00:00Z")
          and [c for c in erp.of_kind("customer") if c["crm_id"] == account["id"]])
    ack = erp.publish("customer_ack", {"crm_id": account["id"], "erp_id": f"K-{RUN}"})
    assert erp.answer(ack)["result"] == "accepted"
    linked = erp.answer(erp.publish("order", order(f"K-{RUN}", customer={"erp_id": f"K-{RUN}"})))
    assert linked["matched_by"] == "erp_id", linked
    assert api("GET", f"/api/v1/orders/{linked['crm_order_id']}")[1]["account_id"] == account["id"]


@check
def accepted_quote_becomes_an_order(erp):
    status, contact = api("POST", "/api/v1/contacts", {"first_name": "Otto", "last_name": "Order", "emails": [{"address": f"otto.{RUN}@example.com"}]})
    assert status == 201, contact
    status, deal = api("POST", "/api/v1/deals", {"title": f"Order me {RUN}", "contact_id": contact["id"], "amount": {"amount": "500", "currency": "EUR"}})
    assert status == 201, deal
    status, products = api("GET", "/api/v1/products?limit=5")
    product = products["items"][0]
    status, deal = api("PUT", f"/api/v1/deals/{deal['id']}/lines", {"lines": [{"product_id": product["id"], "quantity": 3}]},
                       {"If-Match": f'"{deal["version"]}"'})
    assert status == 200, deal
    # Nothing to order yet: no accepted quote, not won.
    status, refused = api("POST", f"/api/v1/deals/{deal['id']}/order-request", {"source": erp.name})
    assert status == 409, refused
    status, quote = api("POST", f"/api/v1/deals/{deal['id']}/quotes", {})
    assert status == 201, quote
    status, quote = api("POST", f"/api/v1/quotes/{quote['id']}/send", {}, {"If-Match": f'"{quote["version"]}"'})
    status, quote = api("POST", f"/api/v1/quotes/{quote['id']}/accept", {}, {"If-Match": f'"{quote["version"]}"'})
    assert status == 200 and quote["status"] == "accepted", quote
    status, sent = api("POST", f"/api/v1/deals/{deal['id']}/order-request", {"source": erp.name})
    assert status == 202, sent
    request = until("the order request", lambda: [r for r in erp.of_kind("order_request") if r["crm_deal_id"] == deal["id"]])[0]
    assert request["crm_quote_id"] == quote["id"] and request["quote_number"] == quote["number"], request
    assert request["customer"]["crm_contact_id"] == contact["id"], request
    assert [(l["sku"], l["quantity"]) for l in request["lines"]] == [(product["code"], "3")], request["lines"]
    assert request["totals"]["gross"] == quote["total"]["amount"], (request["totals"], quote["total"])
    # The ERP books it, naming the deal; the order links back to the deal and the quote.
    booked = order(f"Q-{RUN}", customer={"erp_id": f"Q-{RUN}", "crm_contact_id": contact["id"]}, crm_deal_id=deal["id"],
                   gross=quote["total"]["amount"])
    answer = erp.answer(erp.publish("order", booked))
    assert answer["result"] == "accepted" and answer["matched_by"] == "crm_id", answer
    _, document = api("GET", f"/api/v1/orders/{answer['crm_order_id']}")
    assert document["crm_deal_id"] == deal["id"] and document["crm_quote_id"] == quote["id"], document
    _, requests = api("GET", f"/api/v1/deals/{deal['id']}/order-requests")
    assert [(r["status"], [o["order_number"] for o in r["orders"]]) for r in requests["items"]] == [("sent", [f"Q-{RUN}"])], requests
    # A source that takes nothing: refused, and said so on the deal.
    status, _ = api("POST", f"/api/v1/deals/{deal['id']}/order-request", {"source": "nowhere"})
    assert status == 202
    until("the refusal", lambda: any(r["status"] == "refused" for r in api("GET", f"/api/v1/deals/{deal['id']}/order-requests")[1]["items"]))


@check
def reconciliation_finds_differences(erp):
    day = "2026-11-15"
    at = f"{day}T08:00:00Z"
    for number, version, status in [("R1", 1, "placed"), ("R2", 2, "shipped"), ("R3", 1, "placed")]:
        erp.answer(erp.publish("order", order(f"{number}-{RUN}", version=version, status=status, ordered_at=at)))
    held = [(f"R1-{RUN}", 1, "placed", "119.00"), (f"R2-{RUN}", 3, "delivered", "119.00"), (f"R4-{RUN}", 1, "placed", "50.00")]
    lines = sorted(f"{n}|{v}|{s}|{g}" for n, v, s, g in held)
    # The other tests may have left orders on that day: the control names only this run's.
    control = {"date": day, "orders": [{"order_number": n, "version": v, "status": s, "gross": g} for n, v, s, g in held],
               "digest": hashlib.sha256("\n".join(lines).encode()).hexdigest()}
    message = erp.publish("control", control)
    assert erp.answer(message)["result"] == "accepted"
    report = until("the reconciliation", lambda: [r for r in erp.of_kind("reconciliation") if r["date"] == day])[-1]
    kinds = {d["order_number"]: d["kind"] for d in report["differences"]}
    assert kinds == {f"R2-{RUN}": "other_version", f"R3-{RUN}": "missing_in_erp", f"R4-{RUN}": "missing_in_crm"}, report
    printed = operator("erp", "reconcile", erp.name, "--date", day)
    assert f"R4-{RUN}\tmissing_in_crm" in printed, printed
    # Agreement: the same digest on both sides.
    agreed = [(f"R1-{RUN}", 1, "placed", "119.00"), (f"R2-{RUN}", 2, "shipped", "119.00"), (f"R3-{RUN}", 1, "placed", "119.00")]
    digest = hashlib.sha256("\n".join(sorted(f"{n}|{v}|{s}|{g}" for n, v, s, g in agreed)).encode()).hexdigest()
    erp.answer(erp.publish("control", {"date": day, "digest": digest,
                                       "orders": [{"order_number": n, "version": v, "status": s, "gross": g} for n, v, s, g in agreed]}))
    report = until("the second reconciliation", lambda: [r for r in erp.of_kind("reconciliation") if r["date"] == day][1:])[-1]
    assert report["result"] == "match" and report["differences"] == [], report


def main():
    erp = Source(f"acme_{RUN}")
    failures = 0
    for function in CHECKS:
        started = time.time()
        try:
            function(erp)
            print(f"  ok    {function.__name__} ({time.time() - started:.1f}s)")
        except Exception:
            failures += 1
            print(f"  FAIL  {function.__name__}\n{traceback.format_exc()}")
    print(f"ERP contract: {len(CHECKS) - failures}/{len(CHECKS)} passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
