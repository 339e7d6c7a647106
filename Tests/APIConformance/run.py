"""Checks the running gateway's answers against the document it serves, with schemathesis: a
client nobody here wrote. `compose/local.sh test` runs it after the Swift tests, in a virtual
environment of its own, against services on a fresh database of their own with the demo data.

It fails on any 5xx, any answer whose body does not match its documented schema or content
type, and any status code the document does not name for the operation. The examples per
operation are bounded (SWITCHBOARD_CONFORMANCE_EXAMPLES, 10) and the seed fixed
(SWITCHBOARD_CONFORMANCE_SEED, 1) so that a run is repeatable; set another seed to explore.
"""

import os
import subprocess
import sys
import tempfile

GATEWAY = os.environ["SWITCHBOARD_GATEWAY_URL"].rstrip("/")
KEY = os.environ["SWITCHBOARD_ADMIN_KEY"]
EXAMPLES = os.environ.get("SWITCHBOARD_CONFORMANCE_EXAMPLES", "10")
SEED = os.environ.get("SWITCHBOARD_CONFORMANCE_SEED", "1")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
LIMIT_SECONDS = 900


def main():
    command = [
        os.path.join(os.path.dirname(sys.executable), "schemathesis"), "run", f"{GATEWAY}/api/v1/openapi.json",
        "--url", GATEWAY, "-H", f"Authorization: Bearer {KEY}", "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing", "--max-examples", EXAMPLES, "--seed", SEED,
        "--workers", "2", "--request-timeout", "30", "--no-color",
    ]
    print("schemathesis run … --checks", CHECKS, "--max-examples", EXAMPLES, "--seed", SEED, flush=True)
    try:
        # schemathesis keeps a cache in its working directory; it is not the repository's.
        with tempfile.TemporaryDirectory(prefix="switchboard-conformance-") as scratch:
            sys.exit(subprocess.run(command, cwd=scratch, timeout=LIMIT_SECONDS).returncode)
    except subprocess.TimeoutExpired:
        sys.exit(f"schemathesis did not finish within {LIMIT_SECONDS} s")


if __name__ == "__main__":
    main()
