#!/usr/bin/env python3
"""api_check.py OPENAPI METHOD PATH STATUS BODYFILE: check one answer of
unsub-httpd's /api/v1/ against doc/openapi.json: the status must be one the
operation documents, and the body must be JSON that validates against that
response's schema.  Exit 0, or 1 with the reason on stderr."""
import json
import sys

from jsonschema import Draft202012Validator


def main():
    spec_file, method, path, status, body_file = sys.argv[1:6]
    spec = json.load(open(spec_file))
    path = path.split("?", 1)[0]
    op = spec["paths"].get(path, {}).get(method.lower())
    if op is None or "x-unsub-status" in op:
        # undocumented, or planned and not served yet: refused with an Error
        err = {"$ref": "#/components/responses/Error"}
        op = {"responses": {"401": err, "404": err, "405": err}}
    resp = op["responses"].get(status)
    if resp is None:
        sys.exit(f"{method} {path}: status {status} is not documented "
                 f"(documented: {', '.join(sorted(op['responses']))})")
    if "$ref" in resp:
        resp = spec["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    schema = resp["content"]["application/json"]["schema"]
    try:
        body = json.load(open(body_file, encoding="utf-8"))
    except ValueError as e:
        sys.exit(f"{method} {path} {status}: body is not JSON: {e}")
    root = dict(schema, components=spec["components"])
    errors = sorted(Draft202012Validator(root).iter_errors(body), key=str)
    if errors:
        sys.exit(f"{method} {path} {status}: {errors[0].message} at "
                 f"{list(errors[0].absolute_path)} in {json.dumps(body)}")


if __name__ == "__main__":
    main()
