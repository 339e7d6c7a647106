"""Checks the running gateway's answers against the document it serves, with schemathesis: a
client nobody here wrote. `compose/local.sh test` runs it after the Swift tests, in a virtual
environment of its own, against services on a fresh database of their own with the demo data.

It fails on any 5xx, any answer whose body does not match its documented schema or content
type, and any status code the document does not name for the operation. The examples per
operation are bounded (SWITCHBOARD_CONFORMANCE_EXAMPLES, 10) and the seed fixed
(SWITCHBOARD_CONFORMANCE_SEED, 1) so that a run is repeatable; set another seed to explore.

A random id finds nothing, so an operation on one thing would only ever answer 404 and its
success would go unchecked. Before the run this script makes sales data through the API (the
demo has contacts and accounts only) and hands schemathesis the ids of what exists, as
dictionaries it draws a path's id from most of the time (deletes keep random ids, so that the
data the other operations need stays).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid

GATEWAY = os.environ["SWITCHBOARD_GATEWAY_URL"].rstrip("/")
KEY = os.environ["SWITCHBOARD_ADMIN_KEY"]
EXAMPLES = os.environ.get("SWITCHBOARD_CONFORMANCE_EXAMPLES", "10")
SEED = os.environ.get("SWITCHBOARD_CONFORMANCE_SEED", "1")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
LIMIT_SECONDS = 900
# How often a path's id is one that exists rather than one schemathesis makes up.
KNOWN_ID_PROBABILITY = 0.8


def call(method, path, body=None, headers=None):
    request = urllib.request.Request(
        GATEWAY + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
    except urllib.error.HTTPError as error:
        sys.exit(f"seeding: {method} {path} answered {error.code}: {error.read().decode()}")
    except (urllib.error.URLError, TimeoutError) as error:
        sys.exit(f"seeding: {method} {path} got no answer: {error}")
    return json.loads(text) if text else None


def ids(path):
    return [item["id"] for item in call("GET", path)["items"]]


def seed():
    """Sales data around the demo's contacts; the ids of everything a path can name."""
    contacts = ids("/api/v1/contacts?limit=50")
    accounts = ids("/api/v1/accounts?limit=50")
    # One pipeline and its own stages, so that a stage drawn for a pipeline's path is one of its.
    pipeline = next(p for p in call("GET", "/api/v1/pipelines")["items"] if p["is_default"])
    run = uuid.uuid4().hex[:6]  # codes and names are unique: a second run against one gateway makes its own
    products = [
        call("POST", "/api/v1/products", {
            "code": f"CONF-{run}-{n}", "name": f"Conformance product {n}", "unit": "pc",
            "base_price": {"amount": f"{10 * n}.00", "currency": "EUR"}, "tax_rate": 19,
        })["id"]
        for n in range(1, 4)
    ]
    price_list = call("POST", "/api/v1/price-lists", {"name": f"Conformance prices {run}", "currency": "EUR"})["id"]
    leads = [
        call("POST", "/api/v1/leads", {"first_name": "Lea", "last_name": f"Lead {n}", "company": f"Lead Co {n}",
                                       "email": f"lead{n}@conformance.example.com", "source": "web"})["id"]
        for n in range(5)
    ]
    deals, quotes = [], []
    for n in range(8):
        deal = call("POST", "/api/v1/deals", {
            "title": f"Conformance deal {n}", "amount": {"amount": "100.00", "currency": "EUR"},
            "contact_id": contacts[n % len(contacts)],
        })
        deals.append(deal["id"])
        if n % 2 == 0:
            lined = call("PUT", f"/api/v1/deals/{deal['id']}/lines", {
                "lines": [{"product_id": products[n % 3], "quantity": 2}], "version": deal["version"],
            })
            quote = call("POST", f"/api/v1/deals/{deal['id']}/quotes", {})
            quotes.append(quote["id"])
            if n % 4 == 0:
                call("POST", f"/api/v1/quotes/{quote['id']}/send", {}, {"If-Match": f'"{quote["version"]}"'})
            assert lined["id"] == deal["id"]
    activities = [
        call("POST", "/api/v1/activities", {
            "kind": "call", "subject": f"Call {n}", "due_at": "2030-01-0{}T09:00:00Z".format(n + 1),
            "contact_id": contacts[n], "deal_id": deals[n],
        })["id"]
        for n in range(5)
    ]
    listed = contacts[:10]
    call_list = call("POST", "/api/v1/call-lists", {"name": "Conformance calls", "contact_ids": listed})["id"]
    return {
        "contacts": contacts, "accounts": accounts, "pipelines": [pipeline["id"]], "stages": [s["id"] for s in pipeline["stages"]],
        "products": products, "price_lists": [price_list], "leads": leads, "deals": deals, "quotes": quotes,
        "activities": activities, "call_lists": [call_list], "listed_contacts": listed, "imports": ids("/api/v1/imports"),
        "lost_reasons": [reason["code"] for reason in call("GET", "/api/v1/lost-reasons")["items"]],
    }


# Which dictionary a path parameter draws from: (path regex, parameter, dictionary).
BINDINGS = [
    (r"^/api/v1/contacts/\{id\}", "id", "contacts"),
    (r"^/api/v1/customers/\{contact_id\}", "contact_id", "contacts"),
    (r"^/api/v1/accounts/\{id\}", "id", "accounts"),
    (r"^/api/v1/pipelines/\{id\}", "id", "pipelines"),
    (r"^/api/v1/pipelines/\{id\}/stages/\{stage_id\}", "stage_id", "stages"),
    (r"^/api/v1/products/\{id\}", "id", "products"),
    (r"^/api/v1/price-lists/\{id\}", "id", "price_lists"),
    (r"^/api/v1/price-lists/\{id\}/prices/\{product_id\}", "product_id", "products"),
    (r"^/api/v1/leads/\{id\}", "id", "leads"),
    (r"^/api/v1/deals/\{id\}", "id", "deals"),
    (r"^/api/v1/quotes/\{id\}", "id", "quotes"),
    (r"^/api/v1/activities/\{id\}", "id", "activities"),
    (r"^/api/v1/call-lists/\{id\}", "id", "call_lists"),
    (r"^/api/v1/call-lists/\{id\}/entries/\{contact_id\}", "contact_id", "listed_contacts"),
    (r"^/api/v1/imports/\{id\}", "id", "imports"),
    (r"^/api/v1/lost-reasons/\{code\}", "code", "lost_reasons"),
]


def config(known):
    """schemathesis.toml: the dictionaries, and per path which parameter draws from which."""
    lines = []
    for name, values in known.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values[:50])}", ""]
    for regex, parameter, name in BINDINGS:
        if not known[name]:
            continue
        lines += [
            "[[operations]]", f"include-path-regex = {json.dumps(regex)}", 'exclude-method = "DELETE"',
            f'parameters = {{ "path.{parameter}" = {{ dictionary = "{name}", probability = {KNOWN_ID_PROBABILITY} }} }}', "",
        ]
    return "\n".join(lines)


def main():
    known = seed()
    print("seeded:", ", ".join(f"{len(values)} {name}" for name, values in known.items()), flush=True)
    command = [
        os.path.join(os.path.dirname(sys.executable), "schemathesis"), "--config-file", "schemathesis.toml",
        "run", f"{GATEWAY}/api/v1/openapi.json",
        "--url", GATEWAY, "-H", f"Authorization: Bearer {KEY}", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing", "--max-examples", EXAMPLES, "--seed", SEED,
        "--workers", "2", "--request-timeout", "30", "--no-color",
    ]
    print("schemathesis run … --checks", CHECKS, "--max-examples", EXAMPLES, "--seed", SEED, flush=True)
    try:
        # schemathesis keeps a cache in its working directory; it is not the repository's.
        with tempfile.TemporaryDirectory(prefix="switchboard-conformance-") as scratch:
            with open(os.path.join(scratch, "schemathesis.toml"), "w") as file:
                file.write(config(known))
            sys.exit(subprocess.run(command, cwd=scratch, timeout=LIMIT_SECONDS).returncode)
    except subprocess.TimeoutExpired:
        sys.exit(f"schemathesis did not finish within {LIMIT_SECONDS} s")


if __name__ == "__main__":
    main()
