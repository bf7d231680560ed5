#!/usr/bin/python3
"""Checks every answer the integration tests received against the OpenAPI document.

  check_answers.py OPENAPI.json RECORD_DIR

RECORD_DIR holds the tests' records (tests/unit/support/api_record.hpp), one JSON object per
line: method, path, status, content_type, body. For each answer: its path and method must be
an operation of the document, its status one that operation documents, its media type one that
response lists, and a JSON body must validate against the response's schema (python3-jsonschema,
JSON Schema 2020-12, which OpenAPI 3.1 uses). A problem+json body's type must be a documented
problem code. Prints what it checked; exits 1 naming each answer that does not conform.
"""
import collections
import glob
import json
import re
import sys

import jsonschema


def check_problem(r, where, resolver, failures):
    if not r["content_type"].startswith("application/problem+json"):
        failures.append(where + ": expected problem+json, got %r" % r["content_type"])
        return
    v = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/Problem"}, resolver=resolver)
    for e in v.iter_errors(json.loads(r["body"])):
        failures.append(where + ": %s" % e.message[:200])


def main():
    doc = json.load(open(sys.argv[1]))
    records = []
    for f in sorted(glob.glob(sys.argv[2] + "/*.jsonl")):
        with open(f) as fh:
            records += [json.loads(line) for line in fh if line.strip()]
    if not records:
        print("check_answers: no answers recorded in " + sys.argv[2], file=sys.stderr)
        return 1
    jsonschema.Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    resolver = jsonschema.RefResolver.from_schema(doc)
    routes = []
    for path, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path)) + "$"
        routes.append((re.compile(pattern), path, item))
    checked = collections.Counter()
    failures = []
    validators = {}
    for r in records:
        path = r["path"].split("?", 1)[0]
        where = "%s %s -> %d" % (r["method"], r["path"], r["status"])
        found = [(p, item) for rx, p, item in routes if rx.match(path)]
        if path.startswith("/test/"):
            # Routes of the test daemon oagd_faults (handlers that throw or hang), not oagd's.
            checked["(oagd_faults) %d" % r["status"]] += 1
            continue
        if not found:
            # No route: the router's 404, or a transport gate's answer, which comes before
            # routing (DESIGN §3): both problem+json.
            if r["status"] in (404, 413, 431):
                checked["(no route) %d" % r["status"]] += 1
                check_problem(r, where, resolver, failures)
                continue
            failures.append(where + ": no path of the document matches")
            continue
        template, item = found[0]
        op = item.get(r["method"].lower())
        if op is None:
            if r["status"] == 405:
                checked["%s %s 405" % (r["method"], template)] += 1
                continue
            failures.append(where + ": the document has no %s for %s" % (r["method"], template))
            continue
        resp = op["responses"].get(str(r["status"]))
        if resp is None:
            failures.append(where + ": status %d is not documented for %s" % (r["status"], op["operationId"]))
            continue
        checked["%s %d" % (op["operationId"], r["status"])] += 1
        content = resp.get("content")
        if not content:
            if r["body"]:
                failures.append(where + ": documented without a body, got one")
            continue
        media = r["content_type"].split(";", 1)[0].strip()
        if media not in content:
            failures.append(where + ": content type %r, documented %s" % (r["content_type"], sorted(content)))
            continue
        if not media.endswith("json"):
            continue
        try:
            body = json.loads(r["body"])
        except ValueError as e:
            failures.append(where + ": body is not JSON: %s" % e)
            continue
        key = (op["operationId"], str(r["status"]), media)
        if key not in validators:
            validators[key] = jsonschema.Draft202012Validator(content[media]["schema"], resolver=resolver,
                                                              format_checker=jsonschema.FormatChecker())
        errors = sorted(validators[key].iter_errors(body), key=lambda e: list(e.path))
        for e in errors[:3]:
            failures.append(where + ": %s at %s" % (e.message[:200], "/".join(map(str, e.path)) or "(body)"))
    for line in failures[:60]:
        print("check_answers: " + line, file=sys.stderr)
    ops = {op["operationId"] for item in doc["paths"].values() for op in item.values()}
    seen_ops = {k.split(" ")[0] for k in checked}
    print("check_answers: %d answers, %d kinds (operation, status), %d of %d operations seen%s" %
          (len(records), len(checked), len(ops & seen_ops), len(ops),
           "" if ops <= seen_ops else "; not seen: " + ", ".join(sorted(ops - seen_ops))))
    if failures:
        print("check_answers: %d answers do not conform" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
