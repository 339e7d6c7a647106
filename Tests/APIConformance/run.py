"""Checks the running gateway's answers against the document it serves, with schemathesis: a
client nobody here wrote. `compose/local.sh test` runs it after the Swift tests, in a virtual
environment of its own, against services on a fresh database of their own with the demo data.

It fails on any 5xx, any answer whose body does not match its documented schema or content
type, and any status code the document does not name for the operation. The examples per
operation are bounded (SWITCHBOARD_CONFORMANCE_EXAMPLES, 10) and the seed fixed
(SWITCHBOARD_CONFORMANCE_SEED, 1) so that a run is repeatable; set another seed to explore.

A random id finds nothing, so an operation on one thing would only ever answer 404 and its
success would go unchecked. This script hands schemathesis the ids of what the demo data made, as
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

GATEWAY = os.environ["SWITCHBOARD_GATEWAY_URL"].rstrip("/")
KEY = os.environ["SWITCHBOARD_ADMIN_KEY"]
EXAMPLES = os.environ.get("SWITCHBOARD_CONFORMANCE_EXAMPLES", "10")
SEED = os.environ.get("SWITCHBOARD_CONFORMANCE_SEED", "1")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
LIMIT_SECONDS = 900
# How often a path's id is one that exists rather than one schemathesis makes up.
KNOWN_ID_PROBABILITY = 0.8


def get(path):
    request = urllib.request.Request(GATEWAY + path, headers={"Authorization": f"Bearer {KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        sys.exit(f"reading the ids: GET {path} answered {error.code}: {error.read().decode()}")
    except (urllib.error.URLError, TimeoutError) as error:
        sys.exit(f"reading the ids: GET {path} got no answer: {error}")


def ids(path):
    return [item["id"] for item in get(path)["items"]]


def known():
    """The ids of everything a path can name, from the demo data (`switchboard demo` loads sales
    too: deals in every stage, quotes, leads, activities, a call list)."""
    pipeline = next(p for p in get("/api/v1/pipelines")["items"] if p["is_default"])
    call_lists = ids("/api/v1/call-lists")
    found = {
        "contacts": ids("/api/v1/contacts?limit=50"), "accounts": ids("/api/v1/accounts?limit=50"),
        # One pipeline and its own stages, so that a stage drawn for a pipeline's path is one of its.
        "pipelines": [pipeline["id"]], "stages": [stage["id"] for stage in pipeline["stages"]],
        "products": ids("/api/v1/products"), "price_lists": ids("/api/v1/price-lists"), "leads": ids("/api/v1/leads?limit=50"),
        "deals": ids("/api/v1/deals?limit=50"), "quotes": ids("/api/v1/quotes?limit=50"), "activities": ids("/api/v1/activities?limit=50"),
        "call_lists": call_lists, "imports": ids("/api/v1/imports"),
        "listed_contacts": [e["contact_id"] for e in get(f"/api/v1/call-lists/{call_lists[0]}/entries")["items"]] if call_lists else [],
        "lost_reasons": [reason["code"] for reason in get("/api/v1/lost-reasons")["items"]],
        # Published by Tests/ERP/run.py, which plays an ERP before this run.
        "orders": ids("/api/v1/orders?limit=50"),
    }
    missing = [name for name, values in found.items() if not values]
    if missing:
        sys.exit(f"the demo data has no {', '.join(missing)}: the conformance run would only meet 404s there")
    return found


# Which dictionary a path parameter draws from: (path regex, parameter, dictionary).
BINDINGS = [
    (r"^/api/v1/contacts/\{id\}", "id", "contacts"),
    (r"^/api/v1/customers/\{id\}", "id", "contacts"),
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
    (r"^/api/v1/orders/\{id\}", "id", "orders"),
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
    ids_known = known()
    print("known:", ", ".join(f"{len(values)} {name}" for name, values in ids_known.items()), flush=True)
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
                file.write(config(ids_known))
            sys.exit(subprocess.run(command, cwd=scratch, timeout=LIMIT_SECONDS).returncode)
    except subprocess.TimeoutExpired:
        sys.exit(f"schemathesis did not finish within {LIMIT_SECONDS} s")


if __name__ == "__main__":
    main()
